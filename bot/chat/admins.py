"""Who may change a channel's routes (ROUTE_ADMINS), checked against Microsoft Graph when needed.

Policy entries (BotPolicy.route_admins, any mix; a person matching ANY entry may change routes):

    anyone          anyone in the team may subscribe and unsubscribe its channels (alone only)
    team-owners     the default (also for no entry at all): owners of the team (Graph: GET /teams/{aadGroupId}/members, roles has "owner";
                    application permission TeamMember.Read.All)
    <object id>     this Entra user (the sender's from.aadObjectId, compared case-insensitively)
    group:<id>      members of this Entra group, nested groups included (Graph: POST
                    /users/{id}/checkMemberGroups; GroupMember.Read.All and User.Read.All)

Listed object ids are checked first and need no Graph call. When only Graph could say yes and
Graph is not configured, has no permission, or fails, the change is refused with a text that
says why: a routing change never goes through on a guess. Read-only commands never come here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Protocol

from bot import messages
from cards.sanitize import clean_text
from graph.errors import GraphError, GraphNotFoundError, GraphPermissionError

log = logging.getLogger(__name__)

TEAM_OWNERS = "team-owners"
ANYONE = "anyone"
GROUP_PREFIX = "group:"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# User ids are only compared, never sent to Graph: hex digits and dashes are enough to tell one
# from a misspelt keyword (the Playground's mock ids are not quite GUIDs).
_OBJECT_ID = re.compile(r"^[0-9a-f][0-9a-f-]{7,63}$")
_MAX_PROBLEM = 200  # characters of a Graph error quoted back to a person


class RouteAdminsConfigError(ValueError):
    """ROUTE_ADMINS holds entries that are neither team-owners, an object id nor group:<id>."""


class GraphMembership(Protocol):
    """The two Graph reads the checks need (graph.client.GraphClient implements them)."""

    async def team_member_roles(self, team_id: str, user_id: str) -> frozenset[str] | None:
        """The user's roles in the team, None when not a member."""

    async def member_groups(self, user_id: str, group_ids: Iterable[str]) -> frozenset[str]:
        """Which of the groups the user belongs to (transitively)."""


@dataclass(frozen=True, slots=True)
class RouteAdminPolicy:
    """ROUTE_ADMINS, parsed: who may change routes."""

    team_owners: bool = False
    user_ids: frozenset[str] = frozenset()  # lower case
    group_ids: tuple[str, ...] = ()  # lower case, in configured order
    open: bool = False  # ROUTE_ADMINS=anyone: anyone in the team may change routes

    @property
    def needs_graph(self) -> bool:
        """Whether some entry can only be checked through Graph."""
        return self.team_owners or bool(self.group_ids)

    def describe(self) -> str:
        """Who may change routes, for a refusal text: "team owners or members of the admin group"."""
        who = []
        if self.team_owners:
            who.append(messages.ADMIN_WHO_OWNERS)
        if self.group_ids:
            who.append(messages.ADMIN_WHO_GROUP)
        if self.user_ids:
            who.append(messages.ADMIN_WHO_PEOPLE)
        return messages.ADMIN_WHO_JOINER.join(who)


def parse_route_admins(entries: Iterable[str]) -> RouteAdminPolicy:
    """The policy of ROUTE_ADMINS entries (none: team owners); raises RouteAdminsConfigError listing
    every bad entry (a typo such as "team-owner" must not silently lock everybody out)."""
    team_owners = False
    anyone = False
    users: set[str] = set()
    groups: list[str] = []
    problems: list[str] = []
    given = [raw.strip() for raw in entries if raw.strip()]
    for entry in given:
        lowered = entry.lower()
        if lowered == ANYONE:
            anyone = True
        elif lowered == TEAM_OWNERS:
            team_owners = True
        elif lowered.startswith(GROUP_PREFIX):
            group = lowered[len(GROUP_PREFIX) :].strip()
            if not _GUID.match(group):
                problems.append(f"{entry!r} (a group is group:<Entra group object id>)")
            elif group not in groups:
                groups.append(group)
        elif _OBJECT_ID.match(lowered):
            users.add(lowered)
        else:
            problems.append(f"{entry!r} (expected team-owners, anyone, an Entra user object id, or group:<object id>)")
    if anyone and len(given) > 1:
        problems.append("'anyone' cannot be combined with other entries")
    if problems:
        raise RouteAdminsConfigError("ROUTE_ADMINS has entries I cannot use: " + "; ".join(problems))
    if anyone:
        return RouteAdminPolicy(open=True)
    if not given:
        team_owners = True  # the safe default: the people who own the team decide where its cards go
    return RouteAdminPolicy(team_owners=team_owners, user_ids=frozenset(users), group_ids=tuple(groups))


@dataclass(frozen=True, slots=True)
class AdminDecision:
    """Whether a person may change routes here; `refusal` is the text to show when not."""

    allowed: bool
    basis: str  # for logs and tests: open | listed | team-owner | group | not-allowed | graph-missing | …
    refusal: str | None = None


class RouteAdmins:
    """Decides whether the sender of a command may change the routes of a team's channel."""

    def __init__(self, entries: Iterable[str], graph: GraphMembership | None = None) -> None:
        self.policy = parse_route_admins(entries)
        self._graph = graph

    async def check(self, *, user_id: str | None, aad_group_id: str | None) -> AdminDecision:
        """May the user (from.aadObjectId) change routes in the team (channelData.team.aadGroupId)?"""
        policy = self.policy
        if policy.open:
            return AdminDecision(True, "open")
        user = (user_id or "").strip().lower()
        if not user:
            return AdminDecision(False, "anonymous", messages.ADMIN_UNKNOWN_USER)
        if user in policy.user_ids:
            return AdminDecision(True, "listed")
        if not policy.needs_graph:
            return self._refuse(policy)
        if self._graph is None:
            return AdminDecision(False, "graph-missing", messages.ADMIN_GRAPH_NEEDED.format(who=policy.describe()))
        problem: str | None = None
        if policy.team_owners:
            if aad_group_id is None:
                problem = messages.ADMIN_TEAM_UNKNOWN
            else:
                try:
                    roles = await self._graph.team_member_roles(aad_group_id, user)
                except (GraphError, ValueError) as error:
                    problem = self._graph_problem(error, "team members")
                else:
                    if roles is not None and "owner" in roles:
                        return AdminDecision(True, "team-owner")
        if policy.group_ids:
            try:
                if await self._graph.member_groups(user, policy.group_ids):
                    return AdminDecision(True, "group")
            except GraphNotFoundError:
                pass  # Entra does not know the user: certainly not a member
            except (GraphError, ValueError) as error:
                problem = problem or self._graph_problem(error, "group membership")
        if problem is not None:
            # Someone might be allowed, but a check could not run: say why instead of a plain no.
            return AdminDecision(False, "check-failed", problem)
        return self._refuse(policy)

    @staticmethod
    def _refuse(policy: RouteAdminPolicy) -> AdminDecision:
        return AdminDecision(False, "not-allowed", messages.ADMIN_NOT_ALLOWED.format(who=policy.describe()))

    @staticmethod
    def _graph_problem(error: Exception, what: str) -> str:
        if isinstance(error, ValueError) and not isinstance(error, GraphError):
            # Not a GUID (a local test tenant, the Playground's ids): Entra could not know this user.
            log.warning("route admin check: cannot ask Graph about %s: %s", what, error)
            return messages.ADMIN_UNKNOWN_USER
        log.warning("route admin check: Graph could not tell %s: %s", what, error)
        if isinstance(error, GraphPermissionError) and error.permission:
            return messages.ADMIN_GRAPH_PERMISSION.format(permission=error.permission)
        return messages.ADMIN_GRAPH_FAILED.format(problem=clean_text(str(error), _MAX_PROBLEM))
