"""`python app.py setup`: ask for the credentials, test them, store them encrypted; rotate the key.

Every value is stored as a Fernet token under the settings key it stands for (INTACCT_USER_PASSWORD,
APP_PASSWORD…); settings read them when the environment does not give that key. Questions go
through an injected `ask(prompt, secret)` so the flow is testable; the CLI passes input/getpass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Mapping

from ops.vault import CredentialVault, VaultError, generate_key, read_key_ring, write_key_file
from store.api import Store

Ask = Callable[[str, bool], str]
Say = Callable[[str], None]


@dataclass(frozen=True)
class Question:
    """One value `setup` asks for."""

    key: str
    prompt: str
    secret: bool = False
    optional: bool = False
    default: str = ""


QUESTIONS = (
    Question("INTACCT_SENDER_ID", "Intacct Web Services sender id"),
    Question("INTACCT_SENDER_PASSWORD", "Intacct sender password", secret=True),
    Question("INTACCT_COMPANY_ID", "Intacct company id"),
    Question("INTACCT_USER_ID", "Intacct web-services user id"),
    Question("INTACCT_USER_PASSWORD", "Intacct user password", secret=True),
    Question("INTACCT_ENTITY_ID", "Entity id (empty for the whole company)", optional=True),
    Question("INTACCT_ENDPOINT_URL", "Intacct XML gateway URL", default="https://api.intacct.com/ia/xml/xmlgw.phtml"),
    Question("APP_ID", "Azure Bot Microsoft App ID (empty: anonymous local mode)", optional=True),
    Question("APP_PASSWORD", "Azure Bot client secret", secret=True, optional=True),
    Question("APP_TENANTID", "Azure Bot tenant id (your Entra tenant; needed by single-tenant bots, the default)", optional=True),
    Question("GRAPH_CLIENT_SECRET", "Graph client secret (empty: same app as the bot)", secret=True, optional=True),
)


class SetupError(Exception):
    """Setup could not finish; nothing was stored."""


def ask_all(ask: Ask, current: Mapping[str, str]) -> dict[str, str]:
    """Ask every question; Enter keeps the current value (secrets are never echoed)."""
    answers: dict[str, str] = {}
    for q in QUESTIONS:
        known = current.get(q.key) or q.default
        hint = (" [stored, Enter keeps it]" if q.secret else f" [{known}]") if known else (" (optional)" if q.optional else "")
        while True:
            value = ask(f"{q.prompt}{hint}: ", q.secret).strip() or known
            if value or q.optional:
                break
        if value:
            answers[q.key] = value
    return answers


async def store_secrets(store: Store, vault: CredentialVault, values: Mapping[str, str], *, now: datetime) -> None:
    """Encrypt and upsert each value."""
    for key, value in sorted(values.items()):
        await store.save_secret(key, vault.encrypt(value), now=now)


async def run_setup(
    store: Store,
    *,
    master_key: str,
    key_file,
    ask: Ask,
    say: Say,
    test: Callable[[Mapping[str, str]], Awaitable[list[tuple[bool | None, str]]]],  # None: a warning
    now: Callable[[], datetime],
) -> dict[str, str]:
    """The interactive flow: open (or create) the key ring, ask, test like `check`, store."""
    try:
        vault = CredentialVault(read_key_ring(master_key, key_file, create=True))
        current = vault.decrypt_all(await store.load_secrets())
    except VaultError as exc:
        raise SetupError(str(exc)) from None
    answers = ask_all(ask, current)
    say("Testing the credentials…")
    results = await test(answers)
    for ok, text in results:
        say(("  WARN " if ok is None else "  ok   " if ok else "  FAIL ") + text)
    if not all(ok is not False for ok, _ in results):
        if ask("Some checks failed. Store these values anyway? [y/N] ", False).strip().lower() not in ("y", "yes"):
            raise SetupError("nothing stored; run setup again when the values are right")
    await store_secrets(store, vault, answers, now=now())
    say(f"Stored {len(answers)} values encrypted in the database" + ("" if master_key else f" (key file {key_file})") + ".")
    return answers


async def rotate_key(store: Store, *, master_key: str, key_file, say: Say, now: Callable[[], datetime]) -> str:
    """Re-encrypt every stored value under a new key; returns the new key.

    With a key file the ring is written [new, old…] first (so a crash midway leaves every value
    readable), the values are rotated, then the file keeps only the new key. With the key in
    ML_CONNECTOR_MASTER_KEY the new key is printed and the operator updates the environment.
    """
    try:
        old = read_key_ring(master_key, key_file, create=False)
    except VaultError as exc:
        raise SetupError(str(exc)) from None
    new = generate_key()
    if not master_key:
        write_key_file(key_file, [new, *old])
    vault = CredentialVault([new, *old])
    stored = await store.load_secrets()
    try:
        rotated = {name: vault.rotate(name, token) for name, token in stored.items()}
    except VaultError as exc:
        raise SetupError(str(exc)) from None
    for name, token in sorted(rotated.items()):
        await store.save_secret(name, token, now=now())
    if master_key:
        say("New master key (shown once). On every instance set ML_CONNECTOR_MASTER_KEY to the new key first, "
            "followed by the old one(s), e.g. NEW,OLD; once all run, set it to the new key alone:")
        say(new)
    else:
        write_key_file(key_file, [new])
        say(f"Rotated {len(rotated)} stored values to a new key in {key_file}.")
    return new
