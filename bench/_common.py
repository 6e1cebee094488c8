"""Shared set-up for the bench/ scripts: the sandbox in a child process, the app in-process, figures.

Benchmarks measure time, so everything here runs on the real clock and real loopback HTTP. The
Intacct sandbox runs in a child process (Intacct is another machine: its CPU is not ours) and
reports how long its gateway handler worked, so a figure can say how much of it was "Intacct".
Not a benchmark itself: the `make bench` loop should skip files starting with `_`.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import platform
import socket
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
MENTION_SAMPLE = FIXTURES / "teams-samples" / "bot-framework" / "message-channel-mention.json"
COMPANY = "DEMO-CO"  # the sandbox's company id, which is also the company key in the store
NEVER = "0 0 1 1 *"  # a schedule that does not fire during a benchmark (once a year)
DEMO_CREDENTIALS_ENV = {
    "INTACCT_SENDER_ID": "mlc-sandbox",
    "INTACCT_SENDER_PASSWORD": "sandbox-secret",
    "INTACCT_COMPANY_ID": COMPANY,
    "INTACCT_USER_ID": "ap-admin",
    "INTACCT_USER_PASSWORD": "demo-pass",
}
GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
STARTUP_TIMEOUT_SECONDS = 120.0


class BenchError(RuntimeError):
    """A benchmark could not run or saw something wrong (the message says what)."""


def utc_now() -> datetime:
    """The real clock, aware UTC (benchmarks measure time)."""
    return datetime.now(timezone.utc)


# --- figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100): the smallest value with at least q% of
    the values at or below it. With 60 samples p99 is the maximum; no interpolation is invented."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def figures_line(pairs: Mapping[str, object]) -> str:
    """The last line every bench prints (docs/architecture.md §6.3): `name=value` pairs, space separated."""
    parts = []
    for name, value in pairs.items():
        if not name or any(c.isspace() or c == "=" for c in name):
            raise ValueError(f"bad figure name {name!r}")
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        if not text or any(c.isspace() for c in text):
            raise ValueError(f"figure {name} has a value with spaces or none: {text!r}")
        parts.append(f"{name}={text}")
    return " ".join(parts)


def load_1min() -> float:
    """The 1-minute load average (the machine is shared; figures say how busy it was)."""
    return os.getloadavg()[0]


def machine_summary() -> str:
    """CPU model, cores, RAM, Python version and current load, for the first line of a bench."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "? GiB"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    return (f"machine: {model}, {os.cpu_count()} cores, {ram} RAM, Python {platform.python_version()}, "
            f"load {load_1min():.2f}")  # fmt: skip


def free_port() -> int:
    """A free loopback port (for a child process that must be told its port in advance)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll `check` until it is true; returns the seconds waited, raises BenchError past `timeout`."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > timeout:
            raise BenchError(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(interval)
    return time.perf_counter() - started


# --- the sandbox in a child process --------------------------------------------------------------


@dataclass(frozen=True)
class SandboxTimings:
    """What the sandbox's gateway handler spent (its CPU is another machine's in production)."""

    requests: int
    seconds: float


class SandboxProcess:
    """The Intacct sandbox (seed + `SandboxState.generate(...)`) served from a spawned child.

    Use as a context manager; `url` is its base URL. Besides the admin API it serves two bench
    routes: `GET /bench/timings` (gateway requests handled and seconds spent in the handler) and
    `GET /bench/bills?state=S&count=N` (record numbers of bills in a state, oldest first).
    """

    def __init__(self, seed: str = "demo", *, bills: int = 0, vendors: int = 0, payments: int = 0) -> None:
        self.seed = seed
        self.counts = {"bills": bills, "vendors": vendors, "payments": payments}
        self.url = ""
        self.generate_seconds = 0.0
        self.rows: dict[str, int] = {}
        self._conn = None
        self._process = None

    @property
    def gateway_url(self) -> str:
        """The XML gateway's URL."""
        return self.url + GATEWAY_PATH

    def __enter__(self) -> SandboxProcess:
        parent, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state inherited
        self._process = context.Process(target=_serve_sandbox, args=(child, self.seed, self.counts), daemon=True)
        self._process.start()
        self._conn = parent
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not parent.poll(0.2):  # generating 50,000 bills takes seconds; a dead child must not take minutes
            if not self._process.is_alive():
                raise BenchError(f"the sandbox child died at start (exit code {self._process.exitcode})")
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise BenchError(f"the sandbox child did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s")
        try:
            ready = parent.recv()
        except EOFError:
            self.__exit__(None, None, None)
            raise BenchError(f"the sandbox child died at start (exit code {self._process.exitcode})") from None
        if "error" in ready:
            self.__exit__(None, None, None)
            raise BenchError(f"the sandbox child failed: {ready['error']}")
        self.url = ready["url"]
        self.generate_seconds = ready["generate_s"]
        self.rows = ready["rows"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            try:
                self._conn.send("stop")
            except (BrokenPipeError, OSError):
                pass  # already gone: join() below reports nothing more to do
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=5)

    async def admin(self, http: aiohttp.ClientSession, method: str, path: str, payload: Any = None) -> Any:
        """Call the admin API (or a bench route); raise BenchError unless it answered 2xx."""
        async with http.request(method, self.url + path, json=payload) as response:
            body = await response.json()
            if response.status >= 300:
                raise BenchError(f"sandbox {method} {path} answered {response.status}: {body}")
            return body

    async def stats(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        """GET /sandbox/stats: {requests, functions: {name: count}, sessions_issued}."""
        return await self.admin(http, "GET", "/sandbox/stats")

    async def timings(self, http: aiohttp.ClientSession) -> SandboxTimings:
        """Gateway requests handled so far and the seconds spent handling them."""
        body = await self.admin(http, "GET", "/bench/timings")
        return SandboxTimings(body["requests"], body["seconds"])

    async def bills_in_state(self, http: aiohttp.ClientSession, state_code: str, count: int) -> list[int]:
        """Record numbers of up to `count` bills whose stored state code (RAWSTATE) is `state_code`."""
        body = await self.admin(http, "GET", f"/bench/bills?state={state_code}&count={count}")
        return body["record_nos"]


@dataclass(frozen=True)
class StatsDelta:
    """What the sandbox counted between two /sandbox/stats readings."""

    requests: int
    functions: dict[str, int]
    sessions: int

    @property
    def function_count(self) -> int:
        """Every function that ran (getAPISession included, when one was issued)."""
        return sum(self.functions.values())

    def describe(self) -> str:
        """e.g. `2 requests, 4 functions (readByQuery 4)`."""
        names = ", ".join(f"{name} {count}" for name, count in sorted(self.functions.items()))
        return f"{self.requests} requests, {self.function_count} functions ({names or 'none'})"


def stats_delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> StatsDelta:
    """The difference of two /sandbox/stats answers."""
    names = set(before["functions"]) | set(after["functions"])
    functions = {n: after["functions"].get(n, 0) - before["functions"].get(n, 0) for n in names}
    return StatsDelta(
        after["requests"] - before["requests"],
        {n: c for n, c in functions.items() if c},
        after["sessions_issued"] - before["sessions_issued"],
    )


def _serve_sandbox(conn, seed: str, counts: Mapping[str, int]) -> None:
    """Child process: build, generate, serve until told to stop."""
    try:
        asyncio.run(_run_sandbox(conn, seed, counts))
    except Exception as exc:  # noqa: BLE001 - the parent must hear why, not wait for a timeout
        try:
            conn.send({"error": f"{type(exc).__name__}: {exc}"})
        except (BrokenPipeError, OSError):
            pass
        raise


async def _run_sandbox(conn, seed: str, counts: Mapping[str, int]) -> None:
    from sandbox import SANDBOX_STATE, create_sandbox_app
    from sandbox.app import SESSION_PATH

    app = create_sandbox_app(seed, clock=utc_now, web_url=None)
    state = app[SANDBOX_STATE]
    started = time.perf_counter()
    state.generate(**counts)
    generate_seconds = time.perf_counter() - started
    handled = {"requests": 0, "seconds": 0.0}

    @web.middleware
    async def time_gateway(request: web.Request, handler):
        if request.method != "POST" or request.path not in (GATEWAY_PATH, SESSION_PATH, "/"):
            return await handler(request)
        began = time.perf_counter()
        try:
            return await handler(request)
        finally:
            handled["requests"] += 1
            handled["seconds"] += time.perf_counter() - began

    async def timings(request: web.Request) -> web.Response:
        return web.json_response(handled)

    async def bills(request: web.Request) -> web.Response:
        wanted, count = request.query.get("state", "S"), int(request.query.get("count", "100"))
        table = state.company.tables["APBILL"]
        found = [row[0] for row in table if table.value(row, "RAWSTATE") == wanted][:count]
        return web.json_response({"record_nos": found})

    app.middlewares.append(time_gateway)
    app.router.add_get("/bench/timings", timings)
    app.router.add_get("/bench/bills", bills)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rows = {name: len(table) for name, table in state.company.tables.items()}
    conn.send({"url": f"http://127.0.0.1:{port}", "generate_s": generate_seconds, "rows": rows})
    try:
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop", or EOF when the parent dies
    except EOFError:
        pass
    finally:
        await runner.cleanup()


# --- the app in-process --------------------------------------------------------------------------


def sandbox_environment(sandbox: SandboxProcess, data_dir: Path, **overrides: str) -> dict[str, str]:
    """Settings keys for one company on the sandbox, a SQLite store in `data_dir`, anonymous bot,
    and every schedule switched off unless overridden (the scheduler still polls once at start)."""
    return {
        **DEMO_CREDENTIALS_ENV,
        "INTACCT_ENDPOINT_URL": sandbox.gateway_url,
        "INTACCT_WEB_URL": sandbox.url,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "APP_ID": "",
        "APP_PASSWORD": "",
        "PUBLIC_URL": "",
        "POLL_SCHEDULE": NEVER,
        "DIGEST_SCHEDULE": NEVER,
        "RECONCILE_SCHEDULE": NEVER,
        "REFERENCE_SCHEDULE": NEVER,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


@dataclass
class RunningApp:
    """The whole app (build_runtime + build_web_app) serving on a free loopback port."""

    runtime: Any  # app.Runtime
    context: Any  # bot.context.BotContext
    url: str

    @property
    def messages_url(self) -> str:
        """POST /api/messages."""
        return self.url + "/api/messages"

    async def baseline_done(self) -> bool:
        """Whether the start-up poll has committed the company's baseline."""
        return await self.runtime.store.has_baseline(COMPANY)


@asynccontextmanager
async def running_app(environ: Mapping[str, str], *, before_start: Callable[[Any], Awaitable[None]] | None = None) -> AsyncIterator[RunningApp]:
    """Build the runtime and the web app from `environ`, run `before_start(runtime)` (e.g. store a
    subscribed channel), then serve until the block ends. The scheduler and notifier start with it."""
    from app import build_runtime, build_web_app
    from settings import load_settings

    runtime = await build_runtime(load_settings(environ))
    runner = None
    try:
        if before_start is not None:
            await before_start(runtime)
        app, context = await build_web_app(runtime)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield RunningApp(runtime, context, f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        if runner is not None:
            await runner.cleanup()
        await runtime.close()


# --- Teams: the recorded @mention and a subscribed channel ---------------------------------------


def mention_activity(service_url: str, text: str, activity_id: str) -> dict[str, Any]:
    """The recorded channel @mention (tests/fixtures/teams-samples) with our serviceUrl, text and id."""
    activity = json.loads(MENTION_SAMPLE.read_text())
    mention = activity["entities"][0]["text"]
    activity.update(serviceUrl=service_url, text=f"{mention} {text}", id=activity_id)
    activity.pop("attachments", None)  # the HTML copy of the old text would contradict the new text
    return activity


def sample_ids() -> tuple[str, str, str]:
    """(team id, channel id, tenant id) of the recorded @mention."""
    activity = json.loads(MENTION_SAMPLE.read_text())
    data = activity["channelData"]
    return data["team"]["id"], data["channel"]["id"], data["tenant"]["id"]


async def subscribe_channel(store: Any, service_url: str, kinds: frozenset[str], *, now: datetime) -> str:
    """Store the sample channel's conversation reference (serviceUrl = the fake connector) and a
    route for `kinds`, as `@bot subscribe` would; returns the channel id."""
    from bot.teams.connector import channel_reference
    from store.types import ConversationRecord, RouteFilter

    team_id, channel_id, tenant_id = sample_ids()
    reference = channel_reference(mention_activity(service_url, "subscribe bills", "1"))
    await store.save_conversation(ConversationRecord(channel_id, reference, "channel", team_id=team_id, channel_id=channel_id,
                                                     tenant_id=tenant_id, service_url=service_url, updated_at=now))
    await store.add_route(channel_id, kinds, filter=RouteFilter(), company=None, team_id=team_id, tenant_id=tenant_id,
                          channel_name="Accounts payable", created_by=None, now=now)
    return channel_id


def temporary_data_dir() -> tempfile.TemporaryDirectory:
    """A temporary directory for a SQLite store (removed when the bench ends)."""
    return tempfile.TemporaryDirectory(prefix="mlc-bench-")
