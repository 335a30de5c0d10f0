"""Plain Python assets: a tiny order pipeline stored in the DuckDB warehouse."""

from __future__ import annotations

import pandas as pd

from catchment import asset, asset_check


@asset(group="sales", owners=["data-platform@example.com"])
def raw_orders() -> pd.DataFrame:
    """Orders as an upstream system exports them."""
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "customer_id": [10, 11, 10, 12],
            "amount": [20.0, 35.5, 12.25, 80.0],
        }
    )


@asset(group="sales", owners=["data-platform@example.com"])
def customer_revenue(raw_orders: pd.DataFrame) -> pd.DataFrame:
    """Revenue per customer."""
    return raw_orders.groupby("customer_id", as_index=False)["amount"].sum()


@asset_check(asset="customer_revenue")
def revenue_is_positive(customer_revenue: pd.DataFrame) -> bool:
    """Every customer's revenue is above zero."""
    return bool((customer_revenue["amount"] > 0).all())
