"""Plain Python assets and checks: the glue between the tools.

Parameters name upstream assets; the project's DuckDB IO manager loads each one from the table
that asset wrote (a dbt mart, the Modal scores) and stores what a function returns.
"""

from __future__ import annotations

import pandas as pd
from catchment import asset, asset_check


@asset_check(asset="customer_orders")
def revenue_not_negative(customer_orders: pd.DataFrame) -> bool:
    """No customer in the dbt mart has negative revenue."""
    return bool((customer_orders["revenue"] >= 0).all())


@asset(
    key="reports/top_customers",
    ins={"scores": "ml/customer_scores", "customers": "customer_orders"},
    group="reports",
    owners=["growth@example.com"],
)
def top_customers(scores: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The five best-scored customers with their orders and revenue, for the weekly email."""
    top = scores.merge(customers, on="customer_id").nlargest(5, "score")
    return top[["customer_id", "name", "country", "score", "orders", "revenue"]]


@asset_check(asset="reports/top_customers")
def five_customers(top_customers: pd.DataFrame) -> bool:
    """The report lists exactly five customers."""
    return len(top_customers) == 5
