"""One exit-code convention for every command (README, "Commands"): 0 ok, 1 failed, 2 usage or
configuration (3: poll skipped for another instance's lease, in test_poll_once.py).

The long-running commands (serve, demo, sandbox) run as real processes: exit 0 is a clean stop
on SIGTERM, 1 a port already in use, 2 a bad command line or configuration. Each failure is one
line on stderr, never a traceback. The short commands run in-process (tests/ops/cli_harness.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

import app
from ops.cli import ExitCode
from tests.fakes.service_process import free_port, wait_until
from tests.ops.cli_harness import bot_heard_from, run

CHANNEL = "19:ap-team@thread.tacv2"


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a child process: no developer's .env, its own data dir, loopback."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_DIR": str(tmp_path / "data"),
           "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none.env"), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    return {**env, **extra}


def one_line_failure(stderr: str) -> str:
    """The failure's line (logs may come before it); asserts there is no traceback."""
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def run_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", *argv], cwd=app.ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


async def stops_cleanly(argv: list[str], env: dict[str, str], ready_url: str, tmp_path: Path) -> int:
    """Start the command, wait until `ready_url` answers 200, SIGTERM it; its exit code."""
    log = (tmp_path / "process.log").open("wb")
    process = await asyncio.create_subprocess_exec(sys.executable, "app.py", *argv, cwd=app.ROOT, env=env,
                                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        async with aiohttp.ClientSession() as http:
            async def ready() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"{argv} exited with {process.returncode}: {(tmp_path / 'process.log').read_text()}")
                try:
                    async with http.get(ready_url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                        return response.status == 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    return False

            await wait_until(ready, timeout=90, what=f"{argv} ready")
        process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()


@pytest.fixture
def busy_port():
    """A loopback port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# --- the long-running commands ------------------------------------------------------------------
async def test_serve(environ, tmp_path, busy_port):
    port = free_port()
    env = process_env(tmp_path, **{k: v for k, v in environ.items() if k.startswith("INTACCT_")},
                      PORT=str(port), POLL_SCHEDULE="0 0 1 1 *")
    assert await stops_cleanly(["serve"], env, f"http://127.0.0.1:{port}/healthz", tmp_path) == ExitCode.OK
    done = await asyncio.to_thread(run_process, ["serve"], env | {"PORT": str(busy_port)})
    assert done.returncode == ExitCode.FAILED and f"cannot listen on 127.0.0.1:{busy_port}" in one_line_failure(done.stderr)
    done = await asyncio.to_thread(run_process, ["serve"], env | {"PORT": "eighty"})
    assert done.returncode == ExitCode.USAGE and "PORT must be a whole number" in done.stderr and "Traceback" not in done.stderr


async def test_demo(tmp_path, busy_port):
    port = free_port()
    env = process_env(tmp_path, PORT=str(port))
    assert await stops_cleanly(["demo", "--no-playground", "--activity", "3600"], env,
                               f"http://127.0.0.1:{port}/healthz", tmp_path) == ExitCode.OK
    assert (tmp_path / "data" / "demo").is_dir()  # DATA_DIR/demo, not the checkout's data/
    done = await asyncio.to_thread(run_process, ["demo", "--no-playground"], env | {"PORT": str(busy_port)})
    assert done.returncode == ExitCode.FAILED and "the port is already in use" in one_line_failure(done.stderr)
    done = await asyncio.to_thread(run_process, ["demo", "--activity", "often"], env)
    assert done.returncode == ExitCode.USAGE and "invalid float value" in done.stderr


async def test_sandbox(tmp_path, busy_port):
    port = free_port()
    env = process_env(tmp_path)
    assert await stops_cleanly(["sandbox", "--port", str(port)], env, f"http://127.0.0.1:{port}/sandbox/stats",
                               tmp_path) == ExitCode.OK
    done = await asyncio.to_thread(run_process, ["sandbox", "--port", str(busy_port)], env)
    assert done.returncode == ExitCode.FAILED
    assert "choose another port with --port" in one_line_failure(done.stderr)
    done = await asyncio.to_thread(run_process, ["sandbox", "--seed", "full"], env)
    assert done.returncode == ExitCode.USAGE and "invalid choice: 'full'" in done.stderr


# --- the short commands -------------------------------------------------------------------------
async def test_poll(capsys, environ):
    assert (await run(capsys, ["poll", "--once"], environ))[0] == ExitCode.OK
    assert (await run(capsys, ["poll", "--once"], environ | {"INTACCT_USER_PASSWORD": "wrong"}))[0] == ExitCode.FAILED
    assert (await run(capsys, ["poll", "--once"], environ | {"POLL_TIMEZONE": "Mars/Olympus"}))[0] == ExitCode.USAGE


async def test_check(capsys, environ):
    assert (await run(capsys, ["check"], environ))[0] == ExitCode.OK
    assert (await run(capsys, ["check"], environ | {"INTACCT_USER_PASSWORD": "wrong"}))[0] == ExitCode.FAILED
    code, _, err = await run(capsys, ["check"], environ | {"PORT": "eighty"})
    assert code == ExitCode.USAGE and "PORT must be a whole number" in err


async def test_setup(capsys, environ, bare_environ):
    assert (await run(capsys, ["setup", "--from-env"], environ))[0] == ExitCode.OK
    assert (await run(capsys, ["setup", "--from-env"], environ | {"INTACCT_USER_PASSWORD": "wrong"}))[0] == ExitCode.FAILED
    assert (await run(capsys, ["setup"], bare_environ))[0] == ExitCode.USAGE  # no terminal


async def test_audit(capsys, bare_environ, tmp_path):
    assert (await run(capsys, ["audit"], bare_environ))[0] == ExitCode.OK
    (tmp_path / "not-a-db").mkdir()
    code, _, err = await run(capsys, ["audit"], bare_environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'not-a-db'}"})
    assert code == ExitCode.FAILED and "DATABASE_URL" in err
    assert (await run(capsys, ["audit", "--since", "yesterday"], bare_environ))[0] == ExitCode.USAGE


async def test_package(capsys, environ, tmp_path):
    publisher = {"APP_ID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "APP_PASSWORD": "bot-secret",
                 "APP_TENANTID": "0f2d8f49-862a-493b-9ca8-82a10637e17d", "TEAMS_APP_DEVELOPER": "Contoso Finance IT",
                 "TEAMS_APP_WEBSITE_URL": "https://it.contoso.example/ap", "TEAMS_APP_PRIVACY_URL": "https://it.contoso.example/privacy",
                 "TEAMS_APP_TERMS_URL": "https://it.contoso.example/terms"}
    assert (await run(capsys, ["package", "--output", str(tmp_path / "a.zip")], environ | publisher))[0] == ExitCode.OK
    (tmp_path / "taken").mkdir()  # the zip cannot be written where a directory is
    code, _, err = await run(capsys, ["package", "--output", str(tmp_path / "taken")], environ | publisher)
    assert code == ExitCode.FAILED and err.count("\n") == 1
    assert (await run(capsys, ["package"], environ))[0] == ExitCode.USAGE


async def test_routes(capsys, environ, tmp_path, clock):
    await bot_heard_from(tmp_path / "data", CHANNEL, now=clock())
    assert (await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills"], environ))[0] == ExitCode.OK
    assert (await run(capsys, ["routes", "remove", "99"], environ))[0] == ExitCode.FAILED
    assert (await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "nothing"], environ))[0] == ExitCode.USAGE
    assert (await run(capsys, ["routes", "list"], environ))[0] == ExitCode.OK


def test_every_command_has_its_test_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_") and name != "test_every_command_has_its_test_here"}
    assert set(app.COMMANDS) == tested
