"""The boundary with Microsoft Teams and the web: the only place that speaks the Bot Framework (botbuilder).

In: `server.py` is the one aiohttp app (every route, health, readiness, metrics; Intacct's
wake-up route is served by bot/wakeups/, with this folder's body checks); `inbound.py` reads
bodies defensively, `channel_auth.py` checks the Bot Framework's tokens; `handler.py` turns each
activity into plain values (an `Origin`) and hands commands and invokes to bot/chat/, install and
channel or team events to `conversations.py` (where the bot may post: references and routes in
step with Teams); `graph_bridge.py` takes Microsoft Graph's channel notifications (routes follow
renamed and deleted channels) and keeps Graph's subscriptions. Out: `connector.py` posts, replies
to and updates cards (used by bot/delivery/ and the handler), `errors.py` is its one error tree,
`team_channels.py` lists the installed teams' channels for `routes`.
"""
