"""The Microsoft 365 Agents Playground (npm) as a local Teams: start it, install the bot, talk to it.

Used by `python app.py demo` and by the end-to-end tests. The Playground impersonates the Teams
client and the Bot Connector (`/_connector`); its scriptable HTTP API installs the bot in its
team, posts messages and sends invokes as a user (the API its own web client uses, version
0.2.28). Of the invokes it knows `adaptiveCard/action`, `composeExtension/query` and
`composeExtension/queryLink`; it does not read the app manifest (its search panel asks for the
command id and parameter name) and does not run a card's `refresh` (its client logs "User specific
view is not supported yet in Microsoft 365 Agents playground"), so a refresh reaches the bot only
through `invoke`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
LOCAL_BINARY = ROOT / "node_modules" / ".bin" / "agentsplayground"
PACKAGE = "@microsoft/m365agentsplayground@0.2.28"
BOT_NAME = "Test Bot"


class PlaygroundError(Exception):
    """The Playground could not be started or did not answer."""


def playground_command() -> list[str] | None:
    """How to run the pinned Playground: the project's node_modules, else npx; None without Node."""
    if LOCAL_BINARY.exists():
        return [str(LOCAL_BINARY)]
    if shutil.which("npx"):
        return ["npx", "--yes", PACKAGE]
    return None


@dataclass
class Playground:
    """A running Playground process and its HTTP API."""

    process: asyncio.subprocess.Process
    port: int
    http: aiohttp.ClientSession
    log_file: Path

    @property
    def url(self) -> str:
        """Where a person opens the Playground in a browser."""
        return f"http://127.0.0.1:{self.port}"

    async def config(self) -> dict[str, Any]:
        """The resolved ids: tenantId, bot, currentUser, users, personalChat, groupChats, team."""
        async with self.http.get(f"{self.url}/_internal/v1/config") as response:
            response.raise_for_status()
            return (await response.json())["config"]

    async def install(self, conversation_id: str = "team-id") -> None:
        """Install the bot in the team (the Playground sends installationUpdate + membersAdded)."""
        async with self.http.post(f"{self.url}/_debug/conversation/{conversation_id}/installation") as response:
            if response.status >= 300:
                raise PlaygroundError(f"installing the bot failed: HTTP {response.status} {await response.text()}")

    async def say(self, conversation_id: str, text: str, *, bot_id: str, user_id: str) -> None:
        """Post `@Test Bot <text>` as a user in a conversation (a channel post starts a thread)."""
        mention = f"<at>{BOT_NAME}</at>"
        body = {
            "from": {"id": user_id},
            "text": f"{mention} {text}",
            "textFormat": "plain",
            "mentions": [{"mentioned": {"id": bot_id, "name": BOT_NAME}, "text": mention}],
        }
        async with self.http.post(f"{self.url}/_conversation/v1/conversations/{conversation_id}/messages", json=body) as response:
            if response.status >= 300:
                raise PlaygroundError(f"posting a message failed: HTTP {response.status} {await response.text()}")

    async def invoke(
        self, name: str, value: Any, *, conversation_id: str, user_id: str, reply_to_id: str | None = None
    ) -> dict[str, Any]:
        """Send an invoke as a user does: a compose-box search (`composeExtension/query`), a pasted
        link (`composeExtension/queryLink`) or a card's Action.Execute (`adaptiveCard/action`, on
        the message `reply_to_id`); returns the bot's answer as the Playground passes it on
        (version 0.2.28: `{composeExtension}` for the first two, `{type, value}` for a card action)."""
        body: dict[str, Any] = {"name": name, "value": value, "from": {"id": user_id}, "conversation": {"id": conversation_id}}
        if reply_to_id is not None:
            body["replyToId"] = reply_to_id
        async with self.http.post(f"{self.url}/_conversation/v1/invoke", json=body) as response:
            if response.status >= 300:
                raise PlaygroundError(f"the {name} invoke failed: HTTP {response.status} {await response.text()}")
            return await response.json()

    async def stop(self) -> None:
        """Terminate the process (and its children)."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_playground(
    bot_endpoint: str, *, port: int, http: aiohttp.ClientSession, work_dir: Path, ready_timeout: float = 60.0
) -> Playground:
    """Start the Playground pointed at `bot_endpoint` and wait until its API answers."""
    command = playground_command()
    if command is None:
        raise PlaygroundError("Node.js/npx not found: install Node 20+ and run `npm ci` to use the Agents Playground")
    work_dir.mkdir(parents=True, exist_ok=True)
    log_file = work_dir / "playground.log"
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",  # never try to open a browser (headless machines)
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(work_dir / "m365agentsplayground.log"),
    }
    with open(log_file, "ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *command, "-e", bot_endpoint, "-c", "msteams", "-p", str(port), "--dt",
            cwd=work_dir, env=env, stdout=sink, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
    playground = Playground(process, port, http, log_file)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout
    while True:
        if process.returncode is not None:
            raise PlaygroundError(f"the Playground exited with code {process.returncode}; see {log_file}")
        try:
            await playground.config()
            return playground
        except (aiohttp.ClientError, OSError):
            if loop.time() > deadline:
                await playground.stop()
                raise PlaygroundError(f"the Playground did not answer within {ready_timeout:.0f} s; see {log_file}") from None
            await asyncio.sleep(0.25)  # waiting for a child process to boot: real time is the point
