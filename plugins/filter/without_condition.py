# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: without_condition
short_description: The named Kubernetes objects that do not have a status condition set to True
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes the C(resources) of M(kubernetes.core.k8s_info) and returns, in the order given, the names among O(names)
    whose object is missing or has no C(status.conditions) entry of type O(condition) with status C(True).
  - The bounded waits of the C(chart_release) role repeat one read of a kind until this is empty.
options:
  _input:
    description: The objects read, each with C(metadata.name) and optionally C(status.conditions).
    type: list
    elements: dictionary
    required: true
  names:
    description: The names of the objects that must have the condition.
    type: list
    elements: string
    required: true
  condition:
    description: The condition type, for example C(Available) or C(Established).
    type: string
    required: true
"""

EXAMPLES = r"""
- name: Wait until the Deployments are Available
  kubernetes.core.k8s_info:
    api_version: apps/v1
    kind: Deployment
    namespace: traefik
  register: found
  until: found.resources | eks_gitops.platform.without_condition(['traefik'], 'Available') | length == 0
  retries: 60
  delay: 5
"""

RETURN = r"""
_value:
  description: The names of O(names) whose object lacks the condition, in the order of O(names).
  type: list
  elements: string
"""


def without_condition(resources: Any, names: Any, condition: Any) -> list[str]:
    if not isinstance(resources, list) or not all(isinstance(item, Mapping) for item in resources):
        raise AnsibleFilterError("eks_gitops.platform.without_condition: the input must be a list of objects (k8s_info resources)")
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise AnsibleFilterError("eks_gitops.platform.without_condition: names must be a list of object names")
    if not isinstance(condition, str) or not condition:
        raise AnsibleFilterError("eks_gitops.platform.without_condition: condition must be a condition type such as Available")
    ready = {
        (item.get("metadata") or {}).get("name")
        for item in resources
        if any(
            isinstance(found, Mapping) and found.get("type") == condition and str(found.get("status")) == "True"
            for found in ((item.get("status") or {}).get("conditions") or [])
        )
    }
    return [str(name) for name in names if name not in ready]


class FilterModule:
    """Which named objects lack a status condition."""

    def filters(self) -> dict[str, Callable]:
        return {"without_condition": without_condition}
