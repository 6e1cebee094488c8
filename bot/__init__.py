"""The Teams side of ml-connector: the botbuilder boundary, its errors, pacing, commands and texts.

Nothing is imported here on purpose: `bot.chat.commands`, `bot.pacing` and `bot.messages` stay usable
(and testable) without loading botbuilder, which only `bot.teams.connector` (and the activity handler)
import.
"""
