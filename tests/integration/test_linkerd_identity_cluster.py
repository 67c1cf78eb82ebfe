"""The cluster side of Linkerd identity against a real API server: the issuer Secret, the guard, the rollout restarts.

Runs on ``kube_cluster`` (the local cluster, or EKS_GITOPS_KUBECONFIG) with the moto server as
AWS. Each test works in namespaces of its own, and the restarts are limited to them with a label
selector, so that nothing else on the cluster is touched.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from tests.support.ansible import REPO_ROOT, ok, run_playbook
from tests.support.kube import KubeCluster
from tests.support.moto import MotoServer

pytestmark = pytest.mark.kube

ROLE = "eks_gitops.platform.linkerd_identity"
ANCHOR_SECRET = "platform/test/linkerd/trust-anchor"
ISSUER_SECRET = "platform/test/linkerd/identity-issuer"
ROTATE = REPO_ROOT / "playbooks" / "rotate-linkerd-certs.yml"
CHECK = REPO_ROOT / "playbooks" / "check-linkerd-certs.yml"
KUBECTL = str(REPO_ROOT / ".venv" / "bin" / "kubectl")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def kubectl(cluster: KubeCluster, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, env=cluster.env(), timeout=180, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def kubectl_json(cluster: KubeCluster, *args: str) -> Any:
    return json.loads(kubectl(cluster, *args, "-o", "json").stdout)


@pytest.fixture
def suffix(kube_cluster: KubeCluster) -> Iterator[str]:
    """A unique suffix; every namespace named t-<suffix>-* is deleted afterwards."""
    value = uuid.uuid4().hex[:8]
    yield value
    names = [item["metadata"]["name"] for item in kubectl_json(kube_cluster, "get", "namespaces")["items"]]
    for name in names:
        if name.startswith(f"t-{value}-"):
            kubectl(kube_cluster, "delete", "namespace", name, "--wait=false", check=False)


def env(aws: MotoServer, cluster: KubeCluster) -> dict[str, str]:
    return {**aws.env(), "KUBECONFIG": str(cluster.kubeconfig), "K8S_AUTH_KUBECONFIG": str(cluster.kubeconfig)}


def settings(control_plane: str, **extra: Any) -> dict[str, Any]:
    return {"linkerd_identity_environment": "test", "linkerd_identity_namespace": control_plane, **extra}


def role_play(control_plane: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "Linkerd identity", "hosts": "localhost", "gather_facts": False, "vars": settings(control_plane, **extra), "roles": [ROLE]}]


def stored(aws: MotoServer, name: str) -> dict[str, Any]:
    return dict(json.loads(aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]))


def issuer_secret(cluster: KubeCluster, namespace: str) -> dict[str, Any]:
    return dict(kubectl_json(cluster, "-n", namespace, "get", "secret", "linkerd-identity-issuer"))


def decoded(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def assert_key_absent(text: str, key_pem: str) -> None:
    """Neither the key's PEM lines nor any 40-character run of its base64 appear in ``text``."""
    for line in key_pem.strip().splitlines()[1:-1]:
        assert line not in text
    encoded = base64.b64encode(key_pem.encode()).decode()
    for start in range(64, len(encoded) - 104, 40):  # past the BEGIN/END lines every EC key shares
        assert encoded[start : start + 40] not in text


def test_issuer_secret_is_written_and_the_anchor_key_never_reaches_the_cluster(aws: MotoServer, kube_cluster: KubeCluster, suffix: str, tmp_path: Path) -> None:
    control_plane = f"t-{suffix}-linkerd"
    first = ok(run_playbook(role_play(control_plane), tmp_path, env=env(aws, kube_cluster)))
    assert first.stats["changed"] >= 3
    anchor, issuer = stored(aws, ANCHOR_SECRET), stored(aws, ISSUER_SECRET)
    secret = issuer_secret(kube_cluster, control_plane)
    assert secret["type"] == "kubernetes.io/tls"
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert decoded(secret, "tls.crt") == issuer["issuer_cert_pem"]
    assert decoded(secret, "tls.key") == issuer["issuer_key_pem"]
    assert decoded(secret, "tls.key").startswith("-----BEGIN EC PRIVATE KEY-----")
    assert decoded(secret, "ca.crt") == anchor["trust_bundle_pem"]
    cert(decoded(secret, "tls.crt")).verify_directly_issued_by(cert(decoded(secret, "ca.crt")))
    assert secret["metadata"]["labels"]["linkerd.io/control-plane-component"] == "identity"
    namespace = kubectl_json(kube_cluster, "get", "namespace", control_plane)
    assert namespace["metadata"]["labels"]["linkerd.io/is-control-plane"] == "true"
    assert namespace["metadata"]["annotations"]["linkerd.io/inject"] == "disabled"

    everything = kubectl(kube_cluster, "get", "secrets,configmaps", "-A", "-o", "json").stdout
    assert_key_absent(everything, anchor["trust_anchor_key_pem"])

    version = secret["metadata"]["resourceVersion"]
    second = ok(run_playbook(role_play(control_plane), tmp_path, env=env(aws, kube_cluster)))
    assert second.stats["changed"] == 0
    assert issuer_secret(kube_cluster, control_plane)["metadata"]["resourceVersion"] == version

    checked = ok(
        run_playbook(role_play(control_plane, linkerd_identity_force_issuer_rotation=True), tmp_path, env=env(aws, kube_cluster), check=True, diff=True)
    )
    assert checked.stats["changed"] >= 1
    assert issuer_secret(kube_cluster, control_plane)["metadata"]["resourceVersion"] == version
    assert "PRIVATE KEY" not in checked.output

    verbose = ok(
        run_playbook(
            role_play(control_plane, linkerd_identity_force_issuer_rotation=True), tmp_path, env=env(aws, kube_cluster), verbosity=4, json_output=False
        )
    )
    rotated = issuer_secret(kube_cluster, control_plane)
    assert "PRIVATE KEY" not in verbose.output  # the canary, with the Secret written: -vvvv shows no key
    for key in (anchor["trust_anchor_key_pem"], issuer["issuer_key_pem"], decoded(rotated, "tls.key")):
        assert_key_absent(verbose.output, key)
    assert decoded(rotated, "tls.crt") == stored(aws, ISSUER_SECRET)["issuer_cert_pem"] != issuer["issuer_cert_pem"]
    cert(decoded(rotated, "tls.crt")).verify_directly_issued_by(cert(anchor["trust_anchor_pem"]))


def test_no_new_anchor_for_a_cluster_that_has_an_issuer(aws: MotoServer, kube_cluster: KubeCluster, suffix: str, tmp_path: Path) -> None:
    control_plane = f"t-{suffix}-linkerd"
    ok(run_playbook(role_play(control_plane), tmp_path, env=env(aws, kube_cluster)))
    before = issuer_secret(kube_cluster, control_plane)
    aws.reset()  # the store is lost (or the run points at the wrong account or region)
    refused = run_playbook(role_play(control_plane), tmp_path, env=env(aws, kube_cluster))
    assert refused.rc != 0
    message = refused.result(f"{ROLE} : Refuse to make a new trust anchor for a cluster that has one")["msg"]
    assert "no trust anchor is stored (platform/test/linkerd/trust-anchor)" in message
    assert "linkerd_identity_allow_new_anchor=true" in message
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []
    assert issuer_secret(kube_cluster, control_plane)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    ok(run_playbook(role_play(control_plane, linkerd_identity_allow_new_anchor=True), tmp_path, env=env(aws, kube_cluster)))
    replaced = issuer_secret(kube_cluster, control_plane)
    assert decoded(replaced, "ca.crt") == stored(aws, ANCHOR_SECRET)["trust_anchor_pem"] != decoded(before, "ca.crt")


def workloads(suffix: str) -> str:
    """Namespaces and workloads: which of them a restart must reach is in their names."""
    label = f"linkerd-identity-test={suffix}"
    key, value = label.split("=")

    def namespace(name: str, inject: str | None) -> str:
        annotations = f"\n  annotations: {{linkerd.io/inject: {inject}}}" if inject else ""
        return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t-{suffix}-{name}\n  labels: {{{key}: '{value}'}}{annotations}\n"

    def deployment(namespace_name: str, name: str, inject: str | None = None, kind: str = "Deployment") -> str:
        annotations = f"\n      annotations: {{linkerd.io/inject: {inject}}}" if inject else ""
        service = "\n  serviceName: x" if kind == "StatefulSet" else ""
        return (
            f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: t-{suffix}-{namespace_name}\n"
            f"spec:{service}\n  replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n"
            f"  template:\n    metadata:\n      labels: {{app: {name}}}{annotations}\n"
            f"    spec:\n      containers: [{{name: app, image: registry.invalid/{name}:1}}]\n"
        )

    documents = [
        namespace("linkerd", None),
        namespace("meshed", "enabled"),
        namespace("plain", None),
        deployment("linkerd", "identity-restart"),
        deployment("meshed", "web-restart"),
        deployment("meshed", "db-restart", kind="StatefulSet"),
        deployment("meshed", "opted-out-keep", inject="disabled"),
        deployment("plain", "annotated-restart", inject="enabled"),
        deployment("plain", "other-keep"),
    ]
    return "---\n".join(documents)


def restart_play(suffix: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "Restart",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Restart meshed workloads",
                    "ansible.builtin.include_role": {"name": ROLE, "tasks_from": "restart_meshed_workloads"},
                    "vars": {
                        "linkerd_identity_namespace": f"t-{suffix}-linkerd",
                        "linkerd_identity_restart_label_selectors": [f"linkerd-identity-test={suffix}"],
                        "linkerd_identity_restart_timeout": 120,
                    },
                }
            ],
        }
    ]


def restarted(cluster: KubeCluster, suffix: str) -> dict[str, str | None]:
    found = {}
    for kind in ("deployments", "statefulsets"):
        for item in kubectl_json(cluster, "get", kind, "-A")["items"]:
            if item["metadata"]["namespace"].startswith(f"t-{suffix}-"):
                annotations = item["spec"]["template"]["metadata"].get("annotations") or {}
                found[item["metadata"]["name"]] = annotations.get(RESTARTED_AT)
    return found


def test_restart_reaches_the_control_plane_first_then_only_meshed_workloads(kube_cluster: KubeCluster, suffix: str, tmp_path: Path) -> None:
    kubectl(kube_cluster, "apply", "-f", "-", stdin=workloads(suffix))
    run = ok(run_playbook(restart_play(suffix), tmp_path, env=kube_cluster.env()))
    state = restarted(kube_cluster, suffix)
    assert {name for name, stamp in state.items() if stamp} == {"identity-restart", "web-restart", "db-restart", "annotated-restart"}
    assert {name for name, stamp in state.items() if not stamp} == {"opted-out-keep", "other-keep"}
    order = [item["item"]["name"] for item in run.result(f"{ROLE} : Restart the control plane, then the meshed workloads")["results"]]
    assert order[0] == "identity-restart"
    assert sorted(order) == ["annotated-restart", "db-restart", "identity-restart", "web-restart"]
    kubectl(kube_cluster, "-n", f"t-{suffix}-meshed", "rollout", "status", "deployment/web-restart", "--timeout=60s")


def test_rotate_and_check_playbooks_on_the_cluster(aws: MotoServer, kube_cluster: KubeCluster, suffix: str, tmp_path: Path) -> None:
    control_plane = f"t-{suffix}-linkerd"
    kubectl(kube_cluster, "apply", "-f", "-", stdin=workloads(suffix))
    variables = settings(
        control_plane,
        publish_bundle=False,
        linkerd_identity_restart_label_selectors=[f"linkerd-identity-test={suffix}"],
        linkerd_identity_restart_wait=False,  # waiting is shown by the restart test; here the annotations are what counts
    )
    ok(run_playbook(role_play(control_plane), tmp_path, env=env(aws, kube_cluster)))
    first = issuer_secret(kube_cluster, control_plane)

    issuer_only = ok(run_playbook(ROTATE, tmp_path, env=env(aws, kube_cluster), extra_vars=variables))
    assert decoded(issuer_secret(kube_cluster, control_plane), "tls.crt") != decoded(first, "tls.crt")
    assert not any(restarted(kube_cluster, suffix).values())  # the identity controller reloads the issuer: no restart
    assert issuer_only.result("Restart the control plane and the meshed workloads")["skipped"] is True

    ok(run_playbook(ROTATE, tmp_path, env=env(aws, kube_cluster), extra_vars={**variables, "phase": "start"}))
    started = issuer_secret(kube_cluster, control_plane)
    anchor = stored(aws, ANCHOR_SECRET)
    assert decoded(started, "ca.crt") == anchor["trust_bundle_pem"]
    assert len(x509.load_pem_x509_certificates(decoded(started, "ca.crt").encode())) == 2
    after_start = restarted(kube_cluster, suffix)
    assert after_start["web-restart"]
    assert after_start["identity-restart"]
    assert not after_start["other-keep"]

    again = ok(run_playbook(ROTATE, tmp_path, env=env(aws, kube_cluster), extra_vars={**variables, "phase": "start"}))
    assert again.stats["changed"] == 0
    assert restarted(kube_cluster, suffix) == after_start

    time.sleep(1.1)  # restartedAt has one-second resolution
    ok(run_playbook(ROTATE, tmp_path, env=env(aws, kube_cluster), extra_vars={**variables, "phase": "issue"}))
    issued = issuer_secret(kube_cluster, control_plane)
    cert(decoded(issued, "tls.crt")).verify_directly_issued_by(cert(anchor["trust_anchor_pem"]))
    after_issue = restarted(kube_cluster, suffix)
    assert after_issue["web-restart"] != after_start["web-restart"]

    time.sleep(1.1)
    ok(run_playbook(ROTATE, tmp_path, env=env(aws, kube_cluster), extra_vars={**variables, "phase": "finish"}))
    assert decoded(issuer_secret(kube_cluster, control_plane), "ca.crt") == anchor["trust_anchor_pem"]
    assert restarted(kube_cluster, suffix)["web-restart"] != after_issue["web-restart"]

    check_vars = settings(control_plane)
    healthy = ok(run_playbook(CHECK, tmp_path, env=env(aws, kube_cluster), extra_vars=check_vars))
    assert "matches the stored issuer" in healthy.result(f"{ROLE} : Report the days left")["msg"][-1]
    tampered = dict(issuer_secret(kube_cluster, control_plane))
    patch = {"data": {"tls.crt": base64.b64encode(anchor["trust_anchor_pem"].encode()).decode()}}
    kubectl(kube_cluster, "-n", control_plane, "patch", "secret", tampered["metadata"]["name"], "--type=merge", "-p", json.dumps(patch))
    drifted = run_playbook(CHECK, tmp_path, env=env(aws, kube_cluster), extra_vars=check_vars)
    assert drifted.rc == 2
    assert "cluster issuer Secret: differs from the stored issuer" in drifted.result(f"{ROLE} : Fail below the threshold")["msg"]
