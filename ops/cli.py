"""The command line's contract: one exit-code convention, and one line instead of a traceback.

Every command returns an `ExitCode`. A command that cannot go on raises `CommandError` (its
message is the one line the person reads, naming the fix); `explain_failure` turns the other
errors a command may meet (configuration, key ring, database, port, anything unforeseen) into
such a line and its code, so `app.main` never lets a traceback reach a user.
"""

from __future__ import annotations

import errno
import logging
from enum import IntEnum

from ops import messages

log = logging.getLogger("mlc.cli")


class ExitCode(IntEnum):
    """What a command's exit status means (README, "Exit codes")."""

    OK = 0
    FAILED = 1  # the command ran and something failed (a check, a poll, the database, a port)
    USAGE = 2  # the command line or the configuration is wrong: nothing was tried
    SKIPPED = 3  # poll --once: another instance holds a company's poll lease; try again later
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CommandError(Exception):
    """A command cannot go on: `str(error)` is the one line to show, `code` the exit status."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


def explain_failure(exc: BaseException) -> tuple[str, ExitCode]:
    """The line to print and the exit code for an error that ended a command."""
    from settings import SettingsError
    from ops.vault import VaultError
    from store.api import StoreError

    if isinstance(exc, CommandError):
        return str(exc), exc.code
    if isinstance(exc, (SettingsError, VaultError)):
        return str(exc), ExitCode.USAGE
    if isinstance(exc, StoreError):
        return store_failure(exc), ExitCode.FAILED
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return messages.PORT_IN_USE_GENERIC.format(error=exc.strerror or exc), ExitCode.FAILED
    # A bug, or a failure nobody foresaw: still one line; the traceback goes to the log at DEBUG.
    log.debug("unexpected error", exc_info=exc)
    return messages.UNEXPECTED.format(error=_one_line(exc)), ExitCode.FAILED


def store_failure(exc: BaseException) -> str:
    """One line for a database failure, with the fix (a StoreError never holds a password)."""
    database = getattr(exc, "database", None) or "(DATABASE_URL)"
    text = messages.STORE_UNREACHABLE if getattr(exc, "unreachable", False) else messages.STORE_FAILED
    return text.format(error=exc, database=database)


def port_in_use(host: str, port: int, fix: str) -> CommandError:
    """The error for a listening address someone else already holds."""
    return CommandError(messages.PORT_IN_USE.format(host=host, port=port, fix=fix))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
