# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of eks_gitops.platform.inventory_check: check every variable an inventory sets against the
inventory spec and the roles' argument specs, before anything is written.

The checks live in plugin_utils/inventory_check.py (unit-tested); this file reads the spec files and templates the
inventory's variables, each on its own, with the roles' defaults beneath them (an inventory value may refer to
one, such as linkerd_gateway_api_version).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible.utils.vars import combine_vars

from ansible_collections.eks_gitops.platform.plugins.plugin_utils import inventory_check
from ansible_collections.eks_gitops.platform.plugins.plugin_utils.controller_action import ControllerAction

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ARGUMENT_SPEC: dict[str, Any] = {
    "spec": {"type": "path", "required": True},
    "roles_dir": {"type": "path"},
}


class ActionModule(ControllerAction):
    NAME = "inventory_check"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self.validated_args()
        roles_dir = Path(args["roles_dir"] or ROLES_DIR)
        spec_file = self._loader.load_from_file(args["spec"])
        role_specs = {path.parent.parent.name: self._loader.load_from_file(str(path)) for path in sorted(roles_dir.glob("*/meta/argument_specs.yml"))}
        spec = inventory_check.Spec.build(spec_file, role_specs)

        defaults: dict[str, Any] = {}
        for path in sorted(roles_dir.glob("*/defaults/main.yml")):
            defaults = combine_vars(defaults, self._loader.load_from_file(str(path), trusted_as_template=True) or {})
        templar = self._templar.copy_with_new_env(available_variables=combine_vars(defaults, task_vars))

        names = sorted(name for name in task_vars if name.startswith("platform_") or spec.role_of(name))
        values: dict[str, Any] = {}
        unresolved: dict[str, str] = {}
        for name in names:
            try:
                # Plain data from here on (no Ansible tags), so that checks and messages see what the roles will.
                values[name] = json.loads(json.dumps(templar.template(task_vars[name])))
            except Exception as error:  # pylint: disable=broad-exception-caught
                unresolved[name] = _first_line(error)
        problems = inventory_check.check(values, spec, unresolved)
        result.update(changed=False, checked=len(values), problems=[str(problem) for problem in problems])
        if problems:
            where = task_vars.get("inventory_dir", "the inventory")
            result["failed"] = True
            result["msg"] = f"{where}: {len(problems)} setting(s) to fix under group_vars/all/ (nothing was written): " + "; ".join(result["problems"])
        else:
            result["msg"] = f"{len(values)} variables of the inventory checked"
        return result


def _first_line(error: Exception) -> str:
    """The first line of a templating error (it names the undefined variable; it never holds a value)."""
    return (getattr(error, "message", None) or str(error)).strip().splitlines()[0]
