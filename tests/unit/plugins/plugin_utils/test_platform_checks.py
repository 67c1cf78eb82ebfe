"""The playbooks' manifests and validate rows (plugin_utils/platform_checks.py), and their filters."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.filter.platform_checks import FilterModule
from ansible_collections.eks_gitops.platform.plugins.plugin_utils import platform_checks as checks

FILTERS = FilterModule().filters()


def obj(kind: str, name: str, namespace: str = "", **fields):
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace, **fields.pop("metadata", {})}, **fields}


def test_namespace_manifests_from_names_and_from_pod_security_levels() -> None:
    [shop] = checks.namespace_manifests(["shop"], labels={"team": "a"}, annotations={"linkerd.io/inject": "enabled"})
    assert shop == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop",
            "labels": {"app.kubernetes.io/part-of": "eks-gitops-platform", "team": "a"},
            "annotations": {"linkerd.io/inject": "enabled"},
        },
    }
    argocd, kube = checks.namespace_manifests({"argocd": "baseline", "kube-system": "privileged"})
    assert argocd["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert argocd["metadata"]["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    assert argocd["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert kube["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "annotations" not in argocd["metadata"]
    assert checks.namespace_manifests([]) == []


def test_missing_requirements_compares_versions_not_text() -> None:
    minimums = {"boto3": "1.34.0", "kubernetes": "24.2.0", "cryptography": "42.0"}
    found = {"boto3": "1.9.0", "kubernetes": "31.0.0", "cryptography": None}
    assert checks.missing_requirements(minimums, found) == ["boto3 >= 1.34.0 (1.9.0)", "cryptography >= 42.0 (not installed)"]
    assert checks.missing_requirements({"boto3": "1.34.0"}, {"boto3": "1.34.0"}) == []
    assert checks.missing_requirements({"boto3": "1.34.0"}, {}) == ["boto3 >= 1.34.0 (not installed)"]


def test_workloads_row() -> None:
    ready = obj("Deployment", "server", "argocd", spec={"replicas": 2}, status={"readyReplicas": 2})
    default_replicas = obj("StatefulSet", "redis", "argocd", spec={}, status={"readyReplicas": 1})
    daemonset = obj("DaemonSet", "csi", "kube-system", status={"desiredNumberScheduled": 3, "numberReady": 3})
    row = checks.workloads_row([ready, default_replicas, daemonset], ["argocd"])
    assert row == {
        "check": "Deployments ready",
        "status": "pass",
        "evidence": "3/3 Deployments, StatefulSets and DaemonSets ready (argocd 2, kube-system 1)",
    }
    slow = obj("Deployment", "repo", "argocd", spec={"replicas": 2}, status={"readyReplicas": 1})
    idle = obj("DaemonSet", "csi", "kube-system", status={"desiredNumberScheduled": 0})
    row = checks.workloads_row([ready, slow, idle], ["argocd", "traefik"], addons_installed=False)
    assert row["status"] == "fail"
    assert row["evidence"] == (
        "1/3 Deployments, StatefulSets and DaemonSets ready (argocd 2, kube-system 1); not ready: argocd/repo 1/2, kube-system/csi 0/0;"
        " nothing runs in: traefik; the add-ons are Argo CD Applications: skipped: needs a live Argo CD"
    )


def test_namespaces_rows() -> None:
    good = obj("Namespace", "shop", metadata={"annotations": {"linkerd.io/inject": "enabled"}, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}})
    loose = obj("Namespace", "cart", metadata={"labels": {"pod-security.kubernetes.io/enforce": "baseline"}})
    meshed, restricted = checks.namespaces_rows([good, obj("Namespace", "other")], ["shop", "shop"])
    assert meshed == {"check": "Namespaces meshed (linkerd.io/inject)", "status": "pass", "evidence": "linkerd.io/inject=enabled on shop"}
    assert restricted["status"] == "pass"
    assert restricted["evidence"] == "pod-security.kubernetes.io/enforce=restricted on shop"
    meshed, restricted = checks.namespaces_rows([good, loose], ["shop", "cart", "gone"])
    assert meshed == {"check": meshed["check"], "status": "fail", "evidence": "not meshed or missing: cart, gone"}
    assert restricted["evidence"] == "not restricted or missing: cart, gone"
    assert [row["status"] for row in checks.namespaces_rows([], [])] == ["fail", "fail"]


def _route(name: str, middlewares: list[str], service: str = "api@internal") -> dict:
    rule = {"services": [{"name": service}], "middlewares": [{"name": m} for m in middlewares]}
    return obj("IngressRoute", name, "traefik", spec={"routes": [rule]})


def _middleware(name: str, spec: dict) -> dict:
    return obj("Middleware", name, "traefik", spec=spec)


GUARDS = [
    _middleware("dashboard-auth", {"basicAuth": {"secret": "dashboard-auth"}}),
    _middleware("dashboard-allowlist", {"ipAllowList": {"sourceRange": ["10.0.0.0/8"]}}),
]


def test_traefik_api_routes_only_routes_to_the_api() -> None:
    empty = {"kind": "IngressRoute", "metadata": {"name": "empty"}}
    objects = [_route("dashboard", ["dashboard-auth"]), _route("app", [], service="web"), GUARDS[0], empty]
    assert checks.traefik_api_routes(objects) == [{"name": "dashboard", "middlewares": ["dashboard-auth"]}]


def test_traefik_dashboard_row() -> None:
    guarded = _route("traefik-dashboard", ["dashboard-auth", "dashboard-allowlist"])
    row = checks.traefik_dashboard_row([guarded], GUARDS, auth_users=True)
    assert row["status"] == "pass"
    assert row["evidence"] == (
        "traefik-dashboard in traefik passes dashboard-auth and dashboard-allowlist (basicAuth with users in Secret dashboard-auth, sourceRange 10.0.0.0/8)"
    )
    open_list = [GUARDS[0], _middleware("dashboard-allowlist", {"ipAllowList": {"sourceRange": ["0.0.0.0/0"]}})]
    row = checks.traefik_dashboard_row([guarded, _route("bare", [])], open_list, auth_users=False)
    assert row["status"] == "fail"
    assert row["evidence"] == (
        "traefik-dashboard: the basicAuth Secret has no users; traefik-dashboard: dashboard-allowlist admits every address;"
        " bare: no basicAuth Middleware; bare: no ipAllowList Middleware"
    )
    assert checks.traefik_dashboard_row([], GUARDS, auth_users=True)["evidence"] == "no IngressRoute to api@internal in traefik"
    assert checks.traefik_dashboard_row([], [], True, dashboard_enabled=False)["status"] == "skipped"
    assert "needs a live Argo CD" in checks.traefik_dashboard_row([], [], True, addons_installed=False)["evidence"]


SPC_OBJECTS = """
- objectName: shop/db
- objectName: arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/api-AbCdEf
  objectType: ssmparameter
- objectName: /shop/param
  objectType: ssmparameter
"""


def test_secret_provider_class_references_from_the_cluster_and_rendered_charts() -> None:
    in_cluster = obj("SecretProviderClass", "db", "shop", spec={"provider": "aws", "parameters": {"objects": SPC_OBJECTS}})
    other_provider = obj("SecretProviderClass", "vault", "shop", spec={"provider": "vault"})
    rendered = (
        "---\nkind: SecretProviderClass\nmetadata: {name: app}\nspec:\n  provider: aws\n  parameters:\n"
        "    objects: |\n      - objectName: app/key\n---\nkind: Service\n"
    )
    result = checks.secret_provider_class_references(
        [{"item": {"name": "app", "namespace": "app"}, "stdout": rendered}, {"item": {"name": "broken"}, "failed": True}],
        [in_cluster, other_provider],
    )
    assert result == {
        "classes": 3,
        "references": [
            {"spc": "cluster shop/db", "secret": "shop/db"},
            {"spc": "cluster shop/db", "secret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/api-AbCdEf"},
            {"spc": "GitOps repository app/app", "secret": "app/key"},
        ],
    }


def test_spc_secrets_row() -> None:
    refs = [{"spc": "cluster shop/db", "secret": "shop/db"}, {"spc": "GitOps repository app/app", "secret": "app/key"}]
    row = checks.spc_secrets_row(refs, {"shop/db": True, "app/key": True}, classes=2)
    assert row["status"] == "pass"
    assert row["evidence"] == (
        "2 SecretProviderClass(es) (cluster shop/db, GitOps repository app/app) name 2 secret(s), all in Secrets Manager: shop/db, app/key"
    )
    row = checks.spc_secrets_row(refs, {"shop/db": True, "app/key": False}, classes=2, render_errors=["broken"])
    assert row == {
        "check": "SecretProviderClasses reference existing secrets",
        "status": "fail",
        "evidence": "the charts of broken do not render; missing in Secrets Manager: app/key (named by cluster shop/db, GitOps repository app/app)",
    }
    assert checks.spc_secrets_row([], {}, classes=0)["status"] == "skipped"
    assert checks.spc_secrets_row([], {}, classes=0, render_errors=["broken"])["status"] == "fail"


def test_application_specs() -> None:
    app = obj("Application", "root", "argocd", spec={"project": "platform"})
    files = {"/repo/applications/dev/app.yaml": "kind: Application\nmetadata: {name: app}\nspec: {project: dev}\n---\nkind: AppProject\n", "/repo/x.yml": ""}
    assert checks.application_specs([app], files, root="/repo/") == {
        "cluster": {"cluster argocd/root": {"project": "platform"}},
        "repository": {"repository applications/dev/app.yaml app": {"project": "dev"}},
    }


def test_filters_take_ansible_values_and_report_bad_input_by_name() -> None:
    row = FILTERS["workloads_row"]([], ["argocd"], addons_installed="False")
    assert row["evidence"].endswith("skipped: needs a live Argo CD")
    assert FILTERS["traefik_dashboard_row"]([], [], "true", dashboard_enabled="no")["status"] == "skipped"
    assert FILTERS["spc_secrets_row"]([], {}, "0")["status"] == "skipped"
    with pytest.raises(AnsibleFilterError, match=r"eks_gitops\.platform\.spc_secrets_row: unexpected input"):
        FILTERS["spc_secrets_row"]([], ["not", "a", "mapping"], 0)
    with pytest.raises(AnsibleFilterError, match=r"eks_gitops\.platform\.namespaces_rows: unexpected input"):
        FILTERS["namespaces_rows"](["not an object"], ["x"])
