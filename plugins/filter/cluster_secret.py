# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.cluster_secrets import (
    IN_CLUSTER,
    ClusterFacts,
    ClusterSecretError,
    kubeconfig_connection,
)
from ansible_collections.eks_gitops.platform.plugins.plugin_utils.cluster_secrets import (
    cluster_secret as build_cluster_secret,
)

DOCUMENTATION = r"""
name: cluster_secret
short_description: An Argo CD cluster Secret carrying the platform's facts contract
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Returns the Argo CD cluster Secret of one cluster, labelled and annotated with the facts of the README's contract
    table (environment, cluster name, AWS account and region, add-ons, role ARNs, GitOps repository, path and
    revision), for ApplicationSet cluster generators to select on and template with.
  - Argo CD reaches the cluster at O(server) with O(config); with O(kubeconfig), both come from that kubeconfig's
    context O(kubeconfig_context) (its CA, and a client certificate or a bearer token).
  - The Secret holds credentials whenever O(config) or O(kubeconfig) does; use it with C(no_log=true).
options:
  _input:
    description:
      - The cluster's facts - C(name) (Argo CD's cluster name), C(environment), C(cluster_name), C(gitops_repo_url),
        C(gitops_repo_revision), C(gitops_repo_path), and optionally C(spoke), C(aws_region), C(aws_account_id),
        C(addons) (name to bool, or the list of the enabled ones) and C(role_arns) (add-on name to ARN).
    type: dict
    required: true
  secret_name:
    description: Name of the Secret.
    type: str
    required: true
  namespace:
    description: Argo CD's namespace.
    type: str
    required: true
  server:
    description: The API server Argo CD reaches; the in-cluster one by default.
    type: str
    default: https://kubernetes.default.svc
  config:
    description: Argo CD's connection config (C(tlsClientConfig), C(bearerToken), C(awsAuthConfig), ...).
    type: dict
  kubeconfig:
    description: The text of a kubeconfig; O(server) and O(config) come from its context O(kubeconfig_context).
    type: str
  kubeconfig_context:
    description: The context of O(kubeconfig); its current context when empty.
    type: str
  labels:
    description: More labels (they win over the contract's).
    type: dict
  annotations:
    description: More annotations (they win over the contract's).
    type: dict
"""

EXAMPLES = r"""
- name: Register a spoke with the credentials of its kubeconfig context
  no_log: true
  kubernetes.core.k8s:
    definition: >-
      {{ {'name': 'spoke-a', 'environment': 'dev', 'cluster_name': 'spoke-a', 'spoke': true,
          'gitops_repo_url': repo, 'gitops_repo_revision': 'main', 'gitops_repo_path': 'applications/dev'}
         | eks_gitops.platform.cluster_secret(secret_name='cluster-spoke-a', namespace='argocd',
                                               kubeconfig=lookup('ansible.builtin.file', 'spoke-a.kubeconfig')) }}
"""

RETURN = r"""
_value:
  description: The Secret manifest.
  type: dict
"""


def cluster_secret(
    facts: Any,
    secret_name: str,
    namespace: str,
    *,
    server: str = IN_CLUSTER,
    config: Optional[Mapping[str, Any]] = None,
    kubeconfig: Optional[str] = None,
    kubeconfig_context: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    annotations: Optional[Mapping[str, str]] = None,
) -> dict[str, Any]:
    try:
        if not isinstance(facts, Mapping):
            raise ClusterSecretError("the facts must be a mapping")
        known = set(ClusterFacts.__dataclass_fields__)
        unknown = sorted(set(facts) - known)
        if unknown:
            raise ClusterSecretError(f"unknown facts {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if kubeconfig:
            server, connection = kubeconfig_connection(kubeconfig, kubeconfig_context or None)
            config = connection
        return build_cluster_secret(
            ClusterFacts(**dict(facts)),
            secret_name=secret_name,
            namespace=namespace,
            server=server,
            config=config,
            labels=labels,
            annotations=annotations,
        )
    except (ClusterSecretError, TypeError) as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.cluster_secret: {exc}") from None


class FilterModule:
    """Argo CD cluster Secrets with the platform's facts."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"cluster_secret": cluster_secret}
