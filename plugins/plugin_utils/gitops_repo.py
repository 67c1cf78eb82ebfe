# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps repository of the gitops_repo role: which files it holds, who owns each, what a render changes.

Plain functions over plain data, used by the ``eks_gitops.platform.gitops_repo_sync`` action plugin and unit-tested
without Ansible. The plugin renders the templates; everything that decides is here:

* :func:`complete_workloads` fills in every key of a workload;
* :func:`plan_files` lists the files one render writes: the shared ones (workflows, the workload charts) and
  those of the environments this render owns (their Applications, chart values and CI settings);
* :func:`environment_values` and :func:`environment_settings` build the per-environment data files;
* :func:`decide` compares what is planned with what is on disk and in the manifest, and returns the
  :class:`SyncPlan`: files to create, update or remove, conflicts, and the manifest after the run.

Ownership. The manifest (``.eks-gitops-scaffold.json`` by default) maps every file the role wrote to the
environments whose renders write it. One inventory renders one environment (or several), so two inventories of
different accounts render into one repository in turn: a render writes the shared files and its own
environments' files, and removes only files no environment renders any more. It never touches a file owned by
another environment alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

MANIFEST_DESCRIPTION = (
    "Files written by the eks_gitops.platform gitops_repo role, each with the environments whose renders write it. "
    "A render rewrites only these, and removes those no environment renders any more; every other file here is left as it is."
)
VALUES_HEADER = """\
# {workload} in {environment}: the values Argo CD applies over values.yaml ({application}).
# Rendered by the eks_gitops.platform gitops_repo role from the {environment} inventory: change its variables, not this file.
# image.tag belongs to the ci-build-deploy workflow, which sets it; a re-render keeps the tag.
"""
SETTINGS_HEADER = "The {environment} environment's settings for the workflows, rendered by the gitops_repo role from its inventory."
SETTINGS_DIR = ".github/environments"
FILE_MODE = "0644"
KEPT_PATHS = (("image", "tag"),)
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_RELEASE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$")


class GitopsRepoError(Exception):
    """Bad input or a repository the role may not write; the message names what is wrong."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Settings:
    """What the plan and the per-environment files are made of (the role's variables, resolved)."""

    environments: list[str]
    render_environments: list[str]
    applications_path: str
    workloads: list[dict[str, Any]]
    repo_url: str
    aws_account_id: str
    aws_region: str
    ecr_registry: str
    ci_role_arn: str
    workload_role_arn: str
    secret_name: str
    host: str
    use_pod_identity: bool
    eks_cluster_name: str
    argocd_namespace: str
    initial_image_tag: str
    service_monitor: bool
    environment_values: dict[str, dict[str, Any]] = field(default_factory=dict)


def complete_workloads(workloads: list[dict[str, Any]], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Every workload with every key: the given ones, then ``defaults``, then those derived from the name."""
    completed = []
    for workload in workloads:
        given = {key: value for key, value in workload.items() if value is not None}
        name = given.get("name", "")
        full = {"namespace": name, "image_repository": name, "build_context": f"src/{name}", **copy.deepcopy(defaults), **given}
        full["dockerfile"] = full.get("dockerfile") or f"{full['build_context']}/Dockerfile"
        completed.append(full)
    return completed


def problems(settings: Settings, repo_url_pattern: str = r"^(https://|http://|ssh://|git@|file://)") -> list[str]:
    """Every problem of the settings, each naming its variable (empty when they are fine)."""
    found = []
    if not re.match(repo_url_pattern, settings.repo_url) or re.search(r"\s", settings.repo_url):
        found.append(
            "gitops_repo_repo_url must be a Git URL (https://, ssh://, git@, or http:// / file:// for a local remote) "
            f"without spaces, not {settings.repo_url!r}"
        )
    if not re.fullmatch(r"[0-9]{12}", settings.aws_account_id):
        found.append(f"gitops_repo_aws_account_id must be the 12 digits of an AWS account, not {settings.aws_account_id!r}")
    if "{env}" not in settings.applications_path:
        found.append("gitops_repo_applications_path must contain {env}, or every environment would share one directory")
    if not settings.environments:
        found.append("gitops_repo_environments is empty")
    if len(set(settings.environments)) != len(settings.environments):
        found.append("gitops_repo_environments lists an environment twice")
    found += [
        f"gitops_repo_environments: {env} is not a DNS label (lower case letters, digits and -)" for env in settings.environments if not _LABEL.match(env)
    ]
    found += [
        f"gitops_repo_render_environments: {env} is not one of gitops_repo_environments ({', '.join(settings.environments)})"
        for env in settings.render_environments
        if env not in settings.environments
    ]
    if not settings.render_environments:
        found.append("gitops_repo_render_environments is empty")
    names = [str(workload.get("name", "")) for workload in settings.workloads]
    if not names:
        found.append("gitops_repo_workloads is empty")
    if len(set(names)) != len(names):
        found.append("gitops_repo_workloads lists a workload name twice")
    found += [
        f"gitops_repo_workloads: {name} is not a valid Helm release name (DNS label, at most 53 characters)" for name in names if not _RELEASE.match(name)
    ]
    return found


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlannedFile:
    """One file of a render: ``kind`` is template (rendered from ``source``), values or settings (data written as YAML/JSON)."""

    path: str
    kind: str
    source: str = ""
    workload: str = ""
    environment: str = ""


def application_path(applications_path: str, environment: str, workload: str) -> str:
    return f"{applications_path.replace('{env}', environment).strip('/')}/{workload}.yaml"


def values_path(workload: str, environment: str) -> str:
    return f"charts/{workload}/ci/{environment}-values.yaml"


def settings_path(environment: str) -> str:
    return f"{SETTINGS_DIR}/{environment}.json"


def plan_files(settings: Settings, repo_files: list[str], chart_files: list[str]) -> list[PlannedFile]:
    """The files this render writes: the shared ones, then those of each environment it renders."""
    planned = [PlannedFile(path, "template", f"repo/{path}.j2") for path in repo_files]
    for workload in settings.workloads:
        name = workload["name"]
        planned += [PlannedFile(f"charts/{name}/{path}", "template", f"chart/{path}.j2", workload=name) for path in chart_files]
    for environment in settings.render_environments:
        planned.append(PlannedFile(settings_path(environment), "settings", environment=environment))
        for workload in settings.workloads:
            name = workload["name"]
            planned.append(PlannedFile(values_path(name, environment), "values", workload=name, environment=environment))
            planned.append(
                PlannedFile(
                    application_path(settings.applications_path, environment, name),
                    "template",
                    "applications/application.yaml.j2",
                    workload=name,
                    environment=environment,
                )
            )
    return planned


def owners_of(planned: PlannedFile, settings: Settings) -> list[str]:
    """The environments on whose behalf this render writes ``planned``."""
    return [planned.environment] if planned.environment else sorted(settings.render_environments)


def deep_merge(base: dict[str, Any], *overlays: dict[str, Any]) -> dict[str, Any]:
    """``base`` with each overlay merged in turn: dicts recursively, anything else replaced."""
    merged = copy.deepcopy(base)
    for overlay in overlays:
        for key, value in (overlay or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def _substitute(pattern: str, workload: str, environment: str) -> str:
    return pattern.replace("{workload}", workload).replace("{env}", environment)


def environment_values(settings: Settings, workload: dict[str, Any], environment: str, current: dict[str, Any] | None) -> dict[str, Any]:
    """The data of ``charts/<workload>/ci/<environment>-values.yaml``: generated, merged with the sizing and the
    workload's own values, with the image tag found in ``current`` (the file on disk) kept."""
    name = workload["name"]
    secret_keys = workload.get("secret_keys") or []
    generated: dict[str, Any] = {
        "environment": environment,
        "image": {"repository": f"{settings.ecr_registry}/{workload['image_repository']}", "tag": str(settings.initial_image_tag or "")},
        "serviceAccount": {"roleArn": _substitute(settings.workload_role_arn, name, environment)},
        "secrets": {
            "enabled": bool(secret_keys),
            "region": settings.aws_region,
            "usePodIdentity": bool(settings.use_pod_identity),
            "objects": (
                [{"objectName": _substitute(settings.secret_name, name, environment), "objectType": "secretsmanager", "jmesPath": secret_keys}]
                if secret_keys
                else []
            ),
        },
        "ingressRoute": {"host": _substitute(settings.host, name, environment)},
        "serviceMonitor": {"enabled": bool(settings.service_monitor)},
    }
    values = deep_merge(
        generated,
        settings.environment_values.get(environment) or {},
        workload.get("chart_values") or {},
        (workload.get("environment_chart_values") or {}).get(environment) or {},
    )
    for path in KEPT_PATHS:
        found: Any = current or {}
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if found not in (None, ""):
            target = values
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = str(found)
    return values


def environment_settings(settings: Settings, environment: str) -> dict[str, Any]:
    """The data of ``.github/environments/<environment>.json``: what the workflows need to act on that environment."""
    return {
        "environment": environment,
        "aws_account_id": settings.aws_account_id,
        "aws_region": settings.aws_region,
        "ecr_registry": settings.ecr_registry,
        "ci_role_arn": settings.ci_role_arn,
        "eks_cluster_name": _substitute(settings.eks_cluster_name, "", environment),
        "argocd_namespace": settings.argocd_namespace,
        "workloads": {
            workload["name"]: {"image_repository": workload["image_repository"], "namespace": _substitute(workload["namespace"], workload["name"], environment)}
            for workload in settings.workloads
        },
    }


def values_document(settings: Settings, workload: dict[str, Any], environment: str, values: dict[str, Any]) -> str:
    header = VALUES_HEADER.format(
        workload=workload["name"], environment=environment, application=application_path(settings.applications_path, environment, workload["name"])
    )
    return header + yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1000, indent=2)


def settings_document(settings: Settings, environment: str) -> str:
    data = {"_comment": SETTINGS_HEADER.format(environment=environment), **environment_settings(settings, environment)}
    return json.dumps(data, indent=2) + "\n"


# --------------------------------------------------------------------------- the manifest


def scope_of(path: str, applications_path: str, environments: list[str]) -> str:
    """The environment a path of an older manifest (a plain list) belongs to, or '' for a shared file."""
    for environment in environments:
        prefix = applications_path.replace("{env}", environment).strip("/") + "/"
        if path.startswith(prefix) or path == settings_path(environment) or re.fullmatch(rf"charts/[^/]+/ci/{re.escape(environment)}-values\.yaml", path):
            return environment
    return ""


def read_manifest(text: str | None, settings: Settings) -> dict[str, list[str]]:
    """The manifest as path -> owning environments. The older form (a list of paths, written when one render
    wrote every environment) gives each per-environment file its environment and each shared file all of them."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise GitopsRepoError(f"the manifest is not JSON ({exc}): fix or remove it") from exc
    files = data.get("files") if isinstance(data, dict) else None
    if isinstance(files, list):
        legacy = {}
        for path in map(str, files):
            scope = scope_of(path, settings.applications_path, settings.environments)
            legacy[path] = [scope] if scope else sorted(settings.environments)
        return legacy
    if isinstance(files, dict):
        return {str(path): sorted({str(owner) for owner in owners}) for path, owners in files.items() if isinstance(owners, list)}
    raise GitopsRepoError("the manifest has no 'files': fix or remove it")


def manifest_document(files: dict[str, list[str]]) -> str:
    return json.dumps({"description": MANIFEST_DESCRIPTION, "files": dict(sorted(files.items()))}, indent=2) + "\n"


# --------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class OnDisk:
    """A file as found: its bytes and mode (None when it does not exist)."""

    content: bytes | None
    mode: str = FILE_MODE


@dataclass(frozen=True)
class Desired:
    """A file as the render wants it; ``data`` (when set) is compared instead of the bytes for YAML/JSON data files,
    so a file whose data is right is left alone however it is laid out."""

    content: bytes
    data: Any = None


@dataclass
class SyncPlan:
    conflicts: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    manifest: dict[str, list[str]] = field(default_factory=dict)
    manifest_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.remove or self.manifest_changed)

    @property
    def touched(self) -> list[str]:
        """Every path the run writes or removes."""
        return sorted(self.create + self.update + self.remove)


def parse_data(path: str, content: bytes) -> Any:
    """The data of a YAML or JSON file, or None when it does not parse."""
    try:
        if path.endswith(".json"):
            return json.loads(content)
        return yaml.safe_load(content)
    except (ValueError, yaml.YAMLError):
        return None


def same(path: str, desired: Desired, found: OnDisk) -> bool:
    if found.content is None or found.mode != FILE_MODE:
        return False
    if desired.data is not None:
        return parse_data(path, found.content) == desired.data
    return found.content == desired.content


def decide(
    desired: dict[str, Desired],
    owners: dict[str, list[str]],
    on_disk: dict[str, OnDisk],
    manifest: dict[str, list[str]],
    settings: Settings,
    *,
    adopt_existing: bool,
    prune: bool,
) -> SyncPlan:
    """What one render does: the ``desired`` files (with the environments writing each, ``owners``) against what is
    on disk and in the ``manifest`` of the previous renders.

    A file in the manifest stays as long as an environment renders it: this render takes its own environments off
    the files it no longer writes, and every render forgets environments the repository no longer has
    (``settings.environments``). A file left without an environment is removed (``prune``); a file of another
    environment is never touched."""
    plan = SyncPlan()
    rendering = set(settings.render_environments)
    known = set(settings.environments)
    after: dict[str, list[str]] = {}
    for path in sorted(desired):
        found = on_disk.get(path, OnDisk(None))
        if found.content is not None and path not in manifest and not adopt_existing:
            plan.conflicts.append(path)
            continue
        after[path] = sorted((set(manifest.get(path, [])) & known) | set(owners[path]))
        if found.content is None:
            plan.create.append(path)
        elif not same(path, desired[path], found):
            plan.update.append(path)
    if plan.conflicts:
        return SyncPlan(conflicts=plan.conflicts, manifest=manifest)
    for path, found_owners in sorted(manifest.items()):
        if path in desired:
            continue
        remaining = sorted(set(found_owners) & known - rendering)
        if remaining:
            after[path] = remaining
        elif not prune:
            after[path] = found_owners
        elif on_disk.get(path, OnDisk(None)).content is not None:
            plan.remove.append(path)
    plan.manifest = after
    plan.manifest_changed = after != manifest
    return plan


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
