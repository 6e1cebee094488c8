"""Encrypted credentials: setup stores, settings read, the key rotates, a wrong key is a clear error."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

import app
from ops.setup import Interactive, SetupError, rotate_key, run_setup
from ops.vault import CredentialVault, VaultError, generate_key, read_key_ring
from store.sql import open_store

ANSWERS = {
    "Intacct Web Services sender id": "sender-1",
    "Intacct sender password": "sender-pw-1",
    "Intacct company id": "ACME",
    "Intacct web-services user id": "api-user",
    "Intacct user password": "user-pw-1",
}


def asker(answers=ANSWERS, *, confirm: str = "n"):
    asked: list[tuple[str, bool]] = []

    def ask(prompt: str, secret: bool) -> str:
        asked.append((prompt, secret))
        if prompt.startswith("Some checks failed"):
            return confirm
        return next((v for k, v in answers.items() if prompt.startswith(k)), "")

    ask.asked = asked
    return ask


async def passing(values):
    return [(True, "Intacct: ok")]


async def failing(values):
    return [(False, "Intacct ACME: XL03000006 Sign-in information is incorrect")]


@pytest.fixture
async def store(tmp_path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    yield store
    await store.close()


async def test_setup_stores_every_value_encrypted_with_a_0600_key_file(store, tmp_path, clock):
    key_file = tmp_path / "master.key"
    ask = asker()
    said: list[str] = []
    await run_setup(store, master_key="", key_file=key_file, source=Interactive(ask), say=said.append, test=passing, now=clock)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    stored = await store.load_secrets()
    assert set(stored) == {"INTACCT_SENDER_ID", "INTACCT_SENDER_PASSWORD", "INTACCT_COMPANY_ID", "INTACCT_USER_ID",
                           "INTACCT_USER_PASSWORD", "INTACCT_ENDPOINT_URL"}
    assert all(b"pw-1" not in token for token in stored.values())
    vault = CredentialVault(read_key_ring("", key_file, create=False))
    assert vault.decrypt_all(stored)["INTACCT_USER_PASSWORD"] == "user-pw-1"
    assert all(secret for prompt, secret in ask.asked if "password" in prompt), "passwords are asked without echo"


async def test_settings_read_stored_secrets_when_the_environment_does_not_give_them(store, tmp_path, clock):
    await run_setup(store, master_key="", key_file=tmp_path / "master.key", source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    environ = {"DATA_DIR": str(tmp_path), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "absent.env")}
    settings = await asyncio.to_thread(app.load_runtime_settings, environ)
    (company,) = settings.companies
    assert (company.company_id, company.user_password.reveal()) == ("ACME", "user-pw-1")
    settings = await asyncio.to_thread(app.load_runtime_settings, environ | {"INTACCT_USER_PASSWORD": "from-env"})
    assert settings.companies[0].user_password.reveal() == "from-env"


async def test_failed_checks_store_nothing_unless_confirmed(store, tmp_path, clock):
    with pytest.raises(SetupError, match="nothing stored"):
        await run_setup(store, master_key="", key_file=tmp_path / "k", source=Interactive(asker()), say=lambda _: None, test=failing, now=clock)
    assert await store.load_secrets() == {}
    await run_setup(store, master_key="", key_file=tmp_path / "k", source=Interactive(asker(confirm="y")), say=lambda _: None, test=failing, now=clock)
    assert await store.load_secrets()


async def test_enter_keeps_stored_values(store, tmp_path, clock):
    key_file = tmp_path / "master.key"
    await run_setup(store, master_key="", key_file=key_file, source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    changed = {k: ("" if "password" in k else v) for k, v in ANSWERS.items()} | {"Intacct company id": "ACME-2"}
    await run_setup(store, master_key="", key_file=key_file, source=Interactive(asker(changed)), say=lambda _: None, test=passing, now=clock)
    values = CredentialVault(read_key_ring("", key_file, create=False)).decrypt_all(await store.load_secrets())
    assert values["INTACCT_COMPANY_ID"] == "ACME-2" and values["INTACCT_USER_PASSWORD"] == "user-pw-1"


async def test_rotation_with_a_key_file_reencrypts_and_drops_the_old_key(store, tmp_path, clock):
    key_file = tmp_path / "master.key"
    await run_setup(store, master_key="", key_file=key_file, source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    old_key = key_file.read_text().strip()
    before = await store.load_secrets()
    new_key = await rotate_key(store, master_key="", key_file=key_file, say=lambda _: None, now=clock)
    assert key_file.read_text().strip() == new_key != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = await store.load_secrets()
    assert after != before
    assert CredentialVault([new_key]).decrypt_all(after)["INTACCT_SENDER_PASSWORD"] == "sender-pw-1"
    with pytest.raises(VaultError):
        CredentialVault([old_key]).decrypt_all(after)


async def test_rotation_with_the_key_in_the_environment_prints_the_new_key(store, tmp_path, clock):
    env_key = generate_key()
    await run_setup(store, master_key=env_key, key_file=tmp_path / "unused", source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    said: list[str] = []
    new_key = await rotate_key(store, master_key=env_key, key_file=tmp_path / "unused", say=said.append, now=clock)
    assert new_key in said and not (tmp_path / "unused").exists()
    both = CredentialVault([new_key, env_key])  # NEW,OLD while instances roll over
    assert both.decrypt_all(await store.load_secrets())["INTACCT_USER_PASSWORD"] == "user-pw-1"


async def test_a_wrong_master_key_is_a_clear_error_not_garbage(store, tmp_path, clock):
    await run_setup(store, master_key="", key_file=tmp_path / "master.key", source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    environ = {"DATA_DIR": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": generate_key(), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "x")}
    with pytest.raises(VaultError, match="does not open the stored credential"):
        await asyncio.to_thread(app.load_runtime_settings, environ)
    # From the command line: exit code 2 and one line, no traceback.
    code = await asyncio.to_thread(app.main, ["check"], environ)
    assert code == 2


def test_a_world_readable_key_file_is_refused(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(generate_key() + "\n")
    os.chmod(key_file, 0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        read_key_ring("", key_file, create=False)


def test_an_invalid_key_is_refused_clearly():
    with pytest.raises(VaultError, match="not a valid Fernet key"):
        CredentialVault(["not-a-key"])
