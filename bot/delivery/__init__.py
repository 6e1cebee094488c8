"""The delivery side: the outbox into Teams (a bill from poll to card, after the poller committed it).

`notifier.py` drains the outbox: claims rows per channel, paces each channel's lane, and hands each
row to `deliverer.py`, which builds its card (cards/), commits "sending", posts or updates it through
the boundary's connector (bot/teams/) and records the outcome. `policy.py` holds the pure decisions
(what to do with a row and with each Bot Connector failure), `alerts.py` what the operators'
channel is told, `store_writes.py` the per-row commits merged across lanes, `tenant_share.py`
Teams' per-tenant budget shared between instances. Nothing here answers people: that is bot/chat/.
"""
