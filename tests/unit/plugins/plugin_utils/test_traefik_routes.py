"""Which Middlewares of IngressRoutes Traefik would not resolve (and so drop the route)."""

from __future__ import annotations

from typing import Any

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.traefik_routes import route_problems, routes_row


def route(namespace: str, name: str, *middlewares: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"routes": [{"match": "Host(`x`)", "middlewares": list(middlewares)}]}}


def middleware(namespace: str, name: str) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name}}


MIDDLEWARES = [middleware("shop", "shop-headers"), middleware("traefik", "default-headers")]


def test_a_middleware_of_the_routes_own_namespace_resolves() -> None:
    assert (
        route_problems([route("shop", "web", {"name": "shop-headers"}), route("shop", "api", {"name": "shop-headers", "namespace": "shop"})], MIDDLEWARES) == []
    )


def test_a_middleware_of_another_namespace_is_dropped_unless_allowed() -> None:
    routes = [route("shop", "web", {"name": "default-headers", "namespace": "traefik"})]
    (problem,) = route_problems(routes, MIDDLEWARES)
    assert (problem.route, problem.middleware) == ("shop/web", "traefik/default-headers")
    assert "allowCrossNamespace is off" in problem.reason
    assert route_problems(routes, MIDDLEWARES, allow_cross_namespace=True) == []


def test_a_missing_middleware_is_reported() -> None:
    (problem,) = route_problems([route("shop", "web", {"name": "gone"})], MIDDLEWARES)
    assert (problem.middleware, problem.reason) == ("shop/gone", "does not exist")


def test_the_row_fails_naming_each_reference_passes_naming_the_routes_and_is_skipped_without_routes() -> None:
    broken = routes_row([route("shop", "web", {"name": "default-headers", "namespace": "traefik"}), route("shop", "api", {"name": "gone"})], MIDDLEWARES)
    assert broken["status"] == "fail"
    assert broken["evidence"] == (
        "shop/api: shop/gone: does not exist; shop/web: traefik/default-headers: in another namespace, and Traefik's allowCrossNamespace is off"
    )
    fine = routes_row([route("shop", "web", {"name": "shop-headers"}), route("argocd", "argocd-server")], MIDDLEWARES)
    assert fine == {
        "check": "Traefik routes use Middlewares Traefik resolves",
        "status": "pass",
        "evidence": "2 IngressRoute(s), each with Middlewares of its own namespace: argocd/argocd-server, shop/web",
    }
    assert routes_row([], MIDDLEWARES)["status"] == "skipped"
