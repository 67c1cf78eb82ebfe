"""Session fixtures for integration tests: the local AWS (moto) and, where needed, Kubernetes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Fixtures of the local Kubernetes and of the chart repository of test charts (imported to register them).
from tests.support.chart_repo import chart_repo  # noqa: F401  # pylint: disable=unused-import
from tests.support.kube import kube_cluster, kubeconfig  # noqa: F401  # pylint: disable=unused-import
from tests.support.moto import MotoServer

REPO_ROOT = Path(__file__).resolve().parents[2]


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
