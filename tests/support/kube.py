"""A real Kubernetes API server for integration tests: the local kwok cluster.

The session fixture ``kube_cluster`` gives tests a kubeconfig for the local cluster that
``make cluster-up`` runs (etcd, kube-apiserver, kube-controller-manager and kube-scheduler
v1.37 as local processes, nodes simulated by kwok; see scripts/local_cluster.sh). It reuses a
running cluster, or brings one up with the same script as make and takes it down at the end of
the session; a cluster it did not start is left running.

Set ``EKS_GITOPS_KUBECONFIG`` to point the tests at another cluster instead (for example kind
on a machine with Docker); that cluster is never started or stopped by the fixture.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "local_cluster.sh"
UP_TIMEOUT = 1800.0  # a cold build of the control plane takes minutes on 2 cores
DOWN_TIMEOUT = 120.0
STATUS_TIMEOUT = 60.0


class ClusterError(RuntimeError):
    """The local cluster could not be started or reached."""


@dataclass(frozen=True)
class KubeCluster:
    """What a test needs to talk to the cluster."""

    kubeconfig: Path
    started_here: bool = False

    def env(self) -> dict[str, str]:
        """An environment for subprocesses (kubectl, helm, ansible-playbook) aimed at this cluster."""
        return dict(os.environ, KUBECONFIG=str(self.kubeconfig), K8S_AUTH_KUBECONFIG=str(self.kubeconfig))


def _run(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), command], capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO_ROOT)


def _kubeconfig_from(output: str) -> Path:
    for line in output.splitlines():
        if line.startswith("export KUBECONFIG="):
            return Path(line.split("=", 1)[1].strip())
    raise ClusterError(f"{SCRIPT.name} printed no 'export KUBECONFIG=' line:\n{output}")


def cluster_running() -> Path | None:
    """The kubeconfig of the running local cluster, or None when it is not running."""
    result = _run("status", STATUS_TIMEOUT)
    return _kubeconfig_from(result.stdout) if result.returncode == 0 else None


def cluster_up() -> Path:
    """Start the local cluster (or reuse the running one) and return its kubeconfig."""
    result = _run("up", UP_TIMEOUT)
    if result.returncode != 0:
        raise ClusterError(f"'{SCRIPT.name} up' failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return _kubeconfig_from(result.stdout)


def cluster_down() -> None:
    result = _run("down", DOWN_TIMEOUT)
    if result.returncode != 0:
        raise ClusterError(f"'{SCRIPT.name} down' failed (exit {result.returncode}):\n{result.stderr[-4000:]}")


def acquire() -> KubeCluster:
    """The cluster for this session: EKS_GITOPS_KUBECONFIG, the running local cluster, or a new one."""
    external = os.environ.get("EKS_GITOPS_KUBECONFIG")
    if external:
        return KubeCluster(kubeconfig=Path(external))
    running = cluster_running()
    if running is not None:
        return KubeCluster(kubeconfig=running)
    return KubeCluster(kubeconfig=cluster_up(), started_here=True)


def release(cluster: KubeCluster) -> None:
    """Stop the cluster only if this session started it."""
    if cluster.started_here:
        cluster_down()


try:
    import pytest
except ImportError:  # importable without pytest, e.g. from a script
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def kube_cluster() -> Iterator[KubeCluster]:
        """A kubeconfig for a real v1.37 API server: reused if running, else started and stopped by this session."""
        try:
            cluster = acquire()
        except (ClusterError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"no Kubernetes cluster for the integration tests: {exc}", pytrace=False)
        try:
            yield cluster
        finally:
            release(cluster)

    @pytest.fixture(scope="session")
    def kubeconfig(kube_cluster: KubeCluster) -> Path:
        """Path of the kubeconfig of ``kube_cluster``."""
        return kube_cluster.kubeconfig
