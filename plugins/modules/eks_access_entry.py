#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eks_access_entry
short_description: Manage an EKS access entry and its access policies
version_added: 0.1.0
description:
  - Creates, updates or deletes the access entry of an IAM role (or user) on an EKS cluster, which maps the principal to
    a Kubernetes identity, and associates EKS access policies with it, each scoped to the whole cluster or to some
    namespaces.
  - A hub cluster's Argo CD reaches a spoke with C(awsAuthConfig) (the spoke's name and a role ARN) through such an entry
    on the spoke, for example with C(arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy) on the cluster.
  - Reads are few and batched whatever the number of policies - the cluster, the entry, one paged list of its
    associated policies and, only when a policy is to be associated, one paged list of the access policies EKS has (an
    unknown policy is refused before anything is written). Then the writes are planned and carried out in order;
    check mode stops after the plan.
  - Every input is checked before the first AWS call, and every problem is reported at once, naming its field.
  - A create whose answer was lost is retried with the same client request token, and a create that finds the entry
    there brings the existing entry to the requested state instead of failing.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  cluster_name:
    description: Name of the EKS cluster, in the module's region.
    type: str
    required: true
  principal_arn:
    description:
      - ARN of the IAM role or user, as EKS matches it (C(arn:aws:iam::<account>:role/<name>)).
      - An STS session ARN (C(assumed-role)) is refused; give the role it belongs to.
    type: str
    required: true
  state:
    description: Whether the entry exists. Deleting it removes its policy associations with it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The type of the entry; EKS cannot change it later, so a different type of an existing entry is refused.
      - Left out, an existing entry keeps its type and a new one is C(STANDARD).
      - Only C(STANDARD) entries take O(kubernetes_groups), O(username) and O(access_policies).
    type: str
    choices: [STANDARD, EC2, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, HYPERPOD_LINUX]
  kubernetes_groups:
    description:
      - The Kubernetes groups of the principal, for RBAC bindings of your own. Set exactly as given; left out, they stay.
      - A name starting with C(system:), C(eks:), C(aws:), C(amazon:) or C(iam:) is refused (EKS keeps those).
    type: list
    elements: str
  username:
    description: The Kubernetes user name of the principal. Left out, EKS chooses it on create and it stays.
    type: str
  access_policies:
    description:
      - The EKS access policies of the entry, each with its scope. Left out, the associations stay as they are.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description: The ARN of the access policy (C(arn:aws:eks::aws:cluster-access-policy/<name>)).
        type: str
        required: true
      access_scope:
        description: Where the policy applies.
        type: dict
        suboptions:
          type:
            description: The whole cluster, or the O(access_policies[].access_scope.namespaces).
            type: str
            choices: [cluster, namespace]
            default: cluster
          namespaces:
            description: The namespaces (a name may end in C(*) to match a prefix); only with O(access_policies[].access_scope.type=namespace).
            type: list
            elements: str
  purge_access_policies:
    description: Disassociate the policies that are not in O(access_policies) (only when O(access_policies) is given).
    type: bool
    default: true
  tags:
    description: Tags of the entry. Left out, they stay.
    type: dict
  purge_tags:
    description: Remove the tags that are not in O(tags) (only when O(tags) is given).
    type: bool
    default: true
notes:
  - The cluster must authenticate with access entries (C(authenticationMode) C(API) or C(API_AND_CONFIG_MAP)); a cluster
    on C(CONFIG_MAP) alone is refused with the command that changes it.
  - The local AWS stand-in of this collection's tests (moto 5.2.5) answers C(DescribeCluster) but implements no access
    entry API, so the entry's plan (create, update, policies, tags, delete, a lost answer) is covered by unit tests on
    botocore's Stubber with the real EKS API model, and the integration tests against moto cover the input checks and
    the cluster lookup.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - eks_gitops.platform.attributes.planned_writes
attributes:
  diff_mode:
    support: full
    description: Shows the entry (type, groups, user name, policies with their scopes, tags) before and after, as JSON.
seealso:
  - module: eks_gitops.platform.irsa_role
  - name: EKS access entries
    description: How access entries and access policies grant IAM principals access to the Kubernetes API.
    link: https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
"""

EXAMPLES = r"""
- name: Let the hub's Argo CD manage this spoke (its role assumed through awsAuthConfig)
  eks_gitops.platform.eks_access_entry:
    cluster_name: spoke-eu-west-1
    principal_arn: arn:aws:iam::123456789012:role/platform-hub-argocd
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
        access_scope:
          type: cluster
    tags:
      platform: eks-gitops

- name: A team's CI may view its namespaces only
  eks_gitops.platform.eks_access_entry:
    cluster_name: platform-prod
    principal_arn: arn:aws:iam::123456789012:role/shop-ci
    kubernetes_groups: [shop-deployers]
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope:
          type: namespace
          namespaces: [shop, shop-*]

- name: Remove the entry (and its policy associations)
  eks_gitops.platform.eks_access_entry:
    cluster_name: spoke-eu-west-1
    principal_arn: arn:aws:iam::123456789012:role/platform-hub-argocd
    state: absent
"""

RETURN = r"""
access_entry:
  description: The entry as the run leaves it; null when it does not exist. In check mode, what a real run would leave.
  returned: always
  type: dict
  contains:
    cluster_name:
      description: The cluster.
      type: str
      sample: spoke-eu-west-1
    principal_arn:
      description: The IAM principal.
      type: str
      sample: arn:aws:iam::123456789012:role/platform-hub-argocd
    access_entry_arn:
      description: The ARN of the entry (null in check mode before it exists).
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:access-entry/spoke-eu-west-1/role/123456789012/platform-hub-argocd/a1b2c3d4
    type:
      description: The type of the entry.
      type: str
      sample: STANDARD
    kubernetes_groups:
      description: The Kubernetes groups, sorted.
      type: list
      elements: str
      sample: []
    username:
      description: The Kubernetes user name.
      type: str
      sample: arn:aws:iam::123456789012:role/platform-hub-argocd
    access_policies:
      description: The associated access policies with their scopes, sorted by ARN.
      type: list
      elements: dict
      sample:
        - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          access_scope: {type: cluster, namespaces: []}
    tags:
      description: Tags of the entry.
      type: dict
      sample: {"platform": "eks-gitops"}
    created_at:
      description: When the entry was created (when known).
      type: str
      sample: "2026-12-08T10:00:00+00:00"
    modified_at:
      description: When the entry was last changed (when known).
      type: str
      sample: "2026-12-08T10:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import aws_client
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.access_entry import TYPES, AccessEntry, parse_access_entry_params
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import run_module


def main() -> None:
    argument_spec = {
        "cluster_name": {"type": "str", "required": True},
        "principal_arn": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "type": {"type": "str", "choices": list(TYPES)},
        "kubernetes_groups": {"type": "list", "elements": "str"},
        "username": {"type": "str"},
        "access_policies": {
            "type": "list",
            "elements": "dict",
            "options": {
                "policy_arn": {"type": "str", "required": True},
                "access_scope": {
                    "type": "dict",
                    "options": {
                        "type": {"type": "str", "choices": ["cluster", "namespace"], "default": "cluster"},
                        "namespaces": {"type": "list", "elements": "str"},
                    },
                },
            },
        },
        "purge_access_policies": {"type": "bool", "default": True},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    spec, errors = parse_access_entry_params(module.params)
    if errors:
        module.fail_json(msg=errors.summary(), changed=False)
    run_module(module, AccessEntry(aws_client(module, "eks"), module.region), spec, f"EKS access entry {spec.principal_arn} on {spec.cluster_name}")


if __name__ == "__main__":
    main()
