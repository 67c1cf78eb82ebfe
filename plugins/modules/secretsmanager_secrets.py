#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: secretsmanager_secrets
version_added: 0.1.0
short_description: Reconcile a list of AWS Secrets Manager secrets in one task
description:
  - Makes a list of AWS Secrets Manager secrets look the way the task says (value,
    description, KMS key, tags, replica regions, resource policy, rotation, or absence).
  - Reads the current state with as few calls as possible, C(ListSecrets) with name
    filters (100 secrets per page) for metadata and tags and C(BatchGetSecretValue)
    (20 secrets per call) for the values it has to compare, and then writes only what
    differs. An unchanged run over 200 secrets under one prefix makes about 12 requests.
  - Values are compared by content (JSON in canonical form), so a re-run with the same
    input reports C(changed=false).
  - Generated values (O(secrets[].generate)) come from the Secrets Manager
    C(GetRandomPassword) API when the secret is created and are never overwritten
    afterwards, so a password made at bootstrap stays stable.
  - With O(purge=true) it deletes the secrets under O(purge_prefix) that carry
    O(owner_tag) and are not in the list. It refuses to purge without both, so it
    never deletes what it does not own.
  - No value, generated or supplied, and no hash of one ever appears in the result, the
    diff or an error message. All value options are C(no_log).
  - Bad input is rejected before anything is read or written; each problem names the
    secret and the field, for example C(secrets[name=app/db].recovery_window_days).
  - Throttling and server errors are retried with jittered backoff. A failure of one
    secret (for example C(AccessDeniedException)) is reported with its name while the
    other secrets are still reconciled; the task then fails with a summary, and a second
    run completes the rest.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  secrets:
    description:
      - The secrets to reconcile. One secret is a list of one.
      - Options left out are not managed, the secret keeps what it has. For example
        without O(secrets[].tags) the secret's tags are left alone (except O(owner_tag)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The secret's name, 1 to 512 of ASCII letters, digits and C(/_+=.@-).
          - Each name may appear once in the list.
        type: str
        required: true
      state:
        description:
          - V(present) creates or updates the secret, restoring it first if it is
            scheduled for deletion.
          - V(absent) schedules the secret for deletion after
            O(secrets[].recovery_window_days), or deletes it at once with
            O(secrets[].force_delete). Replica regions are removed first.
        type: str
        choices: [present, absent]
        default: present
      value:
        description:
          - The value as a string (C(SecretString)).
          - Exactly one of O(secrets[].value), O(secrets[].json), O(secrets[].binary)
            and O(secrets[].generate) is needed to create a secret. Without any, an
            existing secret's value is left alone.
        type: str
      json:
        description:
          - The value as a mapping or a list, stored as canonical JSON (sorted keys, no
            spaces) in C(SecretString) and compared by content.
          - Ansible masks every key and scalar of it in its output, as it does for any C(no_log)
            mapping; short or common strings in it therefore show as C(********) elsewhere too.
        type: raw
      binary:
        description:
          - The value as base64 text; the decoded bytes are stored in C(SecretBinary).
        type: str
      generate:
        description:
          - Create the value with the Secrets Manager C(GetRandomPassword) API.
          - Only when the secret does not exist yet (or holds no value). A generated
            value is never overwritten by a later run.
        type: dict
        suboptions:
          length:
            description: Number of characters, 1 to 4096.
            type: int
            default: 32
          exclude_characters:
            description: Characters the value must not contain, for example C("'\\@/).
            type: str
          exclude_numbers:
            description: No digits.
            type: bool
            default: false
          exclude_punctuation:
            description: No punctuation characters.
            type: bool
            default: false
          exclude_uppercase:
            description: No upper-case letters.
            type: bool
            default: false
          exclude_lowercase:
            description: No lower-case letters.
            type: bool
            default: false
          include_space:
            description: Allow the space character.
            type: bool
            default: false
          require_each_included_type:
            description: At least one character of every included kind.
            type: bool
            default: true
      overwrite:
        description:
          - V(false) makes a supplied value create-only, like a generated one. It is
            written when the secret is created (or holds no value) and never replaced.
        type: bool
        default: true
      description:
        description: The secret's description. An empty string clears it.
        type: str
      kms_key_id:
        description:
          - The KMS key that encrypts the secret's values, as key id, key ARN, alias
            (C(alias/name)) or alias ARN. Secrets Manager's default is
            C(alias/aws/secretsmanager).
          - A key id and its ARN (or an alias and its ARN) count as the same key.
        type: str
      tags:
        description:
          - Tags as a mapping of names to B(string) values.
          - With O(purge_tags=true) tags not listed here are removed. Tags starting with
            C(aws:) are never touched. O(owner_tag) is always added.
        type: dict
      replica_regions:
        description:
          - The regions the secret is replicated to. Regions not listed are removed from
            replication; V([]) removes every replica.
          - A replica whose KMS key differs is replicated again with the new key.
        type: list
        elements: dict
        suboptions:
          region:
            description: The replica's region, for example C(eu-central-1).
            type: str
            required: true
          kms_key_id:
            description:
              - The KMS key in that region. When left out the replica's key is not
                compared.
            type: str
      resource_policy:
        description:
          - The secret's resource policy, as a mapping or JSON text. Compared as a
            policy (statement order, single values versus lists).
          - V({}) removes the policy.
        type: raw
      block_public_policy:
        description:
          - Ask Secrets Manager to refuse a resource policy that allows broad access (for
            example a wildcard principal) when writing O(secrets[].resource_policy).
        type: bool
        default: true
      rotation:
        description:
          - Automatic rotation by a Lambda function. Only the settings given are
            compared with what Secrets Manager reports.
        type: dict
        suboptions:
          enabled:
            description: V(false) turns rotation off (the other settings are then not needed).
            type: bool
            default: true
          lambda_arn:
            description: ARN of the rotation Lambda function. Needed to turn rotation on.
            type: str
          days:
            description:
              - Rotate every this many days (1 to 1000).
              - Exactly one of O(secrets[].rotation.days) and
                O(secrets[].rotation.schedule_expression) is needed.
            type: int
          schedule_expression:
            description: A C(rate(N days)), C(rate(N hours)) or C(cron(...)) expression.
            type: str
          duration:
            description: The rotation window, for example C(3h).
            type: str
          rotate_immediately:
            description:
              - Rotate as soon as rotation is configured or its settings change.
              - With V(false), the default, Secrets Manager only tests the rotation
                function; the first rotation happens on the schedule. Changing the
                schedule therefore never rotates a value by itself.
            type: bool
            default: false
      recovery_window_days:
        description:
          - With O(secrets[].state=absent), days (7 to 30) the secret can still be restored.
          - Defaults to the module-level O(recovery_window_days).
        type: int
      force_delete:
        description:
          - With O(secrets[].state=absent), delete at once, without recovery. A secret
            already scheduled for deletion is then deleted too.
          - Defaults to the module-level O(force_delete).
        type: bool
  purge:
    description:
      - Delete the secrets whose name starts with O(purge_prefix) and which carry
        O(owner_tag), but are not in O(secrets).
      - Needs O(owner_tag) and O(purge_prefix); without them the task fails before
        doing anything.
      - Purged secrets use the module-level O(recovery_window_days) and O(force_delete).
    type: bool
    default: false
  purge_prefix:
    description:
      - The name prefix O(purge) works under, for example C(apps/payments/).
    type: str
  owner_tag:
    description:
      - A tag added to every secret of the list, marking the secrets this task manages.
        O(purge) deletes only secrets carrying it with exactly this value.
    type: dict
    suboptions:
      key:
        description: The tag's name.
        type: str
        required: true
      value:
        description: The tag's value.
        type: str
        required: true
  purge_tags:
    description:
      - Remove tags not listed in O(secrets[].tags). Only for secrets that list tags.
    type: bool
    default: true
  recovery_window_days:
    description:
      - Days (7 to 30) a deleted secret can still be restored; the default for
        O(secrets[].recovery_window_days) and for purged secrets.
    type: int
    default: 30
  force_delete:
    description:
      - Delete without recovery; the default for O(secrets[].force_delete) and for purged
        secrets.
    type: bool
    default: false
  validate_resource_policies:
    description:
      - Check every resource policy about to be written with the C(ValidateResourcePolicy)
        API before anything is written. A policy that fails is reported with the
        secret's name and the task fails without changes.
    type: bool
    default: true
notes:
  - Read the values back with the P(amazon.aws.secretsmanager_secret#lookup) lookup
    plugin.
  - The calls made are C(ListSecrets), C(BatchGetSecretValue) (which also needs
    C(secretsmanager:GetSecretValue) on each secret), and only when needed
    C(DescribeSecret), C(GetResourcePolicy), C(ValidateResourcePolicy),
    C(GetRandomPassword), C(CreateSecret), C(PutSecretValue), C(UpdateSecret),
    C(TagResource), C(UntagResource), C(ReplicateSecretToRegions),
    C(RemoveRegionsFromReplication), C(PutResourcePolicy), C(DeleteResourcePolicy),
    C(RotateSecret), C(CancelRotateSecret), C(RestoreSecret) and C(DeleteSecret).
  - A secret scheduled for deletion cannot be read; when it is listed with a supplied
    value it is restored and the value is written again (a new version).
  - Changing O(secrets[].kms_key_id) affects how Secrets Manager encrypts the secret's
    versions from then on; see the C(UpdateSecret) documentation.
attributes:
  check_mode:
    support: full
    description: Reports exactly the changes a real run would make, writing nothing.
  diff_mode:
    support: full
    description: Per secret what changes (created, deleted, description, tags, KMS key, replicas, policy, rotation); a value only as C(changed).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# How the platform's roles use it. Generated values are read back with the
# amazon.aws.secretsmanager_secret lookup.

- name: Argo CD admin password and Traefik dashboard password, generated once at bootstrap
  eks_gitops.platform.secretsmanager_secrets:
    owner_tag:
      key: eks-gitops.platform/owner
      value: "{{ platform_environment }}"
    secrets:
      - name: "platform/{{ platform_environment }}/argocd/admin-password"
        description: Argo CD initial admin password (bcrypt-hashed into argocd-secret by the argocd role)
        generate:
          length: 32
          exclude_characters: "\"'\\`$"
      - name: "platform/{{ platform_environment }}/traefik/dashboard"
        description: Traefik dashboard BasicAuth password
        generate:
          length: 24
          exclude_punctuation: true

- name: Read the Argo CD admin password back
  ansible.builtin.set_fact:
    argocd_admin_password: "{{ lookup('amazon.aws.secretsmanager_secret', 'platform/' ~ platform_environment ~ '/argocd/admin-password') }}"
  no_log: true

- name: Linkerd trust anchor key, encrypted with the platform's KMS key, written once
  eks_gitops.platform.secretsmanager_secrets:
    owner_tag:
      key: eks-gitops.platform/owner
      value: "{{ platform_environment }}"
    secrets:
      - name: "platform/{{ platform_environment }}/linkerd/trust-anchor"
        description: Linkerd trust anchor (PEM certificate and ECDSA P-256 key)
        kms_key_id: alias/eks-gitops-platform
        json:
          ca.crt: "{{ linkerd_trust_anchor.certificate }}"
          ca.key: "{{ linkerd_trust_anchor.private_key }}"
        overwrite: false
        tags:
          component: linkerd
  no_log: true

- name: Argo CD repository credentials, replicated to the DR region, readable by the platform account
  eks_gitops.platform.secretsmanager_secrets:
    secrets:
      - name: "platform/{{ platform_environment }}/argocd/repo-gitops"
        json:
          type: git
          url: https://github.com/example/gitops.git
          username: argocd
          password: "{{ gitops_repo_token }}"
        replica_regions:
          - region: eu-central-1
        resource_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal:
                AWS: "arn:aws:iam::111122223333:role/argocd-repo-server"
              Action: secretsmanager:GetSecretValue
              Resource: "*"
  no_log: true

- name: Application secrets of one team; secrets it no longer lists are deleted (7-day recovery)
  eks_gitops.platform.secretsmanager_secrets:
    owner_tag:
      key: eks-gitops.platform/owner
      value: payments
    purge: true
    purge_prefix: apps/payments/
    recovery_window_days: 7
    secrets:
      - name: apps/payments/db
        json:
          host: db.payments.internal
          username: payments
          password: "{{ payments_db_password }}"
        tags:
          team: payments
      - name: apps/payments/stripe-api-key
        value: "{{ stripe_api_key }}"
        rotation:
          lambda_arn: arn:aws:lambda:eu-west-1:111122223333:function:rotate-stripe-key
          days: 30
      - name: apps/payments/signing-key
        binary: "{{ lookup('ansible.builtin.file', 'signing.key') | b64encode }}"
      - name: apps/payments/legacy-token
        state: absent
        force_delete: true
  no_log: true

- name: Show what would change, without changing anything
  eks_gitops.platform.secretsmanager_secrets:
    secrets: "{{ app_secrets }}"
  check_mode: true
  diff: true
  no_log: true
"""

RETURN = r"""
secrets:
  description:
    - One entry per secret of the list, then one per purged secret. Never a value.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The secret's name.
      returned: always
      type: str
      sample: apps/payments/db
    state:
      description: The secret's state after the task, V(present) or V(absent).
      returned: always
      type: str
      sample: present
    arn:
      description: The secret's ARN; null for a secret that does not exist (or not yet, in check mode).
      returned: always
      type: str
      sample: arn:aws:secretsmanager:eu-west-1:111122223333:secret:apps/payments/db-AbCdEf
    version_id:
      description: The id of the AWSCURRENT version, when known.
      returned: always
      type: str
      sample: 5b1c8d4e-2a6f-4b8e-9c3d-7e0f1a2b3c4d
    changed:
      description: Whether this secret changed (or would, in check mode).
      returned: always
      type: bool
    changes:
      description:
        - What changed, among V(created), V(restored), V(deleted), V(value), V(description),
          V(kms_key_id), V(tags), V(replica_regions), V(resource_policy) and V(rotation).
      returned: always
      type: list
      elements: str
      sample: [value, tags]
    purged:
      description: Present and true for a secret deleted by O(purge).
      returned: when purged
      type: bool
    error:
      description: Why this secret could not be reconciled (the API call and the AWS error).
      returned: when this secret failed
      type: str
      sample: "PutSecretValue failed: AccessDeniedException: User is not authorized to perform secretsmanager:PutSecretValue"
diff:
  description: Per changed secret, a before and after view (a value shows only as changed).
  returned: in diff mode
  type: list
  elements: dict
"""


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import AWS_ERRORS, aws_client, error_summary, retry_note
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import executor, planner, spec, state


def argument_spec():
    generate = {
        "length": {"type": "int", "default": spec.DEFAULT_PASSWORD_LENGTH},
        "exclude_characters": {"type": "str"},
        "exclude_numbers": {"type": "bool", "default": False},
        "exclude_punctuation": {"type": "bool", "default": False},
        "exclude_uppercase": {"type": "bool", "default": False},
        "exclude_lowercase": {"type": "bool", "default": False},
        "include_space": {"type": "bool", "default": False},
        "require_each_included_type": {"type": "bool", "default": True},
    }
    rotation = {
        "enabled": {"type": "bool", "default": True},
        "lambda_arn": {"type": "str"},
        "days": {"type": "int"},
        "schedule_expression": {"type": "str"},
        "duration": {"type": "str"},
        "rotate_immediately": {"type": "bool", "default": False},
    }
    replica = {"region": {"type": "str", "required": True}, "kms_key_id": {"type": "str", "no_log": False}}
    secret = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "value": {"type": "str", "no_log": True},
        "json": {"type": "raw", "no_log": True},
        "binary": {"type": "str", "no_log": True},
        "generate": {"type": "dict", "options": generate},
        "overwrite": {"type": "bool", "default": True},
        "description": {"type": "str"},
        "kms_key_id": {"type": "str", "no_log": False},
        "tags": {"type": "dict"},
        "replica_regions": {"type": "list", "elements": "dict", "options": replica},
        "resource_policy": {"type": "raw"},
        "block_public_policy": {"type": "bool", "default": True},
        "rotation": {"type": "dict", "options": rotation},
        "recovery_window_days": {"type": "int"},
        "force_delete": {"type": "bool"},
    }
    owner_tag = {"key": {"type": "str", "required": True, "no_log": False}, "value": {"type": "str", "required": True}}
    return {
        "secrets": {"type": "list", "elements": "dict", "required": True, "no_log": False, "options": secret},
        "purge": {"type": "bool", "default": False},
        "purge_prefix": {"type": "str"},
        "owner_tag": {"type": "dict", "no_log": False, "options": owner_tag},
        "purge_tags": {"type": "bool", "default": True},
        "recovery_window_days": {"type": "int", "default": spec.DEFAULT_RECOVERY_WINDOW},
        "force_delete": {"type": "bool", "default": False},
        "validate_resource_policies": {"type": "bool", "default": True},
    }


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    settings, desired, problems = spec.parse(module.params, region=module.region)
    if problems:
        module.fail_json(msg=problems.summary(), problems=problems.messages)

    client = aws_client(module, "secretsmanager")
    try:
        current = state.read_current(client, desired, settings)
    except AWS_ERRORS as exc:
        module.fail_json(msg=f"could not list the current secrets, nothing was changed{retry_note(exc)}: {error_summary(exc)}")

    the_plan = planner.plan(desired, current, settings)
    if the_plan.problems:
        module.fail_json(msg=the_plan.problems.summary(), problems=the_plan.problems.messages)
    if settings.validate_resource_policies:
        policy_problems = executor.validate_policies(client, the_plan)
        if policy_problems:
            module.fail_json(msg=policy_problems.summary(), problems=policy_problems.messages)

    outcomes = executor.execute(client, the_plan, check_mode=module.check_mode)
    result = {"changed": any(outcome.changed for outcome in outcomes), "secrets": [outcome.as_dict() for outcome in outcomes]}
    if module._diff:
        applied = None if module.check_mode else {outcome.name: tuple(outcome.changes) for outcome in outcomes}
        result["diff"] = planner.diff_views(the_plan.secrets, applied)
    summary = executor.failure_summary(outcomes)
    if summary:
        module.fail_json(msg=summary, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
