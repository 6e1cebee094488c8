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

from ops import messages
from ops.vault import (
    CredentialVault,
    KeyRing,
    LockedCredentialsError,
    VaultError,
    fingerprint,
    generate_key,
    why_locked,
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
        raise RotationRefusedError(messages.ROTATE_NO_KEY.format(key_file=key_file))
    stored = await store.load_secrets()
    usage = key_usage(stored, ring)
    if usage.locked:
        raise LockedCredentialsError(list(usage.locked), why_locked(ring, key_file))
    if len(ring.keys) == 1:
        _add_new_key(ring, key_file=key_file, say=say)
        return
    newest, old = ring.fingerprints[0], ", ".join(ring.fingerprints[1:])
    lagging = await instances_without(store, newest, now=now())
    if lagging:
        instances = "; ".join(messages.ROTATE_LAGGING_INSTANCE.format(holder=r.holder, keys=", ".join(r.fingerprints) or "none",
                                                                      at=r.reported_at) for r in lagging)
        raise RotationRefusedError(messages.ROTATE_LAGGING.format(count=len(lagging), new=newest, instances=instances,
                                                                  minutes=f"{ROLL_CALL_WINDOW.total_seconds() / 60:.0f}"))
    vault = CredentialVault(ring.keys)
    moved = [name for index, names in enumerate(usage.names_by_key) if index for name in names]
    for name in moved:
        await store.save_secret(name, vault.rotate(name, stored[name]), now=now())
    after = key_usage(await store.load_secrets(), KeyRing(ring.keys[:1], ring.source, ring.from_environment))
    if after.locked:  # another process wrote with an old key meanwhile: keep every key, say so
        raise RotationRefusedError(messages.ROTATE_STILL_OLD.format(names=", ".join(after.locked)))
    done = messages.ROTATE_DONE.format(moved=len(moved), count=len(stored), new=newest)
    if ring.from_environment:
        say(messages.ROTATE_DONE_ENV.format(done=done, old=old))
    else:
        write_key_file(key_file, [ring.keys[0]])
        say(messages.ROTATE_DONE_FILE.format(done=done, old=old, key_file=key_file))


def _add_new_key(ring: KeyRing, *, key_file: Path, say: Say) -> None:
    new = generate_key()
    current = ring.fingerprints[0]
    if ring.from_environment:
        say(messages.ROTATE_NEW_KEY_SHOWN.format(new=fingerprint(new)))
        say(new)
        say(messages.ROTATE_NEW_KEY_ENV.format(current=current))
        return
    write_key_file(key_file, [new, *ring.keys])
    say(messages.ROTATE_NEW_KEY_FILE.format(new=fingerprint(new), current=current, key_file=key_file))


def describe_usage(usage: KeyUsage, *, key_file: Path) -> tuple[bool | None, str]:
    """`check`'s line about the stored credentials: (True ok | None warning | False failed, text)."""
    ring = usage.ring
    if usage.locked:
        return False, str(LockedCredentialsError(list(usage.locked), why_locked(ring, key_file)))
    if not usage.count:
        return True, messages.CHECK_VAULT_NONE.format(ring=ring.describe())
    opened = ", ".join(messages.CHECK_VAULT_OPENED_BY.format(count=len(names), key=ring.fingerprints[i])
                       for i, names in enumerate(usage.names_by_key) if names)
    head = messages.CHECK_VAULT_OPENED.format(count=usage.count, opened=opened, source=ring.source)
    if usage.old_keys_in_use:
        return None, messages.CHECK_VAULT_OLD_NEEDED.format(head=head, old=", ".join(ring.fingerprints[i] for i in usage.old_keys_in_use))
    if len(ring.keys) > 1:
        return None, messages.CHECK_VAULT_OLD_UNUSED.format(head=head, old=", ".join(ring.fingerprints[1:]), new=ring.fingerprints[0])
    return True, head


def describe_roll_call(reports: list[KeyRingReport], ring: KeyRing) -> tuple[bool | None, str] | None:
    """`check`'s line about the running instances' key rings (None when none reported lately)."""
    if not reports:
        return None
    newest = ring.fingerprints[0]
    lacking = [r for r in reports if newest not in r.fingerprints]
    listed = "; ".join(messages.CHECK_RING_ENTRY.format(holder=r.holder, keys=", ".join(r.fingerprints) or "no key") for r in reports)
    if lacking:
        return None, messages.CHECK_RINGS_LAGGING.format(lacking=len(lacking), count=len(reports), new=newest, listed=listed)
    return True, messages.CHECK_RINGS_OK.format(new=newest, listed=listed)


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
