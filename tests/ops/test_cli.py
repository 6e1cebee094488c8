"""The command line against the sandbox over HTTP: check, poll --once, routes, audit, package."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import aiohttp
import jsonschema
import pytest

import app
from graph.msal_http import LoopHttpClient
from store.sql import open_store
from store.types import AuditEntry
from tests.fakes.entra_graph import ENTRA_HOST, TENANT_ID, make_test_tls, running_entra_graph
from tests.fakes.network import entra_session
from tests.ops.cli_harness import bot_heard_from, run

CHANNEL = "19:ap-team@thread.tacv2"
GROUP = "3c6b6f1e-8d2a-4b7e-9f10-2a3b4c5d6e7f"  # the team's Graph id


async def test_check_says_ok_with_the_company_name(capsys, environ):
    code, out, _ = await run(capsys, ["check"], environ)
    assert code == 0, out
    assert "ok    Intacct: ok — signed in to DEMO-CO; 9 objects looked up" in out
    assert "ok    Intacct DEMO-CO: user time zone GMT-8" in out
    assert "API transactions a month" in out and "Store: ok" in out and "Graph: off" in out


async def test_check_explains_each_kind_of_wake_up_with_the_url_to_paste_and_the_cost(capsys, environ):
    secret = "check-events-secret-0123456789"
    code, out, _ = await run(capsys, ["check"], environ)
    assert code == 0 and "ok    Intacct wake-ups for DEMO-CO: off — cards come with the regular poll (*/2 6-19 * * mon-fri)" in out

    woken = environ | {"INTACCT_EVENTS_SECRET": secret, "INTACCT_EVENTS_CLIENT_ID": "mlc.app.sage.com",
                       "INTACCT_EVENTS_CLIENT_SECRET": "client-secret-of-the-rest-app", "PUBLIC_URL": "https://bot.example.com"}
    code, out, _ = await run(capsys, ["check"], woken)

    assert code == 0, out
    assert "ok    Intacct wake-ups for DEMO-CO: Platform Triggers and Smart Events; none has arrived yet" in out
    url = "https://bot.example.com/api/intacct/events?company=DEMO-CO"
    assert (f"Set up Platform Triggers for DEMO-CO (Platform Services > Triggers): one trigger on each of APBILL, APPYMT, VENDOR, "
            f"events add and set; trigger type HTTP post; select Use webhook delivery; Client ID mlc.app.sage.com; URL {url}") in out
    assert (f"Set up Smart Events for DEMO-CO (Platform Services > Smart events): one on each of APBILL, APPYMT, VENDOR, events Add "
            f"and Set, action HTTP post; URL {url};") in out
    # The fallback schedule (every 15 minutes in the AP day): within 10% of Tier 1 (about 5,940 a month).
    usage = next(line for line in out.splitlines() if "API transactions a month" in line)
    assert int(usage.split("about ")[1].split(" ")[0].replace(",", "")) <= 10_000, usage
    assert "plus 3 per wake-up poll" in usage and "at most 60 an hour" in usage
    assert secret not in out and "client-secret-of-the-rest-app" not in out

    code, out, _ = await run(capsys, ["check"], woken | {"PUBLIC_URL": ""})
    assert code == 1 and "FAIL  Intacct wake-ups for DEMO-CO: set PUBLIC_URL" in out


async def test_anonymous_mode_facing_the_network_is_refused_by_serve_and_failed_by_check(capsys, environ):
    exposed = environ | {"HOST": "0.0.0.0"}

    serve_code, serve_out, serve_err = await run(capsys, ["serve"], exposed)
    check_code, check_out, _ = await run(capsys, ["check"], exposed)
    opted_in, opted_out, _ = await run(capsys, ["check"], exposed | {"ALLOW_ANONYMOUS_ON_NETWORK": "true"})

    assert serve_code == 2 and serve_out == ""
    assert len(serve_err.strip().splitlines()) == 1 and "APP_ID" in serve_err and "Traceback" not in serve_err
    assert check_code == 1 and "FAIL  Bot: APP_ID is empty" in check_out
    assert opted_in == 0 and "WARN  Bot: anonymous mode (APP_ID empty) OPEN TO THE NETWORK" in opted_out


async def test_check_with_wrong_credentials_says_what_to_fix(capsys, environ):
    code, out, _ = await run(capsys, ["check"], environ | {"INTACCT_USER_PASSWORD": "wrong-pass"})
    assert code == 1
    assert "FAIL  Intacct DEMO-CO: XL03000006 Sign-in information is incorrect" in out
    assert "INTACCT_USER_PASSWORD" in out and "wrong-pass" not in out
    code, out, _ = await run(capsys, ["check"], environ | {"INTACCT_SENDER_PASSWORD": "nope-nope"})
    assert code == 1 and "INTACCT_SENDER_ID / INTACCT_SENDER_PASSWORD" in out


async def test_missing_configuration_is_one_clear_message(capsys, tmp_path):
    code, out, err = await run(capsys, ["poll", "--once"], {"DATA_DIR": str(tmp_path), "PORT": "x",
                                                            "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none")})
    assert code == 2 and "PORT must be a whole number" in err and "Traceback" not in err


async def test_serve_with_a_plain_http_graph_authority_stops_before_starting(capsys, environ):
    # It used to pass validation, then crash `serve` with msal's traceback while building Graph.
    graph = {"APP_ID": "00000000-0000-0000-0000-00000000000a", "APP_PASSWORD": "bot-secret", "APP_TENANTID": "t",
             "PUBLIC_URL": "https://bot.example.com", "GRAPH_AUTHORITY_HOST": "http://login.example.com"}
    code, _, err = await run(capsys, ["serve"], environ | graph)
    assert code == 2 and "Traceback" not in err
    assert "GRAPH_AUTHORITY_HOST must use https; got 'http://login.example.com'" in err


async def test_poll_once_dry_run_json_prints_events_with_their_cards(capsys, environ, gateway, fixtures_dir):
    code, out, _ = await run(capsys, ["poll", "--once"], environ)  # the baseline: no event
    assert code == 0 and out == ""
    async with aiohttp.ClientSession() as http:
        async with http.post(str(gateway.make_url("/sandbox/bills")), json={"amount": "640.00"}) as response:
            bill = await response.json()
    code, out, _ = await run(capsys, ["poll", "--once", "--dry-run", "--json"], environ)
    assert code == 0
    (line,) = [json.loads(text) for text in out.splitlines()]
    assert line["kind"] == "BillCreated" and line["record_no"] == bill["record_no"] and line["company"] == "DEMO-CO"
    assert line["key"] == f"DEMO-CO|bill|{bill['record_no']}|created"
    schema = json.loads((fixtures_dir / "schemas/adaptive-card-1.5.0.schema.json").read_text())
    card = {k: v for k, v in line["card"].items() if k != "msteams"}  # Teams' extension (schemas/README.md)
    jsonschema.Draft6Validator(schema).validate(card)
    # --dry-run committed nothing: the same event comes again.
    code, again, _ = await run(capsys, ["poll", "--once", "--dry-run", "--json"], environ)
    assert [json.loads(t)["key"] for t in again.splitlines()] == [line["key"]]


async def test_routes_add_list_remove(capsys, environ, tmp_path, clock):
    await bot_heard_from(tmp_path / "data", CHANNEL, now=clock(), team_group_id=GROUP)
    code, out, _ = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "bills,payments",
                                      "--department", "D100", "--over", "1,000", "--name", "AP team"], environ)
    assert code == 0 and "route 1: bills,payments" in out
    code, out, _ = await run(capsys, ["routes", "list"], environ)
    assert "AP team [19:ap-team@thread.tacv2]" in out and "department D100" in out and "over 1000" in out
    code, out, err = await run(capsys, ["routes", "add", "--channel", CHANNEL, "--kinds", "everything"], environ)
    assert code == 2 and "--kinds takes" in err
    code, out, _ = await run(capsys, ["routes", "remove", "1"], environ)
    assert "removed route 1" in out
    code, out, _ = await run(capsys, ["routes", "list"], environ)
    assert out.startswith("no routes")


async def test_audit_exports_csv_and_json_since_a_date(capsys, environ, tmp_path, clock):
    store = open_store(None, data_dir=tmp_path / "data")
    await store.migrate()
    for day, outcome in ((20, "ok"), (24, "gone")):
        await store.append_audit(AuditEntry(at=clock().replace(day=day), action="post", outcome=outcome, company="DEMO-CO",
                                            event_key=f"k{day}", record_kind="bill", record_no=day, conversation_id=CHANNEL,
                                            activity_id=f"a{day}", error=None if outcome == "ok" else "403 BotNotInConversationRoster"))
    await store.close()
    code, out, _ = await run(capsys, ["audit", "--since", "2026-11-22", "--format", "csv"], environ)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["event_key"] for r in rows] == ["k24"] and rows[0]["error"] == "403 BotNotInConversationRoster"
    code, out, _ = await run(capsys, ["audit", "--format", "json"], environ)
    assert [e["event_key"] for e in json.loads(out)] == ["k20", "k24"]


async def test_package_command_needs_the_bot_app_id_and_the_publisher(capsys, environ, tmp_path):
    code, out, err = await run(capsys, ["package"], environ)
    assert code == 2 and out == "" and "APP_ID must be" in err and "TEAMS_APP_DEVELOPER is not set" in err
    publisher = {"APP_ID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "APP_PASSWORD": "bot-secret",
                 "APP_TENANTID": "0f2d8f49-862a-493b-9ca8-82a10637e17d", "TEAMS_APP_DEVELOPER": "Contoso Finance IT",
                 "TEAMS_APP_WEBSITE_URL": "https://it.contoso.example/ap", "TEAMS_APP_PRIVACY_URL": "https://it.contoso.example/privacy",
                 "TEAMS_APP_TERMS_URL": "https://it.contoso.example/terms"}
    code, _, err = await run(capsys, ["package"], environ | publisher | {"TEAMS_APP_TERMS_URL": "http://it.contoso.example/terms"})
    assert code == 2 and "TEAMS_APP_TERMS_URL must use https" in err
    zip_path = tmp_path / "out" / "app.zip"
    code, out, _ = await run(capsys, ["package", "--output", str(zip_path)], environ | publisher)
    assert code == 0 and out.startswith(f"wrote {zip_path}") and zip_path.is_file()


def test_the_demo_starts_from_an_empty_store_and_keeps_the_rest(tmp_path):
    from store.engine import SQLITE_FILE_NAME

    for name in (SQLITE_FILE_NAME, f"{SQLITE_FILE_NAME}-wal", f"{SQLITE_FILE_NAME}-shm", "master.key"):
        (tmp_path / name).write_text("last run")
    (tmp_path / "playground").mkdir()

    app.forget_last_demo(tmp_path)
    app.forget_last_demo(tmp_path)  # nothing left to remove: fine

    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key", "playground"]


# --- check asks Entra for the bot's token exactly as the sends do ---------------------------------------

BOT_APP, BOT_SECRET = "0b4e8a1c-5f6d-4e2a-8c3b-9a7d6e5f4c21", "bot~Secret.Value_1a2b3c"


@pytest.fixture
async def entra():
    """The fake Entra as login.microsoftonline.com (the bot registered single-tenant in TENANT_ID) and
    the msal http client production uses (graph.msal_http.LoopHttpClient) over a session that reaches it."""
    tls = make_test_tls(ENTRA_HOST)
    async with running_entra_graph(clock=app.utc_now, tls=tls) as running:
        running.fake.register_app(BOT_APP, BOT_SECRET)
        session = entra_session(running.url, tls)
        yield running.fake, LoopHttpClient(session, asyncio.get_running_loop(), timeout_seconds=10)
        await session.close()


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({"APP_TENANTID": TENANT_ID},
         f"ok    Bot credentials: ok (app {BOT_APP}, SingleTenant, token from tenant {TENANT_ID})"),
        # The trap of the old default: a single-tenant Azure Bot configured as MultiTenant asks the
        # botframework.com tenant, which does not know it; every send would fail the same way.
        ({"APP_TYPE": "MultiTenant", "APP_TENANTID": TENANT_ID},
         f"FAIL  Bot credentials: Entra refused a token for app {BOT_APP} from tenant botframework.com"),
        ({"APP_TENANTID": TENANT_ID, "APP_PASSWORD": "not-the-secret"},
         f"FAIL  Bot credentials: Entra refused a token for app {BOT_APP} from tenant {TENANT_ID}"),
    ],
)
async def test_check_gets_the_bot_token_through_the_adapters_own_credentials(environ, entra, config, line):
    fake, msal_http = entra
    settings = app.load_settings(environ | {"APP_ID": BOT_APP, "APP_PASSWORD": BOT_SECRET} | config)

    results = await app._checks(settings, token_http_client=msal_http)
    lines = [("WARN  " if ok is None else "ok    " if ok else "FAIL  ") + text for ok, text in results]

    assert any(text.startswith(line) for text in lines), lines
    token_paths = {r.path for r in fake.requests if r.path.endswith("/token")}
    tenant = "botframework.com" if config.get("APP_TYPE") == "MultiTenant" else TENANT_ID
    assert token_paths == {f"/{tenant}/oauth2/v2.0/token"}
    if config.get("APP_TYPE") == "MultiTenant":
        assert any(text.startswith("WARN  Configuration: APP_TYPE is MultiTenant but APP_TENANTID is set") for text in lines)
        assert any("AADSTS700016" in text for text in lines)
    assert "not-the-secret" not in "\n".join(lines) and BOT_SECRET not in "\n".join(lines)
