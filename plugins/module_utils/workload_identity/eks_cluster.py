# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``eks_cluster_info`` backend: what the platform needs to know about an EKS cluster before it starts.

:func:`cluster_facts` reads the cluster with ``eks:DescribeCluster`` and, when it has an OIDC issuer, the
IAM OIDC provider of that issuer with ``iam:GetOpenIDConnectProvider`` (IRSA needs both). The account and
partition come from the cluster's ARN, so no ``sts`` call is made.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import IdentityError, get
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.documents import STS_AUDIENCE, normalize_issuer_url, oidc_provider_arn


def _missing(name: str) -> Dict[str, Any]:
    return {
        "exists": False,
        "name": name,
        "arn": None,
        "status": None,
        "version": None,
        "platform_version": None,
        "endpoint": None,
        "oidc_issuer_url": None,
        "oidc_provider_arn": None,
        "oidc_provider_exists": False,
        "oidc_provider_client_ids": [],
        "tags": {},
    }


def cluster_facts(eks: Any, iam: Optional[Any], name: str, region: Optional[str]) -> Dict[str, Any]:
    """The cluster ``name`` as the platform sees it; ``exists`` is false when EKS does not know it."""
    response = get(eks.describe_cluster, f"describe EKS cluster {name!r} in region {region!r}", name=name)
    if response is None:
        return _missing(name)
    cluster = response.get("cluster") or {}
    arn = str(cluster.get("arn") or "")
    facts = _missing(name)
    facts.update(
        exists=True,
        arn=arn or None,
        status=cluster.get("status"),
        version=cluster.get("version"),
        platform_version=cluster.get("platformVersion"),
        endpoint=cluster.get("endpoint"),
        tags=dict(cluster.get("tags") or {}),
    )
    issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")
    if not issuer:
        return facts
    facts["oidc_issuer_url"] = normalize_issuer_url(str(issuer))
    details = parse_aws_arn(arn) or {}
    if not details.get("account_id"):
        raise IdentityError(message=f"EKS cluster {name!r} has an unexpected ARN {arn!r}")
    provider = oidc_provider_arn(str(details.get("partition") or "aws"), str(details["account_id"]), facts["oidc_issuer_url"])
    facts["oidc_provider_arn"] = provider
    if iam is not None:
        found = get(iam.get_open_id_connect_provider, f"read OIDC provider {provider}", OpenIDConnectProviderArn=provider)
        facts["oidc_provider_exists"] = found is not None
        facts["oidc_provider_client_ids"] = sorted((found or {}).get("ClientIDList") or [])
    return facts


def irsa_ready(facts: Dict[str, Any]) -> bool:
    """Whether IRSA can work today: an issuer and its provider with the ``sts.amazonaws.com`` client id."""
    return bool(facts.get("oidc_issuer_url")) and bool(facts.get("oidc_provider_exists")) and STS_AUDIENCE in facts.get("oidc_provider_client_ids", [])
