"""Encrypted credentials: Fernet tokens under a key ring (MultiFernet, newest key first).

The master key comes from ML_CONNECTOR_MASTER_KEY (comma-separated keys, newest first) or from a
key file created with mode 0600 (one key per line, newest first). The store only ever sees
ciphertext. A wrong key is a clear VaultError, never garbage and never a traceback.

Fail closed: stored values that the key ring cannot open (no key at all, or the wrong one) are a
`LockedCredentialsError` naming them and the two ways out (restore the key, or `setup --reset`);
nothing falls back to the environment or to anonymous mode. Keys are named in messages and in
`check` by a fingerprint (`fingerprint`: 8 hex digits of the key's SHA-256), never by the key.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ops import messages

MASTER_KEY_ENV = "ML_CONNECTOR_MASTER_KEY"


class VaultError(Exception):
    """The key ring is missing, unsafe, or does not open the stored credentials."""


class LockedCredentialsError(VaultError):
    """Stored credentials exist that the key ring cannot open; `names` says which."""

    def __init__(self, names: list[str], why: str) -> None:
        self.names = sorted(names)
        super().__init__(messages.CREDENTIALS_LOCKED.format(names=", ".join(self.names), why=why))


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text)."""
    return Fernet.generate_key().decode()


def fingerprint(key: str) -> str:
    """A key's name for people and logs: 8 hex digits of its SHA-256 (says nothing about the key)."""
    return hashlib.sha256(key.strip().encode("ascii", "replace")).hexdigest()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The master keys in use, newest first, and where they came from (for messages)."""

    keys: tuple[str, ...]
    source: str  # "ML_CONNECTOR_MASTER_KEY" or "key file data/master.key"
    from_environment: bool

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Each key's fingerprint, newest first."""
        return tuple(fingerprint(k) for k in self.keys)

    def describe(self) -> str:
        """'key 3f2a1b4c from ML_CONNECTOR_MASTER_KEY', or the keys of a longer ring."""
        ids = ", ".join(self.fingerprints)
        return f"{'key' if len(self.keys) == 1 else 'keys'} {ids} from {self.source}"


def find_key_ring(master_key: str, key_file: Path) -> KeyRing | None:
    """The key ring from the environment value, else from the key file; None when neither exists."""
    if master_key.strip():
        return KeyRing(tuple(read_key_ring(master_key, key_file, create=False)), MASTER_KEY_ENV, True)
    if key_file.exists():
        return KeyRing(tuple(read_key_ring("", key_file, create=False)), f"key file {key_file}", False)
    return None


def read_key_ring(master_key: str, key_file: Path, *, create: bool) -> list[str]:
    """Keys from the environment value, else from the key file (created when `create`)."""
    if master_key:
        return [k.strip() for k in master_key.split(",") if k.strip()]
    if key_file.exists():
        mode = stat.S_IMODE(key_file.stat().st_mode)
        if mode & 0o077:
            raise VaultError(f"key file {key_file} is readable by other users (mode {mode:o}); run: chmod 600 {key_file}")
        keys = [line.strip() for line in key_file.read_text(encoding="ascii").splitlines() if line.strip()]
        if not keys:
            raise VaultError(f"key file {key_file} is empty")
        return keys
    if not create:
        raise VaultError(f"no master key: set {MASTER_KEY_ENV} or run `python app.py setup` to create {key_file}")
    write_key_file(key_file, [generate_key()])
    return read_key_ring("", key_file, create=False)


def write_key_file(key_file: Path, keys: list[str]) -> None:
    """Write the key ring atomically with mode 0600 (never world-readable, even for a moment)."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(key_file.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write("\n".join(keys) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, key_file)


class CredentialVault:
    """Encrypts and decrypts secret values with a key ring."""

    def __init__(self, keys: list[str] | tuple[str, ...]) -> None:
        try:
            self._keys = [Fernet(k.encode()) for k in keys]
            self._fernet = MultiFernet(self._keys)
        except (ValueError, TypeError) as exc:
            raise VaultError("the master key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from exc
        self.key_count = len(self._keys)

    def encrypt(self, value: str) -> bytes:
        """Ciphertext of a secret (with the newest key)."""
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt(self, name: str, token: bytes) -> str:
        """The secret `name`; VaultError when no key of the ring opens it."""
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise VaultError(
                f"the master key does not open the stored credential {name}: "
                "set ML_CONNECTOR_MASTER_KEY (or the key file) to the key used by `setup`, or run setup again"
            ) from None

    def key_index(self, token: bytes) -> int | None:
        """Which key of the ring (0 = newest) opens `token`; None when none does."""
        for index, key in enumerate(self._keys):
            try:
                key.decrypt(token)
            except InvalidToken:
                continue
            return index
        return None

    def rotate(self, name: str, token: bytes) -> bytes:
        """Re-encrypt a token with the newest key (it must open with one of the ring)."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise VaultError(f"the master key does not open the stored credential {name}; cannot rotate it") from None

    def decrypt_all(self, stored: dict[str, bytes]) -> dict[str, str]:
        """Every stored secret in clear, for settings (raises on the first one that does not open)."""
        return {name: self.decrypt(name, token) for name, token in sorted(stored.items())}


def open_stored(stored: Mapping[str, bytes], ring: KeyRing | None, *, key_file: Path) -> dict[str, str]:
    """Every stored value in clear; LockedCredentialsError when any cannot be opened (fail closed)."""
    if not stored:
        return {}
    locked = locked_names(stored, ring)
    if locked:
        raise LockedCredentialsError(locked, why_locked(ring, key_file))
    assert ring is not None  # something is stored, and nothing is locked: a ring opened it
    return CredentialVault(ring.keys).decrypt_all(dict(stored))


def locked_names(stored: Mapping[str, bytes], ring: KeyRing | None) -> list[str]:
    """The stored values the ring cannot open (all of them without a ring)."""
    if ring is None:
        return sorted(stored)
    vault = CredentialVault(ring.keys)
    return sorted(name for name, token in stored.items() if vault.key_index(token) is None)


def why_locked(ring: KeyRing | None, key_file: Path) -> str:
    """Why locked values cannot be opened, for a message."""
    return messages.LOCKED_NO_KEY.format(key_file=key_file) if ring is None else messages.LOCKED_WRONG_KEY.format(ring=ring.describe())
