"""The conformance rules an adapter must keep, each with a stable id (``C1``...).

A violated rule fails with ``conformance rule C3 (discovery is deterministic): <what>`` so the
adapter's author knows which promise broke without reading the kit's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

__all__ = ["RULES", "ConformanceViolation", "Rule", "check", "violated"]


@dataclass(frozen=True)
class Rule:
    """One promise an adapter makes to the core."""

    id: str
    title: str
    explanation: str

    def label(self) -> str:
        """``C3 (discovery is deterministic)``."""
        return f"{self.id} ({self.title})"


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "C1",
            "the adapter registers through its entry point",
            "an entry point in group `catchment.adapters` names the hooks module, and "
            "`catchment plugins --json` lists the adapter with status `ok` and its component types",
        ),
        Rule(
            "C2",
            "discovery returns valid specs",
            "every component of the project builds; each definition is an AssetsDefinition "
            "labelled with the adapter, its component and source, with kinds and a code version",
        ),
        Rule(
            "C3",
            "discovery is deterministic",
            "loading the same project twice (in this process or another) declares equal specs",
        ),
        Rule(
            "C4",
            "discovery is side-effect free",
            "loading the project creates or changes no file outside .catchment/ and no table",
        ),
        Rule(
            "C5",
            "asset keys are unique",
            "no two specs (or definitions) of the project share a key (or name)",
        ),
        Rule(
            "C6",
            "physical identities are normalised",
            "each `table` and `reads` entry is built with catchment.tables helpers: "
            "re-normalising it gives the same TableRef",
        ),
        Rule(
            "C7",
            "execution reports exactly the selected subset",
            "a run of any selection yields one result per selected asset and none for others",
        ),
        Rule(
            "C8",
            "a failure becomes a failed asset and the store stays consistent",
            "an error inside the tool is an asset_failed event with a message; the run is "
            "recorded as failure and later runs work",
        ),
        Rule(
            "C9",
            "secrets stay out of output",
            "secret values never appear in CLI output, events, the run store or error text",
        ),
        Rule(
            "C10",
            "partitions are declared and honoured as the capability flag says",
            "with supports_partitions, a partitioned run records materializations of exactly "
            "that partition; without it, no spec is partitioned",
        ),
        Rule(
            "C11",
            "checks are declared and evaluated as the capability flag says",
            "with has_checks, a run evaluates exactly the checks of its selected assets; "
            "without it, no check is declared",
        ),
        Rule(
            "C12",
            "subsetting matches the capability flag",
            "with supports_subset, every definition can run any subset of its assets",
        ),
    )
}


class ConformanceViolation(AssertionError):
    """A conformance rule was broken; the message starts with the rule's id and title."""

    def __init__(self, rule: Rule, detail: str):
        super().__init__(f"conformance rule {rule.label()}: {detail}")
        self.rule = rule
        self.detail = detail


def violated(rule_id: str, detail: str) -> NoReturn:
    """Fail the current test, naming rule ``rule_id`` and what broke it."""
    raise ConformanceViolation(RULES[rule_id], detail)


def check(condition: object, rule_id: str, detail: str) -> None:
    """``violated(rule_id, detail)`` unless ``condition`` holds."""
    if not condition:
        violated(rule_id, detail)
