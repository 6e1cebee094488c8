"""graph/'s storage protocol stays the store's by duck typing: same method names, arguments and fields."""

from __future__ import annotations

import dataclasses
import inspect

from graph.storage import GraphStorage, StoredSubscription
from store.api import Store
from store.types import GraphSubscription

METHODS = ("save_subscription", "list_subscriptions", "delete_subscription", "save_channel_names", "channel_names")


def _parameters(function) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_methods_match_the_store():
    for name in METHODS:
        assert _parameters(getattr(GraphStorage, name)) == _parameters(getattr(Store, name)), name


def test_subscription_fields_match_the_store():
    ours = [f.name for f in dataclasses.fields(StoredSubscription)]
    theirs = [f.name for f in dataclasses.fields(GraphSubscription)]
    assert ours == theirs
