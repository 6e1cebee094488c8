"""`python app.py setup`: gather the credentials, test them, store them encrypted; rotate the key.

Every value is stored as a Fernet token under the settings key it stands for (INTACCT_USER_PASSWORD,
APP_PASSWORD…); settings read them when the environment does not give that key. The values come
from an `AnswerSource`: `Interactive` asks on a terminal through an injected `ask(prompt, secret)`
(the CLI passes input/getpass), `Given` takes them from a mapping (the environment, or a
KEY=value file) for scripted installs. Either way they are tested like `check` before anything is
stored, and nothing is stored when a required value is missing or a check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable, Mapping, Protocol

from ops import messages
from ops.vault import (
    CredentialVault,
    KeyRing,
    LockedCredentialsError,
    VaultError,
    find_key_ring,
    locked_names,
    open_stored,
    read_key_ring,
    why_locked,
)
from settings import read_env_file
from store.api import Store

Ask = Callable[[str, bool], str]
Say = Callable[[str], None]
Test = Callable[[Mapping[str, str]], Awaitable[list[tuple[bool | None, str]]]]  # per check: ok, None (a warning) or failed


@dataclass(frozen=True)
class Question:
    """One value `setup` stores."""

    key: str
    secret: bool = False
    optional: bool = False
    default: str = ""

    @property
    def prompt(self) -> str:
        """What the person is asked."""
        return messages.SETUP_QUESTIONS[self.key]


QUESTIONS = (
    Question("INTACCT_SENDER_ID"),
    Question("INTACCT_SENDER_PASSWORD", secret=True),
    Question("INTACCT_COMPANY_ID"),
    Question("INTACCT_USER_ID"),
    Question("INTACCT_USER_PASSWORD", secret=True),
    Question("INTACCT_ENTITY_ID", optional=True),
    Question("INTACCT_ENDPOINT_URL", default="https://api.intacct.com/ia/xml/xmlgw.phtml"),
    Question("APP_ID", optional=True),
    Question("APP_PASSWORD", secret=True, optional=True),
    Question("APP_TENANTID", optional=True),
    Question("GRAPH_CLIENT_SECRET", secret=True, optional=True),
)
KEYS = tuple(q.key for q in QUESTIONS)


class SetupError(Exception):
    """Setup could not finish; nothing was stored."""


class SetupInputError(SetupError):
    """The values given are incomplete or not credentials (a usage error); nothing was stored."""


class AnswerSource(Protocol):
    """Where setup's values come from."""

    def answers(self, current: Mapping[str, str]) -> dict[str, str]:
        """The values to store, given what is stored now (decrypted)."""

    def store_anyway(self, failed: int) -> bool:
        """Whether to store although `failed` checks failed."""


@dataclass(frozen=True)
class Interactive:
    """Asks every question on a terminal; Enter keeps the stored value (secrets are never echoed)."""

    ask: Ask

    def answers(self, current: Mapping[str, str]) -> dict[str, str]:
        """Ask each question until a required one has a value."""
        answers: dict[str, str] = {}
        try:
            for q in QUESTIONS:
                known = current.get(q.key) or q.default
                hint = ((messages.SETUP_HINT_STORED if q.secret else messages.SETUP_HINT_CURRENT.format(value=known)) if known
                        else messages.SETUP_HINT_OPTIONAL if q.optional else "")
                while True:
                    value = self.ask(messages.SETUP_PROMPT.format(question=q.prompt, hint=hint), q.secret).strip() or known
                    if value or q.optional:
                        break
                if value:
                    answers[q.key] = value
        except EOFError:  # Ctrl-D: the person gave up
            raise SetupError(messages.SETUP_CANCELLED) from None
        return answers

    def store_anyway(self, failed: int) -> bool:
        """Ask whether to store although checks failed (default no)."""
        try:
            return self.ask(messages.SETUP_STORE_ANYWAY, False).strip().lower() in ("y", "yes")
        except EOFError:
            return False


@dataclass(frozen=True)
class Given:
    """Values from a mapping (the environment, or a KEY=value file), for installs without a person.

    Keys setup does not store are ignored in the environment (it holds everything else too) and
    refused in a file (`strict`: a misspelt key must not be dropped silently). A required value
    neither given nor stored is an error naming the key; an empty value keeps the stored one.
    """

    values: Mapping[str, str]
    source: str  # for messages: "the environment", "file secrets.env"
    strict: bool = False

    def answers(self, current: Mapping[str, str]) -> dict[str, str]:
        """The given values (and the defaults of what is neither given nor stored)."""
        unknown = sorted(k for k in self.values if k not in KEYS) if self.strict else []
        if unknown:
            raise SetupInputError(messages.SETUP_UNKNOWN_KEYS.format(
                source=self.source, keys=", ".join(unknown), is_are="is" if len(unknown) == 1 else "are",
                known=", ".join(KEYS)))
        answers = {q.key: (self.values.get(q.key) or "").strip() for q in QUESTIONS}
        answers = {k: v for k, v in answers.items() if v}
        missing = [q.key for q in QUESTIONS if not (q.optional or q.default or q.key in answers or current.get(q.key))]
        if missing:
            raise SetupInputError(messages.SETUP_MISSING.format(
                source=self.source, keys=", ".join(missing), them="it" if len(missing) == 1 else "them"))
        for q in QUESTIONS:
            if q.default and q.key not in answers and not current.get(q.key):
                answers[q.key] = q.default
        return answers

    def store_anyway(self, failed: int) -> bool:
        """Never: without a person to confirm, failing values are not stored."""
        return False


def read_values_file(path: Path) -> dict[str, str]:
    """KEY=value lines (the .env syntax, read by python-dotenv) for `setup --from-file`."""
    if not path.is_file():
        raise SetupInputError(messages.SETUP_FILE_MISSING.format(path=path))
    try:
        return read_env_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupInputError(messages.SETUP_FILE_UNREADABLE.format(path=path, error=exc)) from None


async def store_secrets(store: Store, vault: CredentialVault, values: Mapping[str, str], *, now: datetime) -> None:
    """Encrypt and upsert each value."""
    for key, value in sorted(values.items()):
        await store.save_secret(key, vault.encrypt(value), now=now)


async def run_setup(
    store: Store,
    *,
    master_key: str,
    key_file,
    source: AnswerSource,
    say: Say,
    test: Test,
    now: Callable[[], datetime],
) -> dict[str, str]:
    """Open (or create) the key ring, gather the values, test them like `check`, store them.

    Stored values the ring cannot open stop it before anything is written (no key file is made
    beside them): restore the key, or run with --reset (`discard_locked`) first."""
    try:
        stored = await store.load_secrets()
        ring = find_key_ring(master_key, key_file)
        current = open_stored(stored, ring, key_file=key_file)  # LockedCredentialsError before any key file is made
        vault = CredentialVault(ring.keys if ring is not None else read_key_ring(master_key, key_file, create=True))
    except LockedCredentialsError:
        raise  # a configuration problem with its own fix (exit 2), not a failed setup
    except VaultError as exc:
        raise SetupError(str(exc)) from None
    answers = source.answers(current)
    say(messages.SETUP_TESTING)
    results = await test({**current, **answers})
    for ok, text in results:
        say((messages.SETUP_RESULT_WARN if ok is None else messages.SETUP_RESULT_OK if ok else messages.SETUP_RESULT_FAIL).format(text=text))
    failed = sum(ok is False for ok, _ in results)  # None: a warning, which does not stop setup
    if failed and not source.store_anyway(failed):
        raise SetupError(messages.SETUP_NOTHING_STORED if isinstance(source, Interactive)
                         else messages.SETUP_CHECKS_FAILED.format(failed=failed))
    await store_secrets(store, vault, answers, now=now())
    where = "" if master_key else messages.SETUP_STORED_KEY_FILE.format(key_file=key_file)
    say(messages.SETUP_STORED.format(count=len(answers), where=where))
    return answers


async def discard_locked(store: Store, ring: KeyRing | None, *, key_file: Path, confirm: Callable[[str], bool], say: Say) -> list[str]:
    """`setup --reset`: forget the stored values the key ring cannot open, once `confirm(question)`
    says yes; say which were lost. The values the ring opens are kept."""
    locked = locked_names(await store.load_secrets(), ring)
    if not locked:
        say(messages.SETUP_RESET_NOTHING.format(ring=ring.describe()) if ring is not None else messages.SETUP_RESET_NOTHING_STORED)
        return []
    if not confirm(messages.SETUP_RESET_CONFIRM.format(names=", ".join(locked), why=why_locked(ring, key_file))):
        raise SetupError(messages.SETUP_RESET_DECLINED)
    await store.delete_secrets(locked)
    say(messages.SETUP_RESET_DONE.format(count=len(locked), names=", ".join(locked)))
    return locked
