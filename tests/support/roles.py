"""Plays and readers shared by the role tests: one role (or one of its entry points) in a play, the names of
the tasks a run got to, and ``kubectl get -o json``."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.support.ansible import REPO_ROOT, PlaybookRun
from tests.support.kube import KubeCluster

KUBECTL = str(REPO_ROOT / ".venv" / "bin" / "kubectl")
HELM = str(REPO_ROOT / ".venv" / "bin" / "helm")


def role_play(role: str, tasks_from: str = "main", **variables: Any) -> list[dict[str, Any]]:
    """A play on localhost that includes ``role`` (its entry point ``tasks_from``) with ``variables`` as play vars."""
    include = {"name": role} if tasks_from == "main" else {"name": role, "tasks_from": tasks_from}
    return [
        {"name": role, "hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": [{"name": "the role", "ansible.builtin.include_role": include}]}
    ]


def task_names(run: PlaybookRun) -> list[str]:
    """The names of the tasks the run got to, in order (needs the json callback)."""
    assert run.report is not None, "this run did not use the json callback"
    return [task["task"]["name"] for play in run.report["plays"] for task in play["tasks"]]


def kubectl(cluster: KubeCluster, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, env=cluster.env(), timeout=120, check=check)


def kubectl_json(cluster: KubeCluster, *args: str) -> Any:
    return json.loads(kubectl(cluster, *args, "-o", "json").stdout)
