#!/usr/bin/env python3
"""``make bench-secrets``: eks_gitops.platform.secretsmanager_secrets against the stock module, on one moto server.

In one run, against one local moto server, behind the counting proxy of the tests
(tests/support/fault_proxy.py, no faults injected):

1. this module reconciles N secrets (default 200) in one task: create, then the
   unchanged re-run;
2. ``community.aws.secretsmanager_secret`` in a loop over N other secrets with the same
   value, description and tags: the same two phases.

It prints one line per figure: the wall time of each phase (one ``ansible-playbook``
run each), the unchanged-re-run ratio (anchor / this module), the HTTP requests each
approach made in its unchanged re-run, and the peak RSS of the module process (measured
with ``wait4`` by a wrapper used as the Python interpreter) reconciling 1,000 secrets.
It exits 1 when a target is missed. It is a benchmark, not a test: ``make test`` does
not run it, and its wall times depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "collections")]

import yaml  # noqa: E402 - after the path set-up, like the imports below

from tests.support.ansible import PlaybookRun, run_playbook  # noqa: E402
from tests.support.fault_proxy import FaultProxy  # noqa: E402
from tests.support.moto import MotoServer  # noqa: E402
from tests.support.secretsmanager import MODULE, TASK, reconcile_play  # noqa: E402

ANCHOR = "community.aws.secretsmanager_secret"
RATIO_TARGET = 20.0
REQUESTS_TARGET = 20
RSS_TARGET_MB = 150.0

RSS_WRAPPER = '''#!{python}
"""Run the module process as a child and append its peak RSS (KiB, from wait4) to {out}."""
import os
import subprocess
import sys

child = subprocess.Popen([{python!r}] + sys.argv[1:])
_pid, status, usage = os.wait4(child.pid, 0)
with open({out!r}, "a") as report:
    report.write("%d\\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
'''


def module_secrets(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"{prefix}/secret-{index:04d}", "value": f"bench-value-{index:04d}", "description": "benchmark", "tags": {"bench": "yes"}}
        for index in range(count)
    ]


def anchor_play(prefix: str, count: int) -> list[dict[str, Any]]:
    task = {
        "name": TASK,
        ANCHOR: {
            "name": f"{prefix}/secret-{{{{ '%04d' | format(item) }}}}",
            "secret": "bench-value-{{ '%04d' | format(item) }}",
            "description": "benchmark",
            "tags": {"bench": "yes"},
        },
        "loop": f"{{{{ range({count}) | list }}}}",
        "no_log": True,
    }
    return [{"name": "anchor", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.moto = MotoServer.start(log_path=work / "moto.log")
        self.proxy = FaultProxy(upstream=self.moto.endpoint_url).start()
        self.env = dict(self.moto.env(), AWS_URL=self.proxy.endpoint_url, AWS_ENDPOINT_URL=self.proxy.endpoint_url)
        self.failures: list[str] = []

    def close(self) -> None:
        self.proxy.stop()
        self.moto.stop()

    def phase(self, plays: list[dict[str, Any]], **kwargs: Any) -> tuple[float, PlaybookRun, Counter[str]]:
        self.proxy.reset_counts()
        started = time.monotonic()
        run = run_playbook(plays, self.work, env=self.env, timeout=3600, **kwargs)
        elapsed = time.monotonic() - started
        if run.rc != 0:
            raise SystemExit(f"benchmark phase failed (rc={run.rc}):\n{run.output[-4000:]}")
        return elapsed, run, Counter(self.proxy.counts)

    def check(self, met: bool, what: str) -> str:
        if not met:
            self.failures.append(what)
        return "met" if met else "MISSED"

    def peak_rss_mb(self, plays: list[dict[str, Any]]) -> float:
        report = self.work / f"rss-{time.monotonic_ns()}.txt"
        wrapper = self.work / f"rss-python-{time.monotonic_ns()}"
        wrapper.write_text(RSS_WRAPPER.format(python=sys.executable, out=str(report)))
        wrapper.chmod(0o755)
        inventory = self.work / f"rss-inventory-{time.monotonic_ns()}.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": str(wrapper)}}}}))
        self.phase(plays, inventory=inventory)
        peaks = [int(line) for line in report.read_text().split()]
        return max(peaks) / 1024.0


def describe(counts: Counter[str]) -> str:
    return ", ".join(f"{operation} {count}" for operation, count in sorted(counts.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="secrets per approach (default 200)")
    parser.add_argument("--memory-count", type=int, default=1000, help="secrets for the peak-memory run (default 1000)")
    args = parser.parse_args()
    count = args.count

    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as tmp:
        bench = Bench(Path(tmp))
        try:
            desired = module_secrets("bench/module", count)
            create, run, _counts = bench.phase(reconcile_play(desired))
            if sum(item["changed"] for item in run.result(TASK)["secrets"]) != count:
                raise SystemExit(f"{MODULE} did not create {count} secrets")
            print(f"{MODULE}, create {count} secrets: {create:.2f} s", flush=True)
            rerun, run, module_requests = bench.phase(reconcile_play(desired))
            if run.result(TASK)["changed"]:
                raise SystemExit(f"{MODULE} changed something on the unchanged re-run")
            print(f"{MODULE}, unchanged re-run of {count} secrets: {rerun:.2f} s", flush=True)

            anchor_create, _run, _counts = bench.phase(anchor_play("bench/anchor", count))
            print(f"{ANCHOR} loop, create {count} secrets: {anchor_create:.2f} s", flush=True)
            anchor_rerun, run, anchor_requests = bench.phase(anchor_play("bench/anchor", count))
            print(f"{ANCHOR} loop, unchanged re-run of {count} secrets: {anchor_rerun:.2f} s", flush=True)
            anchor_changed = sum(1 for item in run.result(TASK).get("results", []) if item.get("changed"))

            ratio = anchor_rerun / rerun
            print(f"unchanged re-run ratio ({ANCHOR} / {MODULE}): {ratio:.1f}x (target >= {RATIO_TARGET:.0f}x: {bench.check(ratio >= RATIO_TARGET, 'ratio')})")
            total = sum(module_requests.values())
            met = bench.check(total <= REQUESTS_TARGET, "requests")
            print(f"HTTP requests in the unchanged re-run, {MODULE}: {total} (target <= {REQUESTS_TARGET}: {met}; {describe(module_requests)})")
            print(f"HTTP requests in the unchanged re-run, {ANCHOR} loop: {sum(anchor_requests.values())} ({describe(anchor_requests)})")
            print(f"secrets {ANCHOR} reported changed in its unchanged re-run: {anchor_changed} of {count}")

            memory = module_secrets("bench/memory", args.memory_count)
            for label in ("create", "unchanged re-run"):
                peak = bench.peak_rss_mb(reconcile_play(memory))
                met = bench.check(peak < RSS_TARGET_MB, f"memory ({label})")
                print(
                    f"peak RSS of the module process, {args.memory_count} secrets, {label}: {peak:.1f} MB (target < {RSS_TARGET_MB:.0f} MB: {met})", flush=True
                )
        finally:
            bench.close()
    if bench.failures:
        print(f"targets missed: {', '.join(bench.failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
    sys.exit(main())
