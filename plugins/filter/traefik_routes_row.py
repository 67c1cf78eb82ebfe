# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.traefik_routes import routes_row

DOCUMENTATION = r"""
name: traefik_routes_row
short_description: The validate row of Traefik's IngressRoutes, failing on Middlewares Traefik would not resolve
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes IngressRoutes (as the API server returns them) and the Middlewares that exist, and returns the row
    C({check, status, evidence}) of C(playbooks/validate.yml). Traefik drops a route with a Middleware it cannot
    resolve, so the row fails naming each such reference and why; it passes naming the routes, and is skipped
    without routes.
  - A reference to another namespace needs Traefik's C(providers.kubernetesCRD.allowCrossNamespace) (O(allow_cross_namespace));
    a reference to a Middleware that does not exist is reported too.
options:
  _input:
    description: The IngressRoutes.
    type: list
    elements: dict
    required: true
  middlewares:
    description: The Middlewares that exist.
    type: list
    elements: dict
    required: true
  allow_cross_namespace:
    description: Traefik's C(providers.kubernetesCRD.allowCrossNamespace).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The row of the routes
  ansible.builtin.set_fact:
    row: "{{ routes.resources | eks_gitops.platform.traefik_routes_row(middlewares=found.resources) }}"
"""

RETURN = r"""
_value:
  description: The row, C({check, status, evidence}); C(status) is C(pass), C(fail) or C(skipped).
  type: dict
"""


def traefik_routes_row(routes: Any, middlewares: Any, allow_cross_namespace: bool = False) -> dict[str, str]:
    if not isinstance(routes, list) or not isinstance(middlewares, list):
        raise AnsibleFilterError("eks_gitops.platform.traefik_routes_row: the routes and the middlewares must be lists of objects")
    return routes_row(routes, middlewares, bool(allow_cross_namespace))


class FilterModule:
    """The validate row of Traefik's routes."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"traefik_routes_row": traefik_routes_row}
