"""Benchmark: resident memory of `python app.py serve` — idle on the demo company, and after 100,000 vendors.

The service runs as it does in production: a child process started with `python app.py serve`
and its settings in the environment (SQLite in a temporary directory, anonymous bot, Graph off,
POLL_SCHEDULE=every 5s, digest/reconcile/reference schedules off; the scheduler still runs the
reference job and the first poll at start-up). The Intacct sandbox runs in another child process:
the demo company, then the demo company plus `generate(vendors=100_000)`. For each, once the
service answers /healthz, the reference job and the baseline poll have finished and one more
(idle) poll has succeeded — counted on /metrics (`mlc_polls_total`) and /readyz — the service's
VmRSS and VmHWM (peak) are read from /proc/<pid>/status (Linux). The sandbox's counters around
the idle poll are printed too (an idle cycle is 1 request ≤ 3 functions, even with 100,000
vendors known).

Usage: ``python bench/memory.py [--vendors 100000] [--poll-every 5]``. The last line printed is
``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402

from _common import (  # noqa: E402
    COMPANY,
    ROOT,
    BenchError,
    SandboxProcess,
    figures_line,
    free_port,
    load_1min,
    machine_summary,
    sandbox_environment,
    stats_delta,
    temporary_data_dir,
    wait_until,
)
from tests.fakes.service_process import app_serving  # noqa: E402

START_TIMEOUT_SECONDS = 60.0
POLL_TIMEOUT_SECONDS = 180.0  # a baseline over 100,000 vendors reads 100 pages
STOP_TIMEOUT_SECONDS = 15.0
_POLLS = re.compile(r'^mlc_polls_total\{company="(?P<company>[^"]*)",job="poll",outcome="(?P<outcome>[^"]*)"\} (?P<value>[0-9.e+]+)$', re.M)
# Only what a Python process needs to start; nothing of the caller's INTACCT_*/APP_*/GRAPH_* leaks in.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class Memory:
    """Resident set size now and at its peak, in MiB."""

    rss_mb: float
    hwm_mb: float


def read_memory(pid: int) -> Memory:
    """VmRSS and VmHWM of a process, from /proc/<pid>/status."""
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024  # kB → MiB
    except OSError as exc:
        raise BenchError(f"cannot read /proc/{pid}/status (this benchmark needs Linux): {exc}") from exc
    if len(values) != 2:
        raise BenchError(f"/proc/{pid}/status has no VmRSS/VmHWM")
    return Memory(values["VmRSS"], values["VmHWM"])


class Service:
    """`python app.py serve` in a child process, with its log in a file."""

    def __init__(self, environ: dict[str, str], log_path: Path) -> None:
        self.port = int(environ["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self._environ = environ
        self._log_path = log_path
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Service:
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=self._environ,
                                         stdout=self._log, stderr=subprocess.STDOUT)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: serve shuts down cleanly
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()

    @property
    def pid(self) -> int:
        """The service's process id."""
        assert self._process is not None
        return self._process.pid

    def check_alive(self) -> None:
        """Raise BenchError with the end of the service's log if it exited."""
        assert self._process is not None
        if self._process.poll() is not None:
            raise BenchError(f"`python app.py serve` exited with code {self._process.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the service wrote."""
        self._log.flush()
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    async def polls(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """mlc_polls_total of the poll job by outcome for the company."""
        async with http.get(self.url + "/metrics") as response:
            text = await response.text()
        return {m["outcome"]: float(m["value"]) for m in _POLLS.finditer(text) if m["company"] == COMPANY}

    async def last_poll_success(self, http: aiohttp.ClientSession) -> str | None:
        """The company's last successful poll as /readyz reports it."""
        async with http.get(self.url + "/readyz") as response:
            body = await response.json(content_type=None)
        return (body.get("companies") or {}).get(COMPANY, {}).get("last_success_at")


async def measure(label: str, sandbox: SandboxProcess, data_dir: Path, poll_every: int) -> tuple[Memory, Memory]:
    """Start the service on this sandbox; memory after the baseline, then after one idle poll."""
    environ = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
    environ.update(sandbox_environment(sandbox, data_dir, POLL_SCHEDULE=f"every {poll_every}s"))
    environ.update(HOST="127.0.0.1", PORT=str(free_port()), ML_CONNECTOR_ENV_FILE=str(data_dir / "no.env"), PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    with Service(environ, data_dir / "serve.log") as service:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

            async def answering() -> bool:
                service.check_alive()
                return await app_serving(http, service.url)

            async def jobs_done(count: int) -> bool:
                service.check_alive()
                polls = await service.polls(http)
                if polls.get("failed"):
                    raise BenchError(f"a job failed in the service:\n{service.log_tail()}")
                return polls.get("ok", 0) >= count and await service.last_poll_success(http) is not None

            await wait_until(answering, timeout=START_TIMEOUT_SECONDS, what=f"{label}: /healthz")
            await wait_until(lambda: jobs_done(1), timeout=POLL_TIMEOUT_SECONDS, what=f"{label}: the baseline poll")
            after_baseline = read_memory(service.pid)
            stats, baseline_at = await sandbox.stats(http), await service.last_poll_success(http)
            print(f"{label}: start-up + baseline in {time.perf_counter() - started:.1f} s; RSS {after_baseline.rss_mb:.1f} MiB "
                  f"(peak {after_baseline.hwm_mb:.1f} MiB)", flush=True)  # fmt: skip

            async def idle_poll_done() -> bool:
                return await jobs_done(2) and await service.last_poll_success(http) != baseline_at

            await wait_until(idle_poll_done, timeout=POLL_TIMEOUT_SECONDS, what=f"{label}: an idle poll")
            after_idle = read_memory(service.pid)
            wire = stats_delta(stats, await sandbox.stats(http))
            print(f"{label}: after an idle poll RSS {after_idle.rss_mb:.1f} MiB (peak {after_idle.hwm_mb:.1f} MiB); the sandbox "
                  f"saw {wire.describe()} since the baseline", flush=True)  # fmt: skip
    return after_baseline, after_idle


async def run(vendors: int, poll_every: int) -> dict[str, object]:
    """Demo company, then 100,000 more vendors; returns the figures."""
    with SandboxProcess("demo") as sandbox, temporary_data_dir() as tmp:
        _, demo = await measure(f"demo company ({sandbox.rows['VENDOR']} vendors)", sandbox, Path(tmp), poll_every)
    with SandboxProcess("demo", vendors=vendors) as sandbox, temporary_data_dir() as tmp:
        baseline, idle = await measure(f"{sandbox.rows['VENDOR']} vendors", sandbox, Path(tmp), poll_every)
        vendor_rows = sandbox.rows["VENDOR"]
    return {
        "idle_rss_mb": f"{demo.rss_mb:.1f}",
        "idle_hwm_mb": f"{demo.hwm_mb:.1f}",
        "vendors": vendor_rows,
        "vendors_baseline_rss_mb": f"{baseline.rss_mb:.1f}",
        "vendors_idle_rss_mb": f"{idle.rss_mb:.1f}",
        "vendors_hwm_mb": f"{idle.hwm_mb:.1f}",
        "method": "proc_status_VmRSS",
        "load_1min": f"{load_1min():.2f}",
    }


def main() -> None:
    """Parse options, run, print the figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=100_000, help="vendors generated on top of the demo company's")
    parser.add_argument("--poll-every", type=int, default=5, help="POLL_SCHEDULE=every N s")
    args = parser.parse_args()
    if args.vendors < 0 or args.poll_every < 1:
        parser.error("--vendors must be ≥ 0 and --poll-every ≥ 1")
    print(machine_summary(), flush=True)
    try:
        figures = asyncio.run(run(args.vendors, args.poll_every))
    except BenchError as exc:
        raise SystemExit(f"{Path(__file__).name}: {exc}") from None
    print(figures_line(figures))


if __name__ == "__main__":
    main()
