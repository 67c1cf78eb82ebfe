"""The argocd, reloader and chart_release roles through real ansible-playbook runs.

Bad variables fail at role entry, naming the variable (no cluster needed). The converge test runs the argocd role
against the local cluster, the test charts and moto: the admin password generated in Secrets Manager is stored as
a bcrypt hash that verifies it and stays put on re-runs, never appears in output, values or the Application; check
mode changes nothing; a rotated password changes exactly the hash; Argo CD delivery leaves the Helm release alone
once it exists. It uses the namespace and release name the platform uses (argocd/argocd): the chart's CRDs are
cluster-wide and owned by one Helm release.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from tests.support.ansible import run_playbook
from tests.support.kube import KubeCluster
from tests.support.moto import MotoServer
from tests.support.roles import kubectl, kubectl_json, role_play
from tests.support.tools import tool

ARGOCD = "eks_gitops.platform.argocd"
RELOADER = "eks_gitops.platform.reloader"
CHART_RELEASE = "eks_gitops.platform.chart_release"
ADMIN_SECRET = "platform/local/argocd/admin-password"
REPO_SECRET = "platform/local/argocd/repositories/gitops"
REPO_TOKEN = "ghp-canary-repo-token-5f0c2d"  # a canary: must never show up in any output
CHART = {"repo": "https://charts.example.test", "name": "x", "version": "1.0.0"}


def failure_message(run: Any) -> str:
    return json.dumps([result for play in run.report["plays"] for task in play["tasks"] for result in task["hosts"].values() if result.get("failed")])


# --- bad variables: argument specs, before anything is touched ----------------------------------------------


@pytest.mark.parametrize(
    ("role", "variables", "named"),
    [
        (ARGOCD, {"argocd_environment": "prod"}, "argocd_environment"),
        (ARGOCD, {"argocd_wait_timeout": "soon"}, "argocd_wait_timeout"),
        (ARGOCD, {"argocd_repositories": [{"name": "gitops"}]}, "url"),
        (ARGOCD, {"argocd_pod_anti_affinity": "always"}, "argocd_pod_anti_affinity"),
        (RELOADER, {"reloader_reload_strategy": "restart"}, "reloader_reload_strategy"),
        (RELOADER, {"reloader_watch_globally": "sometimes"}, "reloader_watch_globally"),
        (CHART_RELEASE, {"chart_release_name": "x", "chart_release_namespace": "x", "chart_release_chart": {"repo": "https://r", "name": "x"}}, "version"),
        (CHART_RELEASE, {"chart_release_name": "x", "chart_release_namespace": "x"}, "chart_release_chart"),
        (
            CHART_RELEASE,
            {"chart_release_name": "x", "chart_release_namespace": "x", "chart_release_chart": CHART, "chart_release_delivery": "flux"},
            "chart_release_delivery",
        ),
    ],
)
def test_a_bad_variable_fails_at_role_entry_naming_it(role: str, variables: dict[str, Any], named: str, tmp_path: Path) -> None:
    run = run_playbook(role_play(role, **variables), tmp_path)
    assert run.rc != 0
    message = failure_message(run)
    assert "Validating arguments against arg spec" in message or "argument_errors" in message, message
    assert named in message
    assert run.stats["changed"] == 0


# --- a real converge ----------------------------------------------------------------------------------------


def secret_data(cluster: KubeCluster, name: str) -> dict[str, str]:
    data = kubectl_json(cluster, "-n", "argocd", "get", "secret", name)["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def helm_values(cluster: KubeCluster) -> dict[str, Any]:
    command = [tool("helm"), "get", "values", "argocd", "-n", "argocd", "-o", "json"]
    out = subprocess.run(command, capture_output=True, text=True, env=cluster.env(), timeout=60, check=True)
    return dict(json.loads(out.stdout))


@pytest.mark.kube
def test_argocd_converge(aws: MotoServer, kube_cluster: KubeCluster, chart_repo: str, tmp_path: Path) -> None:
    env = {**aws.env(), "K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig), "KUBECONFIG": str(kube_cluster.kubeconfig)}
    sm = aws.client("secretsmanager")
    sm.create_secret(Name=REPO_SECRET, SecretString=json.dumps({"username": "platform-bot", "password": REPO_TOKEN}))
    variables = {
        "platform_environment": "local",
        "platform_chart_repository": chart_repo,
        "argocd_wait_timeout": 180,
        "argocd_ingressroute_enabled": False,
        "argocd_domain": "argocd.it.eks-gitops.test",
        "argocd_gitops_repo_url": "https://git.eks-gitops.test/platform/gitops.git",
        "argocd_repositories": [{"name": "gitops", "url": "https://git.eks-gitops.test/platform/gitops.git", "secret_id": REPO_SECRET}],
        "argocd_cluster_addon_role_arns": {"secrets_store_csi": "arn:aws:iam::123456789012:role/csi"},
    }

    first = run_playbook(role_play(ARGOCD, **variables), tmp_path, env=env)
    assert first.rc == 0, first.output[-6000:]
    password = sm.get_secret_value(SecretId=ADMIN_SECRET)["SecretString"]
    assert len(password) == 32
    admin = secret_data(kube_cluster, "argocd-secret")
    hashed, mtime = admin["admin.password"], admin["admin.passwordMtime"]
    assert hashed.startswith("$2a$10$")
    assert bcrypt.checkpw(password.encode(), hashed.encode())
    repo = secret_data(kube_cluster, "argocd-repo-gitops")
    assert (repo["username"], repo["password"], repo["type"]) == ("platform-bot", REPO_TOKEN, "git")
    # The GitHub webhook secret: generated once in Secrets Manager, the same value in argocd-secret.
    webhook = sm.get_secret_value(SecretId="platform/local/argocd/webhook-github")["SecretString"]
    assert len(webhook) == 40
    assert admin["webhook.github.secret"] == webhook

    application = kubectl_json(kube_cluster, "-n", "argocd", "get", "applications.argoproj.io", "argocd")
    values = yaml.safe_load(kubectl_json(kube_cluster, "-n", "argocd", "get", "configmap", "argocd-received-values")["data"]["values.yaml"])
    assert application["spec"]["source"]["helm"]["valuesObject"]["configs"]["cm"]["url"] == "https://argocd.it.eks-gitops.test"
    for text in (json.dumps(application), json.dumps(values), json.dumps(helm_values(kube_cluster))):
        assert password not in text
        assert hashed not in text
        assert REPO_TOKEN not in text
        assert webhook not in text

    # The re-run, at -vvv (every module argument and result printed): nothing changes, nothing leaks.
    second = run_playbook(role_play(ARGOCD, **variables), tmp_path, env=env, verbosity=3, json_output=False)
    assert second.rc == 0, second.output[-4000:]
    assert "changed=0" in second.output, second.output[-4000:]
    assert secret_data(kube_cluster, "argocd-secret")["admin.password"] == hashed

    # Check mode with a changed domain: reports the change, shows the values diff, changes nothing.
    checked = run_playbook(
        role_play(ARGOCD, **{**variables, "argocd_domain": "argocd.changed.test"}), tmp_path, env=env, check=True, diff=True, json_output=False
    )
    assert checked.rc == 0, checked.output[-4000:]
    assert "changed=0" not in checked.output
    assert "+  domain: argocd.changed.test" in checked.output or "argocd.changed.test" in checked.output
    assert helm_values(kube_cluster)["global"]["domain"] == "argocd.it.eks-gitops.test"
    application = kubectl_json(kube_cluster, "-n", "argocd", "get", "applications.argoproj.io", "argocd")
    assert application["spec"]["source"]["helm"]["valuesObject"]["global"]["domain"] == "argocd.it.eks-gitops.test"
    quiet = run_playbook(role_play(ARGOCD, **variables), tmp_path, env=env, check=True, diff=True, json_output=False)
    assert quiet.rc == 0, quiet.output[-4000:]
    assert "changed=0" in quiet.output, quiet.output[-4000:]

    for run in (first, second, checked, quiet):
        assert password not in run.output
        assert hashed not in run.output
        assert REPO_TOKEN not in run.output
        assert webhook not in run.output

    # A password rotated in Secrets Manager: a new hash (and modification time), and nothing else changes.
    sm.put_secret_value(SecretId=ADMIN_SECRET, SecretString="rotated-by-an-operator-0c9d")
    rotated = run_playbook(role_play(ARGOCD, **variables), tmp_path, env=env)
    assert rotated.rc == 0, rotated.output[-4000:]
    assert rotated.stats["changed"] == 1, rotated.output[-4000:]
    assert rotated.result(f"{ARGOCD} : Write the admin password hash and the webhook secret into argocd-secret")["changed"] is True
    admin = secret_data(kube_cluster, "argocd-secret")
    assert bcrypt.checkpw(b"rotated-by-an-operator-0c9d", admin["admin.password"].encode())
    assert admin["admin.passwordMtime"] >= mtime
    assert "rotated-by-an-operator-0c9d" not in rotated.output

    # Argo CD delivery: the release exists, so Helm is left alone and the self-managed Application carries it.
    delivered = run_playbook(role_play(ARGOCD, **{**variables, "platform_delivery": "argocd", "argocd_server_replicas": 3}), tmp_path, env=env)
    assert delivered.rc == 0, delivered.output[-4000:]
    assert helm_values(kube_cluster)["server"]["replicas"] == 1
    application = kubectl_json(kube_cluster, "-n", "argocd", "get", "applications.argoproj.io", "argocd")
    assert application["spec"]["source"]["helm"]["valuesObject"]["server"]["replicas"] == 3
    assert "finalizers" not in application["metadata"]
    assert application["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "ServerSideApply=true"]


@pytest.mark.kube
def test_check_mode_on_a_new_namespace_writes_nothing(aws: MotoServer, kube_cluster: KubeCluster, chart_repo: str, tmp_path: Path) -> None:
    """Check mode where nothing exists yet: changes are reported, nothing (not even the password) is created."""
    env = {**aws.env(), "K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)}
    namespace = "t-argocd-check"
    run = run_playbook(
        role_play(ARGOCD, platform_chart_repository=chart_repo, argocd_namespace=namespace, argocd_ingressroute_enabled=False, argocd_wait_timeout=30),
        tmp_path,
        env=env,
        check=True,
        diff=True,
    )
    assert run.rc == 0, run.output[-4000:]
    assert run.stats["changed"] > 0
    assert run.result(f"{CHART_RELEASE} : Create namespace {namespace}")["changed"] is True
    namespaces = [item["metadata"]["name"] for item in kubectl_json(kube_cluster, "get", "namespaces")["items"]]
    assert namespace not in namespaces
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []


@pytest.mark.kube
def test_reloader_waits_bounded_for_the_csi_crds(kube_cluster: KubeCluster, chart_repo: str, tmp_path: Path) -> None:
    crds = kubectl_json(kube_cluster, "get", "customresourcedefinitions")["items"]
    if any(crd["metadata"]["name"] == "secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io" for crd in crds):
        pytest.skip("the Secrets Store CSI CRDs are installed on this cluster")
    env = {"K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)}
    run = run_playbook(
        role_play(RELOADER, platform_chart_repository=chart_repo, reloader_namespace="t-reloader-csi", reloader_csi_integration=True, reloader_wait_timeout=5),
        tmp_path,
        env=env,
    )
    assert run.rc != 0
    failed = run.result("eks_gitops.platform.chart_release : Check the result of the wait for CustomResourceDefinitions to be Established")
    assert failed["failed"] is True
    assert "CustomResourceDefinitions not Established after 5 s: " in failed["msg"]
    assert "secretproviderclasses.secrets-store.csi.x-k8s.io" in failed["msg"]
    assert "Deliver the Reloader chart" not in run.output  # nothing installed before the CRDs are there
    kubectl(kube_cluster, "delete", "namespace", "t-reloader-csi", "--wait=false", check=False)
