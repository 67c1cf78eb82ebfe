# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's action plugins that run on the controller only (no module, no connection)."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """An action that works on the controller: its arguments are checked against ``ARGUMENT_SPEC`` (the spec its
    documentation module declares) and handed over as plain Python data."""

    TRANSFERS_FILES = False
    _requires_connection = False
    NAME = ""
    ARGUMENT_SPEC: ClassVar[Dict[str, Any]] = {}

    def validated_args(self) -> Dict[str, Any]:
        """The task's arguments, validated, with defaults applied; plain data (templated values may be str subclasses
        that YAML cannot represent)."""
        validated = ArgumentSpecValidator(self.ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            raise AnsibleActionFail(f"{self.NAME}: " + "; ".join(validated.error_messages))
        return dict(json.loads(json.dumps(validated.validated_parameters)))
