"""Where an activity came from (`Origin`, plain values read once from it) and how Teams names
the conversations it came from.

Shared by every part of the Teams side: the boundary reads an activity into an `Origin` and
stores references by scope, the chat side answers an `Origin`, pacing counts a thread in its
channel's budget. Teams' conversation ids:

- a channel: `19:…@thread.tacv2` (a send there starts a NEW thread);
- a thread in it: `<channel>;messageid=<root id>` (a send there replies in the thread);
- a personal or group chat: its own id (`a:…`, `19:…@thread.v2`).
"""

from __future__ import annotations

from dataclasses import dataclass

THREAD_MARKER = ";messageid="
CHANNEL_CONVERSATION = "channel"  # conversation.conversationType of a team channel (and its threads)
SCOPE_CHANNEL = "channel"  # a stored reference to a channel itself: a send opens a new thread
SCOPE_THREAD = "thread"  # a stored reference to one thread: a send replies in it


def split_conversation_id(conversation_id: str) -> tuple[str, str | None]:
    """(channel or chat id, root message id or None) of a Teams conversation id."""
    base, marker, root = conversation_id.partition(THREAD_MARKER)
    return base, (root or None) if marker else None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an activity came from and who sent it, as plain values read once from the activity."""

    conversation_id: str  # as received: a thread, a bare channel (install, channel events) or a chat
    conversation_type: str  # channel | personal | groupChat
    service_url: str
    tenant_id: str | None = None
    channel_id: str | None = None  # channels: the bare channel the activity is about
    team_id: str | None = None  # Teams' id of the team (19:…)
    aad_group_id: str | None = None  # Graph's id of the team (a GUID)
    team_name: str | None = None
    user_id: str | None = None  # from.aadObjectId
    user_name: str | None = None
    user_mri: str | None = None  # from.id: the Teams user MRI ("29:…"), what a card's refresh.userIds lists

    @property
    def auto_refresh_users(self) -> tuple[str, ...]:
        """Whom a card made for this person refreshes by itself for: the sender's MRI, else the
        `8:orgid:<AAD id>` form Teams also takes ("Universal Actions for search based message
        extensions": userIds "either in 29:<ID> or 8:orgid:<AAD ID> format"); none when unknown."""
        if self.user_mri and self.user_mri.startswith("29:"):
            return (self.user_mri,)
        return (f"8:orgid:{self.user_id}",) if self.user_id else ()

    @property
    def in_channel(self) -> bool:
        """Whether the activity comes from a team channel (routes live there)."""
        return self.conversation_type == CHANNEL_CONVERSATION and bool(self.channel_id)

    @property
    def scope(self) -> str:
        """The scope of the conversation's own reference: channel, thread, personal or groupChat."""
        if self.conversation_type != CHANNEL_CONVERSATION:
            return self.conversation_type
        return SCOPE_THREAD if THREAD_MARKER in self.conversation_id else SCOPE_CHANNEL
