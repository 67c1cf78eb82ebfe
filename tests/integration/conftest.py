"""Session fixtures for integration tests: the local AWS (moto) and, where needed, Kubernetes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import kube

# Fixtures of the local Kubernetes and of the chart repository of test charts (imported to register them).
from tests.support.chart_repo import chart_repo  # noqa: F401  # pylint: disable=unused-import
from tests.support.kube import kube_cluster, kubeconfig  # noqa: F401  # pylint: disable=unused-import
from tests.support.moto import MotoServer

REPO_ROOT = Path(__file__).resolve().parents[2]
_CLUSTER = pytest.StashKey[kube.KubeCluster]()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the whole session, on 127.0.0.1 and a free port; stopped by its PID at the end."""
    server = MotoServer.start(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: MotoServer) -> MotoServer:
    """The moto server, reset to an empty account for this test."""
    moto_server.reset()
    return moto_server


# --- Parallel runs (pytest-xdist: `make integration` runs -n N) ------------------------------------------------
# Each worker has its own moto server and chart repository; the local cluster is shared. The controller process
# acquires it before the workers start (they then find it running and reuse it) and stops it, when it started it,
# after every worker is done. Each test file is one unit of work, run by one worker in file order (module fixtures
# are set up once); files that write the same cluster-wide objects are one unit, so they never run at the same time.
SHARED_UNITS = {
    # The Argo CD CRDs (test_gitops_repo creates and removes the Application CRD when no release owns it), and the
    # Secrets Store CSI CRDs whose absence test_argocd_role's Reloader test needs.
    "test_argocd_role": "argocd-and-csi",
    "test_gitops_repo": "argocd-and-csi",
    "test_secrets_store_csi_role": "argocd-and-csi",
    # The Linkerd and Gateway API CRDs and the linkerd namespace.
    "test_linkerd_role": "linkerd",
    "test_linkerd_identity_cluster": "linkerd",
}


def unit_of(nodeid: str) -> str:
    """The unit of work of a test: its file, or the shared unit of its file."""
    path = nodeid.split("::", 1)[0]
    return SHARED_UNITS.get(Path(path).stem, path)


def _is_xdist_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    if _is_xdist_controller(config) and not os.environ.get("EKS_GITOPS_KUBECONFIG"):
        config.stash[_CLUSTER] = kube.acquire()


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None:
        kube.release(cluster)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Schedule by unit of work (xdist's loadgroup marks do not reach this pytest's node ids)."""
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return UnitScheduling(config, log)
