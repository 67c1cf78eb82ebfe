# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of the playbooks' checks and manifests; each is documented in the ``.yml`` file of its name beside
this one, and its logic is :mod:`plugin_utils.platform_checks`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.plugin_utils import platform_checks


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with input of the wrong shape reported as the filter's error."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AnsibleFilterError(f"eks_gitops.platform.{name}: unexpected input ({type(exc).__name__}: {exc})") from None

    return run


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def workloads_row(objects: Any, namespaces: Any, addons_installed: Any = True) -> dict[str, str]:
    return platform_checks.workloads_row(objects, namespaces, _bool(addons_installed))


def traefik_dashboard_row(
    routes: Any, middlewares: Any, auth_users: Any, dashboard_enabled: Any = True, addons_installed: Any = True, **names: Any
) -> dict[str, str]:
    return platform_checks.traefik_dashboard_row(
        routes, middlewares, _bool(auth_users), dashboard_enabled=_bool(dashboard_enabled), addons_installed=_bool(addons_installed), **names
    )


def spc_secrets_row(references: Any, found: Any, classes: Any, render_errors: Any = ()) -> dict[str, str]:
    if not isinstance(found, Mapping):
        raise TypeError("found must map each secret name to whether it exists")
    return platform_checks.spc_secrets_row(references, found, int(classes), list(render_errors))


FILTERS: dict[str, Callable[..., Any]] = {
    "namespace_manifests": platform_checks.namespace_manifests,
    "missing_requirements": platform_checks.missing_requirements,
    "workloads_row": workloads_row,
    "namespaces_rows": platform_checks.namespaces_rows,
    "traefik_api_routes": platform_checks.traefik_api_routes,
    "traefik_dashboard_row": traefik_dashboard_row,
    "secret_provider_class_references": platform_checks.secret_provider_class_references,
    "spc_secrets_row": spc_secrets_row,
    "application_specs": platform_checks.application_specs,
}


class FilterModule:
    """Manifests and validate rows computed from what the playbooks read."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {name: _guarded(name, function) for name, function in FILTERS.items()}
