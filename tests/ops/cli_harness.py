"""Running a command as from the shell, in-process."""

from __future__ import annotations

import asyncio

import app


async def run(capsys, argv, environ) -> tuple[int, str, str]:
    """One command as from the shell (it runs its own event loop, so in a thread): (exit code, stdout, stderr)."""
    code = await asyncio.to_thread(app.main, argv, environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
