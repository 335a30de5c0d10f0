"""Which library a frame comes from, told from its type (the IO managers' dispatch)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from catchment.frames import FRAME_LIBRARIES, frame_library


def test_each_library_is_named_for_its_frames() -> None:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    assert frame_library(pd.DataFrame({"a": [1]})) == "pandas"
    assert frame_library(pa.table({"a": [1]})) == "pyarrow"
    assert frame_library(pl.DataFrame({"a": [1]})) == "polars"
    assert set(FRAME_LIBRARIES) == {"pandas", "pyarrow", "polars"}


@pytest.mark.parametrize("value", [{"a": [1]}, [1, 2], "text", None])
def test_anything_else_is_no_frame(value: object) -> None:
    assert frame_library(value) is None


def test_a_series_is_not_a_frame() -> None:
    import pandas as pd

    assert frame_library(pd.Series([1])) is None


def test_asking_imports_no_dataframe_library() -> None:
    code = (
        "import sys\nfrom catchment.frames import frame_library\nframe_library({})\n"
        "print([m for m in ('pandas', 'pyarrow', 'polars') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
