"""Argo CD cluster Secrets with the platform's facts contract (plugin_utils/cluster_secrets.py) and their filter."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.filter.cluster_secret import FilterModule
from ansible_collections.eks_gitops.platform.plugins.plugin_utils.cluster_secrets import (
    CONTRACT,
    ClusterFacts,
    ClusterSecretError,
    cluster_secret,
    eks_connection,
    kubeconfig_connection,
)

FACTS = {
    "name": "spoke-a",
    "environment": "dev",
    "cluster_name": "spoke-a",
    "gitops_repo_url": "https://git.example.com/platform-gitops.git",
    "gitops_repo_revision": "main",
    "gitops_repo_path": "applications/dev",
}
FILTER = FilterModule().filters()["cluster_secret"]


def data(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def kubeconfig(user: dict[str, Any], cluster: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "spoke-a",
            "clusters": [{"name": "c", "cluster": cluster or {"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "spoke-a", "context": {"cluster": "c", "user": "u"}}, {"name": "other", "context": {"cluster": "c", "user": "nobody"}}],
        }
    )


def test_the_in_cluster_secret_carries_the_contract() -> None:
    facts = ClusterFacts(
        **{**FACTS, "name": "in-cluster", "cluster_name": "hub"},
        aws_region="eu-west-1",
        aws_account_id="123456789012",
        addons={"secrets_store_csi": True, "linkerd": False},
        role_arns={"secrets_store_csi": "arn:aws:iam::123456789012:role/csi"},
    )
    secret = cluster_secret(facts, secret_name="cluster-in-cluster", namespace="argocd", labels={"team": "platform"})
    labels, annotations = secret["metadata"]["labels"], secret["metadata"]["annotations"]
    assert labels == {
        "app.kubernetes.io/managed-by": "eks-gitops-platform",
        "argocd.argoproj.io/secret-type": "cluster",
        "platform.eks-gitops.io/spoke": "false",
        "platform.eks-gitops.io/environment": "dev",
        "platform.eks-gitops.io/cluster-name": "hub",
        "platform.eks-gitops.io/aws-region": "eu-west-1",
        "platform.eks-gitops.io/addon-linkerd": "false",
        "platform.eks-gitops.io/addon-secrets-store-csi": "true",
        "team": "platform",
    }
    assert annotations["platform.eks-gitops.io/aws-account-id"] == "123456789012"
    assert annotations["platform.eks-gitops.io/secrets-store-csi-iam-role-arn"] == "arn:aws:iam::123456789012:role/csi"
    assert annotations["platform.eks-gitops.io/gitops-repo-path"] == "applications/dev"
    assert data(secret, "name") == "in-cluster"
    assert data(secret, "server") == "https://kubernetes.default.svc"
    assert json.loads(data(secret, "config")) == {"tlsClientConfig": {"insecure": False}}


def test_every_key_of_the_contract_is_documented_once() -> None:
    keys = [key for key, _where, _what in CONTRACT]
    assert len(keys) == len(set(keys))
    secret = cluster_secret(
        ClusterFacts(**FACTS, spoke=True, aws_region="r", aws_account_id="1", addons={"x": True}, role_arns={"x": "a"}), secret_name="s", namespace="argocd"
    )
    written = set(secret["metadata"]["labels"]) | set(secret["metadata"]["annotations"])
    written.discard("app.kubernetes.io/managed-by")
    documented = {key.replace("<name>", "x") for key in keys}
    assert written == documented


def test_kubeconfig_connection_with_a_client_certificate_or_a_token() -> None:
    server, config = kubeconfig_connection(kubeconfig({"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}))
    assert server == "https://127.0.0.1:6443"
    assert config == {"tlsClientConfig": {"insecure": False, "caData": "Q0E=", "certData": "Q0VSVA==", "keyData": "S0VZ"}}
    _server, config = kubeconfig_connection(kubeconfig({"token": "t0ken"}), "spoke-a")
    assert config == {"tlsClientConfig": {"insecure": False, "caData": "Q0E="}, "bearerToken": "t0ken"}


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        (kubeconfig({"exec": {"command": "aws"}}), None, "neither a token nor an embedded client certificate"),
        (kubeconfig({"token": "t"}), "missing", "the kubeconfig has no context 'missing'"),
        (kubeconfig({"token": "t"}), "other", "the kubeconfig has no user 'nobody'"),
        (kubeconfig({"token": "t"}, {"server": "https://x", "certificate-authority": "/ca.crt"}), None, "names its CA by file"),
        ("{", None, "kubeconfig: not YAML"),
    ],
)
def test_kubeconfig_connection_refusals(text: str, context: str | None, message: str) -> None:
    with pytest.raises(ClusterSecretError, match=message):
        kubeconfig_connection(text, context)


def test_eks_connection_uses_aws_auth_config() -> None:
    server, config = eks_connection("spoke-a", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "Q0E=", "arn:aws:iam::123456789012:role/hub-argocd")
    assert server.endswith("eks.amazonaws.com")
    assert config["awsAuthConfig"] == {"clusterName": "spoke-a", "roleARN": "arn:aws:iam::123456789012:role/hub-argocd"}


def test_filter() -> None:
    secret = FILTER({**FACTS, "spoke": True}, secret_name="cluster-spoke-a", namespace="argocd", kubeconfig=kubeconfig({"token": "secret-token-value"}))
    assert data(secret, "server") == "https://127.0.0.1:6443"
    assert json.loads(data(secret, "config"))["bearerToken"] == "secret-token-value"
    assert secret["metadata"]["labels"]["platform.eks-gitops.io/spoke"] == "true"
    with pytest.raises(AnsibleFilterError, match="unknown facts colour"):
        FILTER({**FACTS, "colour": "blue"}, secret_name="s", namespace="argocd")
    with pytest.raises(AnsibleFilterError, match="gitops_repo_path"):
        FILTER({k: v for k, v in FACTS.items() if k != "gitops_repo_path"}, secret_name="s", namespace="argocd")
    with pytest.raises(AnsibleFilterError) as raised:
        FILTER(FACTS, secret_name="s", namespace="argocd", kubeconfig=kubeconfig({"exec": {"command": "secret-token-value"}}))
    assert "secret-token-value" not in str(raised.value)
