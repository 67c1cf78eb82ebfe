# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Argo CD says about its Applications, read from their status: synced and healthy, on the way, or failing
(with Argo CD's own message). Plain functions over the Application objects, used by the argocd_applications_info
module and unit-tested without a cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

FAILED_PHASES = ("Failed", "Error", "Retrying")
MESSAGE_MAX = 300


@dataclass(frozen=True)
class AppStatus:
    """One Application as Argo CD last reported it."""

    name: str
    namespace: str
    sync: str
    health: str
    revision: str = ""
    phase: str = ""
    message: str = ""
    conditions: List[str] = field(default_factory=list)
    # When its health last changed or its last sync finished, whichever is later (epoch seconds; None when Argo
    # CD reports neither).
    changed_at: Optional[float] = None

    @property
    def ok(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"

    @property
    def failing(self) -> bool:
        """Argo CD reports an error: a failed sync operation or an error condition (ComparisonError, SyncError, ...)."""
        return not self.ok and (self.phase in FAILED_PHASES or any(kind.endswith("Error") for kind in self.conditions))

    def summary(self) -> str:
        text = f"{self.name} {self.sync}/{self.health}"
        return f"{text} ({self.message})" if self.message and not self.ok else text

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "sync": self.sync,
            "health": self.health,
            "revision": self.revision,
            "operation_phase": self.phase,
            "conditions": list(self.conditions),
            "message": self.message,
            "ok": self.ok,
            "failing": self.failing,
        }


def _epoch(value: Any) -> Optional[float]:
    """Seconds since the epoch of a Kubernetes timestamp (``2026-12-07T18:24:54Z``), or None."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 3] + "..."


def app_status(app: Dict[str, Any]) -> AppStatus:
    """The status of one Application object (as the API server returns it)."""
    metadata = app.get("metadata") or {}
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    operation = status.get("operationState") or {}
    conditions = [condition for condition in status.get("conditions") or [] if isinstance(condition, dict)]
    messages = [str(condition.get("message", "")) for condition in conditions if str(condition.get("type", "")).endswith("Error")]
    phase = str(operation.get("phase") or "")
    # A sync that failed and waits for Argo CD's next retry is still "Running", with a retryCount and the error in its
    # message ("Retrying attempt #2 at ...: ..."): it counts as failing (the settle window leaves room for the retry).
    if phase == "Running" and int(operation.get("retryCount") or 0) > 0:
        phase = "Retrying"
    if phase in FAILED_PHASES:
        messages.append(str(operation.get("message") or ""))
        for resource in (operation.get("syncResult") or {}).get("resources") or []:
            if resource.get("status") == "SyncFailed" and resource.get("message"):
                messages.append(f"{resource.get('kind')}/{resource.get('name')}: {resource.get('message')}")
    if health.get("message") and health.get("status") not in ("Healthy", None):
        messages.append(str(health.get("message")))
    times = [time for time in (_epoch(health.get("lastTransitionTime")), _epoch(operation.get("finishedAt"))) if time is not None]
    return AppStatus(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "")),
        sync=str(sync.get("status") or "Unknown"),
        health=str(health.get("status") or "Unknown"),
        revision=str(sync.get("revision") or ""),
        phase=phase,
        message=_short("; ".join(dict.fromkeys(message for message in messages if message))),
        conditions=[str(condition.get("type", "")) for condition in conditions],
        changed_at=max(times) if times else None,
    )


@dataclass
class Observation:
    """Applications over time: when each one was first seen failing (what ``settled`` decides on)."""

    failing_since: Dict[str, float] = field(default_factory=dict)
    healthy_since: Optional[float] = None

    def update(self, statuses: List[AppStatus], now: float, required: Optional[List[str]] = None) -> None:
        names = {status.name for status in statuses if status.failing}
        self.failing_since = {name: self.failing_since.get(name, now) for name in names}
        if all_healthy(statuses, required):
            self.healthy_since = now if self.healthy_since is None else self.healthy_since
        else:
            self.healthy_since = None

    def stable(self, now: float, stable_seconds: float, statuses: Optional[List[AppStatus]] = None, wall: Optional[float] = None) -> bool:
        """Every Application has been Synced and Healthy for ``stable_seconds`` (a workload can turn Degraded a little
        after its first sync, for example a HorizontalPodAutoscaler without metrics): seen so across reads, or, by
        Argo CD's own timestamps (``statuses`` at wall-clock time ``wall``), healthy and unsynced-free since long
        enough already, as on a platform where nothing changed."""
        if self.healthy_since is not None and now - self.healthy_since >= stable_seconds:
            return True
        if not statuses or wall is None:
            return False
        return all(status.ok and status.changed_at is not None and wall - status.changed_at >= stable_seconds for status in statuses)

    def settled(self, statuses: List[AppStatus], now: float, settle_seconds: float, required: Optional[List[str]] = None) -> bool:
        """True when waiting longer changes nothing: every ``required`` Application exists, and every Application is
        Synced and Healthy or has been failing for ``settle_seconds`` (a sync that fails once may succeed on Argo CD's
        own retry)."""
        if not statuses or missing(statuses, required):
            return False
        pending = [status for status in statuses if not status.ok]
        if not pending:
            return True
        return all(status.failing and now - self.failing_since.get(status.name, now) >= settle_seconds for status in pending)


def missing(statuses: List[AppStatus], required: Optional[List[str]]) -> List[str]:
    """The ``required`` Applications that do not exist (yet)."""
    found = {status.name for status in statuses}
    return sorted(name for name in required or [] if name not in found)


def all_healthy(statuses: List[AppStatus], required: Optional[List[str]] = None) -> bool:
    return bool(statuses) and not missing(statuses, required) and all(status.ok for status in statuses)


def evidence(statuses: List[AppStatus], required: Optional[List[str]] = None) -> str:
    """One line naming each Application with its sync and health status (and Argo CD's message when not fine)."""
    absent = missing(statuses, required)
    if not statuses:
        return "no Application" + (f" (expected {', '.join(absent)})" if absent else "")
    healthy = sum(1 for status in statuses if status.ok)
    listed = ", ".join(status.summary() for status in sorted(statuses, key=lambda item: item.name))
    text = f"{healthy}/{len(statuses) + len(absent)} Synced and Healthy: {listed}"
    return text + (f"; missing: {', '.join(absent)}" if absent else "")


def statuses_of(apps: List[Dict[str, Any]]) -> List[AppStatus]:
    return [app_status(app) for app in apps]
