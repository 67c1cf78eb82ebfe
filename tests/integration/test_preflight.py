"""Preflight refuses a broken inventory before anything is written.

A copy of inventories/local, pointed at the session's moto server and the test chart repository, is broken one way
at a time, in the group_vars file that holds the value, and the whole bootstrap is run on it. Its kubeconfig names
an API server of the test's own that records every request it gets (and serves none). Each run must stop at the
inventory check (eks_gitops.platform.inventory_check, over playbooks/vars/inventory_spec.yml and the roles' argument
specs), naming the variable, its file and what is wrong, and nothing may reach AWS (no secret, role, OIDC provider
or ECR repository in moto) or the cluster (not one request). The unbroken copy passes the same check, so each
refusal is the breakage's.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.support.ansible import REPO_ROOT, PlaybookRun, run_playbook
from tests.support.moto import MotoServer

BOOTSTRAP = REPO_ROOT / "playbooks" / "bootstrap.yml"
CHECK_TASK = "Check every value of the inventory against its spec"
PASSWORD = "hunter2-canary"

# (case, group_vars file, variable, broken value, what the message must say)
BREAKAGES: list[tuple[str, str, str, Any, str]] = [
    (
        "domain with a space and an empty label",
        "cluster.yml",
        "platform_domain",
        "sandbox eks_gitops..test",
        "platform_domain (cluster.yml): 'sandbox eks_gitops..test' is not a DNS domain",
    ),
    (
        "GitOps URL with a space",
        "gitops.yml",
        "platform_gitops_repo_url",
        "https://git.example.com/platform gitops.git",
        "platform_gitops_repo_url (gitops.yml): 'https://git.example.com/platform gitops.git' is not a Git URL",
    ),
    (
        "GitOps URL with a password in it",
        "gitops.yml",
        "platform_gitops_repo_url",
        f"https://bot:{PASSWORD}@github.com/acme/platform-gitops.git",
        "platform_gitops_repo_url (gitops.yml): 'https://bot:***@github.com/acme/platform-gitops.git' carries a password",
    ),
    ("moving chart version", "traefik.yml", "traefik_chart_version", "latest", "traefik_chart_version: 'latest' is not a version such as 1.2.3"),
    ("short account id", "aws.yml", "platform_aws_account_id", "12345", "platform_aws_account_id (aws.yml): '12345' is not an AWS account id"),
    ("made-up region", "aws.yml", "platform_aws_region", "europe", "platform_aws_region (aws.yml): 'europe' is not an AWS region"),
    (
        "CIDR out of range",
        "traefik.yml",
        "traefik_dashboard_allowlist",
        ["127.0.0.1/32", "10.0.0.0/33"],
        "traefik_dashboard_allowlist: [1] '10.0.0.0/33' is not a CIDR range",
    ),
    (
        "CIDR with host bits",
        "linkerd.yml",
        "linkerd_viz_dashboard_allowlist",
        ["10.0.0.1/8"],
        "linkerd_viz_dashboard_allowlist: [0] '10.0.0.1/8' is not a CIDR range",
    ),
    (
        "workload name Kubernetes refuses",
        "gitops.yml",
        "platform_workloads",
        [{"name": "My_Service"}],
        "platform_workloads[0].name (gitops.yml): 'My_Service' is not a valid DNS-1123 label",
    ),
    (
        "unknown environment",
        "cluster.yml",
        "platform_environment",
        "prod",
        "platform_environment (cluster.yml): value of platform_environment must be one of: dev, staging, production, local, got: prod",
    ),
    (
        "validity that is no duration",
        "linkerd.yml",
        "linkerd_identity_issuer_validity",
        "forever",
        "linkerd_identity_issuer_validity: 'forever' is not a duration",
    ),
    ("IAM path without slashes", "aws.yml", "platform_iam_role_path", "platform", "platform_iam_role_path (aws.yml): 'platform' is not a valid IAM path"),
    (
        "recovery window AWS refuses",
        "secrets.yml",
        "platform_secrets_recovery_window_days",
        3,
        "platform_secrets_recovery_window_days (secrets.yml): must be between 7 and 30 days, got 3",
    ),
    (
        "secret name AWS refuses",
        "secrets.yml",
        "platform_secrets",
        [{"name": "local/my app", "value": PASSWORD}],
        "platform_secrets[0].name (secrets.yml): 'local/my app' contains characters Secrets Manager refuses",
    ),
    (
        "reserved tag",
        "aws.yml",
        "platform_aws_tags",
        {"aws:team": "platform"},
        "platform_aws_tags (aws.yml): tags.aws:team: the aws: prefix is reserved for AWS",
    ),
    ("typo in a role variable", "traefik.yml", "traefik_dashbord_host", "traefik.example.com", "traefik_dashbord_host: is not a variable of the traefik role"),
    ("typo in a platform variable", "cluster.yml", "platform_domian", "example.com", "platform_domian: is not a variable of the platform"),
    ("timeout that is no number", "linkerd.yml", "linkerd_wait_timeout", "soon", "linkerd_wait_timeout: argument 'linkerd_wait_timeout' is of type str"),
    (
        "meshed restricted namespaces without Linkerd's CNI plugin",
        "linkerd.yml",
        "linkerd_cni_enabled",
        False,
        "platform_workload_namespace_labels (cluster.yml): meshed namespaces (linkerd.io/inject: enabled) enforce restricted, but linkerd_cni_enabled is false",
    ),
]


class _Recorder(http.server.BaseHTTPRequestHandler):
    """An API server that records every request and serves none (503)."""

    requests: ClassVar[list[str]] = []
    url: ClassVar[str] = ""

    def _record(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_response(503)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_server() -> Iterator[type[_Recorder]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield _Recorder
    server.shutdown()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer, chart_repo: str, api_server: type[_Recorder]) -> Path:
    """A state directory as `make sandbox` leaves it, with a kubeconfig for the recording API server."""
    state = tmp_path_factory.mktemp("preflight-state")
    (state / "chart-repo.url").write_text(chart_repo + "\n", encoding="utf-8")
    (state / "moto.url").write_text(moto_server.endpoint_url + "\n", encoding="utf-8")
    (state / "git-server.url").write_text("http://127.0.0.1:9\n", encoding="utf-8")
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "recorder", "cluster": {"server": api_server.url}}],
        "users": [{"name": "recorder", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "recorder", "context": {"cluster": "recorder", "user": "recorder"}}],
        "current-context": "recorder",
    }
    (state / "kubeconfig").write_text(yaml.safe_dump(kubeconfig), encoding="utf-8")
    return state


@pytest.fixture
def env(state: Path, aws: MotoServer, api_server: type[_Recorder]) -> dict[str, str]:
    api_server.requests.clear()
    kubeconfig = str(state / "kubeconfig")
    return {**aws.env(), "LOCAL_CLUSTER_STATE_DIR": str(state), "KUBECONFIG": kubeconfig, "K8S_AUTH_KUBECONFIG": kubeconfig, "HOME": str(state / "home")}


def inventory_copy(tmp_path: Path, file: str | None = None, variable: str | None = None, value: Any = None) -> Path:
    """inventories/local with ``variable`` set to ``value`` in ``file`` (the file that holds it)."""
    inventory = tmp_path / "local"
    shutil.copytree(REPO_ROOT / "inventories" / "local", inventory)
    if file and variable:
        path = inventory / "group_vars" / "all" / file
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data[variable] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return inventory


def written(aws: MotoServer) -> dict[str, Any]:
    """What the platform would have written to AWS."""
    iam = aws.client("iam")
    return {
        "secrets": aws.client("secretsmanager").list_secrets()["SecretList"],
        "roles": iam.list_roles()["Roles"],
        "oidc": iam.list_open_id_connect_providers()["OpenIDConnectProviderList"],
        "ecr": aws.client("ecr").describe_repositories()["repositories"],
    }


def bootstrap(inventory: Path, tmp_path: Path, env: dict[str, str], *extra: str) -> PlaybookRun:
    return run_playbook(BOOTSTRAP, tmp_path / "run", env=env, inventory=inventory, extra_args=list(extra), timeout=600)


def test_the_unbroken_inventory_passes_the_check(env: dict[str, str], tmp_path: Path) -> None:
    run = bootstrap(inventory_copy(tmp_path), tmp_path, env, "--tags", "preflight")
    result = run.result(CHECK_TASK)
    assert result.get("failed") is not True, result.get("msg")
    assert result["problems"] == []
    assert result["checked"] > 60


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[case[0] for case in BREAKAGES])
def test_a_broken_inventory_is_refused_before_anything_is_written(
    breakage: tuple[str, str, str, Any, str], env: dict[str, str], aws: MotoServer, api_server: type[_Recorder], tmp_path: Path
) -> None:
    _case, file, variable, value, expected = breakage
    run = bootstrap(inventory_copy(tmp_path, file, variable, value), tmp_path, env)
    assert run.rc != 0
    result = run.result(CHECK_TASK)
    assert result.get("failed") is True
    assert expected in result["msg"], result["msg"]
    assert "nothing was written" in result["msg"]
    assert PASSWORD not in run.output
    # The run stopped there: no later task ran, and neither AWS nor the cluster saw a write.
    names = [task["task"]["name"] for play in run.report["plays"] for task in play["tasks"]]
    assert names[-1] == CHECK_TASK
    assert written(aws) == {"secrets": [], "roles": [], "oidc": [], "ecr": []}
    assert api_server.requests == []


def test_every_problem_is_listed_at_once(env: dict[str, str], tmp_path: Path) -> None:
    inventory = inventory_copy(tmp_path)
    for case, file, variable, value, _expected in BREAKAGES:
        if case in ("unknown environment", "GitOps URL with a password in it", "meshed restricted namespaces without Linkerd's CNI plugin"):
            continue  # a choice error stops the rules across variables; one URL case is enough
        path = inventory / "group_vars" / "all" / file
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data[variable] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = bootstrap(inventory, tmp_path, env, "--tags", "preflight")
    message = run.result(CHECK_TASK)["msg"]
    for case, _file, _variable, _value, expected in BREAKAGES:
        if case not in ("unknown environment", "GitOps URL with a password in it", "meshed restricted namespaces without Linkerd's CNI plugin"):
            assert expected in message, case
    assert PASSWORD not in run.output


FILLED = {
    "aws.yml": [("platform_aws_account_id: CHANGE_ME", 'platform_aws_account_id: "210987654321"')],
    "cluster.yml": [("platform_domain: CHANGE_ME.example.com", "platform_domain: acme.example.org")],
    "gitops.yml": [("https://github.com/CHANGE_ME/platform-gitops.git", "https://github.com/acme/platform-gitops.git")],
    "traefik.yml": [("certificate/CHANGE_ME", "certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d")],
}


@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_a_shipped_inventory_names_what_to_fix_then_passes(environment: str, env: dict[str, str], tmp_path: Path) -> None:
    """An inventory as shipped: no vault yet, then its placeholders, each named; filled in, it passes the check."""
    inventory = tmp_path / environment
    shutil.copytree(REPO_ROOT / "inventories" / environment, inventory)
    aws_env = {**env, "AWS_ENDPOINT_URL": ""}  # a real environment talks to AWS itself: no moto here
    run = bootstrap(inventory, tmp_path / "novault", aws_env, "--tags", "preflight")
    assert run.rc != 0
    message = run.result("Say which value is missing")["msg"]
    assert "vault_my_microservice_db_password" in message
    assert "ansible-vault create" in message

    vault = {"vault_my_microservice_db_password": "db-pass-canary-1", "vault_gitops_repo_username": "bot", "vault_gitops_repo_token": "token-canary-2"}
    (tmp_path / "vault.json").write_text(json.dumps(vault), encoding="utf-8")
    run = bootstrap(inventory, tmp_path / "placeholders", aws_env, "--tags", "preflight", "-e", f"@{tmp_path / 'vault.json'}")
    assert run.rc != 0
    message = run.result("Refuse placeholders left in the inventory")["msg"]
    for name in ("platform_aws_account_id", "platform_domain", "platform_gitops_repo_url", "argocd_domain", "traefik_dashboard_host"):
        assert name in message
    assert ("traefik_tls_acm_certificate_arn" in message) is (environment == "production")
    assert "canary" not in run.output

    for name, replacements in FILLED.items():
        path = inventory / "group_vars" / "all" / name
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    run = bootstrap(inventory, tmp_path / "filled", aws_env, "--tags", "preflight", "-e", f"@{tmp_path / 'vault.json'}")
    result = run.result(CHECK_TASK)
    assert result.get("failed") is not True, result.get("msg")
    assert "canary" not in run.output


@pytest.fixture(autouse=True)
def _no_leftover_home(state: Path) -> Iterator[None]:
    yield
    shutil.rmtree(state / "home", ignore_errors=True)
