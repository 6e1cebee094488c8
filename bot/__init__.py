"""The Teams side of ml-connector, in three folders and a few modules they share.

`bot/teams/` is the boundary (the only place that imports botbuilder: the aiohttp app, token checks,
the activity handler, the Bot Connector client, Graph's channel notifications); `bot/chat/` answers
people (commands and invokes, plain Python); `bot/delivery/` drains the outbox into channels;
`bot/wakeups/` takes Intacct's wake-ups. The modules here (texts, the run-time context, origins,
pacing, live reads, refusals, the tenant gate, waits) serve every folder and import none of them.
Nothing is imported here on purpose, so the plain-Python parts load without botbuilder.
"""
