"""`python app.py check` for Graph: can we get a token, and can we read each team's channels?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from graph.client import GraphClient
from graph.errors import GraphError
from graph.tokens import TokenProvider


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One line of `check` output: ok or not, and the text to print."""

    ok: bool
    text: str


async def check_graph(tokens: TokenProvider, client: GraphClient, team_ids: Iterable[str]) -> list[CheckLine]:
    """Ask Entra for a token, then list the channels of every team; one line per step, each
    "ok" or the reason and what to fix. Never raises a GraphError."""
    try:
        await tokens.get_token()
    except GraphError as error:
        return [CheckLine(False, f"Entra token: {error}"),
                CheckLine(False, "Graph: not tried (no token)")]
    lines = [CheckLine(True, "Entra token: ok")]
    teams = sorted(set(team_ids))
    if not teams:
        lines.append(CheckLine(True, "Graph: no team to check yet (no route has a team id)"))
    for team_id in teams:
        try:
            channels = await client.list_channels(team_id)
        except GraphError as error:
            lines.append(CheckLine(False, f"Graph: cannot read channels of team {team_id}: {error}"))
        else:
            lines.append(CheckLine(True, f"Graph: can read channels of team {team_id} ({len(channels)} channels)"))
    return lines
