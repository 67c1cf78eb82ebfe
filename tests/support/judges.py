"""kube-score and checkov, two judges users run on the generated GitOps repository, as `make judges` installs them
(their versions are pinned in the Makefile and requirements-checkov.txt)."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.ansible import REPO_ROOT


@functools.cache
def paths() -> dict[str, str]:
    """{'KUBE_SCORE': path, 'CHECKOV': path}, installed first when missing (a no-op when they are there)."""
    completed = subprocess.run(["make", "--no-print-directory", "-s", "judges"], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1200)
    assert completed.returncode == 0, f"make judges failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
    found = dict(line.split("=", 1) for line in completed.stdout.splitlines() if line.startswith(("KUBE_SCORE=", "CHECKOV=")))
    assert set(found) == {"KUBE_SCORE", "CHECKOV"}, completed.stdout
    return found


def kube_score(manifests: Path) -> list[str]:
    """The findings kube-score reports (WARNING and CRITICAL lines of its CI output) for a file of manifests."""
    completed = subprocess.run([paths()["KUBE_SCORE"], "score", "--output-format", "ci", str(manifests)], capture_output=True, text=True, check=False)
    return [line for line in completed.stdout.splitlines() if line.startswith(("[WARNING]", "[CRITICAL]"))]


def checkov(directory: Path, framework: str, *skips: str) -> list[dict[str, Any]]:
    """The failed checks of checkov on ``directory`` (offline: no download of external checks or guidelines)."""
    command = [paths()["CHECKOV"], "-d", str(directory), "--framework", framework, "--skip-download", "--quiet", "--output", "json"]
    if skips:
        command += ["--skip-check", ",".join(skips)]
    env = {"PATH": f"{REPO_ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "BC_SKIP_MAPPING": "TRUE"}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600, env=env)
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    reports = json.loads(completed.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return [check for report in reports for check in (report.get("results") or {}).get("failed_checks", [])]
