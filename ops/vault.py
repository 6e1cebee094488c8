"""Encrypted credentials: Fernet tokens under a key ring (MultiFernet, newest key first).

The master key comes from ML_CONNECTOR_MASTER_KEY (comma-separated keys, newest first) or from a
key file created with mode 0600 (one key per line, newest first). The store only ever sees
ciphertext. A wrong key is a clear VaultError, never garbage and never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class VaultError(Exception):
    """The key ring is missing, unsafe, or does not open the stored credentials."""


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text)."""
    return Fernet.generate_key().decode()


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
        raise VaultError(f"no master key: set ML_CONNECTOR_MASTER_KEY or run `python app.py setup` to create {key_file}")
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

    def __init__(self, keys: list[str]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise VaultError("the master key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from exc
        self.key_count = len(keys)

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

    def rotate(self, name: str, token: bytes) -> bytes:
        """Re-encrypt a token with the newest key (it must open with one of the ring)."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise VaultError(f"the master key does not open the stored credential {name}; cannot rotate it") from None

    def decrypt_all(self, stored: dict[str, bytes]) -> dict[str, str]:
        """Every stored secret in clear, for settings (raises on the first one that does not open)."""
        return {name: self.decrypt(name, token) for name, token in sorted(stored.items())}
