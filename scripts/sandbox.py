#!/usr/bin/env python3
"""The sandbox: the whole platform on the local cluster and a local AWS (moto), and the bootstrap benchmark.

    python scripts/sandbox.py up         start the local cluster, the chart repository, a moto server, the Git server
                                         of the GitOps repository and the real Argo CD beside the cluster (or reuse
                                         them), and register the local cluster in moto as the EKS cluster
                                         eks-gitops-local; remember what it started
    python scripts/sandbox.py bootstrap  run `ansible-playbook -i inventories/local playbooks/bootstrap.yml` against
                                         them, then print the validate table and where things are
    python scripts/sandbox.py down       remove the platform from a cluster that stays up, then stop what `up` started
    python scripts/sandbox.py env        print the export lines for running the playbooks by hand
    python scripts/sandbox.py bench      on a fresh cluster and moto of its own: bootstrap twice, print both wall
                                         times, their ratio and the second run's changed count, then stop them;
                                         exits non-zero when the second run changed anything
    python scripts/sandbox.py bench-gitops
                                         on the sandbox (started and bootstrapped when it is not): commit an image
                                         tag to the GitOps repository, as the CI does, and time commit -> Deployment
                                         rolled, over N commits with the Git server's webhook to Argo CD and over M
                                         commits with Argo CD's default polling; p50 and max of each

`make sandbox`, `make sandbox-down`, `make sandbox-env` and `make bench-bootstrap` call these. State lives under
LOCAL_CLUSTER_STATE_DIR (default .local), like the cluster's, the chart repository's and moto's.

Charts: SANDBOX_CHARTS=upstream installs the pinned upstream charts (and the real Gateway API bundle),
SANDBOX_CHARTS=doubles the test doubles of tests/charts; unset, the upstream chart repositories are used when
every one of them answers and the doubles otherwise (offline, as in CI). The choice is printed at the start,
kept in <state>/sandbox-charts for the inventory, and shown in the validate report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from role_docs import chart_pins

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN_DIR = Path(PYTHON).parent
CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "local_cluster.sh"
CHART_REPO_CLI = REPO_ROOT / "tests" / "support" / "chart_repo.py"
GIT_SERVER_CLI = REPO_ROOT / "tests" / "support" / "git_server.py"
ARGOCD_CLI = REPO_ROOT / "tests" / "support" / "local_argocd.py"
GITOPS_REPOSITORY = "platform-gitops"
MOTO_CLI = REPO_ROOT / "tests" / "support" / "moto.py"
INVENTORY = REPO_ROOT / "inventories" / "local"
BOOTSTRAP = REPO_ROOT / "playbooks" / "bootstrap.yml"
TEARDOWN = REPO_ROOT / "playbooks" / "teardown.yml"
EKS_CLUSTER_NAME = "eks-gitops-local"
EKS_CLUSTER_VERSION = "1.37"
BENCH_TARGET_RATIO = 0.40
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.M)
COMPONENTS = ("cluster", "chart_repo", "moto", "git_server", "argocd")
ARGOCD_NAMESPACE = "argocd"
PROBE_TIMEOUT = 5.0


def log(message: str) -> None:
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


def state_dir() -> Path:
    return Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR") or REPO_ROOT / ".local").resolve()


def started_file() -> Path:
    return state_dir() / "sandbox-started.json"


# --------------------------------------------------------------------------- the local services


def _command(component: str, action: str) -> list[str]:
    if component == "cluster":
        return ["bash", str(CLUSTER_SCRIPT), action]
    if component == "git_server":
        secrets = state_dir() / "sandbox-secrets"
        options = [
            "--repo",
            GITOPS_REPOSITORY,
            "--user",
            "sandbox-bot",
            "--password-file",
            str(secrets / "gitops-repo-token"),
            "--webhook-url-file",
            str(state_dir() / "argocd" / "webhook.url"),
            "--webhook-secret-file",
            str(secrets / "argocd-webhook-secret"),
        ]
        return [PYTHON, str(GIT_SERVER_CLI), action, *(options if action == "up" else [])]
    if component == "argocd":
        # "status" asks whether its supervisor runs (its controllers answer only once the namespace exists).
        return [PYTHON, str(ARGOCD_CLI), "env" if action == "status" else action, *(["--namespace", ARGOCD_NAMESPACE] if action == "up" else [])]
    return [PYTHON, str(CHART_REPO_CLI if component == "chart_repo" else MOTO_CLI), action]


def running(component: str) -> bool:
    return subprocess.run(_command(component, "status"), capture_output=True, check=False, cwd=REPO_ROOT).returncode == 0


def start(component: str) -> None:
    completed = subprocess.run(_command(component, "up"), stdout=subprocess.DEVNULL, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"sandbox: starting the {component.replace('_', ' ')} failed (exit {completed.returncode})")


def stop(component: str) -> None:
    subprocess.run(_command(component, "down"), stdout=subprocess.DEVNULL, check=False, cwd=REPO_ROOT)


def read_started() -> dict[str, bool]:
    try:
        data = json.loads(started_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {name: bool(data.get(name)) for name in COMPONENTS}


def moto_env() -> dict[str, str]:
    completed = subprocess.run([PYTHON, str(MOTO_CLI), "env"], capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise SystemExit("sandbox: the moto server is not running: run make sandbox (or make moto-up)")
    return dict(json.loads(completed.stdout))


def register_eks_cluster(env: dict[str, str]) -> None:
    """The local cluster stands in for an EKS cluster: moto gets one of that name (with an OIDC issuer)."""
    session = boto3.session.Session(
        region_name=env["AWS_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]
    )
    eks = session.client("eks", endpoint_url=env["AWS_ENDPOINT_URL"])
    if EKS_CLUSTER_NAME in eks.list_clusters().get("clusters", []):
        return
    account = session.client("sts", endpoint_url=env["AWS_ENDPOINT_URL"]).get_caller_identity()["Account"]
    eks.create_cluster(
        name=EKS_CLUSTER_NAME,
        version=EKS_CLUSTER_VERSION,
        roleArn=f"arn:aws:iam::{account}:role/{EKS_CLUSTER_NAME}-cluster",
        resourcesVpcConfig={},
        tags={"app.kubernetes.io/part-of": "eks-gitops-platform"},
    )
    log(f"registered the local cluster in moto as EKS cluster {EKS_CLUSTER_NAME}")


# --------------------------------------------------------------------------- the charts: upstream or test doubles


def upstream_repositories() -> list[str]:
    """The chart repositories the roles pin (their defaults), each once."""
    return sorted({pin.repo for pin in chart_pins() if pin.repo.startswith("https://")})


def repository_answers(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when ``url`` serves a Helm repository index."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/index.yaml", timeout=timeout) as response:  # noqa: S310 - a chart repository URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def chart_mode(repositories: list[str] | None = None, forced: str | None = None) -> tuple[str, str]:
    """``upstream`` or ``doubles``, and why: SANDBOX_CHARTS when set, else upstream only when every repository answers."""
    forced = os.environ.get("SANDBOX_CHARTS", "") if forced is None else forced
    if forced:
        if forced not in ("upstream", "doubles"):
            raise SystemExit(f"sandbox: SANDBOX_CHARTS must be upstream or doubles, not {forced!r}")
        return forced, f"SANDBOX_CHARTS={forced}"
    repositories = upstream_repositories() if repositories is None else repositories
    silent = [url for url in repositories if not repository_answers(url)]
    if not silent:
        return "upstream", f"all {len(repositories)} upstream chart repositories answer"
    return "doubles", f"{len(silent)} of {len(repositories)} upstream chart repositories do not answer ({silent[0]}, ...)"


def prepare_gitops_checkout() -> None:
    """Point the rendered checkout at this run's Git server (its port changes from one start to the next)."""
    checkout = state_dir() / "gitops-repo"
    url_file = state_dir() / "git-server.url"
    if (checkout / ".git").is_dir() and url_file.is_file():
        url = f"{url_file.read_text(encoding='utf-8').strip()}/{GITOPS_REPOSITORY}.git"
        subprocess.run(["git", "remote", "remove", "origin"], cwd=checkout, capture_output=True, check=False)
        subprocess.run(["git", "remote", "add", "origin", url], cwd=checkout, capture_output=True, check=True)


def up() -> dict[str, str]:
    """Start (or reuse) the services; remember which this sandbox started; return the playbook environment."""
    mode, why = chart_mode()
    log(f"charts: {'the pinned upstream charts' if mode == 'upstream' else 'the test doubles of tests/charts'} ({why})")
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "sandbox-charts").write_text(mode + "\n", encoding="utf-8")
    before = read_started()
    started = {}
    for component in COMPONENTS:
        was_running = running(component)
        if not was_running:
            log(f"starting the {component.replace('_', ' ')}")
            start(component)
        # A service an earlier `up` started stays ours while it runs.
        started[component] = (not was_running) or before.get(component, False)
    state_dir().mkdir(parents=True, exist_ok=True)
    started_file().write_text(json.dumps(started, indent=2) + "\n", encoding="utf-8")
    prepare_gitops_checkout()
    env = playbook_env()
    register_eks_cluster(env)
    return env


def playbook_env() -> dict[str, str]:
    """What ansible-playbook needs: the moto settings (the roles' Secrets Manager lookups read them from the
    process environment), the kubeconfig, this checkout's ansible.cfg, the venv's helm on PATH."""
    kubeconfig = state_dir() / "kubeconfig"
    return {
        **moto_env(),
        "KUBECONFIG": str(kubeconfig),
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "LOCAL_CLUSTER_STATE_DIR": str(state_dir()),
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
    }


# --------------------------------------------------------------------------- running the playbooks


def run_playbook(playbook: Path, env: dict[str, str], log_path: Path, extra: list[str] | None = None, echo: bool = True) -> tuple[int, float, dict[str, int]]:
    """Run a playbook of inventories/local; tee its output to ``log_path``; return (rc, seconds, recap counts)."""
    command = [str(BIN_DIR / "ansible-playbook"), "-i", str(INVENTORY), str(playbook), *(extra or [])]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    output = []
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **env, "ANSIBLE_FORCE_COLOR": "0"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            output.append(line)
            if echo:
                sys.stdout.write(line)
        rc = process.wait()
    seconds = time.monotonic() - started
    return rc, seconds, recap("".join(output))


def recap(output: str) -> dict[str, int]:
    """The counts of the PLAY RECAP line of localhost (empty when there is none)."""
    matches = RECAP.findall(output)
    if not matches:
        return {}
    names = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
    return dict(zip(names, (int(value) for value in matches[-1]), strict=True))


def locations() -> list[str]:
    state = state_dir()
    return [
        f'kubeconfig:           {state / "kubeconfig"}   (export KUBECONFIG=... or eval "$(make -s sandbox-env)")',
        f"GitOps repository:    {state / 'gitops-repo'}",
        f"validate report:      {state / 'validate' / 'validate-local.md'} (and .json)",
        f"bootstrap log:        {state / 'sandbox-bootstrap.log'}",
        'playbooks by hand:    eval "$(make -s sandbox-env)"; ansible-playbook -i inventories/local playbooks/validate.yml',
    ]


def bootstrap() -> int:
    env = up()
    rc, seconds, counts = run_playbook(BOOTSTRAP, env, state_dir() / "sandbox-bootstrap.log")
    report = state_dir() / "validate" / "validate-local.md"
    print()
    if report.is_file():
        print(report.read_text(encoding="utf-8"))
    print(f"bootstrap: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {seconds:.0f} s, {counts.get('changed', '?')} task(s) changed")
    for line in locations():
        print(line)
    return rc


def down() -> int:
    started = read_started()
    if running("cluster") and not started.get("cluster"):
        # The cluster is someone else's and stays up: take the platform off it while moto still answers.
        log("the local cluster was running before the sandbox: removing the platform from it")
        with contextlib.suppress(SystemExit):
            run_playbook(TEARDOWN, playbook_env(), state_dir() / "sandbox-teardown.log", ["-e", "teardown_confirm=local"], echo=False)
    for component in reversed(COMPONENTS):
        if started.get(component):
            log(f"stopping the {component.replace('_', ' ')}")
            stop(component)
        elif running(component):
            log(f"leaving the {component.replace('_', ' ')} running: the sandbox did not start it")
    started_file().unlink(missing_ok=True)
    return 0


def env_lines() -> int:
    env = playbook_env()
    for name in sorted(env):
        print(f"export {name}={shlex.quote(env[name])}")
    return 0


# --------------------------------------------------------------------------- the benchmark


@contextlib.contextmanager
def fresh_services(directory: Path) -> Iterator[None]:
    """A cluster, chart repository and moto server of their own under ``directory``, stopped afterwards."""
    saved = {name: os.environ.get(name) for name in ("LOCAL_CLUSTER_STATE_DIR", "LOCAL_CLUSTER_NAME")}
    shutil.rmtree(directory, ignore_errors=True)
    os.environ["LOCAL_CLUSTER_STATE_DIR"] = str(directory)
    os.environ["LOCAL_CLUSTER_NAME"] = "eks-gitops-bench"
    try:
        for component in COMPONENTS:
            start(component)
        yield
    finally:
        for component in reversed(COMPONENTS):
            stop(component)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bench() -> int:
    directory = (REPO_ROOT / ".local" / "bench").resolve()
    results: dict[str, Any] = {}
    with fresh_services(directory):
        env = playbook_env()
        register_eks_cluster(env)
        for run in ("first", "second"):
            log(f"{run} run of bootstrap (log: {directory / f'bootstrap-{run}.log'})")
            rc, seconds, counts = run_playbook(BOOTSTRAP, env, directory / f"bootstrap-{run}.log", echo=False)
            if rc != 0:
                log(f"the {run} run failed (exit {rc}); see {directory / f'bootstrap-{run}.log'}")
                return rc
            results[run] = {"seconds": round(seconds, 1), **counts}
    ratio = results["second"]["seconds"] / results["first"]["seconds"]
    results["ratio"] = round(ratio, 3)
    results["target_ratio"] = BENCH_TARGET_RATIO
    (REPO_ROOT / ".local").mkdir(exist_ok=True)
    (REPO_ROOT / ".local" / "bench-bootstrap.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    changed = results["second"].get("changed", -1)
    print(f"first run:   {results['first']['seconds']:7.1f} s  ({results['first'].get('changed')} tasks changed)")
    print(f"second run:  {results['second']['seconds']:7.1f} s  ({changed} tasks changed)")
    print(f"ratio:       {ratio:7.1%}  (target <= {BENCH_TARGET_RATIO:.0%}: {'met' if ratio <= BENCH_TARGET_RATIO else 'MISSED'})")
    print(f"second run changed: {changed} ({'ok' if changed == 0 else 'NOT IDEMPOTENT'})")
    print(f"figures in {REPO_ROOT / '.local' / 'bench-bootstrap.json'}")
    # The changed count is a correctness check; the ratio is a target, reported above either way.
    return 0 if changed == 0 else 1


# --------------------------------------------------------------------------- the GitOps loop benchmark

BENCH_WORKLOAD = "my-microservice"
BENCH_ROLLOUT_TIMEOUT = 600.0


def kubectl_json(*args: str) -> Any:
    completed = subprocess.run(
        [str(BIN_DIR / "kubectl"), "--kubeconfig", str(state_dir() / "kubeconfig"), *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return json.loads(completed.stdout) if completed.returncode == 0 else {}


def rolled_to(tag: str) -> bool:
    """The workload's Deployment runs ``tag`` and its rollout is complete."""
    deployment = kubectl_json("get", "deployment", "-n", BENCH_WORKLOAD, BENCH_WORKLOAD)
    if not deployment:
        return False
    status = deployment.get("status", {})
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{tag}") and (
        status.get("updatedReplicas") == status.get("replicas") == status.get("availableReplicas")
        and status.get("observedGeneration") == deployment["metadata"]["generation"]
    )


def git_run(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def ci_clone(directory: Path) -> Path:
    """A clone of the sandbox's GitOps repository with the sandbox's credentials: the CI's view of it."""
    url = f"{(state_dir() / 'git-server.url').read_text(encoding='utf-8').strip()}/{GITOPS_REPOSITORY}.git"
    token = (state_dir() / "sandbox-secrets" / "gitops-repo-token").read_text(encoding="utf-8").split()[0]
    shutil.rmtree(directory, ignore_errors=True)
    directory.parent.mkdir(parents=True, exist_ok=True)
    git_run(directory.parent, "clone", "--quiet", url.replace("http://", f"http://sandbox-bot:{token}@"), str(directory))
    git_run(directory, "config", "user.name", "bench-gitops")
    git_run(directory, "config", "user.email", "bench-gitops@example.org")
    return directory


def deploy_once(clone: Path, tag: str) -> float:
    """Commit ``tag`` as the CI does (image_tags.py set, commit, push); seconds from the pushed commit to the rollout."""
    git_run(clone, "pull", "--quiet", "--rebase", "origin", "main")
    subprocess.run([PYTHON, ".github/scripts/image_tags.py", "set", "--environment", "local", "--tag", tag], cwd=clone, check=True, capture_output=True)
    git_run(clone, "commit", "--quiet", "-am", f"deploy(local): {tag}")
    git_run(clone, "push", "--quiet", "origin", "HEAD:main")
    pushed = time.monotonic()
    while not rolled_to(tag):
        if time.monotonic() - pushed > BENCH_ROLLOUT_TIMEOUT:
            raise SystemExit(f"sandbox: the Deployment did not roll to {tag} within {BENCH_ROLLOUT_TIMEOUT:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - pushed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_gitops() -> int:
    commits = int(os.environ.get("BENCH_GITOPS_COMMITS", "10"))
    polling_commits = int(os.environ.get("BENCH_GITOPS_POLLING_COMMITS", "10"))
    env = up()
    if not all(kubectl_json("get", "application", "-n", ARGOCD_NAMESPACE, name) for name in ("root-local", f"{BENCH_WORKLOAD}-local")):
        log("the sandbox is not bootstrapped yet: running bootstrap first")
        rc, _, _ = run_playbook(BOOTSTRAP, env, state_dir() / "sandbox-bootstrap.log", echo=False)
        if rc != 0:
            return rc
    clone = ci_clone(state_dir() / "bench-gitops" / "ci")
    webhook = state_dir() / "argocd" / "webhook.url"
    results: dict[str, Any] = {}
    run_id = uuid.uuid4().hex[:6]
    for mode, count in (("webhook", commits), ("polling", polling_commits)):
        if count <= 0:
            continue
        hidden = webhook.with_suffix(".off")
        if mode == "polling":
            webhook.rename(hidden)  # the Git server reads it on every push: without it, no webhook is sent
        try:
            seconds = []
            for index in range(count):
                tag = f"bench-{run_id}-{mode}-{index}"
                seconds.append(deploy_once(clone, tag))
                log(f"{mode} {index + 1}/{count}: {tag} rolled out {seconds[-1]:.1f} s after the push")
        finally:
            if hidden.exists():
                hidden.rename(webhook)
        results[mode] = {"commits": count, "p50": round(percentile(seconds, 0.5), 1), "max": round(max(seconds), 1), "seconds": [round(x, 1) for x in seconds]}
    results["target_p50_seconds"] = 10
    (state_dir() / "bench-gitops.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print("commit -> Deployment rolled out (seconds from the pushed commit to the completed rollout)")
    for mode in ("webhook", "polling"):
        if mode in results:
            figures = results[mode]
            print(f"  {mode:8} {figures['commits']:3d} commits   p50 {figures['p50']:6.1f} s   max {figures['max']:6.1f} s")
    met = "webhook" in results and results["webhook"]["p50"] <= results["target_p50_seconds"]
    print(f"target: p50 <= {results['target_p50_seconds']} s with the webhook: {'met' if met else 'MISSED'}")
    print(f"figures in {state_dir() / 'bench-gitops.json'}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "bootstrap", "down", "env", "bench", "bench-gitops"])
    args = parser.parse_args(argv)
    if args.command == "up":
        up()
        return 0
    return {"bootstrap": bootstrap, "down": down, "env": env_lines, "bench": bench, "bench-gitops": bench_gitops}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
