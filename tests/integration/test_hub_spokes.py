"""A hub's spokes, registered by the argocd role (its entry point ``spokes``) on the real API server: one cluster Secret
per spoke with the facts contract and the credentials of the spoke's own local cluster (two and three small private
clusters, started one after another); a spoke added changes only its own Secret, a spoke removed takes only its own,
check mode writes nothing, and no credential reaches the output."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.ansible import PlaybookRun, run_playbook
from tests.support.kube import KubeCluster
from tests.support.roles import kubectl, kubectl_json, role_play

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "local_cluster.sh"
NAMESPACE = "argocd-hub-test"
SPOKES = ("spoke-a", "spoke-b", "spoke-c")


@pytest.fixture(scope="module")
def spoke_kubeconfigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Three small local clusters of their own, started one after another (never two at the same moment)."""
    started: list[dict[str, str]] = []
    kubeconfigs: dict[str, Path] = {}
    try:
        for spoke in SPOKES:
            state = tmp_path_factory.mktemp(spoke)
            env = {"LOCAL_CLUSTER_STATE_DIR": str(state), "LOCAL_CLUSTER_NAME": f"eks-gitops-{spoke}-{uuid.uuid4().hex[:6]}", "LOCAL_CLUSTER_NODES": "1"}
            started.append(env)
            run = subprocess.run(["bash", str(CLUSTER_SCRIPT), "up"], capture_output=True, text=True, timeout=600, check=False, env=_env(env))
            if run.returncode != 0:
                pytest.fail(f"spoke cluster {spoke} did not start:\n{run.stderr[-3000:]}", pytrace=False)
            kubeconfigs[spoke] = state / "kubeconfig"
        yield kubeconfigs
    finally:
        for env in started:
            subprocess.run(["bash", str(CLUSTER_SCRIPT), "down"], capture_output=True, text=True, timeout=300, check=False, env=_env(env))


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


@pytest.fixture(scope="module")
def hub(kube_cluster: KubeCluster) -> Iterator[KubeCluster]:
    kubectl(kube_cluster, "create", "namespace", NAMESPACE)
    try:
        yield kube_cluster
    finally:
        kubectl(kube_cluster, "delete", "namespace", NAMESPACE, "--wait=false", check=False)


def spoke(name: str, kubeconfigs: dict[str, Path], **extra: Any) -> dict[str, Any]:
    return {"name": name, "kubeconfig": str(kubeconfigs[name]), "aws_account_id": "123456789012", "aws_region": "eu-west-1", **extra}


def register(hub: KubeCluster, tmp_path: Path, spokes: list[dict[str, Any]], check: bool = False) -> PlaybookRun:
    play = role_play(
        "eks_gitops.platform.argocd",
        tasks_from="spokes",
        argocd_namespace=NAMESPACE,
        argocd_environment="dev",
        argocd_gitops_repo_url="https://git.example.com/platform-gitops.git",
        argocd_gitops_repo_revision="main",
        argocd_spokes=spokes,
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    run = run_playbook(play, tmp_path, env=hub.env(), check=check)
    assert run.rc == 0, run.stdout[-3000:]
    return run


def registered(hub: KubeCluster) -> dict[str, dict[str, Any]]:
    selector = "platform.eks-gitops.io/spoke=true,app.kubernetes.io/managed-by=eks-gitops-platform"
    secrets = kubectl_json(hub, "get", "secrets", "-n", NAMESPACE, "-l", selector)["items"]
    return {secret["metadata"]["name"]: secret for secret in secrets}


def changed_spokes(run: PlaybookRun, spokes: list[dict[str, Any]]) -> list[str]:
    """The spokes whose Secret the registration changed (its per-item results are censored, no_log: by position)."""
    results = run.task_results("eks_gitops.platform.argocd : Register the spokes")[0].get("results", [])
    assert len(results) == len(spokes)
    return [entry["name"] for entry, result in zip(spokes, results, strict=True) if result.get("changed")]


def test_spokes_are_registered_with_the_facts_and_their_own_credentials(hub: KubeCluster, spoke_kubeconfigs: dict[str, Path], tmp_path: Path) -> None:
    run = register(hub, tmp_path, [spoke("spoke-a", spoke_kubeconfigs), spoke("spoke-b", spoke_kubeconfigs, environment="staging", addons=["reloader"])])
    secrets = registered(hub)
    assert sorted(secrets) == ["cluster-spoke-a", "cluster-spoke-b"]
    b = secrets["cluster-spoke-b"]
    assert b["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    assert b["metadata"]["labels"]["platform.eks-gitops.io/environment"] == "staging"
    assert b["metadata"]["labels"]["platform.eks-gitops.io/addon-reloader"] == "true"
    assert "platform.eks-gitops.io/addon-traefik" not in b["metadata"]["labels"]
    assert b["metadata"]["annotations"]["platform.eks-gitops.io/gitops-repo-path"] == "applications/staging"
    assert b["metadata"]["annotations"]["platform.eks-gitops.io/aws-account-id"] == "123456789012"
    a = secrets["cluster-spoke-a"]
    assert {"secrets-store-csi", "traefik", "linkerd", "reloader"} == {
        key.removeprefix("platform.eks-gitops.io/addon-") for key in a["metadata"]["labels"] if key.startswith("platform.eks-gitops.io/addon-")
    }
    # Argo CD reaches spoke-a with the credentials of spoke-a's own kubeconfig: the server and the client certificate.
    kubeconfig = yaml.safe_load(spoke_kubeconfigs["spoke-a"].read_text())
    config = json.loads(base64.b64decode(a["data"]["config"]))
    assert base64.b64decode(a["data"]["server"]).decode() == kubeconfig["clusters"][0]["cluster"]["server"]
    assert config["tlsClientConfig"]["certData"] == kubeconfig["users"][0]["user"]["client-certificate-data"]
    # ... which the spoke's API server accepts (what Argo CD's controller will do).
    assert kubectl(KubeCluster(kubeconfig=spoke_kubeconfigs["spoke-a"]), "get", "--raw", "/version").returncode == 0
    # No credential in the output.
    key = kubeconfig["users"][0]["user"]["client-key-data"]
    assert key not in run.stdout
    assert base64.b64decode(key).decode().strip().splitlines()[1] not in run.stdout


def test_a_third_spoke_changes_only_its_own_secret_and_check_mode_writes_nothing(hub: KubeCluster, spoke_kubeconfigs: dict[str, Path], tmp_path: Path) -> None:
    two = [spoke("spoke-a", spoke_kubeconfigs), spoke("spoke-b", spoke_kubeconfigs, environment="staging", addons=["reloader"])]
    register(hub, tmp_path / "again", two)
    before = {name: secret["metadata"]["resourceVersion"] for name, secret in registered(hub).items()}
    three = [*two, spoke("spoke-c", spoke_kubeconfigs)]

    checked = register(hub, tmp_path / "check", three, check=True)
    assert changed_spokes(checked, three) == ["spoke-c"]
    assert sorted(registered(hub)) == ["cluster-spoke-a", "cluster-spoke-b"]

    run = register(hub, tmp_path / "add", three)
    assert changed_spokes(run, three) == ["spoke-c"]
    after = {name: secret["metadata"]["resourceVersion"] for name, secret in registered(hub).items()}
    assert sorted(after) == ["cluster-spoke-a", "cluster-spoke-b", "cluster-spoke-c"]
    assert {name: after[name] for name in before} == before

    rerun = register(hub, tmp_path / "rerun", three)
    assert changed_spokes(rerun, three) == []


def test_a_removed_spoke_is_deregistered_and_the_others_stay(hub: KubeCluster, spoke_kubeconfigs: dict[str, Path], tmp_path: Path) -> None:
    three = [spoke(name, spoke_kubeconfigs) for name in SPOKES]
    register(hub, tmp_path / "three", three)
    before = {name: secret["metadata"]["resourceVersion"] for name, secret in registered(hub).items()}
    run = register(hub, tmp_path / "two", [s for s in three if s["name"] != "spoke-b"])
    removed = [
        result["item"]
        for result in run.task_results("eks_gitops.platform.argocd : Deregister the spokes no longer in the inventory")[0]["results"]
        if result.get("changed")
    ]
    assert removed == ["cluster-spoke-b"]
    after = {name: secret["metadata"]["resourceVersion"] for name, secret in registered(hub).items()}
    assert after == {name: before[name] for name in ("cluster-spoke-a", "cluster-spoke-c")}
    # An unrelated cluster Secret (not the platform's) is never deregistered.
    foreign = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "cluster-foreign",
            "namespace": NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "cluster", "platform.eks-gitops.io/spoke": "true"},
        },
    }
    kubectl(hub, "apply", "-f", "-", stdin=json.dumps(foreign))
    register(hub, tmp_path / "foreign", [s for s in three if s["name"] != "spoke-b"])
    assert kubectl(hub, "get", "secret", "-n", NAMESPACE, "cluster-foreign", check=False).returncode == 0


def test_the_hub_marks_itself_while_it_has_spokes(hub: KubeCluster, spoke_kubeconfigs: dict[str, Path], tmp_path: Path) -> None:
    register(hub, tmp_path / "some", [spoke("spoke-a", spoke_kubeconfigs)])
    mark = kubectl_json(hub, "get", "configmap", "-n", NAMESPACE, "eks-gitops-platform-hub")
    assert mark["metadata"]["labels"]["platform.eks-gitops.io/hub"] == "true"
    assert mark["data"]["spokes"] == "spoke-a"
    register(hub, tmp_path / "none", [])
    assert kubectl(hub, "get", "configmap", "-n", NAMESPACE, "eks-gitops-platform-hub", check=False).returncode != 0
    assert registered(hub) == {}


def test_preflight_refuses_an_unreachable_spoke_and_a_spoke_that_is_another_hub(hub: KubeCluster, spoke_kubeconfigs: dict[str, Path], tmp_path: Path) -> None:
    other_hub = KubeCluster(kubeconfig=spoke_kubeconfigs["spoke-c"])
    kubectl(other_hub, "create", "namespace", "argocd", check=False)
    mark = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "eks-gitops-platform-hub", "namespace": "argocd", "labels": {"platform.eks-gitops.io/hub": "true"}},
        "data": {"spokes": "elsewhere"},
    }
    kubectl(other_hub, "apply", "-f", "-", stdin=json.dumps(mark))
    gone = yaml.safe_load(spoke_kubeconfigs["spoke-b"].read_text())
    gone["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    (tmp_path / "gone.yaml").write_text(yaml.safe_dump(gone), encoding="utf-8")
    spokes = [spoke("spoke-a", spoke_kubeconfigs), spoke("spoke-c", spoke_kubeconfigs), {"name": "spoke-gone", "kubeconfig": str(tmp_path / "gone.yaml")}]
    play = [
        {
            "name": "preflight of the cluster and its spokes",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {"platform_spokes": spokes, "platform_kubernetes_min_version": "1.30", "platform_aws_enabled": False, "platform_cluster_name": "hub"},
            "tasks": [{"name": "preflight", "ansible.builtin.import_tasks": str(REPO_ROOT / "playbooks" / "tasks" / "preflight" / "cluster.yml")}],
        }
    ]
    run = run_playbook(play, tmp_path, env=hub.env())
    assert run.rc != 0
    (failed,) = run.task_results("Check the spoke clusters")
    assert failed["msg"] == (
        "platform_spokes: spoke spoke-gone does not answer with its kubeconfig; platform_spokes: spoke spoke-c is the hub of another inventory"
        " (it has the ConfigMap eks-gitops-platform-hub): a cluster is managed by one hub"
    )
    kubectl(other_hub, "delete", "configmap", "-n", "argocd", "eks-gitops-platform-hub")
    (tmp_path / "fine").mkdir()
    fine = run_playbook([{**play[0], "vars": {**play[0]["vars"], "platform_spokes": spokes[:2]}}], tmp_path / "fine", env=hub.env())
    assert fine.rc == 0, fine.stdout[-2000:]
