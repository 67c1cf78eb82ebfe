#!/usr/bin/env python3
"""Run make targets in order, stop at the first failure, and print how long each took.

    python scripts/timed_targets.py lint sanity unit cluster-binaries integration+molecule

`make test` runs this. A step ``a+b`` runs its targets at the same time, each with a local state directory of its
own (``integration`` gets ``.local/integration`` and a cluster named ``eks-gitops-integration``; the other keeps
``.local``), so they never share a cluster, a chart repository or an Argo CD. The integration tests and Molecule
mostly wait on the API servers, Helm and Argo CD, so on 2 cores the pair takes about as long as the longer of the two.
The second target of a pair starts ``STAGGER_SECONDS`` after the first, so that their clusters do not start at the same
moment (two kwokctl clusters created at once can pick the same free port).

The times are printed as a table at the end (also after a failure) and written to
<LOCAL_CLUSTER_STATE_DIR or .local>/test-timings.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR", REPO_ROOT / ".local"))
STAGGER_SECONDS = float(os.environ.get("TEST_STAGGER_SECONDS", "30"))
# The state directory and cluster name of a target that runs beside another one.
OWN_STATE = {"integration": ("integration", "eks-gitops-integration")}


def _env(target: str, concurrent: bool) -> dict[str, str]:
    env = dict(os.environ)
    if concurrent and target in OWN_STATE:
        directory, cluster = OWN_STATE[target]
        env.update(LOCAL_CLUSTER_STATE_DIR=str(STATE / directory), LOCAL_CLUSTER_NAME=cluster)
    return env


def run_step(targets: list[str]) -> list[tuple[str, float, int]]:
    """Run the targets of one step (at the same time when there are several); return (target, seconds, exit code).

    A target that runs beside another writes to ``test-logs/<target>.log``, printed whole once the step is done, so
    the two outputs do not interleave."""
    concurrent = len(targets) > 1
    logs = STATE / "test-logs"
    running = []
    for index, target in enumerate(targets):
        if index:
            time.sleep(STAGGER_SECONDS)
        command = ["make", "--no-print-directory", target]
        if concurrent:
            logs.mkdir(parents=True, exist_ok=True)
            print(f"make test: {target} ... (at the same time as {', '.join(t for t in targets if t != target)}; output in {logs / target}.log)", flush=True)
            with (logs / f"{target}.log").open("w", encoding="utf-8") as log:
                process = subprocess.Popen(command, cwd=REPO_ROOT, env=_env(target, concurrent), stdout=log, stderr=subprocess.STDOUT)
        else:
            print(f"make test: {target} ...", flush=True)
            process = subprocess.Popen(command, cwd=REPO_ROOT)
        running.append((target, time.monotonic(), process))
    done = []
    for target, started, process in running:
        code = process.wait()
        done.append((target, time.monotonic() - started, code))
    if concurrent:
        for target, seconds, code in done:
            print(f"\n===== make {target}: {seconds / 60:.1f} min, exit {code} =====", flush=True)
            sys.stdout.write((logs / f"{target}.log").read_text(encoding="utf-8", errors="replace"))
            sys.stdout.flush()
    return done


def main(steps: list[str]) -> int:
    timings: list[tuple[str, float, int]] = []
    rc = 0
    started = time.monotonic()
    for step in steps:
        results = run_step(step.split("+"))
        timings.extend(results)
        rc = next((code for _target, _seconds, code in results if code != 0), 0)
        if rc != 0:
            break
    wall = time.monotonic() - started
    print("\nmake test: time per target (targets joined by + in the command ran at the same time)")
    for target, seconds, code in timings:
        print(f"  {target:16} {seconds / 60:5.1f} min  {'ok' if code == 0 else f'FAILED (exit {code})'}")
    print(f"  {'total (wall)':16} {wall / 60:5.1f} min")
    STATE.mkdir(parents=True, exist_ok=True)
    record = {
        "steps": steps,
        "targets": [{"target": t, "seconds": round(s, 1), "exit": c} for t, s, c in timings],
        "total_seconds": round(wall, 1),
    }
    (STATE / "test-timings.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
