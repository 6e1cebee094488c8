"""Errors raised by the card builders.

    CardError                   base of everything below
    ├── CardTooLargeError       even the smallest rendering of a card exceeds the byte budget
    └── LinkConfigError         IntacctLinks was given a web URL that is not an absolute http(s) URL

A builder never raises for odd data (hostile strings, huge lists, missing fields): it sanitises,
truncates and says so on the card. These errors mean a caller asked for something impossible.
"""

from __future__ import annotations


class CardError(Exception):
    """Base class of the card builders' errors."""


class CardTooLargeError(CardError):
    """The smallest version of a card is still larger than the byte budget it must fit in."""

    def __init__(self, card_name: str, size: int, max_bytes: int) -> None:
        super().__init__(f"{card_name} card needs {size} bytes even at its smallest; budget is {max_bytes}")
        self.card_name = card_name
        self.size = size
        self.max_bytes = max_bytes


class LinkConfigError(CardError, ValueError):
    """The Intacct web URL given to IntacctLinks is unusable."""
