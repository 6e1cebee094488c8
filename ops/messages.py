"""Every text the command line (`python app.py …`) shows a person, in one place, by command.

Teams texts live in bot/messages.py, card texts in cards/texts.py, configuration problems beside
the key they describe in settings.py. A failure is one line that says what happened and what to
do; placeholders are `{name}` for `str.format`. Nothing here may hold a secret: a database URL is
shown with its password masked (the store does that), never as configured.
"""

from __future__ import annotations

# --- failures any command may meet (ops/cli.py) ------------------------------------------------
UNEXPECTED = ("unexpected error ({error}); nothing further was done. Run again with LOG_LEVEL=DEBUG to see where it "
              "happened, and report it with that output")
STORE_UNREACHABLE = "{error}; database {database}: start it, or fix DATABASE_URL"
STORE_FAILED = "{error}; database {database}: see the database's log, and check DATABASE_URL"
PORT_IN_USE = "cannot listen on {host}:{port}: the port is already in use (another ml-connector?). {fix}"
PORT_IN_USE_GENERIC = "cannot listen: {error} (another ml-connector?). Stop the other process or choose another port"
PORT_FIX_SERVE = "Stop the other process, or set PORT to a free port"
PORT_FIX_SANDBOX = "Stop the other process, or choose another port with --port"

NO_COMPANY = ("no Intacct company is configured: set INTACCT_SENDER_ID, INTACCT_SENDER_PASSWORD, INTACCT_COMPANY_ID, "
              "INTACCT_USER_ID and INTACCT_USER_PASSWORD (or run `python app.py setup`), or ML_CONNECTOR_CONFIG")

# --- setup --------------------------------------------------------------------------------------
SETUP_QUESTIONS = {
    "INTACCT_SENDER_ID": "Intacct Web Services sender id",
    "INTACCT_SENDER_PASSWORD": "Intacct sender password",
    "INTACCT_COMPANY_ID": "Intacct company id",
    "INTACCT_USER_ID": "Intacct web-services user id",
    "INTACCT_USER_PASSWORD": "Intacct user password",
    "INTACCT_ENTITY_ID": "Entity id (empty for the whole company)",
    "INTACCT_ENDPOINT_URL": "Intacct XML gateway URL",
    "APP_ID": "Azure Bot Microsoft App ID (empty: anonymous local mode)",
    "APP_PASSWORD": "Azure Bot client secret",
    "APP_TENANTID": "Azure Bot tenant id (your Entra tenant; needed by single-tenant bots, the default)",
    "GRAPH_CLIENT_SECRET": "Graph client secret (empty: same app as the bot)",
}
SETUP_HINT_STORED = " [stored, Enter keeps it]"
SETUP_HINT_CURRENT = " [{value}]"
SETUP_HINT_OPTIONAL = " (optional)"
SETUP_PROMPT = "{question}{hint}: "
SETUP_TESTING = "Testing the credentials…"
SETUP_RESULT_OK = "  ok   {text}"
SETUP_RESULT_WARN = "  WARN {text}"
SETUP_RESULT_FAIL = "  FAIL {text}"
SETUP_STORE_ANYWAY = "Some checks failed. Store these values anyway? [y/N] "
SETUP_NOTHING_STORED = "nothing stored; run setup again when the values are right"
SETUP_CHECKS_FAILED = "nothing stored: {failed} check(s) failed (above); fix the values and run setup again"
SETUP_STORED = "Stored {count} values encrypted in the database{where}."
SETUP_STORED_KEY_FILE = " (key file {key_file})"
SETUP_CANCELLED = "setup cancelled: nothing stored"
SETUP_NEEDS_TERMINAL = ("setup asks its questions on a terminal, and there is none: run it in one, or give the values "
                        "with `python app.py setup --from-env` (the INTACCT_*/APP_* keys from the environment) or "
                        "`--from-file FILE` (KEY=value lines)")
SETUP_MISSING = "{source} does not give {keys}, and nothing is stored for {them}: add {them} and run setup again"
SETUP_UNKNOWN_KEYS = "{source}: setup stores only credentials, and {keys} {is_are} not one of them ({known})"
SETUP_FILE_MISSING = "--from-file {path}: no such file"
SETUP_FILE_UNREADABLE = "--from-file {path}: cannot read it ({error})"
SOURCE_ENVIRONMENT = "the environment"
SOURCE_FILE = "file {path}"
SETUP_FAILED = "setup: {error}"
SETUP_RESET_WITH_ROTATE = "--reset and --rotate-key do not go together: reset first (setup --reset), then rotate"
SETUP_YES_WITHOUT_RESET = "--yes only confirms --reset: add --reset, or leave --yes out"
SETUP_RESET_NEEDS_CONFIRMATION = ("--reset discards stored values for good: confirm on a terminal, or add --yes to "
                                  "`setup --reset --from-env` / `--from-file`")
SETUP_RESET_NOTHING = "Nothing to discard: every stored value opens with the {ring}."
SETUP_RESET_NOTHING_STORED = "Nothing to discard: nothing is stored."
SETUP_RESET_CONFIRM = ("The stored values {names} cannot be opened: {why}. Discard them for good and store new ones? "
                       "Type DISCARD to confirm: ")
SETUP_RESET_DECLINED = "nothing discarded (the confirmation was not DISCARD)"
SETUP_RESET_DONE = "Discarded {count} stored value(s) that could not be opened: {names}. They are lost: give them again now."

# --- the master key (ops/vault.py, ops/key_rotation.py) ------------------------------------------
CREDENTIALS_LOCKED = ("the stored credentials {names} cannot be opened: {why}. Restore the master key they were stored "
                      "with, or discard them with `python app.py setup --reset` and store them again")
LOCKED_NO_KEY = "there is no master key (ML_CONNECTOR_MASTER_KEY is not set and there is no key file {key_file})"
LOCKED_WRONG_KEY = "the {ring} does not open them"
ROTATE_NO_KEY = "there is no master key to rotate: ML_CONNECTOR_MASTER_KEY is not set and there is no key file {key_file}"
ROTATE_NEW_KEY_SHOWN = "Phase 1 of 2: a new master key, key {new}, shown once:"
ROTATE_NEW_KEY_ENV = ("On every instance set ML_CONNECTOR_MASTER_KEY to the new key, a comma, then the current key {current} "
                      "(new first), and restart it. Nothing is re-encrypted yet: every instance keeps opening the stored "
                      "credentials with either value. Then run `python app.py setup --rotate-key` again with the new value.")
ROTATE_NEW_KEY_FILE = ("Phase 1 of 2: added key {new} in front of key {current} in {key_file}; nothing is re-encrypted yet. "
                       "Restart every instance that reads this key file, then run `python app.py setup --rotate-key` again.")
ROTATE_LAGGING = ("nothing re-encrypted: {count} running instance(s) hold no key {new} and could not start again afterwards: "
                  "{instances}. Restart each with ML_CONNECTOR_MASTER_KEY (or the key file) holding key {new} first, then run "
                  "`python app.py setup --rotate-key` again (an instance that stopped drops out of this list {minutes} "
                  "minutes after its last report)")
ROTATE_LAGGING_INSTANCE = "{holder} (keys {keys}, reported {at:%H:%M} UTC)"
ROTATE_STILL_OLD = ("{names} still need an old key after re-encrypting; run `python app.py setup --rotate-key` again "
                    "(no key was retired)")
ROTATE_DONE = "Phase 2 of 2: re-encrypted {moved} of {count} stored value(s) with key {new}"
ROTATE_DONE_ENV = ("{done}. Now set ML_CONNECTOR_MASTER_KEY to the new key alone on every instance (the old key {old} is no "
                   "longer needed; restarting with the new,old value keeps working too). `python app.py check` shows "
                   "which key opens the data.")
ROTATE_DONE_FILE = "{done} and retired the old key {old} from {key_file}."
CHECK_VAULT_NONE = "Stored credentials: none (the {ring} has nothing to open)"
CHECK_VAULT_OPENED = "Stored credentials: {count} value(s), opened {opened} ({source})"
CHECK_VAULT_OPENED_BY = "{count} by key {key}"
CHECK_VAULT_OLD_NEEDED = ("{head}; the older key {old} is still needed: a rotation is half-way, finish it with "
                          "`python app.py setup --rotate-key` before removing that key")
CHECK_VAULT_OLD_UNUSED = "{head}; the older key {old} is no longer needed: keep only key {new}"
CHECK_RINGS_LAGGING = ("Key rings of running instances: {lacking} of {count} hold no key {new} (restart them with it before "
                       "`setup --rotate-key` re-encrypts): {listed}")
CHECK_RINGS_OK = "Key rings of running instances: every one holds key {new} ({listed})"
CHECK_RING_ENTRY = "{holder}: {keys}"

# --- poll --once ----------------------------------------------------------------------------------
POLL_NEEDS_ONCE = "poll runs one cycle: use `python app.py poll --once` (`serve` polls on the schedule)"
POLL_BAD_DATE = "--backfill-since must be a date such as 2026-11-01 (got {text!r})"
POLL_BACKFILL_AFTER_BASELINE = (
    "--backfill-since only applies to a company's first poll, and {companies} was already polled (its baseline is "
    "stored, so nothing would be backfilled): run it without --backfill-since; every change since the last poll is "
    "announced anyway")
POLL_EVENT = "{company}: {kind} {key}"
POLL_OK = "{company}: ok; {events} events, {requests} requests, {functions} functions"
POLL_FAILED = "{company}: FAILED: {error}. {fix}"
POLL_FIX_DEFAULT = "Run `python app.py check` for what to fix"
POLL_SKIPPED_LEASE = ("{company}: skipped: instance {holder} is polling this company (its lease runs until {until}); "
                      "nothing to do, or stop that instance and run poll again")
POLL_SKIPPED_LEASE_ENDED = "{company}: skipped: another instance was polling this company; run poll again"

# --- routes -------------------------------------------------------------------------------------
ROUTES_NONE = "no routes (subscribe a channel with `@ml-connector subscribe bills` or `routes add`)"
ROUTES_ADDED = "route {id}: {kinds} → {channel}"
ROUTES_THROUGH_TEAM = "the bot will start threads in {channel} through its team's reference"
ROUTES_NOT_INSTALLED = ("{channel} is not a channel of any team the bot is installed in "
                        "(`python app.py routes channels` lists them; install the bot in the team first)")
ROUTES_NO_TEAMS = ("no team the bot is installed in{matching} (add the app to a team in Teams; its install event gives the "
                   "bot the team's reference)")
ROUTES_CHANNEL_NEEDS_BOT = "no: add the bot to this channel in Teams"
ROUTES_CHANNELS_UNREADABLE = "could not list the team's channels ({error}); check the bot's credentials with `python app.py check`"
ROUTES_REMOVED = "removed route {id}"
ROUTES_REMOVED_CHANNEL = "removed {count} route(s) of {channel}"
ROUTES_NO_SUCH_ID = "no route {id}: nothing removed (see `python app.py routes list` for the ids)"
ROUTES_NONE_FOR_CHANNEL = "no route sends to {channel}: nothing removed (see `python app.py routes list`)"
ROUTES_REMOVE_WHAT = "routes remove needs a route id or --channel (see `python app.py routes list`)"
ROUTES_BAD_KINDS = "--kinds takes {kinds} (got {given!r})"
ROUTES_BAD_OVER = "--over must be an amount such as 500 or 1200.50 (got {over!r})"
ROUTES_BAD_CHANNEL = ("--channel must be a Teams channel id such as 19:abc…@thread.tacv2, or the link from the channel's "
                      "“Get link to channel” (got {channel!r})")
ROUTES_THREAD_NOT_CHANNEL = "--channel names a thread (…;messageid=…), not a channel: use the channel id {channel}"
ROUTES_NOT_A_CHANNEL_LINK = ("--channel: {link} is not a channel link; in Teams use the channel's ⋯ menu, "
                             "“Get link to channel”")
ROUTES_UNKNOWN_COMPANY = "--company {company!r} is not a configured company (configured: {companies})"
ROUTES_NO_COMPANIES = ("--company {company!r}: no Intacct company is configured yet (set the INTACCT_* keys, run "
                       "`python app.py setup`, or ML_CONNECTOR_CONFIG)")

# --- audit ----------------------------------------------------------------------------------------
AUDIT_BAD_MOMENT = ("{option} must be an ISO date or date-time such as 2026-11-01, 2026-11-01T08:00 or "
                    "2026-11-01T08:00+01:00 (got {text!r})")
AUDIT_EMPTY_RANGE = "--until {until} is before --since {since}: nothing could match; swap them"

# --- serve ----------------------------------------------------------------------------------------
SERVE_STARTING = "ml-connector is starting: its database is not reachable yet (see /readyz); try again shortly"

# --- package --------------------------------------------------------------------------------------
PACKAGE_WRITTEN = ("wrote {path} — upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams admin "
                   "center (Teams apps > Manage apps > Upload new app)")

# --- demo -----------------------------------------------------------------------------------------
DEMO_TRY_INVOKES = (
    "Also try, in the Playground:\n"
    "  - the compose-box bill search: open its message extension panel, enter command id “{command}” and parameter "
    "name “{parameter}”, then type a vendor, a bill number or an amount{example};\n"
    "  - a pasted Intacct link: its link-unfurling dialog turns {link} into the bill's live card;\n"
    "  - a card's refresh: Teams offers “Refresh card” in a card's ⋯ menu; the Playground runs no refresh (it logs "
    "“User specific view is not supported yet”), so it is shown by tests/e2e/test_playground.py, which sends one "
    "through the Playground's invoke API and watches the channel's card update in place.\n"
)
DEMO_NO_LINK = "a bill's RECORD_URL (a card's “Review bill” button holds one)"
