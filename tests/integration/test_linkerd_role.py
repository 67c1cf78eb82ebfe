"""The linkerd role refuses to install anything without trust anchors, or with an issuer Secret that does not chain
to them; the complete converge (Gateway API, CRDs, control plane, viz, dashboard route) is the Molecule scenario's.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import linkerd_pki
from tests.support.ansible import run_playbook
from tests.support.kube import KubeCluster
from tests.support.roles import KUBECTL, role_play, task_names

ROLE = "eks_gitops.platform.linkerd"


def play(**variables: Any) -> list[dict[str, Any]]:
    return role_play(ROLE, **variables)


def test_no_trust_anchors_no_install(tmp_path: Path) -> None:
    run = run_playbook(play(), tmp_path)
    assert run.rc != 0
    message = run.result(f"{ROLE} : Check the trust anchors and the settings")["msg"]
    assert "run the linkerd_identity role first, it exports linkerd_identity_trust_bundle_pem" in message


def test_a_private_key_is_never_taken_as_trust_anchors(tmp_path: Path) -> None:
    pair = linkerd_pki.anchor()
    run = run_playbook(play(linkerd_trust_anchors_pem=pair.cert_pem + linkerd_pki.key_pem(pair.key)), tmp_path)
    assert run.rc != 0
    assert "PRIVATE KEY" not in json.dumps(run.result(f"{ROLE} : Check the trust anchors and the settings").get("msg"))


def test_the_control_plane_runs_in_external_ca_mode(tmp_path: Path) -> None:
    pair = linkerd_pki.anchor()
    overrides = {"identity": {"externalCA": False}}
    run = run_playbook(play(linkerd_trust_anchors_pem=pair.cert_pem, linkerd_control_plane_values_overrides=overrides), tmp_path)
    assert run.rc != 0
    assert "external CA mode" in run.result(f"{ROLE} : Check the trust anchors and the settings")["msg"]


@pytest.fixture
def control_plane(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}-linkerd"
    yield name
    for namespace in (name, f"{name}-viz"):
        subprocess.run([KUBECTL, "delete", "namespace", namespace, "--wait=false"], env=kube_cluster.env(), capture_output=True, timeout=120, check=False)


@pytest.mark.kube
def test_an_issuer_of_another_anchor_is_refused_before_anything_is_installed(kube_cluster: KubeCluster, control_plane: str, tmp_path: Path) -> None:
    trusted, other = linkerd_pki.anchor(), linkerd_pki.anchor()
    issuer = linkerd_pki.issuer(other)
    subprocess.run([KUBECTL, "create", "namespace", control_plane], env=kube_cluster.env(), capture_output=True, check=True)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "linkerd-identity-issuer", "namespace": control_plane},
        "data": {
            key: base64.b64encode(value.encode()).decode()
            for key, value in {"tls.crt": issuer.cert_pem, "tls.key": linkerd_pki.key_pem(issuer.key), "ca.crt": other.cert_pem}.items()
        },
    }
    subprocess.run([KUBECTL, "apply", "-f", "-"], input=json.dumps(secret), env=kube_cluster.env(), capture_output=True, text=True, check=True)
    run = run_playbook(
        play(linkerd_trust_anchors_pem=trusted.cert_pem, linkerd_namespace=control_plane, linkerd_viz_namespace=f"{control_plane}-viz"),
        tmp_path,
        env={"K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)},
    )
    assert run.rc != 0
    message = run.result(f"{ROLE} : Refuse an issuer that the trust anchors do not sign")["msg"]
    assert f"the issuer in {control_plane}/linkerd-identity-issuer does not chain to linkerd_trust_anchors_pem" in message
    # Only the namespaces were written: no chart was delivered.
    assert not [name for name in task_names(run) if "chart_release" in name and "namespace" not in name.lower()]
    assert "PRIVATE KEY" not in run.output


@pytest.mark.kube
def test_the_gateway_api_bundle_is_applied_and_only_its_crds_are_waited_for(kube_cluster: KubeCluster, chart_repo: str, tmp_path: Path) -> None:
    """The bundle carries an admission policy and its binding, like the real v1.5 one: they never get an Established
    condition, so a wait on every object would run into the timeout (it did: every default bootstrap stopped there)."""
    run = run_playbook(
        role_play(
            ROLE,
            tasks_from="gateway_api",
            linkerd_gateway_api_url=f"{chart_repo}/manifests/gateway-api-standard.yaml",
            linkerd_wait_timeout=20,
        ),
        tmp_path,
        env=kube_cluster.env(),
    )
    assert run.rc == 0, run.output[-4000:]
    names = {
        item["metadata"]["name"]
        for item in json.loads(
            subprocess.run([KUBECTL, "get", "crds", "-o", "json"], env=kube_cluster.env(), capture_output=True, text=True, check=True).stdout
        )["items"]
    }
    assert {"httproutes.gateway.networking.k8s.io", "grpcroutes.gateway.networking.k8s.io", "listenersets.gateway.networking.k8s.io"} <= names
    for kind in ("validatingadmissionpolicy", "validatingadmissionpolicybinding"):
        found = subprocess.run(
            [KUBECTL, "get", kind, "bundle-version.gateway.networking.k8s.io", "-o", "name"],
            env=kube_cluster.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert found.returncode == 0, found.stderr
    # The policy is real admission: a Gateway API CRD without its bundle version is refused by the API server.
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "unversioned.gateway.networking.k8s.io", "annotations": {"api-approved.kubernetes.io": "https://example.org/approved"}},
        "spec": {
            "group": "gateway.networking.k8s.io",
            "names": {"kind": "Unversioned", "plural": "unversioned", "singular": "unversioned", "listKind": "UnversionedList"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}}],
        },
    }
    refused = subprocess.run(
        [KUBECTL, "create", "--dry-run=server", "-f", "-"], input=json.dumps(crd), env=kube_cluster.env(), capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "must carry its bundle version" in refused.stderr


# --- meshed pods under the restricted Pod Security Standard: the API server's own admission decides -------------

WORKLOAD_CONTAINER = {
    "name": "app",
    "image": "registry.example/app:1.0.0",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    },
}


def injected_pod(*, cni: bool, proxy_drops_capabilities: bool = True) -> dict[str, Any]:
    """A workload pod as Linkerd's proxy injector (linkerd-control-plane 2026.8.3, its partials _proxy-init.tpl,
    _network-validator.tpl and _proxy.tpl with the default values) hands it to the API server: the init container
    that redirects traffic (linkerd-init, NET_ADMIN and NET_RAW) or, with cniEnabled, the network validator; then the
    proxy as a native sidecar (uid 2102), which drops every capability only when proxy.capabilities asks it to."""
    first = (
        {
            "name": "linkerd-network-validator",
            "image": "cr.l5d.io/linkerd/proxy:edge-26.8.3",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsGroup": 65534,
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
        if cni
        else {
            "name": "linkerd-init",
            "image": "cr.l5d.io/linkerd/proxy-init:v2.4.3",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]},
                "privileged": False,
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "readOnlyRootFilesystem": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
    )
    proxy_context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 2102,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if proxy_drops_capabilities:
        proxy_context["capabilities"] = {"drop": ["ALL"]}
    proxy = {"name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy:edge-26.8.3", "restartPolicy": "Always", "securityContext": proxy_context}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "meshed", "annotations": {"linkerd.io/inject": "enabled"}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": [first, proxy],
            "containers": [WORKLOAD_CONTAINER],
        },
    }


@pytest.fixture
def restricted_namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"t-restricted-{uuid.uuid4().hex[:6]}"
    labels = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels, "annotations": {"linkerd.io/inject": "enabled"}}}
    subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(namespace), env=kube_cluster.env(), capture_output=True, text=True, check=True)
    yield name
    subprocess.run([KUBECTL, "delete", "namespace", name, "--wait=false"], env=kube_cluster.env(), capture_output=True, timeout=120, check=False)


def admit(cluster: KubeCluster, namespace: str, pod: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """A server-side dry run of creating ``pod``: the API server's PodSecurity admission decides, nothing is created."""
    return subprocess.run(
        [KUBECTL, "create", "--dry-run=server", "-n", namespace, "-f", "-"],
        input=json.dumps(pod),
        env=cluster.env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.kube
def test_a_meshed_pod_without_the_cni_plugin_is_refused_under_restricted(kube_cluster: KubeCluster, restricted_namespace: str) -> None:
    refused = admit(kube_cluster, restricted_namespace, injected_pod(cni=False))
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr
    assert 'container "linkerd-init" must not include "NET_ADMIN", "NET_RAW"' in refused.stderr


@pytest.mark.kube
def test_a_meshed_pod_with_the_cni_plugin_is_admitted_under_restricted(kube_cluster: KubeCluster, restricted_namespace: str) -> None:
    admitted = admit(kube_cluster, restricted_namespace, injected_pod(cni=True))
    assert admitted.returncode == 0, admitted.stderr
    assert "pod/meshed created (server dry run)" in admitted.stdout


@pytest.mark.kube
def test_the_proxy_must_drop_every_capability_under_restricted(kube_cluster: KubeCluster, restricted_namespace: str) -> None:
    """Why the role sets proxy.capabilities.drop [ALL]: the chart's proxy container drops none by default."""
    refused = admit(kube_cluster, restricted_namespace, injected_pod(cni=True, proxy_drops_capabilities=False))
    assert refused.returncode != 0
    assert 'container "linkerd-proxy" must set securityContext.capabilities.drop=["ALL"]' in refused.stderr
