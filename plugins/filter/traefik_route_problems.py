# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.traefik_routes import route_problems

DOCUMENTATION = r"""
name: traefik_route_problems
short_description: The Middlewares of Traefik IngressRoutes that Traefik would not resolve
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes IngressRoutes (as the API server returns them) and returns every Middleware reference Traefik would not
    resolve, each as C({route, middleware, reason}). Traefik drops a route with such a reference.
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
- name: Find the routes Traefik would drop
  ansible.builtin.set_fact:
    dropped: "{{ routes.resources | eks_gitops.platform.traefik_route_problems(middlewares=found.resources) }}"
"""

RETURN = r"""
_value:
  description: The problems, C({route, middleware, reason}).
  type: list
  elements: dict
"""


def traefik_route_problems(routes: Any, middlewares: Any, allow_cross_namespace: bool = False) -> list[dict[str, str]]:
    if not isinstance(routes, list) or not isinstance(middlewares, list):
        raise AnsibleFilterError("eks_gitops.platform.traefik_route_problems: the routes and the middlewares must be lists of objects")
    return [problem.as_dict() for problem in route_problems(routes, middlewares, bool(allow_cross_namespace))]


class FilterModule:
    """Traefik routes that would be dropped."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"traefik_route_problems": traefik_route_problems}
