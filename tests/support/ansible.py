"""Run real ansible-playbook processes from tests and read their results.

``run_playbook`` writes the given plays to a temporary file, runs ``ansible-playbook``
with this checkout's ansible.cfg (so ``eks_gitops.platform.*`` resolves to the working
tree) and returns the exit status, the raw output and the per-task results of the
``ansible.posix.json`` callback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_CFG = REPO_ROOT / "ansible.cfg"
DEFAULT_TIMEOUT = 600


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    command: list[str]
    report: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def task_results(self, name: str) -> list[dict[str, Any]]:
        """The host results of every task called ``name`` (needs the json callback)."""
        if self.report is None:
            raise AssertionError("this run did not use the json callback")
        found = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] == name:
                    found.extend(task["hosts"].values())
        if not found:
            raise AssertionError(f"no task named {name!r} ran; output:\n{self.output}")
        return found

    def result(self, name: str) -> dict[str, Any]:
        """The single host result of the task ``name``."""
        results = self.task_results(name)
        assert len(results) == 1, f"task {name!r} ran {len(results)} times"
        return results[0]

    @property
    def stats(self) -> dict[str, Any]:
        if self.report is None:
            raise AssertionError("this run did not use the json callback")
        return self.report["stats"]["localhost"]


def localhost_inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    return path


def run_playbook(
    plays: list[dict[str, Any]] | str | Path,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    json_output: bool = True,
    inventory: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
) -> PlaybookRun:
    """Run ``ansible-playbook`` on ``plays`` (a list of plays, YAML text, or a playbook path)."""
    if isinstance(plays, Path):
        playbook = plays
    else:
        playbook = tmp_path / f"playbook-{len(list(tmp_path.glob('playbook-*.yml')))}.yml"
        playbook.write_text(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False))
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory or localhost_inventory(tmp_path)), str(playbook)]
    if extra_vars:
        extra_vars_file = tmp_path / "extra-vars.json"
        extra_vars_file.write_text(json.dumps(extra_vars))
        command += ["-e", f"@{extra_vars_file}"]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    command += extra_args or []
    run_env = dict(os.environ)
    run_env.update(
        {
            "ANSIBLE_CONFIG": str(ANSIBLE_CFG),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        }
    )
    if json_output:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(env or {})
    # The virtualenv's tools (helm, kubectl) first, whatever PATH the caller's environment carried.
    run_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{run_env.get('PATH', '')}"
    completed = subprocess.run(command, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    report = None
    if json_output:
        try:
            report = json.loads(completed.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"ansible-playbook did not print JSON (rc={completed.returncode}):\n{completed.stdout}\n{completed.stderr}") from exc
    return PlaybookRun(rc=completed.returncode, stdout=completed.stdout, stderr=completed.stderr, command=command, report=report)


def ok(run: PlaybookRun, tail: int = 6000) -> PlaybookRun:
    """``run``, after asserting it succeeded (the end of its output otherwise)."""
    assert run.rc == 0, run.output[-tail:]
    return run
