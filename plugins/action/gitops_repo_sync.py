# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of eks_gitops.platform.gitops_repo_sync: render the GitOps repository into a directory of the
controller, write only what differs, prune what the role no longer renders, then commit and push (optional).

The decisions live in plugin_utils/gitops_repo.py (unit-tested); this file reads, renders and writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.loader import lookup_loader

from ansible_collections.eks_gitops.platform.plugins.module_utils.gitops_repo_spec import ARGUMENT_SPEC
from ansible_collections.eks_gitops.platform.plugins.plugin_utils import git_checkout
from ansible_collections.eks_gitops.platform.plugins.plugin_utils import gitops_repo as repo
from ansible_collections.eks_gitops.platform.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    NAME = "gitops_repo_sync"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self.validated_args()
        workloads = repo.complete_workloads(args["workloads"], args["workload_defaults"])
        settings = repo.Settings(
            environments=list(args["environments"]),
            render_environments=list(args["render_environments"] or args["environments"]),
            applications_path=args["applications_path"],
            workloads=workloads,
            repo_url=args["repo_url"],
            aws_account_id=str(args["aws_account_id"]),
            aws_region=args["aws_region"],
            ecr_registry=args["ecr_registry"],
            ci_role_arn=args["ci_role_arn"],
            workload_role_arn=args["workload_role_arn"],
            secret_name=args["secret_name"],
            host=args["host"],
            use_pod_identity=args["use_pod_identity"],
            eks_cluster_name=args["eks_cluster_name"],
            argocd_namespace=args["argocd_namespace"],
            initial_image_tag=args["initial_image_tag"],
            service_monitor=args["service_monitor"],
            environment_values=args["environment_values"],
        )
        found_problems = repo.problems(settings)
        if not os.path.isabs(args["dest"]):
            found_problems.insert(0, f"gitops_repo_dest must be an absolute path, not {args['dest']}")
        if found_problems:
            raise AnsibleActionFail("; ".join(found_problems))

        dest = Path(args["dest"])
        git = args["git"]
        checkout = self._checkout(dest, args["repo_url"], git)
        check_mode = bool(self._task.check_mode)
        pulled = False
        if checkout is not None and git["pull"] and not check_mode:
            pulled = self._guard(lambda: checkout.update_from(checkout.fetch()) if checkout.is_work_tree() else False)

        manifest_path = dest / args["manifest_name"]
        manifest_text = _read(manifest_path)
        manifest = self._guard(lambda: repo.read_manifest(manifest_text.decode() if manifest_text is not None else None, settings))
        planned = repo.plan_files(settings, args["repo_files"], args["chart_files"])
        paths = {entry.path for entry in planned} | set(manifest)
        on_disk = {path: repo.OnDisk(_read(dest / path), _mode(dest / path)) for path in paths}
        desired = self._render(planned, settings, on_disk, task_vars)
        owners = {entry.path: repo.owners_of(entry, settings) for entry in planned}
        plan = repo.decide(desired, owners, on_disk, manifest, settings, adopt_existing=args["adopt_existing"], prune=args["prune"])
        if plan.conflicts:
            raise AnsibleActionFail(
                f"{dest} already has files the role would write but does not own (they are not in {args['manifest_name']}): "
                f"{', '.join(plan.conflicts)}. Move them away, or set gitops_repo_adopt_existing=true to let the role take them over."
            )

        if self._task.diff:
            result["diff"] = [
                {
                    "before_header": path,
                    "after_header": path,
                    "before": (on_disk[path].content or b"").decode(errors="replace"),
                    "after": desired[path].content.decode() if path in desired else "",
                }
                for path in plan.touched
            ]
        if not check_mode:
            self._write(dest, manifest_path, plan, desired, manifest)

        committed, pushed = "", False
        if checkout is not None and git["commit"]:
            message = git["commit_message"].replace("{environments}", ", ".join(settings.render_environments))
            tracked = sorted(set(paths) | {args["manifest_name"]})
            if check_mode:
                committed = "(check mode)" if plan.changed or (checkout.is_work_tree() and checkout.dirty(tracked)) else ""
                pushed = bool(git["push"]) and (bool(committed) or (checkout.is_work_tree() and checkout.ahead()))
            else:
                committed = self._guard(lambda: checkout.commit(tracked, message))
                if git["push"]:
                    pushed = self._guard(checkout.push)

        result.update(
            changed=plan.changed or bool(committed) or pushed or pulled,
            dest=str(dest),
            created=plan.create,
            updated=plan.update,
            removed=plan.remove,
            render_environments=settings.render_environments,
            commit=committed,
            pushed=pushed,
            pulled=pulled,
        )
        return result

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _guard(action: Any) -> Any:
        try:
            return action()
        except (git_checkout.GitError, repo.GitopsRepoError) as exc:
            raise AnsibleActionFail(str(exc)) from None

    def _checkout(self, dest: Path, repo_url: str, git: dict[str, Any]) -> git_checkout.Checkout | None:
        if not (git["commit"] or git["push"]):
            return None
        if git["push"] and not git["commit"]:
            raise AnsibleActionFail("gitops_repo_git_push needs gitops_repo_git_commit")
        remote = git_checkout.Remote(git["remote"], git["branch"], repo_url, git["username"], git["password"])
        checkout = git_checkout.Checkout(dest, remote, git_checkout.Author(git["author_name"], git["author_email"]))
        if not self._task.check_mode and not checkout.is_work_tree():
            self._guard(checkout.init)
        return checkout

    def _render(
        self, planned: list[repo.PlannedFile], settings: repo.Settings, on_disk: dict[str, repo.OnDisk], task_vars: dict[str, Any]
    ) -> dict[str, repo.Desired]:
        lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        by_name = {workload["name"]: workload for workload in settings.workloads}
        common = {"gitops_repo__workloads": settings.workloads}
        desired = {}
        for entry in planned:
            if entry.kind == "values":
                workload = by_name[entry.workload]
                current = repo.parse_data(entry.path, on_disk[entry.path].content or b"") if on_disk[entry.path].content else None
                values = repo.environment_values(settings, workload, entry.environment, current if isinstance(current, dict) else None)
                desired[entry.path] = repo.Desired(repo.values_document(settings, workload, entry.environment, values).encode(), values)
            elif entry.kind == "settings":
                text = repo.settings_document(settings, entry.environment)
                desired[entry.path] = repo.Desired(text.encode(), repo.parse_data(entry.path, text.encode()))
            else:
                variables = {
                    **task_vars,
                    **common,
                    "gitops_repo_workload": by_name.get(entry.workload, {}),
                    "gitops_repo_env": entry.environment,
                }
                rendered = lookup.run([entry.source], variables=variables)[0]
                desired[entry.path] = repo.Desired(str(rendered).encode())
        return desired

    @staticmethod
    def _write(dest: Path, manifest_path: Path, plan: repo.SyncPlan, desired: dict[str, repo.Desired], manifest_before: dict[str, list[str]]) -> None:
        if not plan.changed:
            return
        dest.mkdir(parents=True, exist_ok=True)
        # The manifest first, with both what was owned and what is about to be: an interrupted run still owns
        # every file it may have written.
        interim = {path: sorted(set(manifest_before.get(path, [])) | set(plan.manifest.get(path, []))) for path in set(manifest_before) | set(plan.manifest)}
        _atomic_write(manifest_path, repo.manifest_document(interim).encode())
        for path in plan.create + plan.update:
            _atomic_write(dest / path, desired[path].content)
        for path in plan.remove:
            (dest / path).unlink(missing_ok=True)
            _remove_empty_parents(dest / path, dest)
        _atomic_write(manifest_path, repo.manifest_document(plan.manifest).encode())


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _mode(path: Path) -> str:
    try:
        return f"{path.stat().st_mode & 0o7777:04o}"
    except OSError:
        return repo.FILE_MODE


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(partial, int(repo.FILE_MODE, 8))
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _remove_empty_parents(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent
