# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.secret_scan import scan_many

DOCUMENTATION = r"""
name: secret_findings
short_description: Where documents that must hold no secret (Application specs, Helm values) hold one
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes named documents, a mapping of a name such as C(Application argocd/traefik) to the document, and returns
    every place that holds secret material, each as C({path, reason}) without the value.
  - Secret material is one of the O(known) values (exact, also inside a longer string or base64-encoded),
    a PEM private key, an AWS access key id, a bcrypt hash, a JSON web token, or a non-empty string under a key
    that names a secret (C(password), C(token), C(privateKey), ...; references such as C(existingSecret) or
    C(passwordSecretRef) are not findings).
  - Run the task that passes O(known) with C(no_log=true); the result itself carries no value.
options:
  _input:
    description: Documents by name.
    type: dict
    required: true
  known:
    description:
      - Secret values that must not appear (shorter than 8 characters are ignored). An item may be a mapping or a
        list, such as the JSON of a Secrets Manager secret, and then every string in it counts.
    type: list
    elements: raw
    default: []
"""

EXAMPLES = r"""
- name: Look for secret material in the Applications
  no_log: true
  ansible.builtin.set_fact:
    findings: "{{ applications | eks_gitops.platform.secret_findings(known=[admin_password]) }}"
"""

RETURN = r"""
_value:
  description: The findings, C({path, reason}).
  type: list
  elements: dict
"""


def secret_findings(documents: Any, known: list[Any] | None = None) -> list[dict[str, str]]:
    if not isinstance(documents, dict):
        raise AnsibleFilterError(f"eks_gitops.platform.secret_findings: the input must be a mapping of names to documents, got {type(documents).__name__}")
    return scan_many(documents, known or ())


class FilterModule:
    """Secret material in documents."""

    def filters(self) -> dict[str, Callable]:
        return {"secret_findings": secret_findings}
