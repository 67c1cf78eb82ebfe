"""playbooks/bootstrap.yml end to end with inventories/local, on a cluster of its own, the moto server and the chart repository.

The module starts a private local cluster (the platform is cluster-wide: CRDs, fixed namespaces), points the
local inventory at it, at the session's moto server and at the test chart repository through a state
directory of its own (LOCAL_CLUSTER_STATE_DIR), and runs what `make sandbox` runs. The tests read the result
back from the API server and from moto: the secrets, the IAM trust policies, the ECR repository, the
namespaces, the cluster Secret, the rendered GitOps repository and the validate report. Then a second run
must change nothing, and teardown must take it all off again, twice without a change the second time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.ansible import REPO_ROOT, PlaybookRun, run_playbook
from tests.support.moto import MotoServer

pytestmark = [pytest.mark.kube, pytest.mark.timeout(3600)]

INVENTORY = REPO_ROOT / "inventories" / "local"
BOOTSTRAP = REPO_ROOT / "playbooks" / "bootstrap.yml"
VALIDATE = REPO_ROOT / "playbooks" / "validate.yml"
TEARDOWN = REPO_ROOT / "playbooks" / "teardown.yml"
SECRETS = REPO_ROOT / "playbooks" / "secrets.yml"
CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "local_cluster.sh"
KUBECTL = str(REPO_ROOT / ".venv" / "bin" / "kubectl")
EKS_CLUSTER = "eks-gitops-local"
PLAYBOOK_TIMEOUT = 1800
WORKLOAD = "my-microservice"


@dataclass
class Sandbox:
    """A state directory laid out like .local after `make sandbox`, with the environment to run the playbooks in."""

    state: Path
    env: dict[str, str]
    aws: MotoServer

    def kubectl_json(self, *args: str) -> Any:
        result = subprocess.run([KUBECTL, *args, "-o", "json"], capture_output=True, text=True, env={**os.environ, **self.env}, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def run(self, playbook: Path, tmp_path: Path, *extra: str, inventory: Path = INVENTORY, env: dict[str, str] | None = None) -> PlaybookRun:
        return run_playbook(playbook, tmp_path, env={**self.env, **(env or {})}, inventory=inventory, extra_args=list(extra), timeout=PLAYBOOK_TIMEOUT)

    def interrupt(self, playbook: Path, tmp_path: Path, marker: str, delay: float = 2.0) -> str:
        """Run ``playbook`` and kill it, with everything it started, ``delay`` seconds after ``marker`` shows up."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.env,
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(INVENTORY), str(playbook)]
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        assert process.stdout is not None
        seen = []
        try:
            for line in process.stdout:
                seen.append(line)
                if marker in line:
                    time.sleep(delay)
                    break
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        output = "".join(seen)
        assert marker in output, output[-4000:]
        return output


def cluster_script(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(CLUSTER_SCRIPT), action], capture_output=True, text=True, env={**os.environ, **env}, timeout=1800, check=False)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer, chart_repo: str) -> Iterator[Sandbox]:
    state = tmp_path_factory.mktemp("sandbox-state")
    cluster_env = {"LOCAL_CLUSTER_STATE_DIR": str(state), "LOCAL_CLUSTER_NAME": f"eks-gitops-it-{uuid.uuid4().hex[:6]}"}
    started = cluster_script("up", cluster_env)
    if started.returncode != 0:
        cluster_script("down", cluster_env)
        pytest.fail(f"the private local cluster did not start:\n{started.stderr[-4000:]}", pytrace=False)
    try:
        moto_server.reset()
        (state / "chart-repo.url").write_text(chart_repo + "\n", encoding="utf-8")
        (state / "moto.url").write_text(moto_server.endpoint_url + "\n", encoding="utf-8")
        moto_server.client("eks").create_cluster(
            name=EKS_CLUSTER, version="1.37", roleArn=f"arn:aws:iam::{moto_server.account_id}:role/eks", resourcesVpcConfig={}
        )
        kubeconfig = str(state / "kubeconfig")
        env = {
            **moto_server.env(),
            "LOCAL_CLUSTER_STATE_DIR": str(state),
            "KUBECONFIG": kubeconfig,
            "K8S_AUTH_KUBECONFIG": kubeconfig,
            # The roles keep Linkerd's file store and other per-user state under HOME: keep it in the test's.
            "HOME": str(state / "home"),
        }
        yield Sandbox(state=state, env=env, aws=moto_server)
    finally:
        cluster_script("down", cluster_env)


def ok(run: PlaybookRun) -> PlaybookRun:
    assert run.rc == 0, run.output[-8000:]
    return run


def report(sandbox: Sandbox) -> dict[str, Any]:
    return dict(json.loads((sandbox.state / "validate" / "validate-local.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def checked_first(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> PlaybookRun:
    """bootstrap.yml --check --diff on the new cluster and the empty account, before anything was installed."""
    return sandbox.run(BOOTSTRAP, tmp_path_factory.mktemp("bootstrap-check"), "--check", "--diff")


@pytest.fixture(scope="module")
def bootstrapped(sandbox: Sandbox, checked_first: PlaybookRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[PlaybookRun, PlaybookRun]:
    # An interrupted run: killed, helm and all, while Traefik's release is being installed.
    sandbox.interrupt(BOOTSTRAP, tmp_path_factory.mktemp("bootstrap-0"), "Install or upgrade Helm release traefik")
    first = ok(sandbox.run(BOOTSTRAP, tmp_path_factory.mktemp("bootstrap-1")))
    second = ok(sandbox.run(BOOTSTRAP, tmp_path_factory.mktemp("bootstrap-2")))
    return first, second


def test_check_mode_on_a_new_cluster_and_account_writes_nothing(sandbox: Sandbox, checked_first: PlaybookRun) -> None:
    assert checked_first.rc == 0, checked_first.output[-8000:]
    assert checked_first.stats["changed"] > 0, "check mode must report what a real run would change"
    assert sandbox.aws.client("secretsmanager").list_secrets()["SecretList"] == []
    assert sandbox.aws.client("iam").list_roles()["Roles"] == []
    assert sandbox.aws.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert sandbox.aws.client("ecr").describe_repositories()["repositories"] == []
    namespaces = {item["metadata"]["name"] for item in sandbox.kubectl_json("get", "namespaces")["items"]}
    assert not namespaces & {"argocd", "traefik", "linkerd", "linkerd-viz", "reloader"}, namespaces
    crds = [item["metadata"]["name"] for item in sandbox.kubectl_json("get", "crds")["items"]]
    assert not [name for name in crds if name.endswith(("argoproj.io", "traefik.io", "linkerd.io"))], crds
    assert not (sandbox.state / "gitops-repo").exists()
    assert not (sandbox.state / "validate").exists()


def test_an_interrupted_bootstrap_is_finished_by_running_it_again_and_then_nothing_changes(bootstrapped: tuple[PlaybookRun, PlaybookRun]) -> None:
    first, second = bootstrapped
    assert first.stats["changed"] > 0
    assert first.stats["failures"] == 0
    changed = [task["task"]["name"] for play in second.report["plays"] for task in play["tasks"] if any(host.get("changed") for host in task["hosts"].values())]
    assert second.stats["changed"] == 0, f"tasks that changed on the second run: {changed}"
    assert [play["play"]["name"].split(" ", 2)[1] for play in first.report["plays"]] == ["1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"]


def test_validate_report_passes_what_can_pass_locally(sandbox: Sandbox, bootstrapped: tuple[PlaybookRun, PlaybookRun]) -> None:
    checks = {row["check"]: row for row in report(sandbox)["checks"]}
    assert checks["Argo CD Applications Synced/Healthy"]["status"] == "skipped"
    assert checks["Argo CD Applications Synced/Healthy"]["evidence"].startswith("skipped: needs a live Argo CD")
    failed = {name: row["evidence"] for name, row in checks.items() if row["status"] != "pass" and name != "Argo CD Applications Synced/Healthy"}
    assert failed == {}
    for check in (
        "Deployments ready",
        "Traefik dashboard requires auth and the allowlist",
        "Namespaces meshed (linkerd.io/inject)",
        "Linkerd certificates valid",
        "SecretProviderClasses reference existing secrets",
        "Reloader running",
        "No secret material in Application specs",
    ):
        assert check in checks
    assert "local/my-microservice" in checks["SecretProviderClasses reference existing secrets"]["evidence"]
    markdown = (sandbox.state / "validate" / "validate-local.md").read_text(encoding="utf-8")
    assert "| Deployments ready | pass |" in markdown


def test_aws_side(sandbox: Sandbox, bootstrapped: tuple[PlaybookRun, PlaybookRun]) -> None:
    aws = sandbox.aws
    secrets = aws.client("secretsmanager")
    value = json.loads(secrets.get_secret_value(SecretId=f"local/{WORKLOAD}")["SecretString"])
    assert set(value) == {"username", "password"}
    tags = {tag["Key"]: tag["Value"] for tag in secrets.describe_secret(SecretId=f"local/{WORKLOAD}")["Tags"]}
    assert tags["platform.eks-gitops.io/owner"] == "inventory-local"
    assert tags["app.kubernetes.io/part-of"] == "eks-gitops-platform"
    # No secret value in any task output.
    first, _second = bootstrapped
    assert value["password"] not in first.output

    iam = aws.client("iam")
    issuer = aws.client("eks").describe_cluster(name=EKS_CLUSTER)["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://")
    trust = iam.get_role(RoleName=f"{WORKLOAD}-local")["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust[0]["Condition"]["StringEquals"][f"{issuer}:sub"] == f"system:serviceaccount:{WORKLOAD}:{WORKLOAD}"
    policy = iam.get_role_policy(RoleName=f"{WORKLOAD}-local", PolicyName="secrets-read")["PolicyDocument"]
    assert policy["Statement"][0]["Resource"] == f"arn:aws:secretsmanager:eu-west-1:{aws.account_id}:secret:local/{WORKLOAD}-??????"

    github = iam.get_role(RoleName="eks-gitops-github-actions")["Role"]["AssumeRolePolicyDocument"]["Statement"]
    condition = github[0]["Condition"]["StringEquals"]
    assert github[0]["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert sorted(condition["token.actions.githubusercontent.com:sub"]) == [
        "repo:eks-gitops-sandbox/platform-gitops:environment:local",
        "repo:eks-gitops-sandbox/platform-gitops:ref:refs/heads/main",
    ]
    push = iam.get_role_policy(RoleName="eks-gitops-github-actions", PolicyName="ecr-push")["PolicyDocument"]["Statement"]
    assert push[1]["Resource"] in (
        [f"arn:aws:ecr:eu-west-1:{aws.account_id}:repository/{WORKLOAD}"],
        f"arn:aws:ecr:eu-west-1:{aws.account_id}:repository/{WORKLOAD}",
    )
    # No static keys: the playbooks create roles only, never an IAM user or an access key.
    assert iam.list_users()["Users"] == []

    repository = aws.client("ecr").describe_repositories(repositoryNames=[WORKLOAD])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True


def test_cluster_side_and_gitops_repository(sandbox: Sandbox, bootstrapped: tuple[PlaybookRun, PlaybookRun]) -> None:
    namespace = sandbox.kubectl_json("get", "namespace", WORKLOAD)["metadata"]
    assert namespace["annotations"]["linkerd.io/inject"] == "enabled"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name in ("argocd", "traefik", "reloader"):
        assert sandbox.kubectl_json("get", "namespace", name)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"

    cluster_secret = sandbox.kubectl_json("get", "secret", "-n", "argocd", "-l", "argocd.argoproj.io/secret-type=cluster")["items"]
    assert len(cluster_secret) == 1
    annotations = cluster_secret[0]["metadata"]["annotations"]
    role_arns = {key: value for key, value in annotations.items() if key.endswith("-iam-role-arn")}
    assert f"arn:aws:iam::{sandbox.aws.account_id}:role/{WORKLOAD}-local" in role_arns.values()
    assert f"arn:aws:iam::{sandbox.aws.account_id}:role/eks-gitops-github-actions" in role_arns.values()

    root = sandbox.kubectl_json("get", "applications.argoproj.io", "-n", "argocd", "root-local")["spec"]["source"]
    assert root["path"] == "applications/local"
    repo = sandbox.state / "gitops-repo"
    assert (repo / "applications" / "local" / f"{WORKLOAD}.yaml").is_file()
    values = yaml.safe_load((repo / "charts" / WORKLOAD / "ci" / "local-values.yaml").read_text(encoding="utf-8"))
    assert f"role/{WORKLOAD}-local" in json.dumps(values)
    workflow = (repo / ".github" / "workflows" / "ci-build-deploy.yaml").read_text(encoding="utf-8")
    assert f"arn:aws:iam::{sandbox.aws.account_id}:role/eks-gitops-github-actions" in workflow


def test_check_mode_with_diff_on_the_converged_platform_reports_nothing(sandbox: Sandbox, bootstrapped: object, tmp_path: Path) -> None:
    run = ok(sandbox.run(BOOTSTRAP, tmp_path, "--check", "--diff"))
    assert run.stats["changed"] == 0


def test_validate_playbook_alone_changes_nothing_and_writes_where_asked(sandbox: Sandbox, bootstrapped: object, tmp_path: Path) -> None:
    run = ok(sandbox.run(VALIDATE, tmp_path, "-e", f"validate_report_dir={tmp_path / 'reports'}"))
    assert run.stats["changed"] == 3  # the new report directory and its two files
    written = json.loads((tmp_path / "reports" / "validate-local.json").read_text(encoding="utf-8"))
    assert written["summary"]["fail"] == 0
    again = ok(sandbox.run(VALIDATE, tmp_path / "again", "-e", f"validate_report_dir={tmp_path / 'reports'}"))
    assert again.stats["changed"] == 0


def test_local_inventory_refuses_the_real_aws(sandbox: Sandbox, tmp_path: Path) -> None:
    run = sandbox.run(BOOTSTRAP, tmp_path, "--tags", "preflight", env={"AWS_ENDPOINT_URL": ""})
    assert run.rc != 0
    message = run.result("Check the AWS endpoint")["msg"]
    assert "but AWS_ENDPOINT_URL is not set" in message
    assert 'eval "$(make -s sandbox-env)"' in message


def test_teardown_reverses_and_keeps_the_secrets(sandbox: Sandbox, bootstrapped: object, tmp_path: Path) -> None:
    refused = sandbox.run(TEARDOWN, tmp_path / "refused")
    assert refused.rc != 0
    assert "-e teardown_confirm=local" in refused.output

    first = ok(sandbox.run(TEARDOWN, tmp_path / "first", "-e", "teardown_confirm=local"))
    assert first.stats["changed"] > 0
    second = ok(sandbox.run(TEARDOWN, tmp_path / "second", "-e", "teardown_confirm=local"))
    assert second.stats["changed"] == 0

    names = {item["metadata"]["name"] for item in sandbox.kubectl_json("get", "namespaces")["items"]}
    assert names.isdisjoint({"argocd", "traefik", "linkerd", "linkerd-viz", "reloader", WORKLOAD})
    assert sandbox.kubectl_json("get", "applications.argoproj.io", "-A")["items"] == []
    iam = sandbox.aws.client("iam")
    assert [role["RoleName"] for role in iam.list_roles()["Roles"] if role["RoleName"] in (f"{WORKLOAD}-local", "eks-gitops-github-actions")] == []
    # Secrets and ECR repositories hold data: they stay unless asked for.
    secrets = sandbox.aws.client("secretsmanager")
    assert secrets.describe_secret(SecretId=f"local/{WORKLOAD}").get("DeletedDate") is None
    assert sandbox.aws.client("ecr").describe_repositories()["repositories"]

    purged = ok(
        sandbox.run(
            TEARDOWN, tmp_path / "purge", "-e", "teardown_confirm=local", "-e", "delete_secrets=true", "-e", "force_delete_secrets=true", "--tags", "aws"
        )
    )
    assert purged.stats["changed"] > 0
    listed = {secret["Name"] for secret in secrets.list_secrets()["SecretList"]}
    assert f"local/{WORKLOAD}" not in listed
    assert "platform/local/linkerd/trust-anchor" not in listed


def test_preflight_names_what_to_fix_in_a_fresh_inventory(sandbox: Sandbox, tmp_path: Path) -> None:
    """The production inventory as shipped: no vault yet, placeholders, then bad values, each refused before any API call."""
    inventory = tmp_path / "production"
    shutil.copytree(REPO_ROOT / "inventories" / "production", inventory)
    run = sandbox.run(BOOTSTRAP, tmp_path / "run", "--tags", "preflight", inventory=inventory)
    assert run.rc != 0
    message = run.result("Say which value is missing")["msg"]
    assert "vault_my_microservice_db_password" in message
    assert "ansible-vault create" in message

    vault = {"vault_my_microservice_db_password": "db-pass-canary-1", "vault_gitops_repo_username": "bot", "vault_gitops_repo_token": "token-canary-2"}
    (tmp_path / "vault.json").write_text(json.dumps(vault), encoding="utf-8")
    run = sandbox.run(BOOTSTRAP, tmp_path / "run2", "--tags", "preflight", "-e", f"@{tmp_path / 'vault.json'}", inventory=inventory)
    assert run.rc != 0
    message = run.result("Refuse placeholders left in the inventory")["msg"]
    for name in ("platform_aws_account_id", "platform_domain", "platform_gitops_repo_url", "argocd_domain", "traefik_dashboard_host"):
        assert name in message
    assert "canary" not in run.output

    for name, old, new in (
        ("aws.yml", "platform_aws_account_id: CHANGE_ME", 'platform_aws_account_id: "12345"'),
        ("cluster.yml", "platform_domain: CHANGE_ME.example.com", "platform_domain: example.org"),
        ("gitops.yml", "https://github.com/CHANGE_ME/platform-gitops.git", "https://github.com/acme/platform-gitops.git"),
    ):
        path = inventory / "group_vars" / "all" / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    run = sandbox.run(BOOTSTRAP, tmp_path / "run3", "--tags", "preflight", "-e", f"@{tmp_path / 'vault.json'}", inventory=inventory)
    assert run.rc != 0
    assert "platform_aws_account_id must be the 12 digits of the AWS account (aws.yml)" in run.result("Check the required variables")["msg"]


def test_secrets_from_an_ansible_vault_file(sandbox: Sandbox, tmp_path: Path) -> None:
    """secrets.yml with a vaulted value: written to Secrets Manager, never printed; without the vault password, a clear failure."""
    inventory = tmp_path / "local"
    shutil.copytree(INVENTORY, inventory)
    canary = f"vaulted-{uuid.uuid4().hex}"
    password_file = tmp_path / "vault-pass"
    password_file.write_text("test-vault-password\n", encoding="utf-8")
    plain = tmp_path / "vault-plain.yml"
    plain.write_text(yaml.safe_dump({"vault_canary_password": canary}), encoding="utf-8")
    vault_file = inventory / "group_vars" / "all" / "vault.yml"
    subprocess.run(
        [
            str(Path(REPO_ROOT / ".venv" / "bin" / "ansible-vault")),
            "encrypt",
            "--vault-password-file",
            str(password_file),
            "--output",
            str(vault_file),
            str(plain),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (inventory / "group_vars" / "all" / "secrets.yml").write_text(
        yaml.safe_dump(
            {
                "platform_local_secrets_dir": "{{ platform_local_state_dir }}/sandbox-secrets",
                "platform_secrets": [{"name": "local/vault-canary", "json": {"password": "{{ vault_canary_password }}"}}],
                "platform_secrets_owner_tag": {"key": "platform.eks-gitops.io/owner", "value": "inventory-local"},
            }
        ),
        encoding="utf-8",
    )
    vault_file.rename(tmp_path / "vault.yml")
    missing = sandbox.run(SECRETS, tmp_path / "missing", inventory=inventory)
    assert missing.rc != 0
    assert "vault_canary_password" in missing.result("Say which value is missing")["msg"]
    (tmp_path / "vault.yml").rename(vault_file)

    written = ok(sandbox.run(SECRETS, tmp_path / "written", "--vault-password-file", str(password_file), inventory=inventory))
    assert written.stats["changed"] == 1
    assert canary not in written.output
    stored = json.loads(sandbox.aws.client("secretsmanager").get_secret_value(SecretId="local/vault-canary")["SecretString"])
    assert stored == {"password": canary}
    again = ok(sandbox.run(SECRETS, tmp_path / "again", "--vault-password-file", str(password_file), inventory=inventory))
    assert again.stats["changed"] == 0
