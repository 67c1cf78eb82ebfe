# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbooks compute from the objects they read: namespace manifests, missing requirements, and the rows
of ``playbooks/validate.yml``.

Plain functions over the dicts the API server (or ``helm template``) returns, so each rule is tested here once and
the playbooks only read, call a filter and report. A row is ``{check, status, evidence}`` with ``status`` one of
``pass``, ``fail``, ``skipped`` (the shape :mod:`module_utils.platform_report` renders).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import yaml
from ansible.module_utils.compat.version import LooseVersion

Row = dict[str, str]

PART_OF = {"app.kubernetes.io/part-of": "eks-gitops-platform"}
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"
OPEN_RANGES = ("0.0.0.0/0", "::/0")
API_SERVICE = "api@internal"
SECRETS_MANAGER_ARN = re.compile(r"arn:[^:]+:secretsmanager:")


def _row(check: str, status: str, evidence: str) -> Row:
    return {"check": check, "status": status, "evidence": evidence}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _qualified(obj: Mapping[str, Any]) -> str:
    return f"{_meta(obj).get('namespace', '')}/{_meta(obj).get('name', '')}"


def namespace_manifests(
    names: Union[Sequence[str], Mapping[str, str]],
    labels: Optional[Mapping[str, str]] = None,
    annotations: Optional[Mapping[str, str]] = None,
) -> list[dict[str, Any]]:
    """Namespace manifests of the platform for ``names`` with ``labels`` and ``annotations``.

    ``names`` is a list, or a mapping of name to the Pod Security level the namespace enforces; then audit and warn
    are ``restricted`` whatever it enforces, so what a chart would break is reported before anyone lowers a level.
    """
    levels: Mapping[str, Optional[str]] = names if isinstance(names, Mapping) else dict.fromkeys(names)
    manifests = []
    for name, level in levels.items():
        metadata: dict[str, Any] = {"name": str(name), "labels": {**PART_OF, **(labels or {})}}
        if level:
            metadata["labels"].update(
                {PSS_ENFORCE: str(level), "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
            )
        if annotations:
            metadata["annotations"] = dict(annotations)
        manifests.append({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    return manifests


def missing_requirements(minimums: Mapping[str, str], found: Mapping[str, Optional[str]]) -> list[str]:
    """``name >= minimum (found)`` for each requirement that is missing or older than its minimum."""
    missing = []
    for name, minimum in minimums.items():
        have = found.get(name)
        if have is None or LooseVersion(str(have)) < LooseVersion(str(minimum)):
            missing.append(f"{name} >= {minimum} ({have or 'not installed'})")
    return missing


def _ready(obj: Mapping[str, Any]) -> tuple[int, int]:
    """(ready, wanted) replicas of a Deployment, StatefulSet or DaemonSet."""
    status = obj.get("status") or {}
    if obj.get("kind") == "DaemonSet":
        return int(status.get("numberReady") or 0), int(status.get("desiredNumberScheduled") or 0)
    replicas = (obj.get("spec") or {}).get("replicas")
    return int(status.get("readyReplicas") or 0), 1 if replicas is None else int(replicas)


def workloads_row(objects: Sequence[Mapping[str, Any]], namespaces: Sequence[str], addons_installed: bool = True) -> Row:
    """``Deployments ready``: every object ready (a DaemonSet that schedules nothing is not), and something running
    in each of ``namespaces``."""
    not_ready = []
    counts: dict[str, int] = {}
    for obj in objects:
        namespace = _meta(obj).get("namespace", "")
        counts[namespace] = counts.get(namespace, 0) + 1
        have, want = _ready(obj)
        if have < want or (obj.get("kind") == "DaemonSet" and want == 0):
            not_ready.append(f"{_qualified(obj)} {have}/{want}")
    empty = [name for name in namespaces if name not in counts]
    evidence = f"{len(objects) - len(not_ready)}/{len(objects)} Deployments, StatefulSets and DaemonSets ready ("
    evidence += ", ".join(f"{name} {count}" for name, count in counts.items()) + ")"
    if not_ready:
        evidence += "; not ready: " + ", ".join(not_ready)
    if empty:
        evidence += "; nothing runs in: " + ", ".join(empty)
    if not addons_installed:
        evidence += "; the add-ons are Argo CD Applications: skipped: needs a live Argo CD"
    return _row("Deployments ready", "pass" if not not_ready and not empty else "fail", evidence)


def namespaces_rows(namespaces: Sequence[Mapping[str, Any]], wanted: Sequence[str]) -> list[Row]:
    """Two rows for the ``wanted`` namespaces: meshed (``linkerd.io/inject=enabled``) and enforcing the restricted
    Pod Security Standard. A wanted namespace that does not exist fails both."""
    wanted = list(dict.fromkeys(wanted))
    found = [ns for ns in namespaces if _meta(ns).get("name") in wanted]
    names = [_meta(ns)["name"] for ns in found]
    missing = [name for name in wanted if name not in names]
    unmeshed = [_meta(ns)["name"] for ns in found if (_meta(ns).get("annotations") or {}).get("linkerd.io/inject") != "enabled"]
    unrestricted = [_meta(ns)["name"] for ns in found if (_meta(ns).get("labels") or {}).get(PSS_ENFORCE) != "restricted"]
    rows = []
    for check, passing, failing, bad in (
        ("Namespaces meshed (linkerd.io/inject)", "linkerd.io/inject=enabled on ", "not meshed or missing: ", unmeshed + missing),
        (
            "Workload namespaces enforce the restricted Pod Security Standard",
            f"{PSS_ENFORCE}=restricted on ",
            "not restricted or missing: ",
            unrestricted + missing,
        ),
    ):
        ok = not bad and bool(names)
        rows.append(_row(check, "pass" if ok else "fail", passing + ", ".join(names) if not bad else failing + ", ".join(bad)))
    return rows


def traefik_api_routes(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The routes of IngressRoutes that serve Traefik's API (``api@internal``): ``{name, middlewares}`` each."""
    found = []
    for obj in objects:
        if obj.get("kind") != "IngressRoute":
            continue
        for route in (obj.get("spec") or {}).get("routes") or []:
            if any(service.get("name") == API_SERVICE for service in route.get("services") or []):
                found.append({"name": _meta(obj).get("name", ""), "middlewares": [m.get("name", "") for m in route.get("middlewares") or []]})
    return found


def traefik_dashboard_row(
    routes: Sequence[Mapping[str, Any]],
    middlewares: Sequence[Mapping[str, Any]],
    auth_users: bool,
    *,
    namespace: str = "traefik",
    auth_secret: str = "dashboard-auth",  # noqa: S107 - the Secret's name, for the evidence
    dashboard_enabled: bool = True,
    addons_installed: bool = True,
) -> Row:
    """``Traefik dashboard requires auth and the allowlist``: each route to the API passes a basicAuth Middleware whose
    Secret holds users, and an ipAllowList Middleware that admits no open range."""
    check = "Traefik dashboard requires auth and the allowlist"
    if not dashboard_enabled:
        return _row(check, "skipped", "skipped: traefik_dashboard_enabled is false")
    if not addons_installed:
        return _row(check, "skipped", "skipped: needs a live Argo CD (Traefik is an Argo CD Application)")
    api_routes = traefik_api_routes(routes)
    if not api_routes:
        return _row(check, "fail", f"no IngressRoute to {API_SERVICE} in {namespace}")
    problems = []
    for route in api_routes:
        used = [m for m in middlewares if _meta(m).get("name") in route["middlewares"]]
        auth = [m for m in used if "basicAuth" in (m.get("spec") or {})]
        allow = [m for m in used if "ipAllowList" in (m.get("spec") or {})]
        if not auth:
            problems.append(f"{route['name']}: no basicAuth Middleware")
        elif not auth_users:
            problems.append(f"{route['name']}: the basicAuth Secret has no users")
        if not allow:
            problems.append(f"{route['name']}: no ipAllowList Middleware")
        for middleware in allow:
            ranges = middleware["spec"]["ipAllowList"].get("sourceRange") or []
            if not ranges or any(open_range in ranges for open_range in OPEN_RANGES):
                problems.append(f"{route['name']}: {_meta(middleware).get('name')} admits every address")
    if problems:
        return _row(check, "fail", "; ".join(problems))
    ranges = list(dict.fromkeys(r for m in middlewares for r in ((m.get("spec") or {}).get("ipAllowList") or {}).get("sourceRange") or []))
    names = ", ".join(route["name"] for route in api_routes)
    used_names = " and ".join(dict.fromkeys(name for route in api_routes for name in route["middlewares"]))
    return _row(check, "pass", f"{names} in {namespace} passes {used_names} (basicAuth with users in Secret {auth_secret}, sourceRange {' '.join(ranges)})")


def _aws_classes(rendered: Iterable[Mapping[str, Any]], cluster: Iterable[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """(source, SecretProviderClass) of the cluster's classes and those the charts render (in the chart's namespace)."""
    classes: list[tuple[str, Mapping[str, Any]]] = [("cluster", spc) for spc in cluster]
    for chart in rendered:
        if chart.get("failed"):
            continue
        namespace = chart.get("namespace") or (chart.get("item") or {}).get("namespace", "")
        for doc in yaml.safe_load_all(chart.get("stdout") or ""):
            if isinstance(doc, dict) and doc.get("kind") == "SecretProviderClass":
                metadata = {**(doc.get("metadata") or {}), "namespace": namespace}
                classes.append(("GitOps repository", {**doc, "metadata": metadata}))
    return classes


def secret_provider_class_references(rendered: Iterable[Mapping[str, Any]], cluster: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Secrets Manager objects the SecretProviderClasses of the AWS provider name, in the cluster and in the
    rendered charts: ``{classes: n, references: [{spc, secret}]}``. A rendered chart is ``{namespace, stdout}`` or a
    result of a ``helm_template`` loop over ``{namespace}`` items; a failed one is passed over (the row reports it)."""
    classes = _aws_classes(rendered, cluster)
    references = []
    for source, spc in classes:
        spec = spc.get("spec") or {}
        if spec.get("provider") != "aws":
            continue
        objects = yaml.safe_load((spec.get("parameters") or {}).get("objects") or "[]") or []
        for obj in objects:
            name = str(obj.get("objectName", ""))
            if obj.get("objectType", "secretsmanager") == "secretsmanager" or SECRETS_MANAGER_ARN.match(name):
                references.append({"spc": f"{source} {_qualified(spc)}", "secret": name})
    return {"classes": len(classes), "references": references}


def spc_secrets_row(references: Sequence[Mapping[str, str]], found: Mapping[str, bool], classes: int, render_errors: Sequence[str] = ()) -> Row:
    """``SecretProviderClasses reference existing secrets``: ``found`` says which named secret exists."""
    check = "SecretProviderClasses reference existing secrets"
    missing = [name for name, exists in found.items() if not exists]
    sources = ", ".join(dict.fromkeys(ref["spc"] for ref in references))
    prefix = f"the charts of {', '.join(render_errors)} do not render; " if render_errors else ""
    if missing:
        return _row(check, "fail", f"{prefix}missing in Secrets Manager: {', '.join(missing)} (named by {sources})")
    if not references:
        return _row(check, "fail" if render_errors else "skipped", prefix + "skipped: no SecretProviderClass names a Secrets Manager secret")
    evidence = f"{classes} SecretProviderClass(es) ({sources}) name {len(found)} secret(s), all in Secrets Manager: {', '.join(found)}"
    return _row(check, "fail" if render_errors else "pass", prefix + evidence)


def application_specs(cluster: Iterable[Mapping[str, Any]], files: Mapping[str, str], root: str = "") -> dict[str, dict[str, Any]]:
    """The specs of the Applications in the cluster and in the repository's ``files`` (path to text), keyed by where
    they are: ``{cluster: {"cluster ns/name": spec}, repository: {"repository path name": spec}}``."""
    in_cluster = {f"cluster {_qualified(app)}": app.get("spec") or {} for app in cluster}
    in_repository = {}
    prefix = root.rstrip("/") + "/" if root else ""
    for path, text in files.items():
        relative = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        for doc in yaml.safe_load_all(text or ""):
            if isinstance(doc, dict) and doc.get("kind") == "Application":
                in_repository[f"repository {relative} {_meta(doc).get('name', '')}"] = doc.get("spec") or {}
    return {"cluster": in_cluster, "repository": in_repository}
