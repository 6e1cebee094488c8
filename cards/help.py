"""The help card (commands and their syntax, passed in by the bot) and the welcome card on install."""

from __future__ import annotations

from cards import texts
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, heading, make_card, text
from cards.fit import fit
from cards.format import Tone
from cards.sanitize import NAME_LIMIT, clean_text
from cards.views import DEFAULT_HELP, HelpView

DEFAULT_MAX_ITEMS = 30  # commands listed


def build_help_card(
    view: HelpView = DEFAULT_HELP, *, max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = CARD_SIZE_BUDGET
) -> Card:
    """Every command with its syntax and what it does, under an optional notice (e.g. what was
    not understood) and intro, followed by examples and notes."""

    def render(items: int) -> Card:
        return _help_card(view, max_items=items)

    return fit("help", render, wanted=max_items, max_bytes=max_bytes)


def build_welcome_card(
    view: HelpView = DEFAULT_HELP,
    *,
    team_name: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """Posted once when the bot is installed: what it does, how to start, the commands."""

    def render(items: int) -> Card:
        return _welcome_card(view, team_name=team_name, max_items=items)

    return fit("welcome", render, wanted=max_items, max_bytes=max_bytes)


def _commands(view: HelpView, max_items: int) -> list[Element | None]:
    shown = view.commands[:max_items]
    rows: list[Element | None] = [
        container(
            [text(command.syntax, weight="Bolder"), text(command.description, subtle=True, spacing="None")],
            spacing="Small",
        )
        for command in shown
    ]
    if len(view.commands) > len(shown):
        rows.append(text(texts.more_items(len(view.commands) - len(shown), "commands"), subtle=True))
    if view.examples:
        examples = " · ".join(clean_text(example, NAME_LIMIT) for example in view.examples)
        rows.append(text(f"{texts.EXAMPLES}: {examples}", subtle=True, spacing="Medium"))
    rows += [text(note, subtle=True) for note in view.notes[:max_items]]
    return rows


def _help_card(view: HelpView, *, max_items: int) -> Card:
    body: list[Element | None] = [
        heading(view.title),
        container([text(view.notice)], tone=Tone.WARNING) if view.notice else None,
        text(view.intro) if view.intro else None,
        *_commands(view, max_items),
    ]
    fallback = f"{view.title}: " + "; ".join(command.syntax for command in view.commands)
    return make_card(body, fallback_text=fallback)


def _welcome_card(view: HelpView, *, team_name: str | None, max_items: int) -> Card:
    body: list[Element | None] = [
        heading(texts.WELCOME_TITLE),
        text(clean_text(team_name, NAME_LIMIT), subtle=True, spacing="None") if team_name else None,
        text(texts.WELCOME_BODY),
        text(texts.WELCOME_NEXT, weight="Bolder", spacing="Medium"),
        text(view.title, weight="Bolder", separator=True, spacing="Medium"),
        *_commands(view, max_items),
    ]
    return make_card(body, fallback_text=f"{texts.WELCOME_TITLE} {texts.WELCOME_NEXT}")
