"""The integration harness itself: real Ansible tasks against the moto server, and clean shutdown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.ansible import REPO_ROOT, run_playbook
from tests.support.moto import MotoServer


def test_ansible_task_reaches_moto(aws: MotoServer, tmp_path: Path) -> None:
    plays = [
        {
            "name": "talk to the local AWS",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "who am I", "amazon.aws.aws_caller_info": {}},
                {"name": "make a secret", "community.aws.secretsmanager_secret": {"name": "harness/check", "secret": "x"}, "no_log": True},
            ],
        }
    ]
    run = run_playbook(plays, tmp_path, env=aws.env())
    assert run.rc == 0, run.output
    assert run.result("who am I")["account"] == aws.account_id
    assert run.result("make a secret")["changed"] is True
    names = [s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]]
    assert names == ["harness/check"]


def test_reset_gives_an_empty_account(aws: MotoServer) -> None:
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []


def test_moto_is_stopped_even_when_tests_fail(tmp_path: Path) -> None:
    """A failing test session must still stop the moto server the fixture started."""
    pid_file = tmp_path / "moto.pid"
    test_file = tmp_path / "test_fails.py"
    test_file.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from tests.integration.conftest import moto_server  # noqa: F401

            def test_fails(moto_server):
                Path({str(pid_file)!r}).write_text(str(moto_server.pid))
                raise AssertionError("deliberate failure")
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'collections'}"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"moto server {pid} is still running"
