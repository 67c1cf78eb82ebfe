#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: irsa_role
short_description: IAM role for Kubernetes service accounts (IRSA or EKS Pod Identity) or GitHub Actions (OIDC)
version_added: 0.1.0
description:
  - Creates, updates or deletes an IAM role that Kubernetes service accounts assume, with a
    trust policy written for them and least-privilege permissions.
  - With O(trust=irsa) (IAM Roles for Service Accounts) the trust policy allows
    C(sts:AssumeRoleWithWebIdentity) from the cluster's IAM OIDC provider for exactly the
    given service accounts, pinning both the C(sub) and the C(aud) claim. The issuer comes from
    the EKS cluster (O(cluster_name)) or is given (O(oidc_issuer_url)); the IAM OIDC provider for it
    is created when missing (O(create_oidc_provider)).
  - With O(trust=pod_identity) the trust policy allows the EKS Pod Identity service
    (C(pods.eks.amazonaws.com)) to C(sts:AssumeRole) and C(sts:TagSession); link the role to a
    service account with M(eks_gitops.platform.pod_identity_association).
  - With O(trust=github_actions) the trust policy allows C(sts:AssumeRoleWithWebIdentity) from GitHub's
    OIDC provider (C(token.actions.githubusercontent.com), created when missing like the cluster's) for
    workflows of exactly the given repositories and branches, pinning C(sub) to
    C(repo:<owner>/<name>:ref:refs/heads/<branch>) (or, for jobs that deploy to a GitHub environment,
    C(repo:<owner>/<name>:environment:<name>)) and C(aud) to C(sts.amazonaws.com). Workflows then need no
    static AWS keys.
  - Trust and permission documents are compared semantically (order does not matter), so a
    re-run with the same input changes nothing.
  - With O(state=absent) managed policies are detached, inline policies deleted, then the role
    deleted. The OIDC provider is never deleted, other roles may trust it.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  state:
    description: Whether the role exists.
    type: str
    choices: [present, absent]
    default: present
  role_name:
    description: Name of the IAM role (1-64 of letters, digits and C(+=,.@_-)).
    type: str
    required: true
  path:
    description:
      - IAM path of the role, C(/) or C(/<segments>/).
      - IAM cannot move an existing role to another path; a different path fails.
    type: str
    default: /
  description:
    description: Description of the role. Left as it is when not given.
    type: str
  max_session_duration:
    description:
      - Maximum session duration in seconds, 3600-43200.
      - Left as it is when not given; new roles get IAM's default of 3600.
    type: int
  permissions_boundary:
    description:
      - ARN of the managed policy used as the role's permissions boundary.
      - An empty string removes the boundary; left as it is when not given.
    type: str
  tags:
    description:
      - Tags of the role. Left as they are when not given.
    type: dict
  purge_tags:
    description: Remove tags not in O(tags) (tags starting with C(aws:) are kept).
    type: bool
    default: true
  trust:
    description:
      - V(irsa) writes the IRSA trust policy for O(service_accounts) through the cluster's OIDC provider.
      - V(pod_identity) writes the EKS Pod Identity trust policy (principal C(pods.eks.amazonaws.com),
        C(sts:AssumeRole) and C(sts:TagSession)); no OIDC provider is needed.
      - V(github_actions) writes the GitHub Actions OIDC trust policy for O(github_repositories).
    type: str
    choices: [irsa, pod_identity, github_actions]
    default: irsa
  cluster_name:
    description:
      - Name of the EKS cluster whose OIDC issuer the role trusts (read with C(eks:DescribeCluster)
        in the module's region).
      - One of O(cluster_name) and O(oidc_issuer_url) is required with O(trust=irsa) and O(state=present).
    type: str
  oidc_issuer_url:
    description:
      - The OIDC issuer URL (C(https://...)), for clusters that are not EKS or are looked up elsewhere.
      - With O(trust=github_actions) the issuer of GitHub's workflow tokens, C(https://token.actions.githubusercontent.com)
        when not given (GitHub Enterprise Server has its own).
    type: str
  create_oidc_provider:
    description:
      - Create the IAM OIDC provider for the issuer (client id C(sts.amazonaws.com)) when it does not exist,
        and add that client id to an existing provider that lacks it.
      - With V(false) the provider must already exist.
    type: bool
    default: true
  service_accounts:
    description:
      - The service accounts that may assume the role (O(trust=irsa)).
      - Their subjects are matched with C(StringEquals); names with the wildcards C(*) or C(?) are matched
        with C(StringLike) in a statement of their own.
    type: list
    elements: dict
    suboptions:
      namespace:
        description: Namespace of the service account (a DNS-1123 label).
        type: str
        required: true
      name:
        description: Name of the service account (a DNS-1123 subdomain, C(*) and C(?) allowed).
        type: str
        required: true
  github_repositories:
    description:
      - The GitHub repositories and branches whose workflows may assume the role (O(trust=github_actions)).
      - Each is matched exactly (C(StringEquals)); wildcards are refused, so the trust stays pinned.
      - Each item has exactly one of O(github_repositories[].branch) and O(github_repositories[].environment).
    type: list
    elements: dict
    suboptions:
      repository:
        description: The repository, C(owner/name).
        type: str
        required: true
      branch:
        description:
          - The branch, without C(refs/heads/). Jobs without a GitHub deployment environment on it get the role.
        type: str
      environment:
        description:
          - A GitHub deployment environment. GitHub names the environment instead of the branch in the token of a job
            that deploys to one; restrict the environment to protected branches in the repository's settings.
        type: str
  managed_policy_arns:
    description:
      - ARNs of managed policies to attach. Left as they are when not given.
    type: list
    elements: str
  purge_policies:
    description: Detach managed policies not in O(managed_policy_arns) (when it is given).
    type: bool
    default: true
  inline_policies:
    description:
      - "Inline policies of the role, C({name: document}); a document is a dict or a JSON string."
      - A document without C(Version) gets C(2012-10-17).
      - When O(inline_policies) or O(secrets_read) is given, the role's inline policies are these
        (plus the O(secrets_read) policy); others are deleted unless O(purge_inline_policies=false).
    type: dict
  purge_inline_policies:
    description: Delete inline policies that are neither in O(inline_policies) nor the O(secrets_read) policy.
    type: bool
    default: true
  secrets_read:
    description:
      - Secrets Manager secrets the role may read, by name or ARN. Writes the inline policy
        O(secrets_read_policy_name) with C(secretsmanager:GetSecretValue) and C(secretsmanager:DescribeSecret)
        on exactly those secrets.
      - A name becomes C(arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????), the pattern of
        that secret's ARN with its random six-character suffix; an ARN is kept as given. Wildcards are refused
        unless O(allow_wildcards).
    type: list
    elements: str
  allow_wildcards:
    description:
      - Accept wildcards (C(*), C(?)) in O(secrets_read). Without it a wildcard is refused, naming the entry, because
        it grants read on every secret it matches (C(*) on every secret of the account). The C(-??????) suffix pattern
        at the end of a secret ARN is not a wildcard in this sense.
    type: bool
    default: false
  kms_key_arns:
    description:
      - ARNs of the customer managed KMS keys the O(secrets_read) secrets are encrypted with. Adds
        C(kms:Decrypt) on exactly those keys, allowed only through Secrets Manager (C(kms:ViaService)).
      - A key of another region than the secrets is refused (a secret is encrypted with a key of its own region),
        unless O(allow_cross_region_kms).
    type: list
    elements: str
  allow_cross_region_kms:
    description: Accept O(kms_key_arns) of another region than the secrets of O(secrets_read).
    type: bool
    default: false
  secrets_read_policy_name:
    description: Name of the inline policy O(secrets_read) writes.
    type: str
    default: secrets-read
notes:
  - The account id and partition come from C(sts:GetCallerIdentity).
  - Managed policies and the permissions boundary are checked to exist before anything is written.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - eks_gitops.platform.attributes.planned_writes
attributes:
  diff_mode:
    support: full
    description: Shows the role (trust policy, policies, tags, settings) and the OIDC provider before and after, as JSON.
"""

EXAMPLES = r"""
# The Secrets Store CSI driver's AWS provider reads secrets with the identity of the pod that
# mounts them: the role is for the workload's service account.
- name: Role for a workload that mounts its secrets through the Secrets Store CSI driver
  eks_gitops.platform.irsa_role:
    role_name: platform-argocd-repo-secrets
    cluster_name: platform-prod
    service_accounts:
      - namespace: argocd
        name: argocd-repo-server
    secrets_read:
      - platform/argocd/repo-credentials
    tags:
      platform: eks-gitops
  register: csi_role

- name: Role for an application that reads two secrets encrypted with its own KMS key
  eks_gitops.platform.irsa_role:
    role_name: shop-checkout
    cluster_name: platform-prod
    service_accounts:
      - namespace: shop
        name: checkout
    secrets_read:
      - shop/checkout/database
      - arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/checkout/stripe-AbCdEf
    kms_key_arns:
      - arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
  register: checkout_role

- name: Annotate the application's service account with the role
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: checkout
        namespace: shop
        annotations: "{{ checkout_role.service_account_annotations }}"

- name: Controller role with a managed policy, any service account named like it, a custom issuer
  eks_gitops.platform.irsa_role:
    role_name: external-dns
    oidc_issuer_url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    service_accounts:
      - namespace: kube-system
        name: external-dns*
    managed_policy_arns:
      - arn:aws:iam::123456789012:policy/external-dns
    inline_policies:
      route53-read:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: route53:ListHostedZones
            Resource: "*"
    max_session_duration: 7200

- name: Role for EKS Pod Identity, then the association that links it to the service account
  eks_gitops.platform.irsa_role:
    role_name: shop-orders
    trust: pod_identity
    secrets_read:
      - shop/orders/database
  register: orders_role

- name: Associate the Pod Identity role with the service account
  eks_gitops.platform.pod_identity_association:
    cluster_name: platform-prod
    namespace: shop
    service_account: orders
    role_arn: "{{ orders_role.role_arn }}"

- name: Role that the GitHub Actions of the GitOps repository assume on main to push images, no static keys
  eks_gitops.platform.irsa_role:
    role_name: eks-gitops-github-actions
    trust: github_actions
    github_repositories:
      - repository: example-org/platform-gitops
        branch: main
    inline_policies:
      ecr-push:
        Statement:
          - Effect: Allow
            Action: ecr:GetAuthorizationToken
            Resource: "*"
          - Effect: Allow
            Action:
              - ecr:BatchCheckLayerAvailability
              - ecr:BatchGetImage
              - ecr:CompleteLayerUpload
              - ecr:InitiateLayerUpload
              - ecr:PutImage
              - ecr:UploadLayerPart
            Resource: arn:aws:ecr:eu-west-1:123456789012:repository/my-microservice

- name: Remove a role (its OIDC provider stays)
  eks_gitops.platform.irsa_role:
    role_name: shop-checkout
    state: absent
"""

RETURN = r"""
role_name:
  description: Name of the role.
  type: str
  returned: always
  sample: shop-checkout
role_arn:
  description: ARN of the role (predicted in check mode when the role does not exist yet); null after O(state=absent).
  type: str
  returned: always
  sample: arn:aws:iam::123456789012:role/shop-checkout
role_id:
  description: Stable id of the role; null in check mode for a role not created yet, and after O(state=absent).
  type: str
  returned: always
  sample: AROA3XFRBF535PLBIFPI4
oidc_provider_arn:
  description: ARN of the IAM OIDC provider the role trusts; null with O(trust=pod_identity) and after O(state=absent).
  type: str
  returned: always
  sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
service_account_annotations:
  description: Annotations to put on the service account (O(trust=irsa)); empty with the other trusts and after O(state=absent).
  type: dict
  returned: always
  sample: {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-checkout"}
role:
  description: The role as the run leaves it (predicted in check mode); null after O(state=absent).
  type: dict
  returned: always
  contains:
    path:
      description: IAM path of the role.
      type: str
      sample: /
    description:
      description: Description of the role.
      type: str
      sample: Reads the checkout secrets
    max_session_duration:
      description: Maximum session duration in seconds.
      type: int
      sample: 3600
    permissions_boundary:
      description: ARN of the permissions boundary, or null.
      type: str
      sample: arn:aws:iam::123456789012:policy/platform-boundary
    trust_policy:
      description: The role's trust policy.
      type: dict
      sample:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Federated: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals:
                "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": system:serviceaccount:shop:checkout
                "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud": sts.amazonaws.com
    managed_policy_arns:
      description: ARNs of the attached managed policies, sorted.
      type: list
      elements: str
      sample: ["arn:aws:iam::123456789012:policy/external-dns"]
    inline_policies:
      description: "The role's inline policies, C({name: document})."
      type: dict
      sample:
        secrets-read:
          Version: "2012-10-17"
          Statement:
            - Sid: ReadSecrets
              Effect: Allow
              Action: [secretsmanager:DescribeSecret, secretsmanager:GetSecretValue]
              Resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/checkout/database-??????
    tags:
      description: Tags of the role.
      type: dict
      sample: {"platform": "eks-gitops"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import aws_client
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import IdentityError, caller_account
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.irsa import (
    DEFAULT_SECRETS_READ_POLICY_NAME,
    IrsaRole,
    parse_irsa_role_params,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import fail, run_module


def main() -> None:
    argument_spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "role_name": {"type": "str", "required": True},
        "path": {"type": "str", "default": "/"},
        "description": {"type": "str"},
        "max_session_duration": {"type": "int"},
        "permissions_boundary": {"type": "str"},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "trust": {"type": "str", "choices": ["irsa", "pod_identity", "github_actions"], "default": "irsa"},
        "cluster_name": {"type": "str"},
        "oidc_issuer_url": {"type": "str"},
        "create_oidc_provider": {"type": "bool", "default": True},
        "service_accounts": {
            "type": "list",
            "elements": "dict",
            "options": {"namespace": {"type": "str", "required": True}, "name": {"type": "str", "required": True}},
        },
        "github_repositories": {
            "type": "list",
            "elements": "dict",
            "options": {"repository": {"type": "str", "required": True}, "branch": {"type": "str"}, "environment": {"type": "str"}},
        },
        "managed_policy_arns": {"type": "list", "elements": "str"},
        "purge_policies": {"type": "bool", "default": True},
        "inline_policies": {"type": "dict"},
        "purge_inline_policies": {"type": "bool", "default": True},
        "secrets_read": {"type": "list", "elements": "str", "no_log": False},
        "allow_wildcards": {"type": "bool", "default": False},
        "kms_key_arns": {"type": "list", "elements": "str", "no_log": False},
        "allow_cross_region_kms": {"type": "bool", "default": False},
        "secrets_read_policy_name": {"type": "str", "default": DEFAULT_SECRETS_READ_POLICY_NAME, "no_log": False},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[("cluster_name", "oidc_issuer_url")])
    spec, errors = parse_irsa_role_params(module.params, module.region)
    if errors:
        module.fail_json(msg=errors.summary(), changed=False)

    try:
        account = caller_account(aws_client(module, "sts"))
    except IdentityError as error:
        fail(module, error, changed=False)
    eks = aws_client(module, "eks") if spec.cluster_name and spec.state == "present" else None
    role = IrsaRole(aws_client(module, "iam"), eks, account, module.region)
    run_module(module, role, spec, f"IAM role {spec.role_name}")


if __name__ == "__main__":
    main()
