"""A dlt source of web-shop events with nested line items, generated deterministically.

Each event carries a nested list ``items``; dlt loads the events into ``raw.events`` and the
items into the child table ``raw.events__items`` (one row per item, linked by ``_dlt_parent_id``).
Nothing here touches the network: the source stands in for an HTTP API.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

PRODUCTS = [("sku-1", "kettle", 39.0), ("sku-2", "teapot", 24.5), ("sku-3", "mug", 8.0)]
KINDS = ["page_view", "add_to_cart", "checkout"]


def generate_events(count: int, customers: int, seed: int) -> Iterator[dict[str, Any]]:
    """The same ``count`` events every time (a seeded generator): id, customer, kind, items."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for event_id in range(1, count + 1):
        kind = rng.choice(KINDS)
        picks = rng.sample(PRODUCTS, rng.randint(1, 3)) if kind != "page_view" else []
        yield {
            "event_id": event_id,
            "customer_id": rng.randint(1, customers),
            "kind": kind,
            "occurred_at": start + timedelta(hours=7 * event_id),
            "items": [
                {"sku": sku, "product": name, "quantity": rng.randint(1, 3), "unit_price": price}
                for sku, name, price in picks
            ],
        }


@dlt.source(name="web")
def web_events(count: int = 200, customers: int = 20, seed: int = 42) -> Any:
    """Web-shop events; ``nested_hints`` declares the ``items`` child table before any run."""

    @dlt.resource(
        name="events",
        primary_key="event_id",
        write_disposition="replace",
        nested_hints={"items": {}},
    )
    def events() -> Iterator[dict[str, Any]]:
        yield from generate_events(count, customers, seed)

    return events
