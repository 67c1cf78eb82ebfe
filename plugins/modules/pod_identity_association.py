#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pod_identity_association
short_description: EKS Pod Identity association of a service account with an IAM role
version_added: 0.1.0
description:
  - Creates, updates or deletes the EKS Pod Identity association that lets the pods of a
    Kubernetes service account assume an IAM role through the EKS Pod Identity agent.
  - A cluster holds at most one association per namespace and service account; the module finds
    it with C(eks:ListPodIdentityAssociations), then creates it, changes its role or tags, or deletes it.
  - The role needs the Pod Identity trust policy; M(eks_gitops.platform.irsa_role) with
    O(eks_gitops.platform.irsa_role#module:trust=pod_identity) writes it.
  - The cluster needs the C(eks-pod-identity-agent) add-on.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  state:
    description: Whether the association exists.
    type: str
    choices: [present, absent]
    default: present
  cluster_name:
    description: Name of the EKS cluster (in the module's region).
    type: str
    required: true
  namespace:
    description: Namespace of the service account (a DNS-1123 label).
    type: str
    required: true
  service_account:
    description: Name of the service account (a DNS-1123 subdomain).
    type: str
    required: true
  role_arn:
    description:
      - ARN of the IAM role the service account's pods assume.
      - One of O(role_arn) and O(role_name) is required with O(state=present).
    type: str
  role_name:
    description:
      - Name of the IAM role, resolved to its ARN with C(iam:GetRole).
      - In check mode a role that does not exist yet is assumed to be under the path C(/).
    type: str
  tags:
    description: Tags of the association. Left as they are when not given.
    type: dict
  purge_tags:
    description: Remove tags not in O(tags) (tags starting with C(aws:) are kept).
    type: bool
    default: true
notes:
  - Associations created by an EKS add-on (with an owner) are not changed by this module.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - eks_gitops.platform.attributes.planned_writes
attributes:
  diff_mode:
    support: full
    description: Shows the association (role and tags) before and after, as JSON.
"""

EXAMPLES = r"""
- name: Pod Identity role for the orders service, reading its database secret
  eks_gitops.platform.irsa_role:
    role_name: shop-orders
    trust: pod_identity
    secrets_read:
      - shop/orders/database
  register: orders_role

- name: Let the orders service account assume it
  eks_gitops.platform.pod_identity_association:
    cluster_name: platform-prod
    namespace: shop
    service_account: orders
    role_arn: "{{ orders_role.role_arn }}"
    tags:
      platform: eks-gitops

- name: The same by role name
  eks_gitops.platform.pod_identity_association:
    cluster_name: platform-prod
    namespace: shop
    service_account: orders
    role_name: shop-orders

- name: Remove the association
  eks_gitops.platform.pod_identity_association:
    cluster_name: platform-prod
    namespace: shop
    service_account: orders
    state: absent
"""

RETURN = r"""
association:
  description: The association as the run leaves it (predicted in check mode); null when there is none.
  type: dict
  returned: always
  contains:
    association_id:
      description: Id of the association; null in check mode before it is created.
      type: str
      sample: a-abcdefghijklmnop1
    association_arn:
      description: ARN of the association; null in check mode before it is created.
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:podidentityassociation/platform-prod/a-abcdefghijklmnop1
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: platform-prod
    namespace:
      description: Namespace of the service account.
      type: str
      sample: shop
    service_account:
      description: Name of the service account.
      type: str
      sample: orders
    role_arn:
      description: ARN of the role the service account's pods assume.
      type: str
      sample: arn:aws:iam::123456789012:role/shop-orders
    owner_arn:
      description: ARN of the EKS add-on that owns the association, or null.
      type: str
      sample: null
    tags:
      description: Tags of the association.
      type: dict
      sample: {"platform": "eks-gitops"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import aws_client
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import caller_account
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import run_module
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.pod_identity import PodIdentityAssociation, parse_pod_identity_params


def main() -> None:
    argument_spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "cluster_name": {"type": "str", "required": True},
        "namespace": {"type": "str", "required": True},
        "service_account": {"type": "str", "required": True},
        "role_arn": {"type": "str"},
        "role_name": {"type": "str"},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[("role_arn", "role_name")])
    spec, errors = parse_pod_identity_params(module.params)
    if errors:
        module.fail_json(msg=errors.summary(), changed=False)

    needs_iam = spec.state == "present" and not spec.role_arn
    association = PodIdentityAssociation(
        aws_client(module, "eks"),
        aws_client(module, "iam") if needs_iam else None,
        module.region,
        check_mode=module.check_mode,
        account=lambda: caller_account(aws_client(module, "sts")),
    )
    run_module(module, association, spec, f"Pod Identity association {spec.namespace}/{spec.service_account}")


if __name__ == "__main__":
    main()
