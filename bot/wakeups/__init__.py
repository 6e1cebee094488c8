"""Intacct wake-ups on the bot's side (an Intacct wake-up to a poll): the endpoint Intacct calls and the loop that starts the polls.

`intacct_events.py` answers POST /api/intacct/events (authenticity decided by intacct/wakeups.py)
and hands each authentic wake-up to poller/wakeups.py, which debounces and bounds the polls;
`loop.py` runs while the app serves: it starts due wake-up polls (poller/coordinator.py, under the
company's poll lease) and hears wake-ups another instance received. The push is only a hint: the
poll stays the truth.
"""
