"""Adaptive Card builders: pure functions from records, events and views to card dicts (v1.5, < 28 KB).

Entry points: `dispatch.card_for_event` / `dispatch.shrink_card` for outbox events (the notifier),
`bills`, `payments`, `vendors`, `digest`, `status`, `alerts`, `help` for the chat commands, and
`links.IntacctLinks` for deep links. `views` holds the non-record inputs, `texts` every label,
`sanitize` the rules that make Intacct and user text harmless, `elements` the JSON shapes.
"""
