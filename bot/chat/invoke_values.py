"""The invokes ml-connector answers beside activities, read from their raw `value`, and the
manifest's compose extension that makes Teams send them.

Input from the network: nothing is trusted, every field is checked, and a value that is not what
Microsoft documents raises `InvokeValueError` with a fixed `reason` (logs, metrics, audit) — the
caller answers it with the invoke's documented response, never an error page.

Evidence for the names and shapes:
- invoke names `composeExtension/queryLink`, `composeExtension/query` and `adaptiveCard/action`:
  botbuilder-python 4.17 `botbuilder/core/teams/teams_activity_handler.py` and
  `botbuilder/core/activity_handler.py` route exactly these strings;
- queryLink `value`: `{"url": …}` (botbuilder `AppBasedLinkQuery` attribute map `url`, `state`;
  learn.microsoft.com "Link unfurling", invoke example);
- query `value`: `commandId`, `parameters` [{`name`, `value`}], `queryOptions` {`skip`, `count`}
  (botbuilder `MessagingExtensionQuery`, `MessagingExtensionParameter`,
  `MessagingExtensionQueryOptions`; learn.microsoft.com "Respond to search command": "skip: Skip
  count for this query, count: Number of elements to return"), Teams asking `count` 25;
- adaptiveCard/action `value`: `action` {`type`: "Action.Execute", `verb`, `data`} and `trigger`
  "automatic" | "manual" (MicrosoftDocs/AdaptiveCards universal-action-model.md, "Request
  format"; recorded: tests/fixtures/teams-samples/bot-framework/invoke-adaptive-card-action-execute.json);
- manifest `composeExtensions` (v1.25 schema, tests/fixtures/schemas/teams-manifest-v1.25.schema.json):
  at most one, `botId`, `commands` (query commands with `parameters`), `messageHandlers` of
  `type: "link"` with `value.domains`; a domain `*.example.com` matches exactly one label, and
  top-level wildcards (`*.com`) are refused (learn.microsoft.com "Link unfurling", "Add link
  unfurling to your app manifest"); Universal Actions in search results need the same bot in
  `bots` with team and groupChat scopes (learn.microsoft.com "Universal Actions for search based
  message extensions").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import messages

QUERY_LINK = "composeExtension/queryLink"
QUERY = "composeExtension/query"
CARD_ACTION = "adaptiveCard/action"
INVOKE_NAMES = (QUERY_LINK, QUERY, CARD_ACTION)

SEARCH_COMMAND_ID = "searchBills"
SEARCH_PARAMETER = "query"
INITIAL_RUN_PARAMETER = "initialRun"  # Teams' default query when the manifest sets initialRun (v3 search docs)
EXECUTE = "Action.Execute"
TRIGGERS = ("automatic", "manual")

MAX_URL_LENGTH = 2048
MAX_QUERY_LENGTH = 100  # characters of a search: a vendor name, a bill number or an amount is far shorter
MAX_PARAMETERS = 5  # the manifest schema's bound on a command's parameters
DEFAULT_COUNT = 25  # what Teams asks for
MAX_COUNT = 50
MAX_SKIP = 975  # a search reads at most 1,000 matches (one readByQuery page): the last page starts here
MAX_VERB_LENGTH = 100


class InvokeValueError(ValueError):
    """The invoke's value is not what Microsoft documents; `reason` is a fixed label, `message`
    what the person reads."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A compose-box search: the text typed, and which page of the results."""

    text: str
    skip: int = 0
    count: int = DEFAULT_COUNT


@dataclass(frozen=True, slots=True)
class CardAction:
    """An Action.Execute the client sent: its verb and data, and what triggered it."""

    verb: str | None
    data: Any
    trigger: str


def read_link_query(value: Any) -> str:
    """The URL a queryLink invoke carries."""
    url = value.get("url") if isinstance(value, Mapping) else None
    if not isinstance(url, str) or not url.strip():
        raise InvokeValueError("no_url", messages.INVOKE_NO_URL)
    if len(url) > MAX_URL_LENGTH:
        raise InvokeValueError("url_too_long", messages.INVOKE_URL_TOO_LONG)
    return url.strip()


def read_search_query(value: Any) -> SearchQuery:
    """The search a query invoke asks for (our one command, its text, the page)."""
    if not isinstance(value, Mapping):
        raise InvokeValueError("malformed", messages.SEARCH_MALFORMED)
    if value.get("commandId") != SEARCH_COMMAND_ID:
        raise InvokeValueError("unknown_command", messages.SEARCH_UNKNOWN_COMMAND)
    parameters = value.get("parameters")
    if parameters is None:
        parameters = []
    if not isinstance(parameters, list) or len(parameters) > MAX_PARAMETERS or not all(isinstance(p, Mapping) for p in parameters):
        raise InvokeValueError("malformed", messages.SEARCH_MALFORMED)
    texts = [p.get("value") for p in parameters if p.get("name") == SEARCH_PARAMETER]
    if not texts and any(p.get("name") == INITIAL_RUN_PARAMETER for p in parameters):
        texts = [""]
    if len(texts) != 1 or not isinstance(texts[0], str):
        raise InvokeValueError("malformed", messages.SEARCH_MALFORMED)
    text = " ".join(texts[0].split())
    if not text:
        raise InvokeValueError("empty_query", messages.SEARCH_EMPTY)
    if len(text) > MAX_QUERY_LENGTH:
        raise InvokeValueError("query_too_long", messages.SEARCH_TOO_LONG.format(limit=MAX_QUERY_LENGTH))
    options = value.get("queryOptions") if value.get("queryOptions") is not None else {}
    if not isinstance(options, Mapping):
        raise InvokeValueError("malformed", messages.SEARCH_MALFORMED)
    skip, count = options.get("skip", 0), options.get("count", DEFAULT_COUNT)
    if not _whole(skip) or not _whole(count) or skip < 0 or not 1 <= count <= MAX_COUNT:
        raise InvokeValueError("malformed", messages.SEARCH_MALFORMED)
    if skip > MAX_SKIP:
        raise InvokeValueError("too_far", messages.SEARCH_TOO_FAR)
    return SearchQuery(text, skip, count)


def read_card_action(value: Any) -> CardAction:
    """The Action.Execute an adaptiveCard/action invoke carries."""
    action = value.get("action") if isinstance(value, Mapping) else None
    if not isinstance(action, Mapping):
        raise InvokeValueError("malformed", messages.ACTION_MALFORMED)
    if action.get("type") != EXECUTE:
        raise InvokeValueError("not_execute", messages.ACTION_NOT_EXECUTE)
    verb = action.get("verb")
    if verb is not None and (not isinstance(verb, str) or len(verb) > MAX_VERB_LENGTH):
        raise InvokeValueError("malformed", messages.ACTION_MALFORMED)
    trigger = value.get("trigger", "manual")
    if trigger not in TRIGGERS:
        raise InvokeValueError("malformed", messages.ACTION_MALFORMED)
    return CardAction(verb, action.get("data"), trigger)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def manifest_compose_extensions(bot_id: str, link_domains: Iterable[str]) -> list[dict[str, object]]:
    """The manifest's `composeExtensions`: the bill search command, and link handlers for the
    Intacct domains (intacct/record_links.py: `*.intacct.com`, plus the configured web hosts)."""
    return [
        {
            "botId": bot_id,
            "commands": [
                {
                    "id": SEARCH_COMMAND_ID,
                    "type": "query",
                    "title": messages.SEARCH_COMMAND_TITLE,
                    "description": messages.SEARCH_COMMAND_DESCRIPTION,
                    "initialRun": False,
                    "context": ["compose", "commandBox"],
                    "parameters": [
                        {
                            "name": SEARCH_PARAMETER,
                            "title": messages.SEARCH_PARAMETER_TITLE,
                            "description": messages.SEARCH_PARAMETER_DESCRIPTION,
                            "inputType": "text",
                        }
                    ],
                }
            ],
            "messageHandlers": [{"type": "link", "value": {"domains": list(dict.fromkeys(link_domains))}}],
        }
    ]
