"""playbooks/bootstrap.yml end to end with inventories/local, on a cluster of its own, with the real Argo CD.

The module starts a private local cluster (the platform is cluster-wide: CRDs, fixed namespaces), the real Argo
CD beside it (tests/support/local_argocd.py: one controller for the module, like the cluster), a Git server for
the GitOps repository (with the webhook to Argo CD) and points the local inventory at them, at the session's moto
server and at the test chart repository through a state directory of its own (LOCAL_CLUSTER_STATE_DIR): what
`make sandbox` runs. The tests read the result back from the API server, from moto and from Argo CD's own status:
the secrets, the IAM trust policies, the ECR repository, the namespaces, the cluster Secret, the GitOps repository
and the validate report. A second run must change nothing. Then the GitOps loop, against the real controller:
app-of-apps, self-heal, an image-tag commit rolling the Deployment, prune, a broken manifest failing validate with
Argo CD's message. Last, teardown takes it all off again (Applications and their finalizers included), twice
without a change the second time.
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

from tests.support import local_argocd
from tests.support.ansible import REPO_ROOT, PlaybookRun, ok, run_playbook
from tests.support.git_server import Config, GitServer
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
    git: GitServer

    def remote_url(self, credentials: bool = False) -> str:
        """URL of the GitOps repository on the Git server (with the sandbox's credentials in it when asked)."""
        url = f"{self.git.url}/platform-gitops.git"
        if not credentials:
            return url
        token = (self.state / "sandbox-secrets" / "gitops-repo-token").read_text(encoding="utf-8").split()[0]
        return url.replace("http://", f"http://sandbox-bot:{token}@")

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
    git = GitServer.start(
        state / "git-server",
        Config(
            user="sandbox-bot",
            password_file=str(state / "sandbox-secrets" / "gitops-repo-token"),
            webhook_url_file=str(state / "argocd" / "webhook.url"),
            webhook_secret_file=str(state / "sandbox-secrets" / "argocd-webhook-secret"),
        ),
    )
    try:
        git.repository("platform-gitops")
        (state / "git-server.url").write_text(git.url + "\n", encoding="utf-8")
        local_argocd.up("argocd", state / "kubeconfig", state / "argocd")
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
        yield Sandbox(state=state, env=env, aws=moto_server, git=git)
    finally:
        # The cluster script stops the Argo CD of its state directory first.
        cluster_script("down", cluster_env)
        git.stop()


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


def test_validate_report_passes_every_check_none_skipped(sandbox: Sandbox, bootstrapped: tuple[PlaybookRun, PlaybookRun]) -> None:
    checks = {row["check"]: row for row in report(sandbox)["checks"]}
    failed = {name: row["evidence"] for name, row in checks.items() if row["status"] != "pass"}
    assert failed == {}
    # What the real Argo CD says, Application by Application.
    assert checks["Argo CD Applications Synced/Healthy"]["evidence"] == (
        f"3/3 Synced and Healthy: argocd Synced/Healthy, {WORKLOAD}-local Synced/Healthy, root-local Synced/Healthy"
    )
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
    settings = json.loads((repo / ".github" / "environments" / "local.json").read_text(encoding="utf-8"))
    assert settings["ci_role_arn"] == f"arn:aws:iam::{sandbox.aws.account_id}:role/eks-gitops-github-actions"
    # The render is committed and pushed: the remote holds exactly the checkout's HEAD.
    assert git(repo, "status", "--porcelain") == ""
    assert remote_head(sandbox) == git(repo, "rev-parse", "HEAD")


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


# --- the GitOps loop, against the real Argo CD ------------------------------------------------------------------

APPLICATION = f"{WORKLOAD}-local"
LOOP_TIMEOUT = 120.0


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def remote_head(sandbox: Sandbox) -> str:
    return git(sandbox.state, "ls-remote", sandbox.remote_url(credentials=True), "refs/heads/main").split()[0]


def wait_until(what: str, probe: Any, timeout: float = LOOP_TIMEOUT) -> Any:
    """Poll ``probe`` every 0.5 s until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s", pytrace=False)
        time.sleep(0.5)


def application(sandbox: Sandbox, name: str) -> dict[str, Any]:
    result = subprocess.run(
        [KUBECTL, "get", "applications.argoproj.io", "-n", "argocd", name, "-o", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, **sandbox.env},
        timeout=60,
        check=False,
    )
    return json.loads(result.stdout) if result.returncode == 0 else {}


def synced_at(sandbox: Sandbox, name: str, revision: str) -> bool:
    status = application(sandbox, name).get("status", {})
    return (status.get("sync", {}).get("status"), status.get("sync", {}).get("revision"), status.get("health", {}).get("status")) == (
        "Synced",
        revision,
        "Healthy",
    )


@pytest.fixture(scope="module")
def ci(sandbox: Sandbox, bootstrapped: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the GitOps repository, as the CI workflows have one: commits pushed from here reach Argo CD
    through the Git server's webhook."""
    clone = tmp_path_factory.mktemp("ci") / "platform-gitops"
    git(sandbox.state, "clone", "--quiet", sandbox.remote_url(credentials=True), str(clone))
    git(clone, "config", "user.name", "ci")
    git(clone, "config", "user.email", "ci@example.org")
    return clone


def push(clone: Path, message: str) -> str:
    """Commit the clone's changes and push them onto whatever main has become, as the CI's push step does."""
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "-m", message)
    git(clone, "pull", "--quiet", "--rebase", "origin", "main")
    git(clone, "push", "--quiet", "origin", "HEAD:main")
    return git(clone, "rev-parse", "HEAD")


def test_the_app_of_apps_syncs_the_workload_from_git(sandbox: Sandbox, bootstrapped: object) -> None:
    head = remote_head(sandbox)
    assert synced_at(sandbox, "root-local", head)
    assert synced_at(sandbox, APPLICATION, head)
    deployment = sandbox.kubectl_json("get", "deployment", "-n", WORKLOAD, WORKLOAD)
    assert deployment["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"].startswith(f"{APPLICATION}:apps/Deployment:")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f"/{WORKLOAD}:0.1.0")
    kinds = {item["kind"] for item in sandbox.kubectl_json("get", "all,secretproviderclasses,ingressroutes,middlewares.traefik.io", "-n", WORKLOAD)["items"]}
    assert {"Deployment", "Service", "SecretProviderClass", "IngressRoute", "Middleware"} <= kinds
    # The self-managed Argo CD adopted the Helm release: Synced to the same chart, no second copy of anything.
    argocd = application(sandbox, "argocd")["status"]
    assert (argocd["sync"]["status"], argocd["health"]["status"]) == ("Synced", "Healthy")
    deployments = [item["metadata"]["name"] for item in sandbox.kubectl_json("get", "deployments", "-n", "argocd")["items"]]
    assert len(deployments) == len(set(deployments))


def test_self_heal_recreates_a_deleted_deployment(sandbox: Sandbox, bootstrapped: object) -> None:
    before = sandbox.kubectl_json("get", "deployment", "-n", WORKLOAD, WORKLOAD)["metadata"]["uid"]
    subprocess.run([KUBECTL, "delete", "deployment", "-n", WORKLOAD, WORKLOAD, "--wait=true"], env={**os.environ, **sandbox.env}, check=True, timeout=60)
    started = time.monotonic()

    def recreated() -> bool:
        result = subprocess.run(
            [KUBECTL, "get", "deployment", "-n", WORKLOAD, WORKLOAD, "-o", "jsonpath={.metadata.uid}"],
            capture_output=True,
            text=True,
            env={**os.environ, **sandbox.env},
            check=False,
        )
        return result.returncode == 0 and result.stdout not in ("", before)

    wait_until("Argo CD re-creating the deleted Deployment", recreated)
    assert time.monotonic() - started < 30


def test_an_image_tag_commit_rolls_the_deployment(sandbox: Sandbox, ci: Path) -> None:
    values = ci / "charts" / WORKLOAD / "ci" / "local-values.yaml"
    subprocess.run([sys.executable, ".github/scripts/image_tags.py", "set", "--environment", "local", "--tag", "sha-c0ffee"], cwd=ci, check=True)
    assert "sha-c0ffee" in values.read_text(encoding="utf-8")
    revision = push(ci, "deploy(local): sha-c0ffee")
    pushed = time.monotonic()

    def rolled() -> bool:
        deployment = sandbox.kubectl_json("get", "deployment", "-n", WORKLOAD, WORKLOAD)
        status = deployment.get("status", {})
        return deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":sha-c0ffee") and (
            status.get("updatedReplicas") == status.get("replicas") == status.get("availableReplicas")
            and status.get("observedGeneration") == deployment["metadata"]["generation"]
        )

    wait_until("the Deployment rolled to sha-c0ffee", rolled)
    # The webhook, not the 3-minute poll, brought it.
    assert time.monotonic() - pushed < 60
    assert [delivery["status"] for delivery in sandbox.git.deliveries if delivery["after"] == revision] == [200]
    wait_until(f"{APPLICATION} Synced and Healthy at the new commit", lambda: synced_at(sandbox, APPLICATION, revision))


def test_a_bootstrap_rerun_keeps_the_deployed_tag_and_commits_nothing(sandbox: Sandbox, ci: Path, tmp_path: Path) -> None:
    before = remote_head(sandbox)
    run = ok(sandbox.run(BOOTSTRAP, tmp_path, "--tags", "gitops"))
    result = run.result(f"eks_gitops.platform.gitops_repo : Render the GitOps repository into {sandbox.state / 'gitops-repo'}")
    assert (result["pulled"], result["commit"], result["pushed"], result["updated"]) == (True, "", False, [])
    assert remote_head(sandbox) == before
    values = yaml.safe_load((sandbox.state / "gitops-repo" / "charts" / WORKLOAD / "ci" / "local-values.yaml").read_text(encoding="utf-8"))
    assert values["image"]["tag"] == "sha-c0ffee"


def test_prune_removes_what_git_no_longer_has(sandbox: Sandbox, ci: Path) -> None:
    extra = ci / "applications" / "local" / "extra-configmap.yaml"
    extra.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gitops-loop-extra", "namespace": "argocd"}, "data": {"a": "1"}}),
        encoding="utf-8",
    )
    added = push(ci, "add a manifest")
    wait_until("root-local synced the new manifest", lambda: synced_at(sandbox, "root-local", added))
    assert sandbox.kubectl_json("get", "configmap", "-n", "argocd", "gitops-loop-extra")["data"] == {"a": "1"}
    extra.unlink()
    removed = push(ci, "remove the manifest")
    wait_until("root-local synced the removal", lambda: synced_at(sandbox, "root-local", removed))

    def gone() -> bool:
        result = subprocess.run(
            [KUBECTL, "get", "configmap", "-n", "argocd", "gitops-loop-extra"], capture_output=True, env={**os.environ, **sandbox.env}, check=False
        )
        return result.returncode != 0

    wait_until("Argo CD pruning the ConfigMap removed from Git", gone)


def test_a_broken_manifest_makes_validate_fail_with_argo_cds_message(sandbox: Sandbox, ci: Path, tmp_path: Path) -> None:
    broken = ci / "applications" / "local" / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: argocd\ndata: [not, a, map]\n", encoding="utf-8")
    push(ci, "a broken manifest")
    failed = sandbox.run(VALIDATE, tmp_path / "failed", "-e", f"validate_report_dir={tmp_path / 'reports'}", "-e", "validate_argocd_settle_seconds=15")
    assert failed.rc != 0
    row = {check["check"]: check for check in json.loads((tmp_path / "reports" / "validate-local.json").read_text(encoding="utf-8"))["checks"]}
    argocd = row["Argo CD Applications Synced/Healthy"]
    assert argocd["status"] == "fail"
    assert "root-local OutOfSync" in argocd["evidence"]
    # Argo CD's own words about the object it could not apply.
    assert "ConfigMap/broken" in argocd["evidence"]
    broken.unlink()
    fixed = push(ci, "remove the broken manifest")
    wait_until("root-local Synced and Healthy again", lambda: synced_at(sandbox, "root-local", fixed))
    again = ok(sandbox.run(VALIDATE, tmp_path / "again", "-e", f"validate_report_dir={tmp_path / 'reports'}"))
    assert again.rc == 0


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
