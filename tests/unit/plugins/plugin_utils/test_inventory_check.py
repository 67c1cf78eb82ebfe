"""The inventory check: formats, the spec file against the roles' specs, and the rules across variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.eks_gitops.platform.plugins.plugin_utils import inventory_check as ic

REPO_ROOT = Path(__file__).resolve().parents[4]
SPEC_FILE = yaml.safe_load((REPO_ROOT / "playbooks" / "vars" / "inventory_spec.yml").read_text(encoding="utf-8"))
ROLE_SPECS = {path.parent.parent.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in (REPO_ROOT / "roles").glob("*/meta/argument_specs.yml")}
SPEC = ic.Spec.build(SPEC_FILE, ROLE_SPECS)

GOOD: dict[str, Any] = {
    "platform_environment": "production",
    "platform_domain": "example.com",
    "platform_cluster_name": "eks-gitops-production",
    "platform_aws_region": "eu-west-1",
    "platform_aws_account_id": "123456789012",
    "platform_gitops_repo_url": "https://github.com/acme/platform-gitops.git",
    "platform_gitops_repo_revision": "main",
    "platform_github_repository": "acme/platform-gitops",
    "platform_gitops_repo_dest": "/srv/platform-gitops",
    "platform_gitops_environments": ["dev", "production"],
    "platform_workloads": [{"name": "my-microservice"}],
    "platform_github_actions_role_name": "eks-gitops-github-actions",
    "platform_workload_namespace_labels": {"pod-security.kubernetes.io/enforce": "restricted"},
    "platform_workload_namespace_annotations": {"linkerd.io/inject": "enabled"},
    "traefik_tls_acm_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "traefik_chart_version": "41.3.0",
    "traefik_dashboard_allowlist": ["10.0.0.0/8"],
}


def problems(**changes: Any) -> list[str]:
    values = {**GOOD, **changes}
    return [str(problem) for problem in ic.check({k: v for k, v in values.items() if v is not ...}, SPEC)]


def test_a_good_inventory_has_no_problem() -> None:
    assert problems() == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "platform_domain",
            "sandbox eks_gitops..test",
            "platform_domain (cluster.yml): 'sandbox eks_gitops..test' is not a DNS domain: it contains white space",
        ),
        ("platform_domain", "Example.COM", "is not a DNS domain (lower-case"),
        ("platform_domain", "localhost", "needs at least two labels"),
        (
            "platform_gitops_repo_url",
            "https://github.com/acme/platform gitops.git",
            "platform_gitops_repo_url (gitops.yml): 'https://github.com/acme/platform gitops.git' is not a Git URL",
        ),
        ("platform_gitops_repo_url", "ftp://github.com/acme/x.git", "is not a Git URL (https://, ssh:// or git@host:path) (scheme https://, ssh://)"),
        ("platform_gitops_repo_url", "http://git.example.com/x.git", "plain http:// is only for this machine"),
        ("platform_gitops_repo_url", "https://:443/x.git", "it has no host"),
        ("platform_aws_account_id", "12345", "'12345' is not an AWS account id"),
        ("platform_aws_region", "Europe", "'Europe' is not an AWS region"),
        ("platform_gitops_environments", ["dev", "Prod"], "platform_gitops_environments (gitops.yml): [1] 'Prod' is not a valid DNS-1123 label"),
        ("platform_workloads", [{"name": "a" * 54}], "platform_workloads[0].name (gitops.yml): must be at most 53 characters (a Helm release name)"),
        ("platform_workloads", [{"name": "web"}, {"name": "web"}], "platform_workloads[1].name (gitops.yml): 'web' is listed twice"),
        ("platform_workloads", [{"name": "web", "port": 70000}], "platform_workloads[0].port (gitops.yml): 70000 is not a port"),
        ("platform_workloads", [{"image": "web"}], "missing required arguments: name found in platform_workloads"),
        ("platform_environment", "prod", "value of platform_environment must be one of: dev, staging, production, local, got: prod"),
        ("platform_ecr_keep_images", 0, "platform_ecr_keep_images (aws.yml): must be a whole number above 0, got 0"),
        ("platform_kubernetes_min_version", "1.31.2", "is not a Kubernetes minor version such as 1.31"),
        ("platform_namespace_pod_security", {"argocd": "strict"}, "argocd: 'strict' is not a Pod Security Standard"),
        ("platform_workload_namespace_labels", {"team": "a b"}, "team: 'a b' is not a label value"),
        ("platform_aws_tags", {"aws:owner": "me"}, "tags.aws:owner: the aws: prefix is reserved for AWS"),
        (
            "platform_addon_roles",
            [{"name": "x", "role_name": "bad role", "namespace": "argocd", "service_account": "x"}],
            "platform_addon_roles[0].role_name (aws.yml): 'bad role' is not a valid IAM role name",
        ),
        (
            "platform_addon_roles",
            [{"name": "x", "role_name": "r", "namespace": "argocd", "service_account": "x", "secrets_read": ["*"]}],
            "platform_addon_roles[0].secrets_read (aws.yml): [0]",
        ),
        ("platform_gitops_repo_dest", "platform-gitops", "'platform-gitops' is not an absolute path"),
        ("platform_domain", "", "platform_domain (cluster.yml): is required and must not be empty"),
        ("traefik_chart_version", "latest", "traefik_chart_version: 'latest' is not a version such as 1.2.3"),
        ("traefik_dashboard_allowlist", ["10.0.0.1/8"], "traefik_dashboard_allowlist: [0] '10.0.0.1/8' is not a CIDR range (10.0.0.1/8 has host bits set)"),
        ("traefik_dashboard_allowlist", ["10.0.0.1"], "give the prefix length (10.0.0.1/32 for one address)"),
        (
            "traefik_tls_acm_certificate_arn",
            "arn:aws:iam::123456789012:role/x",
            "traefik_tls_acm_certificate_arn: 'arn:aws:iam::123456789012:role/x' is not an ARN of service 'acm'",
        ),
        ("linkerd_identity_issuer_validity", "9000y", "linkerd_identity_issuer_validity: '9000y' is too long"),
        ("linkerd_wait_timeout", -5, "linkerd_wait_timeout: must be a whole number above 0, got -5"),
        (
            "argocd_chart_repo",
            "https://charts example.com",
            "argocd_chart_repo: 'https://charts example.com' is not a chart repository URL: it contains white space",
        ),
        ("traefik_dashbord_host", "x.example.com", "traefik_dashbord_host: is not a variable of the traefik role (see roles/traefik/README.md): a typo?"),
        ("linkerd_identity_anchr_validity", "1y", "linkerd_identity_anchr_validity: is not a variable of the linkerd_identity role"),
        ("platform_domian", "example.com", "platform_domian: is not a variable of the platform"),
    ],
)
def test_each_bad_value_is_named_with_what_is_wrong(variable: str, value: Any, expected: str) -> None:
    found = problems(**{variable: value})
    assert any(expected in problem for problem in found), found


def test_a_secret_value_is_never_quoted() -> None:
    secret = "s3cr3t-canary-value"
    found = problems(platform_secrets=[{"name": "bad name", "value": secret}, {"name": "ok", "json": {"password": secret}, "kms_key_id": 7}])
    assert found
    assert secret not in " ".join(found)
    found = problems(platform_secrets=secret)  # a type error of a no_log variable
    assert found
    assert secret not in " ".join(found)


def test_a_password_in_a_url_is_refused_and_masked() -> None:
    (found,) = problems(platform_gitops_repo_url="https://bot:ghp_token123@github.com/acme/platform-gitops.git")
    assert "carries a password" in found
    assert "ghp_token123" not in found
    assert "https://bot:***@github.com" in found


def test_scp_and_local_git_urls_are_fine() -> None:
    assert problems(platform_gitops_repo_url="git@github.com:acme/platform-gitops.git") == []
    assert problems(platform_gitops_repo_url="http://127.0.0.1:8123/platform-gitops.git") == []


def test_rules_across_variables() -> None:
    (missing,) = problems(platform_gitops_environments=["dev", "staging"])
    assert "platform_gitops_environments (gitops.yml): must list platform_environment (production)" in missing
    (cni,) = problems(linkerd_cni_enabled=False)
    assert "linkerd_cni_enabled is false" in cni
    assert "pod-security.kubernetes.io/enforce: baseline" in cni
    assert problems(linkerd_cni_enabled=False, platform_workload_namespace_labels={"pod-security.kubernetes.io/enforce": "baseline"}) == []
    (certificate,) = problems(traefik_tls_acm_certificate_arn=...)
    assert certificate.startswith("traefik_tls_acm_certificate_arn (traefik.yml): production needs a real certificate")
    assert problems(traefik_tls_acm_certificate_arn=..., traefik_tls_default_certificate_secret="wildcard-tls") == []
    assert problems(traefik_tls_acm_certificate_arn=..., platform_environment="staging", platform_gitops_environments=["staging"]) == []
    (endpoint,) = problems(platform_aws_endpoint_url="http://127.0.0.1:5000")
    assert "is for the sandbox only" in endpoint


def test_the_local_environment_needs_the_sandbox_services() -> None:
    local = {"platform_environment": "local", "platform_gitops_environments": ["local"], "platform_local_state_dir": "/state"}
    found = problems(**local)
    assert any("the local chart repository is not running (no /state/chart-repo.url)" in p for p in found)
    assert any("the local AWS (moto) is not running (no /state/moto.url)" in p for p in found)
    assert problems(**local, platform_chart_repository="http://127.0.0.1:8080", platform_aws_endpoint_url="http://127.0.0.1:5000") == []


def test_every_format_of_the_spec_exists_and_every_pattern_compiles() -> None:
    named = {option["format"] for option in SPEC.variables.values() if "format" in option}
    named |= {sub["format"] for option in SPEC.variables.values() for sub in (option.get("options") or {}).values() if "format" in sub}
    named |= set(SPEC.role_variable_formats.values())
    assert named <= set(ic.FORMATS)
    for pattern in SPEC.role_variable_formats:
        re.compile(pattern)


def test_every_platform_variable_of_the_inventories_and_playbooks_is_in_the_spec() -> None:
    used = set()
    for path in [*REPO_ROOT.glob("inventories/*/group_vars/all/*.yml"), *REPO_ROOT.glob("playbooks/**/*.yml"), *REPO_ROOT.glob("roles/*/defaults/main.yml")]:
        used |= set(re.findall(r"\bplatform_[a-z0-9_]+\b", path.read_text(encoding="utf-8")))
    assert used - set(SPEC.variables) == set()


def test_every_role_default_passes_its_format() -> None:
    """The roles' own defaults (those that are plain values) pass the formats their names get."""
    for role in ROLE_SPECS:
        defaults = yaml.safe_load((REPO_ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")) or {}
        plain = {name: value for name, value in defaults.items() if "{{" not in str(value) and value != "" and name in SPEC.role_options}
        assert [str(p) for p in ic.check({**GOOD, **plain}, SPEC)] == [], role


SPOKE = {"name": "spoke-a", "kubeconfig": "/srv/kube/spoke-a.yaml", "environment": "dev", "aws_account_id": "123456789012", "aws_region": "eu-west-1"}


def test_spokes() -> None:
    assert problems(platform_spokes=[SPOKE, {**SPOKE, "name": "spoke-b", "addons": ["reloader"]}]) == []
    found = problems(
        platform_spokes=[
            SPOKE,
            {**SPOKE, "kubeconfig": "relative.yaml", "aws_account_id": "12", "addons": ["istio"], "environment": "qa"},
            {"name": "eks-gitops-production", "kubeconfig": "/k"},
            {"name": "spoke-c", "eks_cluster_name": "eks-gitops-production", "server": "https://x", "config": {}},
            {"name": "Spoke_D", "kubeconfig": "/k"},
            {"name": "spoke-e", "kubeconfig": ""},
        ]
    )
    text = "\n".join(found)
    for expected in (
        "platform_spokes[1].name (cluster.yml): 'spoke-a' is listed twice (first as [0]): cluster names must be unique",
        "platform_spokes[1].kubeconfig (cluster.yml):",
        "platform_spokes[1].aws_account_id (cluster.yml):",
        "platform_spokes[1].addons[0] (cluster.yml): 'istio' is not an add-on the platform has",
        "platform_spokes[1].environment (cluster.yml): 'qa' is not in platform_gitops_environments",
        "platform_spokes[2].name (cluster.yml): 'eks-gitops-production' is this inventory's own cluster",
        "platform_spokes[3].name (cluster.yml): 'spoke-c' is this inventory's own cluster",
        "platform_spokes[4].name (cluster.yml):",
        "platform_spokes[5].kubeconfig (cluster.yml): is empty: give the spoke's kubeconfig, or its server and config",
    ):
        assert expected in text, (expected, text)
    # The argument spec of the argocd role's argocd_spokes: a way to reach each spoke, one only.
    text = "\n".join(problems(platform_spokes=[{"name": "spoke-e"}, {"name": "spoke-f", "kubeconfig": "/k", "server": "https://x", "config": {}}]))
    assert "one of the following is required: kubeconfig, server" in text
    assert "parameters are mutually exclusive: kubeconfig|server" in text


def test_the_spoke_addons_are_the_argocd_roles() -> None:
    defaults = yaml.safe_load((REPO_ROOT / "roles" / "argocd" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert tuple(defaults["argocd_spoke_addons"]) == ic.SPOKE_ADDONS
