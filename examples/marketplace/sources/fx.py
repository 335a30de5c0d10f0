"""Currency rates to EUR, as a dlt source (a stand-in for a rates API; no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt

RATES = {"EUR": 1.0, "USD": 0.9, "GBP": 1.15}


@dlt.source(name="fx")
def fx_rates() -> Any:
    """One resource: today's rate of each currency to EUR."""

    @dlt.resource(name="fx_rates", primary_key="currency", write_disposition="replace")
    def rates() -> Iterator[dict[str, Any]]:
        for currency, rate in RATES.items():
            yield {"currency": currency, "rate_to_eur": rate}

    return rates
