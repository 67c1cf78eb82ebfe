"""What Argo CD says about its Applications: healthy, on the way, failing (with its message), and when to stop waiting."""

from __future__ import annotations

from typing import Any

from ansible_collections.eks_gitops.platform.plugins.module_utils.argocd_status import (
    Observation,
    all_healthy,
    app_status,
    evidence,
    missing,
    statuses_of,
)


def application(name: str, sync: str = "Synced", health_status: str = "Healthy", **status: Any) -> dict[str, Any]:
    base = {"sync": {"status": sync, "revision": "abc123"}, "health": {"status": health_status}}
    return {"metadata": {"name": name, "namespace": "argocd"}, "status": {**base, **status}}


FAILED_SYNC = {
    "operationState": {
        "phase": "Failed",
        "message": "one or more synchronization tasks are not valid",
        "syncResult": {
            "resources": [
                {
                    "kind": "ServiceMonitor",
                    "name": "shop",
                    "status": "SyncFailed",
                    "message": 'the server could not find the requested resource "ServiceMonitor"',
                },
                {"kind": "Service", "name": "shop", "status": "Synced", "message": "service/shop created"},
            ]
        },
    }
}


def test_a_synced_and_healthy_application_is_fine_and_carries_no_message() -> None:
    status = app_status(application("shop"))
    assert (status.ok, status.failing, status.message, status.revision) == (True, False, "", "abc123")
    assert status.summary() == "shop Synced/Healthy"


def test_a_failed_sync_carries_argo_cds_message_and_the_failed_resources() -> None:
    status = app_status(application("shop", "OutOfSync", "Missing", **FAILED_SYNC))
    assert status.failing
    assert "one or more synchronization tasks are not valid" in status.message
    assert 'ServiceMonitor/shop: the server could not find the requested resource "ServiceMonitor"' in status.message
    assert "service/shop created" not in status.message
    assert status.summary().startswith("shop OutOfSync/Missing (one or more")


def test_error_conditions_and_health_messages_are_reported() -> None:
    broken = app_status(application("shop", "Unknown", "Healthy", conditions=[{"type": "ComparisonError", "message": "yaml: line 3: mapping values"}]))
    assert broken.failing
    assert broken.message == "yaml: line 3: mapping values"
    degraded = app_status(application("shop", "Synced", "Degraded", health={"status": "Degraded", "message": "Caused by autoscaling/HPA:shop"}))
    assert degraded.message == "Caused by autoscaling/HPA:shop"
    assert not degraded.failing, "Degraded is not an error of Argo CD's: the wait goes on until the timeout"
    assert app_status({"metadata": {"name": "new"}}).summary() == "new Unknown/Unknown"


def test_evidence_names_each_application_with_its_status_and_the_missing_ones() -> None:
    statuses = statuses_of([application("root-dev"), application("shop-dev", "OutOfSync", "Progressing")])
    assert evidence(statuses) == "1/2 Synced and Healthy: root-dev Synced/Healthy, shop-dev OutOfSync/Progressing"
    assert evidence(statuses, ["root-dev", "api-dev"]).endswith("; missing: api-dev")
    assert missing(statuses, ["root-dev", "api-dev"]) == ["api-dev"]
    assert not all_healthy(statuses_of([application("root-dev")]), ["root-dev", "api-dev"])
    assert all_healthy(statuses_of([application("root-dev")]), ["root-dev"])
    assert not all_healthy([])
    assert evidence([], ["root-dev"]) == "no Application (expected root-dev)"


def test_the_wait_ends_when_all_are_healthy_and_stable_or_the_failures_have_settled() -> None:
    observation = Observation()
    progressing = statuses_of([application("root"), application("shop", "OutOfSync", "Progressing")])
    observation.update(progressing, 0.0)
    assert not observation.settled(progressing, 0.0, settle_seconds=30)
    failing = statuses_of([application("root"), application("shop", "OutOfSync", "Missing", **FAILED_SYNC)])
    observation.update(failing, 10.0)
    assert not observation.settled(failing, 10.0, settle_seconds=30), "one failure may be fixed by Argo CD's retry"
    observation.update(failing, 45.0)
    assert observation.settled(failing, 45.0, settle_seconds=30)
    # A required child that does not exist yet keeps the wait going, whatever the others say.
    healthy = statuses_of([application("root")])
    observation.update(healthy, 50.0, ["root", "shop"])
    assert not observation.settled(healthy, 50.0, settle_seconds=30, required=["root", "shop"])
    assert observation.healthy_since is None
    both = statuses_of([application("root"), application("shop")])
    observation.update(both, 60.0, ["root", "shop"])
    assert observation.settled(both, 60.0, settle_seconds=30, required=["root", "shop"])
    assert not observation.stable(70.0, stable_seconds=20)
    observation.update(both, 80.0, ["root", "shop"])
    assert observation.stable(80.0, stable_seconds=20)


def test_applications_healthy_for_long_by_argo_cds_own_timestamps_are_stable_at_once() -> None:
    # 2026-12-07T18:00:00Z and the sync that finished a minute later
    settled_long_ago = {"health": {"status": "Healthy", "lastTransitionTime": "2026-12-07T18:00:00Z"}, "operationState": {"finishedAt": "2026-12-07T18:01:00Z"}}
    statuses = statuses_of([application("root", **settled_long_ago)])
    assert statuses[0].changed_at == 1796666460.0
    observation = Observation()
    observation.update(statuses, 0.0)
    assert observation.stable(0.0, stable_seconds=20, statuses=statuses, wall=1796666460.0 + 30)
    assert not observation.stable(0.0, stable_seconds=20, statuses=statuses, wall=1796666460.0 + 10), "a sync 10 s ago is not settled yet"
    # Without timestamps (an older Argo CD), only the reads over time count.
    bare = statuses_of([application("root")])
    assert bare[0].changed_at is None
    assert not observation.stable(0.0, stable_seconds=20, statuses=bare, wall=1796666460.0 + 30)
    # One Application that is not Healthy is never stable, whatever its timestamps.
    degraded = statuses_of([application("root", "Synced", "Degraded", operationState={"finishedAt": "2026-12-07T18:01:00Z"})])
    assert not observation.stable(0.0, stable_seconds=20, statuses=degraded, wall=1796666460.0 + 300)


def test_a_sync_waiting_for_its_retry_counts_as_failing_with_argo_cds_message() -> None:
    retrying = {
        "operationState": {
            "phase": "Running",
            "retryCount": 2,
            "message": 'Retrying attempt #2 at 8:47PM: one or more objects failed to apply, reason: ConfigMap in version "v1" cannot be handled',
            "syncResult": {"resources": [{"kind": "ConfigMap", "name": "broken", "status": "SyncFailed", "message": "data: Invalid value"}]},
        }
    }
    (status,) = statuses_of([application("root-local", "OutOfSync", "Healthy", **retrying)])
    assert status.failing
    assert status.phase == "Retrying"
    assert "Retrying attempt #2" in status.message
    assert "ConfigMap/broken: data: Invalid value" in status.message
    # A first attempt still running is not a failure.
    running = {"operationState": {"phase": "Running", "message": "one or more tasks are running"}}
    (first,) = statuses_of([application("root-local", "OutOfSync", "Healthy", **running)])
    assert not first.failing
