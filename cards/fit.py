"""Keep a card under its byte budget by showing fewer list items (lines, bills, changes)."""

from __future__ import annotations

from collections.abc import Callable

from cards.elements import Card, card_size
from cards.errors import CardTooLargeError


def fit(name: str, render: Callable[[int], Card], *, wanted: int, max_bytes: int, minimum: int = 0) -> Card:
    """The rendering with the most items (at most `wanted`) whose size is within `max_bytes`.

    `render(n)` must build the card with at most n list items and say how many it left out, so
    size grows with n. Only when the first try is too big does a binary search follow, below
    wanted * max_bytes / size: with a fixed part plus items of similar size, no larger count can
    fit. Raises CardTooLargeError when even `minimum` items do not fit.
    """
    wanted = max(wanted, minimum)
    card = render(wanted)
    size = card_size(card)
    if size <= max_bytes:
        return card
    best: Card | None = None
    low, high = minimum, max(minimum, min(wanted - 1, wanted * max_bytes // size))
    while low <= high:
        middle = (low + high) // 2
        candidate = render(middle)
        size = card_size(candidate)
        if size <= max_bytes:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise CardTooLargeError(name, size, max_bytes)
    return best


def ensure_fits(name: str, card: Card, max_bytes: int) -> Card:
    """Return `card` when it is within `max_bytes`; raise CardTooLargeError otherwise."""
    size = card_size(card)
    if size > max_bytes:
        raise CardTooLargeError(name, size, max_bytes)
    return card
