# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Middlewares of Traefik's IngressRoutes Traefik would not resolve.

Traefik looks a route's Middleware up in the route's own namespace unless the reference names another namespace,
and a reference to another namespace only works with ``providers.kubernetesCRD.allowCrossNamespace``: otherwise
Traefik drops the whole route (and the route silently serves nothing). A reference to a Middleware that does not
exist does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RouteProblem:
    route: str
    middleware: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"route": self.route, "middleware": self.middleware, "reason": self.reason}


def route_problems(routes: list[dict[str, Any]], middlewares: list[dict[str, Any]], allow_cross_namespace: bool = False) -> list[RouteProblem]:
    """Every Middleware reference of ``routes`` Traefik would not resolve (cross-namespace, or missing)."""
    existing = {(item["metadata"].get("namespace", ""), item["metadata"]["name"]) for item in middlewares}
    problems = []
    for route in routes:
        namespace = route["metadata"].get("namespace", "")
        name = f"{namespace}/{route['metadata']['name']}"
        for rule in (route.get("spec") or {}).get("routes") or []:
            for reference in rule.get("middlewares") or []:
                target = (reference.get("namespace") or namespace, reference.get("name", ""))
                label = f"{target[0]}/{target[1]}"
                if target[0] != namespace and not allow_cross_namespace:
                    problems.append(RouteProblem(name, label, "in another namespace, and Traefik's allowCrossNamespace is off"))
                elif target not in existing:
                    problems.append(RouteProblem(name, label, "does not exist"))
    return sorted(set(problems), key=lambda problem: (problem.route, problem.middleware))


def routes_row(routes: list[dict[str, Any]], middlewares: list[dict[str, Any]], allow_cross_namespace: bool = False) -> dict[str, str]:
    """The validate row of the routes: ``fail`` naming each unresolved Middleware, ``pass`` naming the routes, or
    ``skipped`` when there is no IngressRoute."""
    problems = route_problems(routes, middlewares, allow_cross_namespace)
    row = {"check": "Traefik routes use Middlewares Traefik resolves"}
    if problems:
        return {**row, "status": "fail", "evidence": "; ".join(f"{p.route}: {p.middleware}: {p.reason}" for p in problems)}
    if not routes:
        return {**row, "status": "skipped", "evidence": "no IngressRoute"}
    names = sorted(f"{route['metadata'].get('namespace', '')}/{route['metadata']['name']}" for route in routes)
    return {**row, "status": "pass", "evidence": f"{len(names)} IngressRoute(s), each with Middlewares of its own namespace: {', '.join(names)}"}
