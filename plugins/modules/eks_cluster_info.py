#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eks_cluster_info
short_description: Facts about an EKS cluster the platform needs (status, version, OIDC issuer and provider)
version_added: 0.1.0
description:
  - Reads an EKS cluster with C(eks:DescribeCluster) and reports whether it exists, its status, Kubernetes
    version, endpoint, tags and OIDC issuer URL.
  - When the cluster has an issuer, also reads the IAM OIDC provider of that issuer
    (C(iam:GetOpenIDConnectProvider)) and reports whether it exists and its client ids, which is what IAM
    roles for service accounts (IRSA) need. M(eks_gitops.platform.irsa_role) creates the provider when it is missing.
  - A cluster that does not exist is not an error; the result says O(name) with RV(cluster.exists=false).
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  name:
    description: Name of the EKS cluster, in the module's region.
    type: str
    required: true
  oidc_provider:
    description: Also read the IAM OIDC provider of the cluster's issuer.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - eks_gitops.platform.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the cluster
  eks_gitops.platform.eks_cluster_info:
    name: platform-prod
    region: eu-west-1
  register: eks

- name: Fail when the cluster has no OIDC issuer
  ansible.builtin.assert:
    that: eks.cluster.oidc_issuer_url
    fail_msg: "EKS cluster platform-prod has no OIDC issuer: enable it (eksctl utils associate-iam-oidc-provider)"
"""

RETURN = r"""
cluster:
  description: The cluster.
  type: dict
  returned: always
  contains:
    exists:
      description: Whether EKS knows the cluster.
      type: bool
      sample: true
    name:
      description: Name of the cluster.
      type: str
      sample: platform-prod
    arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:cluster/platform-prod
    status:
      description: Status, for example C(ACTIVE).
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes minor version of the control plane.
      type: str
      sample: "1.37"
    platform_version:
      description: EKS platform version.
      type: str
      sample: eks.3
    endpoint:
      description: URL of the API server.
      type: str
      sample: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
    tags:
      description: Tags of the cluster.
      type: dict
      sample: {team: platform}
    oidc_issuer_url:
      description: The OIDC issuer URL, or null when the cluster has none.
      type: str
      sample: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    oidc_provider_arn:
      description: ARN of the IAM OIDC provider of that issuer (whether it exists or not).
      type: str
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    oidc_provider_exists:
      description: Whether that provider exists in IAM (false when not read).
      type: bool
      sample: true
    oidc_provider_client_ids:
      description: Client ids (audiences) of the provider.
      type: list
      elements: str
      sample: [sts.amazonaws.com]
    irsa_ready:
      description: Whether the issuer and its provider with the C(sts.amazonaws.com) client id exist.
      type: bool
      sample: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import aws_client
from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import eks_cluster_name_problem
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import IdentityError
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.eks_cluster import cluster_facts, irsa_ready
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import fail


def main() -> None:
    argument_spec = {
        "name": {"type": "str", "required": True},
        "oidc_provider": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problem = eks_cluster_name_problem(module.params["name"])
    if problem:
        module.fail_json(msg=f"name: {problem}", changed=False)
    iam = aws_client(module, "iam") if module.params["oidc_provider"] else None
    try:
        facts = cluster_facts(aws_client(module, "eks"), iam, module.params["name"], module.region)
    except IdentityError as error:
        fail(module, error, changed=False)
    facts["irsa_ready"] = irsa_ready(facts)
    module.exit_json(changed=False, cluster=facts)


if __name__ == "__main__":
    main()
