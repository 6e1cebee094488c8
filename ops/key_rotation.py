"""Replacing the master key in two phases that never lock an instance out, and what `check` says about the keys.

MultiFernet opens a value with any key of its ring and encrypts with the first one, so:

1. `setup --rotate-key` with a ring of one key makes a new key and puts it in FRONT of the old
   one: into the key file, or shown once for ML_CONNECTOR_MASTER_KEY=NEW,OLD on every instance.
   Nothing is re-encrypted, so every instance opens everything, whichever ring it starts with.
2. The same command again, once every instance runs with the new key first, re-encrypts every
   value with the new key, checks that it alone opens them, and retires the old keys: drops them
   from the key file, or tells the operator to set ML_CONNECTOR_MASTER_KEY to the new key alone.

"Every instance runs with the new key" is checked, not assumed: each running `serve` reports its
ring's fingerprints to the store every ROLL_CALL_INTERVAL (`report_key_ring_while_serving`), and
phase 2 refuses while an instance that reported within ROLL_CALL_WINDOW lacks the new key (once
re-encrypted, that instance could not start again with its ring). The ring and the data say
where a rotation stands, so either phase may be run again after an interruption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Mapping

from ops.vault import (
    MASTER_KEY_ENV,
    CredentialVault,
    KeyRing,
    LockedCredentialsError,
    VaultError,
    fingerprint,
    generate_key,
    write_key_file,
)
from store.api import Store
from store.types import KeyRingReport

log = logging.getLogger(__name__)

Say = Callable[[str], None]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

ROLL_CALL_INTERVAL = timedelta(minutes=5)  # how often a running instance reports its key ring
ROLL_CALL_WINDOW = 3 * ROLL_CALL_INTERVAL  # an instance silent this long has stopped


class RotationRefusedError(VaultError):
    """The rotation cannot take its next step yet (the message says what to do first)."""


@dataclass(frozen=True)
class KeyUsage:
    """Which key of a ring opens each stored value."""

    ring: KeyRing
    names_by_key: tuple[tuple[str, ...], ...]  # per key of the ring, newest first
    locked: tuple[str, ...]  # values no key of the ring opens

    @property
    def count(self) -> int:
        """How many values are stored."""
        return sum(len(names) for names in self.names_by_key) + len(self.locked)

    @property
    def old_keys_in_use(self) -> tuple[int, ...]:
        """Indexes of the older keys (1…) that still open some value."""
        return tuple(i for i, names in enumerate(self.names_by_key) if i and names)


def key_usage(stored: Mapping[str, bytes], ring: KeyRing) -> KeyUsage:
    """Try each stored value against each key of the ring."""
    vault = CredentialVault(ring.keys)
    by_key: list[list[str]] = [[] for _ in ring.keys]
    locked: list[str] = []
    for name, token in sorted(stored.items()):
        index = vault.key_index(token)
        (locked if index is None else by_key[index]).append(name)
    return KeyUsage(ring, tuple(tuple(names) for names in by_key), tuple(locked))


async def instances_without(store: Store, key_id: str, *, now: datetime) -> list[KeyRingReport]:
    """Instances that reported within ROLL_CALL_WINDOW a ring without the key `key_id`."""
    return [r for r in await store.key_ring_reports(since=now - ROLL_CALL_WINDOW) if key_id not in r.fingerprints]


async def rotate_master_key(store: Store, ring: KeyRing | None, *, key_file: Path, say: Say, now: Clock) -> None:
    """Take the rotation's next step (see the module docstring)."""
    if ring is None:
        raise RotationRefusedError(f"there is no master key to rotate: {MASTER_KEY_ENV} is not set and there is no key file {key_file}")
    stored = await store.load_secrets()
    usage = key_usage(stored, ring)
    if usage.locked:
        raise LockedCredentialsError(list(usage.locked), f"the {ring.describe()} does not open them")
    if len(ring.keys) == 1:
        _add_new_key(ring, key_file=key_file, say=say)
        return
    newest, old = ring.fingerprints[0], ", ".join(ring.fingerprints[1:])
    lagging = await instances_without(store, newest, now=now())
    if lagging:
        names = "; ".join(f"{r.holder} (keys {', '.join(r.fingerprints) or 'none'}, reported {r.reported_at:%H:%M} UTC)" for r in lagging)
        raise RotationRefusedError(
            f"nothing re-encrypted: {len(lagging)} running instance(s) hold no key {newest} and could not start again "
            f"afterwards: {names}. Restart each with {MASTER_KEY_ENV} (or the key file) holding key {newest} first, then run "
            f"`python app.py setup --rotate-key` again (an instance that stopped drops out of this list "
            f"{ROLL_CALL_WINDOW.total_seconds() / 60:.0f} minutes after its last report)"
        )
    vault = CredentialVault(ring.keys)
    moved = [name for index, names in enumerate(usage.names_by_key) if index for name in names]
    for name in moved:
        await store.save_secret(name, vault.rotate(name, stored[name]), now=now())
    after = key_usage(await store.load_secrets(), KeyRing(ring.keys[:1], ring.source, ring.from_environment))
    if after.locked:  # another process wrote with an old key meanwhile: keep every key, say so
        raise RotationRefusedError(f"{', '.join(after.locked)} still need an old key after re-encrypting; "
                                   "run `python app.py setup --rotate-key` again (no key was retired)")
    done = f"Phase 2 of 2: re-encrypted {len(moved)} of {len(stored)} stored value(s) with key {newest}"
    if ring.from_environment:
        say(f"{done}. Now set {MASTER_KEY_ENV} to the new key alone on every instance (the old key {old} is no longer "
            "needed; restarting with the new,old value keeps working too). `python app.py check` shows which key opens the data.")
    else:
        write_key_file(key_file, [ring.keys[0]])
        say(f"{done} and retired the old key {old} from {key_file}.")


def _add_new_key(ring: KeyRing, *, key_file: Path, say: Say) -> None:
    new = generate_key()
    current = ring.fingerprints[0]
    if ring.from_environment:
        say(f"Phase 1 of 2: a new master key, key {fingerprint(new)}, shown once:")
        say(new)
        say(f"On every instance set {MASTER_KEY_ENV} to the new key, a comma, then the current key {current} "
            "(new first), and restart it. Nothing is re-encrypted yet: every instance keeps opening the stored "
            "credentials with either value. Then run `python app.py setup --rotate-key` again with the new value.")
        return
    write_key_file(key_file, [new, *ring.keys])
    say(f"Phase 1 of 2: added key {fingerprint(new)} in front of key {current} in {key_file}; nothing is re-encrypted yet. "
        "Restart every instance that reads this key file, then run `python app.py setup --rotate-key` again.")


def describe_usage(usage: KeyUsage) -> tuple[bool | None, str]:
    """`check`'s line about the stored credentials: (True ok | None warning | False failed, text)."""
    ring = usage.ring
    if usage.locked:
        return False, str(LockedCredentialsError(list(usage.locked), f"the {ring.describe()} does not open them"))
    if not usage.count:
        return True, f"Stored credentials: none (the {ring.describe()} has nothing to open)"
    newest = ring.fingerprints[0]
    opened = ", ".join(f"{len(names)} by key {ring.fingerprints[i]}" for i, names in enumerate(usage.names_by_key) if names)
    head = f"Stored credentials: {usage.count} value(s), opened {opened} ({ring.source})"
    if usage.old_keys_in_use:
        still = ", ".join(ring.fingerprints[i] for i in usage.old_keys_in_use)
        return None, (f"{head}; the older key {still} is still needed: a rotation is half-way, finish it with "
                      "`python app.py setup --rotate-key` before removing that key")
    if len(ring.keys) > 1:
        unused = ", ".join(ring.fingerprints[1:])
        return None, f"{head}; the older key {unused} is no longer needed: keep only key {newest}"
    return True, head


def describe_roll_call(reports: list[KeyRingReport], ring: KeyRing) -> tuple[bool | None, str] | None:
    """`check`'s line about the running instances' key rings (None when there is nothing to say)."""
    if not reports:
        return None
    newest = ring.fingerprints[0]
    lacking = [r for r in reports if newest not in r.fingerprints]
    listed = "; ".join(f"{r.holder}: {', '.join(r.fingerprints) or 'no key'}" for r in reports)
    if lacking:
        return None, (f"Key rings of running instances: {len(lacking)} of {len(reports)} hold no key {newest} "
                      f"(restart them with it before `setup --rotate-key` re-encrypts): {listed}")
    return True, f"Key rings of running instances: every one holds key {newest} ({listed})"


def report_key_ring_while_serving(
    store: Store, holder: str, ring: KeyRing | None, *, clock: Clock, sleep: Sleep = asyncio.sleep
) -> Callable[[object], AsyncIterator[None]]:
    """An aiohttp cleanup context: report this instance's ring at start and every ROLL_CALL_INTERVAL,
    drop the report at shutdown."""
    fingerprints = ring.fingerprints if ring is not None else ()

    async def report_forever() -> None:
        while True:
            try:
                await store.report_key_ring(holder, fingerprints, now=clock())
            except Exception as exc:  # noqa: BLE001 - the store's own health is reported elsewhere
                log.debug("could not report the key ring: %s", exc)
            await sleep(ROLL_CALL_INTERVAL.total_seconds())

    async def context(app: object) -> AsyncIterator[None]:
        task = asyncio.create_task(report_forever(), name="key-ring-roll-call")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(Exception):
            await store.forget_key_ring(holder)

    return context
