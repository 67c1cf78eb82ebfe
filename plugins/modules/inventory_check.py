#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_check
short_description: Check every variable of an inventory against the platform's declared spec, before any write
version_added: 0.1.0
description:
  - The inventory check of the bootstrap's preflight. It runs on the controller (an action plugin) and reads only.
  - Every C(platform_*) variable the play sees is checked against O(spec) (the options of a role's
    C(meta/argument_specs.yml), with C(format) and C(file) keys of its own), and every variable with a role's
    prefix (C(argocd_), C(traefik_), ...) against that role's C(meta/argument_specs.yml). Types, C(required) and
    C(choices) go through Ansible's argument spec validator, the one behind C(ansible.builtin.validate_argument_spec);
    domains, URLs, versions, CIDR ranges, AWS account ids, regions, ARNs and names are checked by format, and a few
    rules across variables (an environment missing from C(platform_gitops_environments), meshed namespaces that
    enforce C(restricted) without Linkerd's CNI plugin, production without a real certificate).
  - A variable with the platform's or a role's prefix that no spec knows is refused as a typo.
  - It fails once, listing every problem with the variable's name, its group_vars file and what is wrong. No message
    quotes a secret value.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  spec:
    description: The inventory spec file (C(playbooks/vars/inventory_spec.yml)).
    type: path
    required: true
  roles_dir:
    description: Directory of the roles whose argument specs and defaults are read; default the collection's.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as in a run.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  action:
    support: full
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Check the inventory against its spec
  eks_gitops.platform.inventory_check:
    spec: "{{ playbook_dir }}/vars/inventory_spec.yml"
"""

RETURN = r"""
checked:
  description: How many variables were checked.
  type: int
  returned: always
problems:
  description: "Every problem, each as C(<variable> (<file>): <what is wrong>)."
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={"spec": {"type": "path", "required": True}, "roles_dir": {"type": "path"}}, supports_check_mode=True)
    module.fail_json(msg="eks_gitops.platform.inventory_check runs on the controller as an action plugin; it cannot run as a module")


if __name__ == "__main__":
    main()
