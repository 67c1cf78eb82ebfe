#!/usr/bin/env python3
"""Run make targets one after another, stop at the first failure, and print how long each took.

    python scripts/timed_targets.py lint sanity unit integration molecule

`make test` runs this. The times are printed as a table at the end (also after a failure) and written to
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


def main(targets: list[str]) -> int:
    timings: list[tuple[str, float, int]] = []
    rc = 0
    for target in targets:
        print(f"make test: {target} ...", flush=True)
        started = time.monotonic()
        rc = subprocess.run(["make", "--no-print-directory", target], cwd=REPO_ROOT, check=False).returncode
        timings.append((target, time.monotonic() - started, rc))
        if rc != 0:
            break
    total = sum(seconds for _, seconds, _ in timings)
    print("\nmake test: time per target")
    for target, seconds, code in timings:
        print(f"  {target:12} {seconds / 60:5.1f} min  {'ok' if code == 0 else f'FAILED (exit {code})'}")
    print(f"  {'total':12} {total / 60:5.1f} min")
    state = Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR", REPO_ROOT / ".local"))
    state.mkdir(parents=True, exist_ok=True)
    record = {"targets": [{"target": t, "seconds": round(s, 1), "exit": c} for t, s, c in timings], "total_seconds": round(total, 1)}
    (state / "test-timings.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
