"""`setup` without a person: from the environment or a file, and a clean refusal without a terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

import app
from ops.setup import Given, Interactive, SetupError, SetupInputError
from tests.ops.cli_harness import run
from tests.ops.conftest import SANDBOX_CREDENTIALS

ROOT = app.ROOT


async def stored_values(data_dir) -> dict[str, str]:
    """What setup stored, decrypted as every command reads it ({} when nothing is)."""
    return await app.read_stored_secrets({"DATA_DIR": str(data_dir)})


async def test_setup_from_env_tests_stores_and_then_every_command_reads_them(capsys, environ, tmp_path):
    code, out, err = await run(capsys, ["setup", "--from-env"], environ)
    assert code == 0, out + err
    assert "ok    " not in out and "  ok   Intacct: ok" in out and "Stored 6 values encrypted" in out
    values = await stored_values(tmp_path / "data")
    assert values["INTACCT_USER_PASSWORD"] == "demo-pass" and values["INTACCT_ENDPOINT_URL"] == environ["INTACCT_ENDPOINT_URL"]
    # The passwords can now leave the environment: check finds them in the store.
    without = {k: v for k, v in environ.items() if not k.endswith("PASSWORD")}
    code, out, _ = await run(capsys, ["check"], without)
    assert code == 0 and "Intacct: ok" in out


async def test_setup_from_a_file_reads_key_value_lines(capsys, environ, tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("".join(f"{k}={environ[k]}\n" for k in (*SANDBOX_CREDENTIALS, "INTACCT_ENDPOINT_URL")))
    bare = {k: v for k, v in environ.items() if not k.startswith("INTACCT_")}
    code, out, err = await run(capsys, ["setup", "--from-file", str(secrets)], bare)
    assert code == 0, out + err
    assert (await stored_values(tmp_path / "data"))["INTACCT_SENDER_PASSWORD"] == "sandbox-secret"


async def test_a_misspelt_key_in_the_file_is_refused_and_nothing_is_stored(capsys, environ, tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("INTACCT_SENDER_ID=mlc-sandbox\nINTACCT_USER_PASSWROD=demo-pass\n")
    code, out, err = await run(capsys, ["setup", "--from-file", str(secrets)], environ)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"file {secrets}" in err and "INTACCT_USER_PASSWROD is not one of them" in err
    assert await stored_values(tmp_path / "data") == {}


async def test_a_missing_file_is_a_usage_error(capsys, bare_environ, tmp_path):
    code, _, err = await run(capsys, ["setup", "--from-file", str(tmp_path / "nope.env")], bare_environ)
    assert code == 2 and "no such file" in err and err.count("\n") == 1


async def test_a_required_value_neither_given_nor_stored_is_named(capsys, environ, tmp_path):
    partial = {k: v for k, v in environ.items() if k != "INTACCT_USER_PASSWORD"}
    code, out, err = await run(capsys, ["setup", "--from-env"], partial)
    assert code == 2 and "the environment does not give INTACCT_USER_PASSWORD" in err and err.count("\n") == 1
    assert await stored_values(tmp_path / "data") == {}


async def test_failing_credentials_are_not_stored_without_a_person_to_confirm(capsys, environ, tmp_path):
    code, out, err = await run(capsys, ["setup", "--from-env"], environ | {"INTACCT_USER_PASSWORD": "wrong-pass"})
    assert code == 1
    assert "FAIL Intacct DEMO-CO: XL03000006" in out and "wrong-pass" not in out + err
    assert "nothing stored: 1 check(s) failed" in err
    assert await stored_values(tmp_path / "data") == {}


async def test_without_a_terminal_setup_refuses_in_one_line(capsys, bare_environ, tmp_path):
    # Under pytest stdin is not a terminal, as under cron, CI or `docker run` without -it.
    code, out, err = await run(capsys, ["setup"], bare_environ)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--from-env" in err and "--from-file" in err
    assert not (tmp_path / "data" / "master.key").exists()


def test_without_a_terminal_a_real_process_exits_2_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none")}
    done = subprocess.run([sys.executable, "app.py", "setup"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("ml-connector: setup asks its questions on a terminal") and "Traceback" not in done.stderr


def test_interactive_ctrl_d_cancels_without_storing():
    def ask(prompt: str, secret: bool) -> str:
        raise EOFError

    with pytest.raises(SetupError, match="cancelled"):
        Interactive(ask).answers({})


def test_given_values_keep_what_is_stored_and_default_the_endpoint():
    stored = {**SANDBOX_CREDENTIALS, "INTACCT_ENDPOINT_URL": "https://sandbox.example/ia/xml/xmlgw.phtml"}
    answers = Given({"INTACCT_USER_PASSWORD": "new-pass", "PATH": "/bin"}, "the environment").answers(stored)
    assert answers == {"INTACCT_USER_PASSWORD": "new-pass"}  # the rest stays as stored; PATH is not setup's
    answers = Given(dict(SANDBOX_CREDENTIALS), "the environment").answers({})
    assert answers["INTACCT_ENDPOINT_URL"] == "https://api.intacct.com/ia/xml/xmlgw.phtml"
    with pytest.raises(SetupInputError, match="PATH is not one of them"):
        Given({"PATH": "/bin"}, "file x.env", strict=True).answers(stored)
