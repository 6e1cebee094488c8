"""The Teams activity handler and the /api/messages aiohttp handler: activities in, replies out.

It translates, it does not decide: an activity becomes an `Origin` (plain values) and references
(wire JSON, built only with bot/teams/connector.py's helpers), then a call to `ConversationBook`
(install, uninstall, channel and team events) or to `CommandService` (a command), whose
`Reply` is sent back in the same conversation — a channel message's thread. Only this
package (bot/teams/: here and bot/teams/connector.py) imports botbuilder.

Invokes: `composeExtension/queryLink`, `composeExtension/query` and `adaptiveCard/action` go to
bot/chat/invokes.py (its plain answers become botbuilder's MessagingExtensionResponse, or the
`{statusCode, type, value}` body of Universal Actions); a refreshed channel card whose record
changed is also updated in place here, paced like a reply. Any other invoke is botbuilder's (501).

Order of a turn: the tenant gate (bot/tenant_gate.py: the conversation's tenant against
ALLOWED_TENANT_IDS; a refused activity gets no reply, a refused invoke a bare 403, both logged
once per tenant and counted), then the handler method, then `context.metrics.activities{type,outcome}`.

Errors inside a turn go to `MlConnectorBot.on_turn_error` (logged without secrets, an apology to the
person when a message was being answered, never raised). It is deliberately NOT installed as the
adapter's `on_turn_error`: the adapter runs the notifier's proactive sends through the same
pipeline, and a handler there would swallow the failures the notifier must see and map.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Mapping, cast

from aiohttp import web
from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, Attachment, CardAction, ChannelAccount
from botbuilder.schema.teams import (
    ChannelInfo,
    MessagingExtensionAttachment,
    MessagingExtensionResponse,
    MessagingExtensionResult,
    MessagingExtensionSuggestedAction,
    TeamInfo,
)
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot import messages, tenant_gate
from bot.teams.channel_auth import SigningKeysUnavailableError
from bot.chat.commands import parse_command
from bot.teams.connector import channel_reference, reference_from_activity, strip_mention, team_facts
from bot.context import BotContext
from bot.teams.conversations import ChannelNames, ConversationBook, TeamLookup
from bot.teams.errors import map_connector_error
from bot.teams.inbound import RefusedBodyError, activity_problem, read_json
from bot.chat.invoke_values import CARD_ACTION, INVOKE_NAMES, QUERY, QUERY_LINK
from bot.chat.invokes import ActionAnswer, ComposeAnswer, InvokeService
from bot.origin import CHANNEL_CONVERSATION, Origin
from bot.teams.server import Handler
from bot.chat.service import CommandService, ReplyMessage, welcome_card
from cards.compose import THUMBNAIL_CARD
from cards.elements import Card

log = logging.getLogger(__name__)

# Metric labels come from the request: only known activity types get their own label.
_KNOWN_TYPES = frozenset(
    {
        ActivityTypes.message,
        ActivityTypes.conversation_update,
        ActivityTypes.installation_update,
        ActivityTypes.invoke,
        ActivityTypes.event,
        ActivityTypes.message_reaction,
        ActivityTypes.message_update,
        ActivityTypes.message_delete,
        ActivityTypes.typing,
        ActivityTypes.end_of_conversation,
    }
)
_SDK_PACKAGES = frozenset({"botbuilder", "botframework", "msrest", "requests"})
REPLY_WAIT_SECONDS = 2.0  # the longest a chat reply waits for room in its channel's Teams budget
HANDLED = "handled"
FAILED = "failed"
REFUSED_TENANT = "refused_tenant"
MESSAGES_ENDPOINT = "/api/messages"

# Invoke answers (learn.microsoft.com "Respond to search command" and "Link unfurling": a
# `composeExtension` of `type` "result" with `attachmentLayout` "list" and attachments that carry a
# `preview`, or `type` "message" with `text`; link unfurling's cache switched off with a
# `setCachePolicy` suggested action; MicrosoftDocs/AdaptiveCards universal-action-model.md,
# "Response format": HTTP 200 with `statusCode`, `type`, `value`).
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"  # Bot Framework's card content type; also Teams' card answer type
ACTIVITY_MESSAGE = "application/vnd.microsoft.activity.message"
ERROR_ANSWER = "application/vnd.microsoft.error"
NO_CACHE = json.dumps({"type": "no-cache"}, separators=(",", ":"))


class MlConnectorBot(TeamsActivityHandler):
    """ml-connector's bot: stores references, follows channel and team events, answers commands.

    `service` and `conversations` default to the ones `context` describes (its route admins,
    Graph client and channel directory); `context` is public for the /api/messages handler.
    """

    def __init__(
        self,
        context: BotContext,
        *,
        service: CommandService | None = None,
        conversations: ConversationBook | None = None,
        invokes: InvokeService | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self._service = service or CommandService(context)
        self._invokes = invokes or InvokeService(context)
        self._conversations = conversations or ConversationBook(
            context.store, context.clock, channel_names=cast("ChannelNames | None", context.channel_names)
        )

    # --- every turn -----------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        """Tenant gate, dispatch, metrics; nothing raised (see on_turn_error)."""
        activity = turn_context.activity
        kind = activity_label(activity.type)
        invoke = activity.type == ActivityTypes.invoke
        surface = tenant_gate.INVOKE if invoke else tenant_gate.ACTIVITY
        if not self.context.tenant_gate.admit(tenant_of(activity), surface=surface, what=f"{kind} activity"):
            if invoke:
                await turn_context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(tenant_gate.REFUSED_INVOKE_STATUS)))
                )
            self._count(kind, REFUSED_TENANT)
            return
        try:
            await super().on_turn(turn_context)
        except Exception as error:  # noqa: BLE001 - a turn must never take the process down
            self._count(kind, FAILED)
            await self.on_turn_error(turn_context, error)
            return
        self._count(kind, HANDLED)

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """Log the failure (no secrets), apologise when a person asked something; never raises."""
        activity = turn_context.activity
        where = getattr(activity.conversation, "id", None)
        mapped = map_connector_error(error, operation="reply", now=self.context.clock())
        if mapped.status is not None or type(error).__module__.split(".")[0] in _SDK_PACKAGES:
            # Teams answered a send with an error, or the SDK could not reach it: the mapped
            # error says which (status, Teams code, message), a traceback would add nothing.
            log.warning("a %s activity in %s failed talking to Teams: %s", activity.type, where, mapped)
        else:
            log.error("a %s activity in %s failed: %s: %s", activity.type, where, type(error).__name__, error, exc_info=error)
        if activity.type != ActivityTypes.message:
            return  # nobody is waiting for an answer to an event
        try:
            await self._send(turn_context, MessageFactory.text(messages.FAILED_APOLOGY))
        except Exception as apology_error:  # noqa: BLE001 - the apology is best effort
            log.warning("could not apologise in %s: %s", where, map_connector_error(apology_error, operation="reply"))

    async def _send(self, turn_context: TurnContext, activity: Activity) -> None:
        """Answer in the turn's conversation, counted in the notifier's pacer (`_paced`)."""
        await self._paced(turn_context, lambda: turn_context.send_activity(activity))

    async def _paced(self, turn_context: TurnContext, write: Callable[[], Awaitable[Any]]) -> None:
        """One write to Teams in the turn's conversation, counted in the notifier's pacer: Teams'
        limits per channel cover cards and replies alike, so a write waits for room (cards then
        wait for it), but never longer than REPLY_WAIT_SECONDS: a person is waiting, and a 429 is
        retried by nobody, so past that it goes at once and only counts."""
        pacer = self.context.pacer
        if pacer is None:
            await write()
            return
        incoming = turn_context.activity
        conversation, tenant = incoming.conversation.id, tenant_of(incoming)
        if pacer.delay_for(conversation, tenant_id=tenant) <= REPLY_WAIT_SECONDS:
            grant = await pacer.reserve(conversation, tenant_id=tenant)
        else:
            grant = pacer.grant_now(conversation, tenant_id=tenant)
        try:
            await write()
        finally:
            pacer.sent(grant)

    # --- messages -------------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Store the references, parse the command (mention stripped), answer in the same thread."""
        activity = turn_context.activity
        origin = await self._conversations.remember(origin_of(activity), reference_from_activity(activity), _channel_ref(activity),
                                                    team_lookup=_team_lookup(turn_context))
        if not (activity.text or "").strip() and activity.value is not None:
            return  # an Action.Submit from some card; ours only open URLs, so there is nothing to do
        reply = await self._service.run(parse_command(strip_mention(activity)), origin)
        for message in reply.messages:
            await self._send(turn_context, reply_activity(message))

    # --- invokes: pasted Intacct links, the compose-box search, card refreshes -------------------
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Our three invokes (bot/chat/invokes.py); every other invoke as botbuilder answers it (501)."""
        activity = turn_context.activity
        if activity.name not in INVOKE_NAMES:
            return await super().on_invoke_activity(turn_context)
        origin = origin_of(activity)
        try:
            if activity.name == QUERY_LINK:
                return compose_response(await self._invokes.unfurl(activity.value, origin))
            if activity.name == QUERY:
                return compose_response(await self._invokes.search(activity.value, origin))
            answer = await self._invokes.refresh(activity.value, origin, activity.reply_to_id)
            if answer.update is not None:
                await self._update_in_place(turn_context, answer)
            return action_response(answer)
        except Exception as error:  # noqa: BLE001 - an invoke gets its documented answer, never a 500 page
            log.error("a %s invoke failed: %s: %s", activity.name, type(error).__name__, error, exc_info=error)
            self.context.metrics.invokes.labels(invoke=activity.name, outcome="failed").inc()
            if activity.name == CARD_ACTION:
                return action_response(ActionAnswer(500, text=messages.INVOKE_FAILED, error_code="InternalError", outcome="failed"))
            return compose_response(ComposeAnswer(text=messages.INVOKE_FAILED, outcome="failed"))

    async def _update_in_place(self, turn_context: TurnContext, answer: ActionAnswer) -> None:
        """Replace the refreshed notice in its channel for everyone (Teams shows the invoke's answer
        only to the person who refreshed), counted in the channel's Teams budget like a reply."""
        update = answer.update
        assert update is not None
        message = reply_activity(ReplyMessage(card=update.card))
        message.id = update.posted.activity_id
        error = None
        try:
            await self._paced(turn_context, lambda: turn_context.update_activity(message))
        except Exception as failure:  # noqa: BLE001 - the person still gets the refreshed card
            mapped = map_connector_error(failure, operation="update", now=self.context.clock())
            error = str(mapped)
            log.warning("a refreshed card could not be updated in place in %s: %s", update.posted.conversation_id, mapped)
        await self._invokes.record_update(update, error=error)

    # --- install and uninstall ------------------------------------------------------------------
    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """installationUpdate add / add-upgrade."""
        await self._installed(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """installationUpdate remove / remove-upgrade."""
        await self._conversations.uninstall(origin_of(turn_context.activity))

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """Only the bot's own arrival matters. (botbuilder's version would first fetch every other
        added person from the Bot Connector, one call each.)"""
        if _includes_bot(members_added, turn_context.activity):
            await self._installed(turn_context)

    async def on_teams_members_removed_dispatch(
        self, members_removed: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """The bot removed from a team or chat: forget it; other people leaving change nothing."""
        if _includes_bot(members_removed, turn_context.activity):
            await self._conversations.uninstall(origin_of(turn_context.activity))

    async def _installed(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        origin = origin_of(activity)
        first = await self._conversations.install(origin, reference_from_activity(activity), _channel_ref(activity),
                                                  team_lookup=_team_lookup(turn_context))
        if first:
            await self._send(turn_context, reply_activity(ReplyMessage(card=welcome_card(origin.team_name))))

    # --- channel and team events ----------------------------------------------------------------
    async def on_teams_channel_renamed(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Store the new name on the channel's routes."""
        origin = origin_of(turn_context.activity)
        name = _affected_channel(turn_context.activity).get("name")
        if origin.channel_id and isinstance(name, str) and name:
            await self._conversations.channel_renamed(origin, origin.channel_id, name)

    async def on_teams_channel_deleted(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Switch the channel's routes off ("channel deleted")."""
        origin = origin_of(turn_context.activity)
        if origin.channel_id:
            await self._conversations.channel_deleted(origin, origin.channel_id)

    async def on_teams_channel_restored(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Store the channel again and switch its routes back on."""
        activity = turn_context.activity
        await self._conversations.channel_restored(origin_of(activity), channel_reference(activity))

    async def on_teams_team_deleted(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Switch the team's routes off and forget it."""
        await self._conversations.team_deleted(origin_of(turn_context.activity))

    async def on_teams_team_hard_deleted(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Same as deleted (a soft-deleted team can still come back; a hard-deleted one cannot)."""
        await self._conversations.team_deleted(origin_of(turn_context.activity))

    async def on_teams_team_archived(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Switch the team's routes off until it is unarchived."""
        await self._conversations.team_archived(origin_of(turn_context.activity))

    async def on_teams_team_unarchived(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Switch back on what archiving switched off."""
        activity = turn_context.activity
        await self._conversations.team_back(origin_of(activity), _channel_ref(activity))

    async def on_teams_team_restored(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        """A soft-deleted team came back: store it again, switch its routes back on."""
        activity = turn_context.activity
        await self._conversations.team_back(origin_of(activity), _channel_ref(activity))

    # --- helpers --------------------------------------------------------------------------------
    def _count(self, kind: str, outcome: str) -> None:
        self.context.metrics.activities.labels(type=kind, outcome=outcome).inc()


def make_messages_handler(adapter: CloudAdapter, bot: MlConnectorBot) -> Handler:
    """The POST /api/messages handler: `await adapter.process(request, bot)`, after the checks
    botbuilder would answer with a 500 or a traceback (no JSON content type, nesting deep enough
    to exhaust the parser's recursion, a body that is not an activity with the fields the schema
    requires, values of the wrong type), 503 while the Bot Framework's signing keys cannot be
    fetched, and metrics for requests that never become a turn (401, 400, 413, 415, 500, 503).
    Every refusal is one line in the context's RefusalLog and stores nothing."""
    metrics = bot.context.metrics
    refusals = bot.context.refusals

    def count(outcome: str) -> None:
        metrics.activities.labels(type="unknown", outcome=outcome).inc()

    def refuse(request: web.Request, outcome: str, reason: str, detail: str) -> None:
        count(outcome)
        refusals.refused(MESSAGES_ENDPOINT, reason, detail, remote=request.remote)

    async def messages_endpoint(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            refuse(request, "unsupported_media_type", "not_json", "Content-Type is not application/json")
            raise web.HTTPUnsupportedMediaType(text="Content-Type must be application/json\n")
        try:
            body = await request.read()  # aiohttp keeps the bytes: process() reads them again
        except web.HTTPRequestEntityTooLarge:
            refuse(request, "too_large", "too_large", f"body over {bot.context.policy.max_request_bytes} bytes")
            raise
        try:
            problem = activity_problem(read_json(body))
        except RefusedBodyError as error:
            refuse(request, "bad_request", error.reason, str(error))
            raise web.HTTPBadRequest(text=f"{error}\n") from None
        if problem is not None:
            refuse(request, "bad_request", "not_an_activity", f"not an activity: {problem}")
            raise web.HTTPBadRequest(text=f"body is not an activity: {problem}\n")
        try:
            response = await adapter.process(request, bot)
        except web.HTTPUnauthorized:
            count("unauthorized")
            raise
        except SigningKeysUnavailableError:
            # Logged once per outage by the key cache; Teams retries a 503 later.
            count("keys_unavailable")
            raise web.HTTPServiceUnavailable(text="cannot check the request's token now\n") from None
        except web.HTTPException as refusal:
            count(f"http_{refusal.status}" if refusal.status in (400, 405, 415) else "rejected")
            raise
        except DeserializationError:
            # A field the checks above do not look at has the wrong type (A2003: reject it).
            refuse(request, "bad_request", "wrong_type", "not an activity: a field has the wrong type for the Activity schema")
            raise web.HTTPBadRequest(text="body is not an activity: a field has the wrong type\n") from None
        except Exception as error:  # noqa: BLE001 - answer 500 with a clean log line, not aiohttp's dump
            count("error")
            log.error("processing an activity failed before the bot saw it: %s", type(error).__name__, exc_info=error)
            return web.Response(status=500, text="internal error\n")
        return response if response is not None else web.Response(status=201)

    return messages_endpoint


# --- reading activities (plain values out) ----------------------------------------------------


def origin_of(activity: Activity) -> Origin:
    """Where an activity came from and who sent it."""
    channel_data = _channel_data(activity)
    conversation = activity.conversation
    conversation_id = getattr(conversation, "id", None) or ""
    conversation_type = getattr(conversation, "conversation_type", None) or (
        "groupChat" if getattr(conversation, "is_group", False) else "personal"
    )
    team = channel_data.get("team") if isinstance(channel_data.get("team"), Mapping) else {}
    channel_id = None
    if conversation_type == CHANNEL_CONVERSATION and conversation_id:
        channel_id = _channel_ref(activity)["conversation"]["id"]
    sender = activity.from_property
    return Origin(
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        service_url=activity.service_url or "",
        tenant_id=tenant_of(activity),
        channel_id=channel_id,
        team_id=_text(team.get("id")) or _text(channel_data.get("teamsTeamId")),
        aad_group_id=_text(team.get("aadGroupId")),
        team_name=_text(team.get("name")),
        user_id=_text(getattr(sender, "aad_object_id", None)),
        user_name=_text(getattr(sender, "name", None)),
        user_mri=_text(getattr(sender, "id", None)),
    )


def tenant_of(activity: Activity) -> str | None:
    """The tenant the conversation belongs to: conversation.tenantId, else channelData.tenant.id.

    In a shared channel the conversation's tenant is the host team's ("use
    turnContext.activity.conversation.tenantId" for the host tenant: Learn, "Adapting Microsoft
    Teams app for shared and private channels"), whoever posts; elsewhere the two agree."""
    conversation = activity.conversation
    extra = getattr(conversation, "additional_properties", None) or {}
    host = _text(getattr(conversation, "tenant_id", None)) or _text(extra.get("tenantId"))
    if host:
        return host
    tenant = _channel_data(activity).get("tenant")
    return _text(tenant.get("id")) if isinstance(tenant, Mapping) else None


def activity_label(activity_type: str | None) -> str:
    """The metrics label for an activity type (unknown types share one label)."""
    return activity_type if activity_type in _KNOWN_TYPES else "other"


def reply_activity(message: ReplyMessage) -> Activity:
    """The activity for one reply message (a card with its fallback as notification summary)."""
    if message.card is None:
        return MessageFactory.text(message.text or "")
    card: Card = message.card
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card), text=message.text or None)
    activity.summary = card.get("fallbackText") or None
    return activity


class _ActionResponseBody(Model):
    """The body of an adaptiveCard/action answer (`statusCode`, `type`, `value`). botbuilder's
    AdaptiveCardInvokeResponse types `value` as a dict, so it cannot carry the text a message
    answer needs; msrest copies an "object" value as it is."""

    _attribute_map = {
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, status_code: int, type: str, value: Any) -> None:  # noqa: A002 - the wire's name
        super().__init__()
        self.status_code = status_code
        self.type = type
        self.value = value


def compose_response(answer: ComposeAnswer) -> InvokeResponse:
    """A compose-extension invoke's answer: the result list, or the message."""
    if answer.text is not None and not answer.items:
        result = MessagingExtensionResult(type="message", text=answer.text)
    else:
        attachments = [
            MessagingExtensionAttachment(
                content_type=ADAPTIVE_CARD, content=item.card, preview=Attachment(content_type=THUMBNAIL_CARD, content=item.preview)
            )
            for item in answer.items
        ]
        result = MessagingExtensionResult(type="result", attachment_layout="list", attachments=attachments)
        if answer.no_cache:
            result.suggested_actions = MessagingExtensionSuggestedAction(actions=[CardAction(type="setCachePolicy", value=NO_CACHE)])
    return InvokeResponse(status=200, body=MessagingExtensionResponse(compose_extension=result))


def action_response(answer: ActionAnswer) -> InvokeResponse:
    """An adaptiveCard/action invoke's answer: always HTTP 200, the outcome in `statusCode`."""
    if answer.status >= 400:
        body = _ActionResponseBody(answer.status, ERROR_ANSWER, {"code": answer.error_code, "message": answer.text})
    elif answer.card is not None:
        body = _ActionResponseBody(200, ADAPTIVE_CARD, answer.card)
    else:
        body = _ActionResponseBody(200, ACTIVITY_MESSAGE, answer.text or "")
    return InvokeResponse(status=200, body=body)


def _team_lookup(turn_context: TurnContext) -> TeamLookup:
    """The team's Graph id from the Bot Connector, asked within this turn (TeamsInfo.get_team_details)."""

    async def lookup(team_id: str) -> str | None:
        return (await team_facts(turn_context, team_id)).aad_group_id

    return lookup


def _channel_ref(activity: Activity) -> dict[str, Any] | None:
    """The bare channel's reference in a channel (the affected channel for channel events)."""
    conversation_type = getattr(activity.conversation, "conversation_type", None)
    return channel_reference(activity) if conversation_type == CHANNEL_CONVERSATION else None


def _affected_channel(activity: Activity) -> Mapping[str, Any]:
    channel = _channel_data(activity).get("channel")
    return channel if isinstance(channel, Mapping) else {}


def _includes_bot(members: list[ChannelAccount] | None, activity: Activity) -> bool:
    bot_id = getattr(activity.recipient, "id", None)
    return bool(bot_id) and any(getattr(member, "id", None) == bot_id for member in members or [])


def _channel_data(activity: Activity) -> Mapping[str, Any]:
    data = activity.channel_data
    if isinstance(data, Mapping):
        return data
    if isinstance(data, str):  # some channels send it serialised
        try:
            parsed = json.loads(data)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
