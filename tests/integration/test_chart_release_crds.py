"""chart_release keeps the CRDs of a chart's crds/ directory current across chart versions; its wait_deployments entry point.

Helm installs a chart's ``crds/`` only on the first install and never upgrades them. The role applies them
server-side before every install or upgrade; this test bumps a chart whose CRD schema grows a field and shows
that the cluster's CRD follows, that check mode and re-runs change nothing, and that with the upgrade switched
off the CRD stays as Helm left it (the stale state the feature exists to prevent).
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ansible import run_playbook
from tests.support.chart_repo import make_server
from tests.support.kube import KubeCluster
from tests.support.roles import kubectl, kubectl_json, role_play
from tests.support.tools import tool

ROLE = "eks_gitops.platform.chart_release"


def crd_yaml(group: str, fields: list[str]) -> str:
    properties = "".join(f"                {name}:\n                  type: string\n" for name in fields)
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
{properties}"""


def write_chart(root: Path, version: str, group: str, fields: list[str]) -> Path:
    chart = root / f"widget-{version}"
    (chart / "crds").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: widget\nversion: {version}\nappVersion: '{version}'\n")
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "crds" / "widgets.yaml").write_text(crd_yaml(group, fields))
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-widget\ndata:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    return chart


@pytest.fixture
def widget_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A chart repository on 127.0.0.1 with widget 1.0.0 (CRD field ``size``) and 1.1.0 (``size`` and ``colour``)."""
    group = f"t{uuid.uuid4().hex[:8]}.eks-gitops.test"
    sources = tmp_path_factory.mktemp("widget-src")
    served = tmp_path_factory.mktemp("widget-repo")
    for version, fields in (("1.0.0", ["size"]), ("1.1.0", ["size", "colour"])):
        chart = write_chart(sources, version, group, fields)
        subprocess.run([tool("helm"), "package", str(chart), "-d", str(served)], check=True, capture_output=True, timeout=60)
    server = make_server(served)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    subprocess.run([tool("helm"), "repo", "index", str(served), "--url", url], check=True, capture_output=True, timeout=60)
    thread = threading.Thread(target=server.serve_forever, name="widget-repo", daemon=True)
    thread.start()
    try:
        yield url, group
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def release(kube_cluster: KubeCluster, widget_repo: tuple[str, str]) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}-widget"
    yield name
    env = kube_cluster.env()
    subprocess.run([tool("helm"), "uninstall", name, "-n", name], env=env, capture_output=True, timeout=120, check=False)
    for args in (["delete", "namespace", name, "--wait=false"], ["delete", "crd", f"widgets.{widget_repo[1]}", "--wait=false"]):
        subprocess.run([tool("kubectl"), *args], env=env, capture_output=True, timeout=120, check=False)


def play(name: str, url: str, version: str, **variables: Any) -> list[dict[str, Any]]:
    return role_play(
        ROLE,
        chart_release_name=name,
        chart_release_namespace=name,
        chart_release_chart={"repo": url, "name": "widget", "version": version},
        chart_release_values={"greeting": "hi"},
        chart_release_wait_timeout=120,
        **variables,
    )


def crd_fields(cluster: KubeCluster, group: str) -> list[str]:
    crd = kubectl_json(cluster, "get", "crd", f"widgets.{group}")
    return sorted(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"])


def chart_of(cluster: KubeCluster, name: str) -> str:
    out = subprocess.run([tool("helm"), "list", "-n", name, "-o", "json"], env=cluster.env(), capture_output=True, text=True, timeout=60, check=True)
    return out.stdout


@pytest.mark.kube
def test_a_chart_bump_upgrades_the_crds_of_its_crds_directory(kube_cluster: KubeCluster, widget_repo: tuple[str, str], release: str, tmp_path: Path) -> None:
    url, group = widget_repo
    env = kube_cluster.env()

    first = run_playbook(play(release, url, "1.0.0"), tmp_path, env=env, json_output=False)
    assert first.rc == 0, first.output[-6000:]
    assert crd_fields(kube_cluster, group) == ["size"]
    again = run_playbook(play(release, url, "1.0.0"), tmp_path, env=env, json_output=False)
    assert again.rc == 0, again.output[-6000:]
    assert "changed=0" in again.output, again.output[-6000:]

    # Check mode with the bump: the CRD apply is a server-side dry run, the release is not upgraded.
    checked = run_playbook(play(release, url, "1.1.0"), tmp_path, env=env, check=True, diff=True, json_output=False)
    assert checked.rc == 0, checked.output[-6000:]
    assert crd_fields(kube_cluster, group) == ["size"]
    assert "widget-1.0.0" in chart_of(kube_cluster, release)

    bumped = run_playbook(play(release, url, "1.1.0"), tmp_path, env=env, json_output=False)
    assert bumped.rc == 0, bumped.output[-6000:]
    assert crd_fields(kube_cluster, group) == ["colour", "size"]
    assert "widget-1.1.0" in chart_of(kube_cluster, release)
    # The new field is served: a Widget using it is accepted by the schema (pruning would drop an unknown one).
    kubectl(
        kube_cluster,
        "apply",
        "-n",
        release,
        "-f",
        "-",
        stdin=f"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: large\n  colour: red\n",
    )
    widget = kubectl_json(kube_cluster, "-n", release, "get", f"widgets.{group}", "w")
    assert widget["spec"] == {"size": "large", "colour": "red"}

    settled = run_playbook(play(release, url, "1.1.0"), tmp_path, env=env, json_output=False)
    assert settled.rc == 0, settled.output[-6000:]
    assert "changed=0" in settled.output, settled.output[-6000:]


@pytest.mark.kube
def test_without_the_crd_upgrade_helm_leaves_the_crd_stale(kube_cluster: KubeCluster, widget_repo: tuple[str, str], release: str, tmp_path: Path) -> None:
    url, group = widget_repo
    env = kube_cluster.env()
    off = {"chart_release_upgrade_crds": False}
    assert run_playbook(play(release, url, "1.0.0", **off), tmp_path, env=env).rc == 0
    bumped = run_playbook(play(release, url, "1.1.0", **off), tmp_path, env=env, json_output=False)
    assert bumped.rc == 0, bumped.output[-6000:]
    assert "widget-1.1.0" in chart_of(kube_cluster, release)
    assert crd_fields(kube_cluster, group) == ["size"]


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.test/web:1.0.0
"""


@pytest.mark.kube
def test_wait_deployments_waits_for_available_ones_and_names_the_missing_one(kube_cluster: KubeCluster, release: str, tmp_path: Path) -> None:
    env = kube_cluster.env()
    kubectl(kube_cluster, "create", "namespace", release)
    kubectl(kube_cluster, "apply", "-n", release, "-f", "-", stdin=DEPLOYMENT)
    wait = {"chart_release_namespace": release, "chart_release_wait_timeout": 60}

    ok = run_playbook(role_play(ROLE, "wait_deployments", chart_release_deployments=["web"], **wait), tmp_path, env=env)
    assert ok.rc == 0, ok.output[-4000:]
    assert kubectl_json(kube_cluster, "-n", release, "get", "deployment", "web")["status"]["availableReplicas"] == 2

    missing = run_playbook(
        role_play(ROLE, "wait_deployments", chart_release_deployments=["web", "no-such-deployment"], **{**wait, "chart_release_wait_timeout": 5}),
        tmp_path,
        env=env,
    )
    assert missing.rc != 0
    message = missing.result(f"{ROLE} : Check the result of the wait for Deployments in namespace {release} to be Available")["msg"]
    assert f"Deployments in namespace {release} not Available after 5 s: no-such-deployment." in message
