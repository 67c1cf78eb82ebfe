"""The local cluster is real enough for the roles: the acceptance checks of the local Kubernetes.

Runs against ``kube_cluster`` (the local kwok cluster, or EKS_GITOPS_KUBECONFIG) and the
``chart_repo`` of test charts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube import KubeCluster

pytestmark = pytest.mark.kube

REPO_ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    venv = REPO_ROOT / ".venv" / "bin" / name
    found = str(venv) if venv.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run 'make venv'")
    return found


def kubectl(cluster: KubeCluster, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([_tool("kubectl"), *args], input=stdin, capture_output=True, text=True, env=cluster.env(), timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def kubectl_json(cluster: KubeCluster, *args: str) -> Any:
    return json.loads(kubectl(cluster, *args, "-o", "json").stdout)


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl(kube_cluster, "create", "namespace", name)
    try:
        yield name
    finally:
        kubectl(kube_cluster, "delete", "namespace", name, "--wait=false", check=False)


def test_server_is_v1_37(kube_cluster: KubeCluster) -> None:
    version = json.loads(kubectl(kube_cluster, "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.37.")


def test_at_least_two_ready_nodes(kube_cluster: KubeCluster) -> None:
    nodes = kubectl_json(kube_cluster, "get", "nodes")["items"]
    ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
    assert len(ready) >= 2


def test_deployment_becomes_available_within_60s(kube_cluster: KubeCluster, namespace: str) -> None:
    start = time.monotonic()
    kubectl(kube_cluster, "-n", namespace, "create", "deployment", "web", "--image=registry.invalid/web:1", "--replicas=2")
    kubectl(kube_cluster, "-n", namespace, "wait", "--for=condition=Available", "deployment/web", "--timeout=60s", timeout=90)
    assert time.monotonic() - start < 60
    pods = kubectl_json(kube_cluster, "-n", namespace, "get", "pods")["items"]
    assert len({p["spec"]["nodeName"] for p in pods}) >= 1
    assert all(p["status"]["phase"] == "Running" for p in pods)


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.test.eks-gitops.io}
spec:
  group: test.eks-gitops.io
  names: {kind: Gizmo, plural: gizmos, singular: gizmo}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
"""


def _gizmo(namespace: str, spec: str) -> str:
    return f"apiVersion: test.eks-gitops.io/v1\nkind: Gizmo\nmetadata: {{name: g, namespace: {namespace}}}\nspec: {spec}\n"


def test_crd_established_and_schema_enforced_with_server_side_apply(kube_cluster: KubeCluster, namespace: str) -> None:
    kubectl(kube_cluster, "apply", "--server-side", "-f", "-", stdin=CRD)
    kubectl(kube_cluster, "wait", "--for=condition=Established", "crd/gizmos.test.eks-gitops.io", "--timeout=30s")
    invalid = kubectl(kube_cluster, "apply", "--server-side", "-f", "-", stdin=_gizmo(namespace, "{size: 0}"), check=False)
    assert invalid.returncode != 0
    assert "greater than or equal to 1" in invalid.stderr
    unknown = kubectl(kube_cluster, "apply", "--server-side", "--dry-run=server", "-f", "-", stdin=_gizmo(namespace, "{size: 1, bogus: 1}"), check=False)
    assert unknown.returncode != 0
    assert "field not declared in schema" in unknown.stderr
    dry = kubectl(kube_cluster, "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-", stdin=_gizmo(namespace, "{size: 2}"))
    assert json.loads(dry.stdout)["spec"] == {"size": 2}
    assert kubectl(kube_cluster, "-n", namespace, "get", "gizmos", "-o", "name").stdout.strip() == ""
    kubectl(kube_cluster, "apply", "--server-side", "-f", "-", stdin=_gizmo(namespace, "{size: 2}"))
    assert kubectl_json(kube_cluster, "-n", namespace, "get", "gizmo", "g")["spec"]["size"] == 2


def test_loadbalancer_service_gets_an_address(kube_cluster: KubeCluster, namespace: str) -> None:
    kubectl(kube_cluster, "-n", namespace, "create", "service", "loadbalancer", "edge", "--tcp=443:8443")
    deadline = time.monotonic() + 30
    ingress: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not ingress:
        ingress = kubectl_json(kube_cluster, "-n", namespace, "get", "service", "edge")["status"].get("loadBalancer", {}).get("ingress", [])
        time.sleep(0.5)
    assert ingress
    assert ingress[0]["ip"] == "127.0.0.1"
    assert ingress[0]["hostname"].endswith(".elb.kwok.local")


def test_namespace_deletes_cleanly(kube_cluster: KubeCluster) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl(kube_cluster, "create", "namespace", name)
    kubectl(kube_cluster, "-n", name, "create", "deployment", "web", "--image=registry.invalid/web:1")
    kubectl(kube_cluster, "-n", name, "create", "configmap", "c", "--from-literal=a=b")
    kubectl(kube_cluster, "-n", name, "wait", "--for=condition=Available", "deployment/web", "--timeout=60s", timeout=90)
    kubectl(kube_cluster, "delete", "namespace", name, "--timeout=90s", timeout=120)
    assert kubectl(kube_cluster, "get", "namespace", name, check=False).returncode != 0


def test_test_chart_installs_from_local_repo_with_wait(kube_cluster: KubeCluster, chart_repo: str, namespace: str, tmp_path: Path) -> None:
    env = dict(
        kube_cluster.env(),
        HELM_REPOSITORY_CONFIG=str(tmp_path / "repositories.yaml"),
        HELM_REPOSITORY_CACHE=str(tmp_path / "cache"),
        HELM_CACHE_HOME=str(tmp_path / "cache"),
    )
    helm = _tool("helm")

    def run(*args: str) -> str:
        result = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=180, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("repo", "add", "local", chart_repo)
    values = ["--set", "deployment.replicas=2", "--set", "ingressRoute.dashboard.enabled=true", "--set", "ingressClass.enabled=false"]
    run("upgrade", "--install", "traefik", "local/traefik", "--version", "41.3.0", "-n", namespace, "--wait", "--timeout", "120s", *values)
    received = kubectl(kube_cluster, "-n", namespace, "get", "configmap", "traefik-received-values", "-o", "jsonpath={.data.values\\.yaml}").stdout
    assert "replicas: 2" in received
    assert kubectl_json(kube_cluster, "-n", namespace, "get", "ingressroute", "traefik-dashboard")["spec"]["routes"]
    service = kubectl_json(kube_cluster, "-n", namespace, "get", "service", "traefik")
    assert service["status"]["loadBalancer"]["ingress"]
    run("uninstall", "traefik", "-n", namespace, "--wait")


def test_manifests_are_served(chart_repo: str) -> None:
    with urllib.request.urlopen(f"{chart_repo}/manifests/gateway-api-standard.yaml", timeout=10) as response:  # noqa: S310 - loopback
        body = response.read().decode()
    assert "httproutes.gateway.networking.k8s.io" in body
    assert chart_repo.startswith("http://127.0.0.1:")
