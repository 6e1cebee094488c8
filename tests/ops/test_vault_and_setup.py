"""Encrypted credentials: setup stores, settings read, a wrong or missing key stops every command
with one line naming the fix (never a fall-back), and a confirmed reset is the way out."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

import app
from tests.fakes.service_process import free_port
from ops.setup import Interactive, SetupError, run_setup
from ops.vault import CredentialVault, LockedCredentialsError, VaultError, generate_key, read_key_ring
from tests.ops.cli_harness import run
from tests.ops.conftest import SANDBOX_CREDENTIALS
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


async def test_a_wrong_master_key_is_a_clear_error_not_garbage(store, tmp_path, clock):
    await run_setup(store, master_key="", key_file=tmp_path / "master.key", source=Interactive(asker()), say=lambda _: None, test=passing, now=clock)
    environ = {"DATA_DIR": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": generate_key(), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "x")}
    with pytest.raises(LockedCredentialsError, match="cannot be opened: the key .* from ML_CONNECTOR_MASTER_KEY does not open them"):
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


# --- stored credentials without their key: fail closed -----------------------------------------------

LOCKED_LINE = ("ml-connector: the stored credentials APP_ID, APP_PASSWORD, APP_TENANTID, INTACCT_ENDPOINT_URL cannot be opened: "
               "there is no master key (ML_CONNECTOR_MASTER_KEY is not set and there is no key file {key_file}). Restore the "
               "master key they were stored with, or discard them with `python app.py setup --reset` and store them again\n")
BOT = {"APP_ID": "5b1f0f8e-2d7c-4f31-9a55-1c0de0b0a7e1", "APP_PASSWORD": "bot-secret-stored-only",
       "APP_TENANTID": "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"}


async def bot_stored_then_key_lost(environ, data_dir) -> None:
    """`setup` stored the bot's registration and the gateway URL; then the key file went missing."""
    store = open_store(None, data_dir=data_dir)
    await store.migrate()
    vault = CredentialVault(read_key_ring("", data_dir / "master.key", create=True))
    for key, value in {**BOT, "INTACCT_ENDPOINT_URL": environ["INTACCT_ENDPOINT_URL"]}.items():
        await store.save_secret(key, vault.encrypt(value), now=app.utc_now())
    await store.close()
    (data_dir / "master.key").unlink()


@pytest.mark.parametrize("argv", [["check"], ["poll", "--once"], ["serve"]])
async def test_stored_credentials_without_their_key_stop_every_command_with_one_line(capsys, environ, tmp_path, argv):
    # The red team's case: the Intacct credentials in the environment, the bot's stored; without
    # the key the bot used to start anonymous (an activity without a token got 201).
    data_dir = tmp_path / "data"
    await bot_stored_then_key_lost(environ, data_dir)

    code, out, err = await run(capsys, argv, {**environ, "PORT": str(free_port())})

    assert code == 2 and out == ""
    assert err == LOCKED_LINE.format(key_file=data_dir / "master.key")
    assert not (data_dir / "master.key").exists()


async def test_setup_without_the_key_stores_nothing_and_makes_no_key(capsys, environ, tmp_path):
    data_dir = tmp_path / "data"
    await bot_stored_then_key_lost(environ, data_dir)
    before = await _secrets(data_dir)

    code, out, err = await run(capsys, ["setup", "--from-env"], environ)

    assert code == 2 and "cannot be opened" in err and "setup --reset" in err
    assert not (data_dir / "master.key").exists(), "a new key beside values it cannot open was the old dead end"
    assert await _secrets(data_dir) == before


async def test_a_confirmed_reset_discards_what_cannot_be_opened_says_what_was_lost_and_stores_anew(capsys, environ, tmp_path):
    data_dir = tmp_path / "data"
    await bot_stored_then_key_lost(environ, data_dir)

    code, out, err = await run(capsys, ["setup", "--reset", "--from-env"], environ)
    assert code == 2 and "--yes" in err and len(await _secrets(data_dir)) == 4  # not confirmed: nothing discarded

    code, out, err = await run(capsys, ["setup", "--reset", "--from-env", "--yes"], environ)
    assert code == 0, out + err
    assert ("Discarded 4 stored value(s) that could not be opened: APP_ID, APP_PASSWORD, APP_TENANTID, "
            "INTACCT_ENDPOINT_URL. They are lost: give them again now.") in out
    assert set(await _secrets(data_dir)) == {*SANDBOX_CREDENTIALS, "INTACCT_ENDPOINT_URL"}  # the bot's are gone, as said
    code, out, _ = await run(capsys, ["check"], {k: v for k, v in environ.items() if not k.endswith("PASSWORD")})
    assert code == 0 and "Intacct: ok" in out and "Stored credentials: 6 value(s), opened 6 by key" in out


async def test_a_reset_on_a_terminal_needs_the_word(store, tmp_path, clock):
    from ops.setup import discard_locked
    from ops.vault import find_key_ring

    await run_setup(store, master_key="", key_file=tmp_path / "master.key", source=Interactive(asker()), say=lambda _: None,
                    test=passing, now=clock)
    wrong = find_key_ring(generate_key(), tmp_path / "unused")
    with pytest.raises(SetupError, match="nothing discarded"):
        await discard_locked(store, wrong, key_file=tmp_path / "unused", confirm=lambda question: False, say=lambda _: None)
    assert len(await store.load_secrets()) == 6
    said: list[str] = []
    assert len(await discard_locked(store, wrong, key_file=tmp_path / "unused", confirm=lambda q: "DISCARD" in q,
                                    say=said.append)) == 6
    assert await store.load_secrets() == {} and said[0].startswith("Discarded 6 stored value(s)")


async def _secrets(data_dir) -> dict[str, bytes]:
    store = open_store(None, data_dir=data_dir)
    try:
        await store.migrate()
        return await store.load_secrets()
    finally:
        await store.close()
