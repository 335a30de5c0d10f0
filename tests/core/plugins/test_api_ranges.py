"""An adapter's core API range is checked without importing ``packaging`` when it is made of
plain release comparisons, with exactly ``packaging``'s answers; anything else goes to it."""

from __future__ import annotations

import pytest
from catchment.plugins import _simple_api_check
from packaging.specifiers import SpecifierSet

VERSIONS = ["0", "0.9", "1", "1.0", "1.0.0", "1.0.1", "1.1", "1.10", "2", "2.0", "2.0.1", "10"]
CLAUSES = [f"{op}{v}" for op in (">=", "<=", "==", "!=", ">", "<") for v in VERSIONS]


@pytest.mark.parametrize("version", VERSIONS)
def test_plain_ranges_answer_as_packaging_does(version: str) -> None:
    specs = [*CLAUSES, " >= 1.0 , < 2 ", *(f"{a},{b}" for a in CLAUSES for b in CLAUSES[::5])]
    for spec in specs:
        expected = SpecifierSet(spec).contains(version, prereleases=True)
        assert _simple_api_check(spec, version) == expected, spec


@pytest.mark.parametrize(
    "spec", ["~=1.0", "==1.*", ">=1.0rc1", "", ">=1.0,", "1.0", ">=1.0.post1", "===1.0", ">=v1"]
)
def test_other_ranges_are_left_to_packaging(spec: str) -> None:
    assert _simple_api_check(spec, "1.0") is None
    assert _simple_api_check(">=1.0", "1.0rc1") is None
