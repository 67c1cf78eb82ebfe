# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.bootstrap_plan import tagged_secrets as _tagged_secrets

DOCUMENTATION = r"""
name: tagged_secrets
short_description: The inventory's secrets with the platform's tags and KMS key
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Adds O(tags) to every secret (a secret's own tags win) and O(kms_key_id) to every secret without one, for
    C(eks_gitops.platform.secretsmanager_secrets). Values pass through untouched and are never shown.
options:
  _input:
    description: The secrets (C(platform_secrets)).
    type: list
    elements: dict
    required: true
  tags:
    description: Tags of every AWS resource of the platform.
    type: dict
    default: {}
  kms_key_id:
    description: KMS key of the secrets that do not name one (empty for the account's default).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Write the secrets
  eks_gitops.platform.secretsmanager_secrets:
    secrets: "{{ platform_secrets | eks_gitops.platform.tagged_secrets(tags=platform_aws_tags) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The secrets, tagged.
  type: list
  elements: dict
"""


def tagged_secrets(secrets: Any, tags: Any = None, kms_key_id: str = "") -> list[dict[str, Any]]:
    if not isinstance(secrets, list) or not all(isinstance(secret, dict) for secret in secrets):
        raise AnsibleFilterError("eks_gitops.platform.tagged_secrets: the secrets must be a list of dicts")
    return _tagged_secrets(secrets, tags or {}, kms_key_id or "")


class FilterModule:
    """The inventory's secrets, tagged."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"tagged_secrets": tagged_secrets}
