"""Master key rotation step by step on a real store: a new key first in every ring, re-encryption
only when every running instance holds it, the old key retired last; what `check` says at each step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ops.key_rotation import (
    ROLL_CALL_WINDOW,
    RotationRefusedError,
    describe_roll_call,
    describe_usage,
    key_usage,
    rotate_master_key,
)
from ops.vault import CredentialVault, KeyRing, LockedCredentialsError, fingerprint, generate_key, open_stored, read_key_ring, write_key_file
from store.sql import open_store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
VALUES = {"APP_ID": "app-id-1", "APP_PASSWORD": "app-pw-1", "INTACCT_USER_PASSWORD": "user-pw-1"}


def env_ring(*keys: str) -> KeyRing:
    return KeyRing(tuple(keys), "ML_CONNECTOR_MASTER_KEY", True)


@pytest.fixture
async def store(tmp_path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    yield store
    await store.close()


async def stored_with(store, key: str) -> None:
    vault = CredentialVault([key])
    for name, value in VALUES.items():
        await store.save_secret(name, vault.encrypt(value), now=NOW)


async def test_with_the_key_in_the_environment_each_phase_leaves_every_ring_in_use_working(store, tmp_path):
    old = generate_key()
    await stored_with(store, old)
    said: list[str] = []

    # Phase 1: a new key is only shown; the data is untouched, so [old] and [new, old] both open it.
    await rotate_master_key(store, env_ring(old), key_file=tmp_path / "unused.key", say=said.append, now=lambda: NOW)
    new = said[1]
    assert said[0] == f"Phase 1 of 2: a new master key, key {fingerprint(new)}, shown once:" and new != old
    assert f"the current key {fingerprint(old)}" in said[2]
    stored = await store.load_secrets()
    assert open_stored(stored, env_ring(old), key_file=tmp_path) == VALUES
    assert open_stored(stored, env_ring(new, old), key_file=tmp_path) == VALUES
    assert describe_usage(key_usage(stored, env_ring(new, old)), key_file=tmp_path)[0] is None  # warns: the old key is still needed

    # Phase 2 with the new ring: re-encrypted; the new key alone opens everything, the old alone nothing.
    said.clear()
    await rotate_master_key(store, env_ring(new, old), key_file=tmp_path / "unused.key", say=said.append, now=lambda: NOW)
    stored = await store.load_secrets()
    assert open_stored(stored, env_ring(new), key_file=tmp_path) == VALUES
    with pytest.raises(LockedCredentialsError) as locked:
        open_stored(stored, env_ring(old), key_file=tmp_path)
    assert locked.value.names == sorted(VALUES)
    assert said == [f"Phase 2 of 2: re-encrypted 3 of 3 stored value(s) with key {fingerprint(new)}. Now set "
                    f"ML_CONNECTOR_MASTER_KEY to the new key alone on every instance (the old key {fingerprint(old)} is no "
                    "longer needed; restarting with the new,old value keeps working too). `python app.py check` shows "
                    "which key opens the data."]
    ok, line = describe_usage(key_usage(stored, env_ring(new, old)), key_file=tmp_path)
    assert ok is None and line.endswith(f"the older key {fingerprint(old)} is no longer needed: keep only key {fingerprint(new)}")
    assert describe_usage(key_usage(stored, env_ring(new)), key_file=tmp_path) == (
        True, f"Stored credentials: 3 value(s), opened 3 by key {fingerprint(new)} (ML_CONNECTOR_MASTER_KEY)")


async def test_with_a_key_file_the_new_key_goes_in_front_and_the_old_one_is_dropped_last(store, tmp_path):
    key_file = tmp_path / "master.key"
    old = generate_key()
    write_key_file(key_file, [old])
    await stored_with(store, old)

    def ring() -> KeyRing:
        return KeyRing(tuple(read_key_ring("", key_file, create=False)), f"key file {key_file}", False)

    await rotate_master_key(store, ring(), key_file=key_file, say=lambda _: None, now=lambda: NOW)
    new, kept = ring().keys
    assert kept == old and open_stored(await store.load_secrets(), KeyRing((old,), "x", False), key_file=key_file) == VALUES

    said: list[str] = []
    await rotate_master_key(store, ring(), key_file=key_file, say=said.append, now=lambda: NOW)
    assert ring().keys == (new,) and key_file.stat().st_mode & 0o777 == 0o600
    assert open_stored(await store.load_secrets(), ring(), key_file=key_file) == VALUES
    assert said == [f"Phase 2 of 2: re-encrypted 3 of 3 stored value(s) with key {fingerprint(new)} and retired the old key "
                    f"{fingerprint(old)} from {key_file}."]


async def test_re_encryption_waits_for_every_running_instance_to_hold_the_new_key(store, tmp_path):
    old, new = generate_key(), generate_key()
    await stored_with(store, old)
    await store.report_key_ring("host-a:11:aaaa", (fingerprint(new), fingerprint(old)), now=NOW - timedelta(minutes=1))
    await store.report_key_ring("host-b:22:bbbb", (fingerprint(old),), now=NOW - timedelta(minutes=2))
    await store.report_key_ring("host-c:33:cccc", (fingerprint(old),), now=NOW - ROLL_CALL_WINDOW - timedelta(seconds=1))
    before = await store.load_secrets()

    with pytest.raises(RotationRefusedError) as refused:
        await rotate_master_key(store, env_ring(new, old), key_file=tmp_path / "k", say=lambda _: None, now=lambda: NOW)

    message = str(refused.value)
    assert message.startswith(f"nothing re-encrypted: 1 running instance(s) hold no key {fingerprint(new)}")
    assert "host-b:22:bbbb" in message and "host-a" not in message and "host-c" not in message  # c stopped long ago
    assert await store.load_secrets() == before
    ok, line = describe_roll_call(await store.key_ring_reports(since=NOW - ROLL_CALL_WINDOW), env_ring(new, old))
    assert ok is None and "1 of 2 hold no key" in line

    await store.report_key_ring("host-b:22:bbbb", (fingerprint(new), fingerprint(old)), now=NOW)
    await rotate_master_key(store, env_ring(new, old), key_file=tmp_path / "k", say=lambda _: None, now=lambda: NOW)
    assert key_usage(await store.load_secrets(), env_ring(new, old)).old_keys_in_use == ()


async def test_values_no_key_opens_stop_the_rotation_and_are_named(store, tmp_path):
    await stored_with(store, generate_key())

    with pytest.raises(LockedCredentialsError) as locked:
        await rotate_master_key(store, env_ring(generate_key()), key_file=tmp_path / "k", say=lambda _: None, now=lambda: NOW)
    assert locked.value.names == ["APP_ID", "APP_PASSWORD", "INTACCT_USER_PASSWORD"]
    assert "setup --reset" in str(locked.value)
    with pytest.raises(RotationRefusedError, match="no master key to rotate"):
        await rotate_master_key(store, None, key_file=tmp_path / "k", say=lambda _: None, now=lambda: NOW)
