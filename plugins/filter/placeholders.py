# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.placeholders import DEFAULT_MARKERS, find_placeholders

DOCUMENTATION = r"""
name: placeholders
short_description: Where variables still hold a placeholder such as CHANGE_ME
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Walks a mapping of variable names to values (nested mappings and lists too) and returns the path of every
    string that contains one of the O(markers), for example C(argocd_domain) or C(platform_secrets[1].json.host).
  - Only paths are returned, never values, so the result is safe to print even when vaulted values were searched.
options:
  _input:
    description: Variable names and their values.
    type: dict
    required: true
  markers:
    description: The placeholder markers.
    type: list
    elements: string
    default: [CHANGE_ME]
  ignore:
    description: Variable names not to look at.
    type: list
    elements: string
    default: []
"""

EXAMPLES = r"""
- name: Refuse placeholders
  vars:
    found: >-
      {{ dict(query('ansible.builtin.varnames', '^platform_') | zip(query('ansible.builtin.vars', *query('ansible.builtin.varnames', '^platform_'))))
         | eks_gitops.platform.placeholders }}
  ansible.builtin.assert:
    that: found | length == 0
    fail_msg: "replace the placeholders in the inventory: {{ found | join(', ') }}"
"""

RETURN = r"""
_value:
  description: Paths of the values that hold a marker, sorted by variable name.
  type: list
  elements: string
"""


def placeholders(variables: Any, markers: list[str] | None = None, ignore: list[str] | None = None) -> list[str]:
    try:
        return find_placeholders(variables, markers or list(DEFAULT_MARKERS), ignore or ())
    except ValueError as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.placeholders: {exc}") from None


class FilterModule:
    """Placeholders left in an inventory."""

    def filters(self) -> dict[str, Callable]:
        return {"placeholders": placeholders}
