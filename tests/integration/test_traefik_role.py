"""The traefik role: the dashboard guard refuses every way of exposing the dashboard without auth, and a real
converge (local cluster, test chart repository, moto) writes the Middlewares, the dashboard route and the htpasswd
Secret, changes nothing on a second run or in check mode, and never prints the password or its hash.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from tests.support.ansible import run_playbook
from tests.support.kube import KubeCluster
from tests.support.moto import MotoServer
from tests.support.roles import HELM, KUBECTL, kubectl_json, role_play, task_names

ROLE = "eks_gitops.platform.traefik"
GUARD_TASK = f"{ROLE} : Check that the dashboard cannot be reached without auth and allowlist"
PASSWORD_SECRET = "platform/test/traefik/dashboard"


def play(tasks_from: str = "main", **variables: Any) -> list[dict[str, Any]]:
    return role_play(ROLE, tasks_from, **variables)


# --- the guard: no cluster needed, it runs before anything is written ------------------------------------------

API_ROUTE = {
    "apiVersion": "traefik.io/v1alpha1",
    "kind": "IngressRoute",
    "metadata": {"name": "api-open"},
    "spec": {"routes": [{"match": "PathPrefix(`/api`)", "kind": "Rule", "services": [{"name": "api@internal", "kind": "TraefikService"}]}]},
}
EXPOSURES = {
    "no middlewares on the dashboard route": {"traefik_values_overrides": {"ingressRoute": {"dashboard": {"middlewares": [{"name": "default-headers"}]}}}},
    "insecure API": {"traefik_values_overrides": {"api": {"insecure": True}}},
    "traefik entry point exposed": {"traefik_values_overrides": {"ports": {"traefik": {"expose": {"default": True}}}}},
    "allowlist open to the world": {"traefik_dashboard_allowlist": ["10.0.0.0/8", "0.0.0.0/0"]},
    "IPv6 allowlist open to the world": {"traefik_dashboard_allowlist": ["::/0"]},
    "empty allowlist": {"traefik_dashboard_allowlist": []},
    "extra route to the API without guards": {"traefik_extra_objects": [API_ROUTE]},
    "auth Middleware replaced": {"traefik_values_overrides": {"extraObjects": []}},
}


@pytest.mark.parametrize("variables", list(EXPOSURES.values()), ids=list(EXPOSURES))
def test_the_dashboard_is_never_exposed_without_auth_and_allowlist(variables: dict[str, Any], tmp_path: Path) -> None:
    run = run_playbook(play(**variables), tmp_path)
    assert run.rc != 0
    failed = run.result(GUARD_TASK)
    assert failed["failed"] is True
    assert "must only be served behind basic auth and an IP allowlist" in failed["msg"]
    # Nothing after the guard ran: no namespace, no secret, no release.
    assert task_names(run)[-1] == GUARD_TASK


def test_an_extra_api_route_with_both_guards_passes_the_guard(tmp_path: Path) -> None:
    guarded = {
        **API_ROUTE,
        "spec": {"routes": [{**API_ROUTE["spec"]["routes"][0], "middlewares": [{"name": "dashboard-allowlist"}, {"name": "dashboard-auth"}]}]},
    }
    # K8S_AUTH_KUBECONFIG points nowhere: the run stops at the first task that needs the cluster, after the guard.
    run = run_playbook(play(traefik_extra_objects=[guarded]), tmp_path, env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "none")})
    assert run.result(GUARD_TASK).get("failed") is not True
    assert run.rc != 0
    assert task_names(run)[-1] == "eks_gitops.platform.chart_release : Create namespace traefik"


def test_a_bad_variable_fails_with_its_name(tmp_path: Path) -> None:
    run = run_playbook(play(traefik_service_type="Public", traefik_dashboard_allowlist="10.0.0.0/8,0.0.0.0/0"), tmp_path)
    assert run.rc != 0
    message = json.dumps(run.report)
    assert "traefik_service_type must be one of: LoadBalancer, ClusterIP, NodePort, got: Public" in message


def test_a_protected_route_refuses_a_public_allowlist(tmp_path: Path) -> None:
    run = run_playbook(
        play(
            "protected_route",
            traefik_route_name="grafana",
            traefik_route_namespace="monitoring",
            traefik_route_host="grafana.example.com",
            traefik_route_service_name="grafana",
            traefik_route_service_port=80,
            traefik_route_allowlist=["0.0.0.0/0"],
        ),
        tmp_path,
    )
    assert run.rc != 0
    failed = run.result(f"{ROLE} : Refuse a route without auth and allowlist")
    assert "monitoring/grafana must be served behind basic auth and an IP allowlist" in failed["msg"]


TLS_TASK = f"{ROLE} : Check that clients get a real certificate where one is required"


def test_production_refuses_to_run_without_a_real_certificate(tmp_path: Path) -> None:
    run = run_playbook(play(traefik_environment="production"), tmp_path)
    assert run.rc != 0
    failed = run.result(TLS_TASK)
    assert "set traefik_tls_acm_certificate_arn" in failed["msg"]
    assert "traefik_tls_require_certificate is True for production" in failed["msg"]
    assert task_names(run)[-1] == TLS_TASK  # before anything is written


def test_a_certificate_reaches_the_nlb_or_the_default_tls_store(tmp_path: Path) -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    plays = play("values", traefik_environment="production", traefik_tls_acm_certificate_arn=arn, traefik_tls_default_certificate_secret="wildcard-tls")
    plays[0]["tasks"].append({"name": "show", "ansible.builtin.debug": {"var": "traefik_release_values"}})
    run = run_playbook(plays, tmp_path)
    assert run.rc == 0, run.output[-4000:]
    values = run.result("show")["traefik_release_values"]
    annotations = values["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == arn
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] == "443"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"] == "ssl"
    assert values["tlsStore"] == {"default": {"defaultCertificate": {"secretName": "wildcard-tls"}}}
    assert values["providers"]["kubernetesCRD"]["allowCrossNamespace"] is False


# --- a real converge -------------------------------------------------------------------------------------------


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}-traefik"
    yield name
    subprocess.run([HELM, "uninstall", name, "-n", name, "--wait", "--timeout", "120s"], env=kube_cluster.env(), capture_output=True, timeout=180, check=False)
    subprocess.run([KUBECTL, "delete", "namespace", name, "--wait=false"], env=kube_cluster.env(), capture_output=True, timeout=120, check=False)


@pytest.mark.kube
def test_converge_is_idempotent_check_mode_is_quiet_and_nothing_leaks(
    aws: MotoServer, kube_cluster: KubeCluster, chart_repo: str, namespace: str, tmp_path: Path
) -> None:
    env = {**aws.env(), "K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig), "KUBECONFIG": str(kube_cluster.kubeconfig)}
    # The release is named after the namespace so that its cluster-scoped objects (IngressClass) are its own.
    variables = {
        "platform_chart_repository": chart_repo,
        "traefik_namespace": namespace,
        "traefik_release_name": namespace,
        "traefik_service_type": "ClusterIP",
        "traefik_dashboard_host": "traefik.test",
        "traefik_dashboard_password_secret": PASSWORD_SECRET,
        "traefik_wait_timeout": 180,
    }
    first = run_playbook(play(**variables), tmp_path, env=env)
    assert first.rc == 0, first.output[-6000:]

    password = aws.client("secretsmanager").get_secret_value(SecretId=PASSWORD_SECRET)["SecretString"]
    users = base64.b64decode(kubectl_json(kube_cluster, "-n", namespace, "get", "secret", "dashboard-auth")["data"]["users"]).decode()
    user, hashed = users.split(":", 1)
    assert user == "admin"
    assert hashed.startswith("$2y$")
    assert bcrypt.checkpw(password.encode(), hashed.replace("$2y$", "$2b$", 1).encode())

    middlewares = {item["metadata"]["name"]: item["spec"] for item in kubectl_json(kube_cluster, "-n", namespace, "get", "middlewares.traefik.io")["items"]}
    assert middlewares["dashboard-auth"] == {"basicAuth": {"secret": "dashboard-auth", "realm": "traefik", "removeHeader": True}}
    assert middlewares["dashboard-allowlist"] == {"ipAllowList": {"sourceRange": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}
    assert middlewares["redirect-https"] == {"redirectScheme": {"scheme": "https", "permanent": True}}
    assert sorted(middlewares) == ["compress", "dashboard-allowlist", "dashboard-auth", "default-headers", "rate-limit", "redirect-https"]
    route = kubectl_json(kube_cluster, "-n", namespace, "get", "ingressroutes.traefik.io", f"{namespace}-dashboard")["spec"]
    assert [m["name"] for m in route["routes"][0]["middlewares"]] == ["dashboard-allowlist", "dashboard-auth", "default-headers"]
    assert route["routes"][0]["match"] == "Host(`traefik.test`) && (PathPrefix(`/dashboard`) || PathPrefix(`/api`))"
    values = yaml.safe_load(kubectl_json(kube_cluster, "-n", namespace, "get", "configmap", f"{namespace}-received-values")["data"]["values.yaml"])
    assert values["ports"]["web"]["http"]["redirections"]["entryPoint"] == {"to": "websecure", "scheme": "https", "permanent": True}
    assert values["service"]["spec"]["type"] == "ClusterIP"
    assert values["service"]["annotations"] == {}  # no NLB annotations on a ClusterIP Service
    assert (values["log"]["format"], values["accessLog"]["format"], values["accessLog"]["enabled"]) == ("json", "json", True)
    assert password not in json.dumps(values)
    assert hashed not in json.dumps(values)

    second = run_playbook(play(**variables), tmp_path, env=env)
    assert second.rc == 0, second.output[-4000:]
    assert second.stats["changed"] == 0, second.output[-4000:]

    checked = run_playbook(play(**variables), tmp_path, env=env, check=True, diff=True, json_output=False)
    assert checked.rc == 0, checked.output[-4000:]
    assert "changed=0" in checked.output
    for run in (first, second, checked):
        assert password not in run.output
        assert hashed not in run.output

    # A new password (rotated in Secrets Manager) gives a new hash on the next run, and only then.
    aws.client("secretsmanager").put_secret_value(SecretId=PASSWORD_SECRET, SecretString="rotated-by-an-operator")
    third = run_playbook(play(**variables), tmp_path, env=env)
    assert third.rc == 0, third.output[-4000:]
    assert third.stats["changed"] == 1, third.output[-4000:]
    users = base64.b64decode(kubectl_json(kube_cluster, "-n", namespace, "get", "secret", "dashboard-auth")["data"]["users"]).decode()
    assert bcrypt.checkpw(b"rotated-by-an-operator", users.split(":", 1)[1].replace("$2y$", "$2b$", 1).encode())
