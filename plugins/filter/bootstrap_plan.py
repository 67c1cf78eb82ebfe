# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.bootstrap_plan import plan

DOCUMENTATION = r"""
name: bootstrap_plan
short_description: What the playbooks derive from an inventory (workloads, IAM roles, ARNs, expected Applications)
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes the inventory's values (C(bootstrap_inputs) of C(playbooks/vars/bootstrap.yml)) and returns the names,
    ARNs and lists every phase uses the same way, as one dict.
  - C(workloads) (each with C(namespace), C(service_account), C(role_name), C(role_arn), C(secret_name),
    C(image_repository), C(ecr_arn)), C(workload_namespaces), C(addon_roles), C(addon_role_arns), C(iam_roles) (what
    the aws phase writes), C(github_actions_role_arn), C(github_actions_subjects), C(gitops_cluster_names),
    C(gitops_cluster_arns), C(ecr_arns), C(cluster_role_arns), C(argocd_repo_server_role_arn),
    C(expected_applications), C(partition), C(account_id), C(iam_arn_prefix), C(workload_identity).
options:
  _input:
    description: The inventory's values, keyed as C(bootstrap_inputs) keys them.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The IAM roles of the environment
  ansible.builtin.debug:
    msg: "{{ (bootstrap_inputs | eks_gitops.platform.bootstrap_plan).iam_roles | map(attribute='role_name') }}"
"""

RETURN = r"""
_value:
  description: The plan (see the description for its keys).
  type: dict
"""


def bootstrap_plan(inputs: Any) -> dict[str, Any]:
    if not isinstance(inputs, dict):
        raise AnsibleFilterError("eks_gitops.platform.bootstrap_plan: the input must be a dict of the inventory's values")
    try:
        return plan(inputs)
    except KeyError as error:
        raise AnsibleFilterError(f"eks_gitops.platform.bootstrap_plan: {error.args[0]} is missing") from error


class FilterModule:
    """The bootstrap plan of an inventory."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"bootstrap_plan": bootstrap_plan}
