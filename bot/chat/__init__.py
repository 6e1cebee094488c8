"""The chat side: what people ask the bot and what it answers (a chat command to its reply, an invoke to its answer).

Plain Python on plain values: no botbuilder and no HTTP here. The boundary (bot/teams/handler.py) reads
an activity into an `Origin` and hands the text or the invoke's `value` over; what comes back is
cards and texts it sends. `commands.py` parses the text, `service.py` (CommandService) runs a command
(`admins.py`: who may change routes; `status.py`: the status view), `invoke_values.py` reads an
invoke's value and `invokes.py` (InvokeService) answers pasted links, the compose-box search and card
refreshes; `record_cards.py` reads one record live (through bot/live_reads.py) and builds its card.
Nothing here posts cards into channels: that is bot/delivery/.
"""
