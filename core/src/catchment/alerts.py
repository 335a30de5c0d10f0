"""Alerting: a webhook resource (Slack-compatible by default) told by the life-cycle hooks when
a run fails, a check fails, or a freshness check goes overdue.

Declare it as a resource (``type: webhook_alerts``) with the URL from an environment variable;
every command that runs (materialize, apply, the daemon's runs and freshness ticks) then posts
one short JSON message per event. The URL is a secret (Slack puts its token in the path): it is
never logged, and a failed delivery is one warning naming only the host. Delivery is bounded by
``timeout`` and never fails the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from catchment.resources import Resource

if TYPE_CHECKING:
    from catchment.events import Event
    from catchment.hookspecs import RunInfo

__all__ = ["AlertingHooks", "WebhookAlerts", "with_alerts"]

log = logging.getLogger("catchment.alerts")

AlertKind = Literal["run_failed", "check_failed", "freshness_failed"]
FRESHNESS = "freshness"
_DEFAULT_ON: list[AlertKind] = ["run_failed", "freshness_failed"]


class WebhookAlerts(Resource):
    """Posts a message to a webhook when a run fails or a check (or freshness) fails."""

    url: SecretStr = Field(description="webhook URL (a secret: use {{ env('ALERT_URL') }})")
    when: list[AlertKind] = Field(
        default_factory=lambda: _DEFAULT_ON.copy(),
        description="what to alert on: run_failed, check_failed, freshness_failed",
    )
    format: Literal["slack", "json"] = Field(
        default="slack", description="slack: {text}; json: {text, event, run_id, ...}"
    )
    timeout: float = Field(default=5.0, gt=0, description="seconds per delivery")
    project: str | None = Field(default=None, description="project name shown in messages")

    def run_finished(self, run: RunInfo, status: str) -> bool:
        """Alert on a failed run; True when a message was delivered."""
        if status != "failure" or "run_failed" not in self.when:
            return False
        what = run.selection or f"{len(run.asset_keys)} assets"
        keys = run.partition_keys
        if keys:
            what += f"; partitions {keys[0]}" + (f"...{keys[-1]}" if len(keys) > 1 else "")
        text = f"{self._prefix()}run {run.run_id} failed ({what})"
        return self.send(text, event="run_failed", run_id=run.run_id, status=status)

    def check_evaluated(self, run: RunInfo, event: Event) -> bool:
        """Alert on a failed check (freshness, or any with ``check_failed``)."""
        check = event.check
        if check.passed:
            return False
        kind: AlertKind = "freshness_failed" if check.check_name == FRESHNESS else "check_failed"
        if kind not in self.when:
            return False
        label = "is overdue (freshness)" if kind == "freshness_failed" else "failed"
        text = f"{self._prefix()}{event.asset_key}:{check.check_name} {label}"
        if check.description:
            text += f": {check.description}"
        return self.send(
            text,
            event=kind,
            run_id=run.run_id,
            asset_key=event.asset_key,
            check=check.check_name,
            severity=check.severity,
        )

    def _prefix(self) -> str:
        return f"[{self.project}] " if self.project else ""

    def send(self, text: str, **fields: Any) -> bool:
        """Post one message; a failure is logged (host only, never the URL) and swallowed."""
        body: Mapping[str, Any] = {"text": text}
        if self.format == "json":
            body = {"text": text, **fields, "project": self.project}
        # Imported here: urllib.request pulls in http.client and ssl (~0.03 s), and every
        # project load imports this module, while few ever send an alert.
        import urllib.error
        import urllib.request

        url = self.url.get_secret_value()
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "catchment-alerts"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
            return True
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = type(getattr(exc, "reason", exc)).__name__
        log.warning("alert to webhook at %s was not delivered: %s", _host(url), reason)
        return False


def _host(url: str) -> str:
    """Only the host of a webhook URL (its path and query may carry a token)."""
    try:
        return urlsplit(url).hostname or "(no host)"
    except ValueError:
        return "(unparseable URL)"


class AlertingHooks:
    """The adapters' life-cycle hooks, plus the project's alert resources on run failures and
    failed checks; every other hook call passes straight through."""

    def __init__(self, hooks: Any, alerts: list[WebhookAlerts]):
        self._hooks = hooks
        self._alerts = alerts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hooks, name)

    def catchment_run_finished(self, **kwargs: Any) -> list[tuple[str, Any]]:
        """The adapters' hooks, then each alert resource."""
        return self._relay("catchment_run_finished", lambda a: a.run_finished(**kwargs), kwargs)

    def catchment_check_evaluated(self, **kwargs: Any) -> list[tuple[str, Any]]:
        """The adapters' hooks, then each alert resource."""
        return self._relay(
            "catchment_check_evaluated", lambda a: a.check_evaluated(**kwargs), kwargs
        )

    def _relay(
        self, name: str, alert: Callable[[WebhookAlerts], bool], kwargs: Mapping[str, Any]
    ) -> list[tuple[str, Any]]:
        results: list[tuple[str, Any]] = getattr(self._hooks, name)(**kwargs)
        for resource in self._alerts:
            try:
                alert(resource)
            except Exception as exc:  # an alert must never end a run
                log.warning("alert resource raised %s", type(exc).__name__)
        return results


def with_alerts(hooks: Any, resources: Mapping[str, Any]) -> Any:
    """``hooks`` relaying to the ``WebhookAlerts`` among ``resources`` (unchanged if none)."""
    alerts = [r for r in resources.values() if isinstance(r, WebhookAlerts)]
    return AlertingHooks(hooks, alerts) if alerts else hooks
