# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo CD cluster Secrets carrying the platform's facts: the contract between this collection and GitOps.

One Secret per cluster the hub's Argo CD manages: the in-cluster one (the hub itself) and one per spoke. An
ApplicationSet cluster generator selects clusters by the labels and templates values with the annotations, as
gitops-bridge does for Terraform; the keys are listed in :data:`CONTRACT` and documented from it in the README
("The cluster Secret: the facts contract").

How Argo CD reaches a spoke (``server`` and ``config``) comes from :func:`spoke_connection`: on EKS with
``awsAuthConfig`` (the spoke's name and a role of the hub that the spoke's access entry admits), elsewhere with the
credentials of a kubeconfig context (client certificate or bearer token).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

import yaml

PREFIX = "platform.eks-gitops.io/"
IN_CLUSTER = "https://kubernetes.default.svc"
MANAGED_BY = {"app.kubernetes.io/managed-by": "eks-gitops-platform"}
SPOKE_LABEL = PREFIX + "spoke"

# (key, where, what): the facts contract, in the order the README lists it.
CONTRACT: tuple[tuple[str, str, str], ...] = (
    ("argocd.argoproj.io/secret-type", "label", "`cluster` (Argo CD's own)"),
    (PREFIX + "spoke", "label", '`"true"` on a spoke\'s Secret, `"false"` on the hub\'s own (in-cluster) Secret'),
    (PREFIX + "environment", "label and annotation", "the cluster's environment (`dev`, `staging`, `production`, `local`)"),
    (PREFIX + "cluster-name", "label and annotation", "the cluster's name (its EKS name when it has one)"),
    (PREFIX + "aws-region", "label and annotation", "the cluster's AWS region (only with AWS)"),
    (PREFIX + "aws-account-id", "annotation", "the cluster's AWS account (only with AWS)"),
    (PREFIX + "addon-<name>", "label", '`"true"` / `"false"` for each add-on (`_` in names becomes `-`): what the ApplicationSets select on'),
    (PREFIX + "<name>-iam-role-arn", "annotation", "the IRSA / Pod Identity role ARN of each add-on that has one"),
    (PREFIX + "gitops-repo-url", "annotation", "the GitOps repository"),
    (PREFIX + "gitops-repo-revision", "annotation", "the revision Argo CD follows"),
    (PREFIX + "gitops-repo-path", "annotation", "the path of the cluster's environment in the repository"),
)


class ClusterSecretError(ValueError):
    """The input cannot make a cluster Secret (named by its field)."""


@dataclass
class ClusterFacts:
    """What the platform knows about one cluster."""

    name: str
    environment: str
    cluster_name: str
    gitops_repo_url: str
    gitops_repo_revision: str
    gitops_repo_path: str
    spoke: bool = False
    aws_region: Optional[str] = None
    aws_account_id: Optional[str] = None
    # name -> enabled, or the names of the enabled add-ons
    addons: Union[dict[str, bool], list[str]] = field(default_factory=dict)
    role_arns: dict[str, str] = field(default_factory=dict)


def _key(name: str) -> str:
    return name.replace("_", "-")


def contract_metadata(facts: ClusterFacts) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and annotations of the contract for ``facts``."""
    labels = {
        "argocd.argoproj.io/secret-type": "cluster",
        SPOKE_LABEL: str(facts.spoke).lower(),
        PREFIX + "environment": facts.environment,
        PREFIX + "cluster-name": facts.cluster_name,
    }
    annotations = {
        PREFIX + "environment": facts.environment,
        PREFIX + "cluster-name": facts.cluster_name,
        PREFIX + "gitops-repo-url": facts.gitops_repo_url,
        PREFIX + "gitops-repo-revision": facts.gitops_repo_revision,
        PREFIX + "gitops-repo-path": facts.gitops_repo_path,
    }
    if facts.aws_region:
        labels[PREFIX + "aws-region"] = annotations[PREFIX + "aws-region"] = facts.aws_region
    if facts.aws_account_id:
        annotations[PREFIX + "aws-account-id"] = facts.aws_account_id
    addons = facts.addons if isinstance(facts.addons, Mapping) else dict.fromkeys(facts.addons, True)
    for addon, enabled in sorted(addons.items()):
        labels[f"{PREFIX}addon-{_key(addon)}"] = str(bool(enabled)).lower()
    for addon, arn in sorted(facts.role_arns.items()):
        annotations[f"{PREFIX}{_key(addon)}-iam-role-arn"] = arn
    return labels, annotations


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cluster_secret(
    facts: ClusterFacts,
    *,
    secret_name: str,
    namespace: str,
    server: str = IN_CLUSTER,
    config: Optional[Mapping[str, Any]] = None,
    labels: Optional[Mapping[str, str]] = None,
    annotations: Optional[Mapping[str, str]] = None,
) -> dict[str, Any]:
    """The cluster Secret of ``facts``: Argo CD's ``name``/``server``/``config`` and the contract's metadata
    (``labels``/``annotations`` add more, and win)."""
    if not server:
        raise ClusterSecretError(f"server: cluster {facts.name!r} has no API server to reach (give server and config, or a kubeconfig)")
    contract_labels, contract_annotations = contract_metadata(facts)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, **contract_labels, **(labels or {})},
            "annotations": {**contract_annotations, **(annotations or {})},
        },
        "type": "Opaque",
        "data": {
            "name": _b64(facts.name),
            "server": _b64(server),
            "config": _b64(json.dumps(dict(config) if config is not None else {"tlsClientConfig": {"insecure": False}}, sort_keys=True)),
        },
    }


def _named(entries: Any, name: str, what: str) -> Mapping[str, Any]:
    for entry in entries or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry.get(what) or {}
    raise ClusterSecretError(f"kubeconfig_context: the kubeconfig has no {what} {name!r}")


def kubeconfig_connection(kubeconfig_text: str, context: Optional[str] = None) -> tuple[str, dict[str, Any]]:
    """``(server, config)`` of a kubeconfig context (its current one when ``context`` is empty): the CA, and a client
    certificate or a bearer token. A context that needs an exec plugin or a file Argo CD cannot read is refused."""
    try:
        kubeconfig = yaml.safe_load(kubeconfig_text) or {}
    except yaml.YAMLError as exc:
        raise ClusterSecretError(f"kubeconfig: not YAML ({exc.__class__.__name__})") from None
    name = context or kubeconfig.get("current-context")
    if not name:
        raise ClusterSecretError("kubeconfig_context: not given, and the kubeconfig has no current-context")
    ctx = _named(kubeconfig.get("contexts"), name, "context")
    cluster = _named(kubeconfig.get("clusters"), str(ctx.get("cluster")), "cluster")
    user = _named(kubeconfig.get("users"), str(ctx.get("user")), "user")
    server = cluster.get("server")
    if not server:
        raise ClusterSecretError(f"kubeconfig_context: cluster {ctx.get('cluster')!r} has no server")
    tls: dict[str, Any] = {"insecure": bool(cluster.get("insecure-skip-tls-verify", False))}
    if cluster.get("certificate-authority-data"):
        tls["caData"] = cluster["certificate-authority-data"]
    elif cluster.get("certificate-authority"):
        raise ClusterSecretError(f"kubeconfig_context: cluster {ctx.get('cluster')!r} names its CA by file; embed it (certificate-authority-data)")
    config: dict[str, Any] = {"tlsClientConfig": tls}
    if user.get("token"):
        config["bearerToken"] = user["token"]
    elif user.get("client-certificate-data") and user.get("client-key-data"):
        tls["certData"] = user["client-certificate-data"]
        tls["keyData"] = user["client-key-data"]
    else:
        raise ClusterSecretError(
            f"kubeconfig_context: user {ctx.get('user')!r} has neither a token nor an embedded client certificate and key "
            "(an exec plugin or files cannot be handed to Argo CD; on EKS use eks_cluster_name and awsAuthConfig)"
        )
    return str(server), config


def eks_connection(cluster_name: str, endpoint: str, ca_data: str, role_arn: str) -> tuple[str, dict[str, Any]]:
    """``(server, config)`` for an EKS spoke reached with ``awsAuthConfig``: Argo CD assumes ``role_arn`` (the hub's
    role, admitted by the spoke's access entry) and asks EKS for a token of ``cluster_name``."""
    return endpoint, {"awsAuthConfig": {"clusterName": cluster_name, "roleARN": role_arn}, "tlsClientConfig": {"insecure": False, "caData": ca_data}}
