"""`routes` checks what it is given: kinds, channel ids (or Teams' channel link), companies, ids to remove."""

from __future__ import annotations

import json

from tests.ops.cli_harness import bot_heard_from, run

CHANNEL = "19:ap-team@thread.tacv2"


async def test_a_company_that_is_not_configured_is_refused_and_nothing_is_written(capsys, environ, tmp_path, clock):
    await bot_heard_from(tmp_path / "data", CHANNEL, now=clock())
    code, out, err = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills", "--company", "NOPE"], environ)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--company 'NOPE' is not a configured company (configured: DEMO-CO)" in err
    code, out, _ = await run(capsys, ["routes", "list"], environ)
    assert code == 0 and out.startswith("no routes")
    code, out, _ = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills", "--company", "DEMO-CO"], environ)
    assert code == 0 and out.startswith("route 1: bills")


async def test_without_any_company_a_company_filter_says_how_to_configure_one(capsys, bare_environ):
    code, _, err = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills", "--company", "ACME"], bare_environ)
    assert code == 2 and "no Intacct company is configured yet" in err


async def test_channel_ids_are_checked_and_a_thread_id_is_named_as_such(capsys, environ, tmp_path, clock):
    for bad in ("general", "19:abc", "19:abc@thread.v2x", "https://example.com/l/channel/x/y"):
        code, out, err = await run(capsys, ["routes", "add", "--channel", bad, "--kinds", "bills"], environ)
        assert code == 2 and out == "" and err.count("\n") == 1, (bad, err)
    code, _, err = await run(capsys, ["routes", "add", "--channel", f"{CHANNEL};messageid=1759881511856", "--kinds", "bills"], environ)
    assert code == 2 and f"names a thread (…;messageid=…), not a channel: use the channel id {CHANNEL}" in err
    code, _, err = await run(capsys, ["routes", "add", "--channel", "19:nowhere@thread.tacv2", "--kinds", "bills"], environ)
    assert code == 2 and "is not a channel of any team the bot is installed in" in err  # well-formed, but no team has it
    older = "19:efa9296d959346209fea44151c742e73@thread.skype"  # an older team's channel id
    await bot_heard_from(tmp_path / "data", older, now=clock())
    code, out, _ = await run(capsys, ["routes", "add", "--channel", older, "--kinds", "all"], environ)
    assert code == 0, out


async def test_the_link_teams_copies_for_a_channel_gives_its_id_team_and_name(capsys, environ, fixtures_dir, tmp_path, clock):
    # Graph's channel webUrl is the link "Get link to channel" copies (recorded resource).
    resource = json.loads((fixtures_dir / "teams-samples/graph/notification-channel-decrypted-resource.json").read_text())
    link = resource["webUrl"]
    await bot_heard_from(tmp_path / "data", resource["id"], now=clock(), team_group_id=None)
    code, out, err = await run(capsys, ["routes", "add", "--channel", link, "--kinds", "bills"], environ)
    assert code == 0, err
    assert out.startswith(f"route 1: bills → {resource['id']}")
    code, out, _ = await run(capsys, ["routes", "list"], environ)
    assert f"{resource['displayName']} [{resource['id']}]" in out


async def test_kinds_and_amounts_are_checked(capsys, environ):
    code, _, err = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills,invoices"], environ)
    assert code == 2 and "--kinds takes alerts, all, bills, digest, payments, vendors (got 'bills,invoices')" in err
    for over in ("lots", "-5", "NaN"):
        code, _, err = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills", "--over", over], environ)
        assert code == 2 and "--over must be an amount" in err, over


async def test_removing_what_does_not_exist_fails_with_exit_1(capsys, environ, tmp_path, clock):
    code, out, err = await run(capsys, ["routes", "remove", "99"], environ)
    assert code == 1 and out == "" and err == "ml-connector: no route 99: nothing removed (see `python app.py routes list` for the ids)\n"
    code, _, err = await run(capsys, ["routes", "remove", "--channel", CHANNEL], environ)
    assert code == 1 and f"no route sends to {CHANNEL}" in err
    code, _, err = await run(capsys, ["routes", "remove"], environ)
    assert code == 2 and "needs a route id or --channel" in err
    await bot_heard_from(tmp_path / "data", CHANNEL, now=clock())
    await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills"], environ)
    await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "alerts"], environ)
    code, out, _ = await run(capsys, ["routes", "remove", "--channel", CHANNEL], environ)
    assert code == 0 and out == f"removed 2 route(s) of {CHANNEL}\n"
