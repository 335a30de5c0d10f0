"""Publish the customer mart to Snowflake.

The function only returns the mart (loaded from DuckDB by the default IO manager);
``io_manager_key="snowflake"`` stores it as the Snowflake table PUBLISH.CUSTOMER_ORDERS,
which the views of the `snowflake_views` component read.
"""

from __future__ import annotations

import pandas as pd
from catchment import asset


@asset(
    key="publish/customer_orders",
    ins={"mart": "customer_orders"},
    io_manager_key="snowflake",
    group="publish",
    kinds=["python", "snowflake"],
)
def customer_orders(mart: pd.DataFrame) -> pd.DataFrame:
    """The customer mart, as analysts query it in Snowflake."""
    return mart
