"""A Helm chart repository on 127.0.0.1 serving the test charts, for offline tests.

The test charts under ``tests/charts/`` (test doubles of the upstream charts, see
tests/charts/README.md) are packaged with ``helm package``, indexed with ``helm repo index`` and
served by a small HTTP server on a free loopback port, next to ``tests/manifests/`` (under
``<url>/manifests/``, e.g. the Gateway API CRDs).

Two ways to run it:

* from make (``make chart-repo-up`` / ``make chart-repo-down``): ``python tests/support/chart_repo.py up``
  starts a detached server process, writes its URL to ``.local/chart-repo.url`` and its PID to
  ``.local/chart-repo/server.pid``; ``down`` stops that PID and removes the state;
* from pytest: the session fixture ``chart_repo`` reuses the make-started repository when it answers
  and serves the current charts, or else serves them from a thread for the session.

Only the standard library is needed (plus pytest for the fixture, and the helm binary).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:
    from tests.support.tools import runs_script, stop_pid, stop_served
except ImportError:  # run as a script (python tests/support/chart_repo.py up)
    from tools import runs_script, stop_pid, stop_served  # type: ignore[no-redef]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARTS_DIR = REPO_ROOT / "tests" / "charts"
MANIFESTS_DIR = REPO_ROOT / "tests" / "manifests"
STATE_DIR = Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR", REPO_ROOT / ".local"))
URL_FILE = STATE_DIR / "chart-repo.url"
SERVE_DIR = STATE_DIR / "chart-repo"
PID_FILE = SERVE_DIR / "server.pid"
HASH_FILE_NAME = "source.sha256"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def helm_binary() -> str:
    """The helm to use: $HELM, then the venv's, then the one on PATH."""
    candidates = [os.environ.get("HELM", ""), str(REPO_ROOT / ".venv" / "bin" / "helm"), shutil.which("helm") or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("helm not found: run 'make venv' (it installs helm into .venv/bin) or set HELM=/path/to/helm")


def chart_dirs() -> list[Path]:
    return sorted(path.parent for path in CHARTS_DIR.glob("*/Chart.yaml"))


def source_hash() -> str:
    """Fingerprint of everything the repository serves, to tell a stale running repository apart."""
    digest = hashlib.sha256()
    for root in (CHARTS_DIR, MANIFESTS_DIR):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build(dest: Path, url: str, helm: str | None = None) -> None:
    """Package every test chart into ``dest``, copy the manifests and index the repository for ``url``."""
    helm = helm or helm_binary()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    charts = chart_dirs()
    if not charts:
        raise RuntimeError(f"no charts found under {CHARTS_DIR}")
    subprocess.run([helm, "package", "--destination", str(dest), *map(str, charts)], check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(MANIFESTS_DIR, dest / "manifests")
    subprocess.run([helm, "repo", "index", str(dest), "--url", url], check=True)
    (dest / HASH_FILE_NAME).write_text(source_hash() + "\n", encoding="utf-8")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        if os.environ.get("CHART_REPO_VERBOSE"):
            super().log_message(format, *args)


def make_server(directory: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/index.yaml", timeout=timeout) as response:  # noqa: S310 - loopback URL we wrote
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def served_hash(url: str) -> str:
    try:
        with urllib.request.urlopen(f"{url}/{HASH_FILE_NAME}", timeout=2.0) as response:  # noqa: S310 - loopback URL we wrote
            return str(response.read().decode().strip())
    except (urllib.error.URLError, OSError, ValueError):
        return ""


def running_url() -> str | None:
    """URL of the make-started repository, if it answers and serves the current charts."""
    if not URL_FILE.is_file():
        return None
    url = URL_FILE.read_text(encoding="utf-8").strip()
    if url and answers(url) and served_hash(url) == source_hash():
        return url
    return None


@dataclass
class ChartRepo:
    """A chart repository served from a thread of this process (the pytest fixture's own server)."""

    directory: Path
    server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)
    url: str = ""

    @classmethod
    def start(cls, directory: Path) -> ChartRepo:
        repo = cls(directory=directory)
        directory.mkdir(parents=True, exist_ok=True)
        repo.server = make_server(directory)
        repo.url = f"http://127.0.0.1:{repo.server.server_address[1]}"
        try:
            build(directory, repo.url)
        except BaseException:
            repo.server.server_close()
            raise
        repo.thread = threading.Thread(target=repo.server.serve_forever, name="chart-repo", daemon=True)
        repo.thread.start()
        return repo

    def stop(self) -> None:
        stop_served(self.server, self.thread, STOP_TIMEOUT)
        self.server, self.thread = None, None


# --------------------------------------------------------------------------- CLI for make


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _our_server(pid: int) -> bool:
    """True when ``pid`` is a server started by ``up`` (guards against a recycled PID)."""
    return runs_script(pid, "chart_repo.py", "serve") if Path(f"/proc/{pid}").exists() else _pid_alive(pid)


PORT_FILE = STATE_DIR / "chart-repo.port"


def cmd_serve(directory: Path, url_file: Path) -> int:
    """Foreground server: bind the port of the last run when it is free (the URL is in Argo CD's Applications and
    the sandbox's state), else a free one; build the repository for it, publish the URL, serve until SIGTERM."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        server = make_server(directory, int(PORT_FILE.read_text(encoding="utf-8").strip()))
    except (OSError, ValueError):
        server = make_server(directory)
    PORT_FILE.write_text(f"{server.server_address[1]}\n", encoding="utf-8")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    build(directory, url)
    PID_FILE.write_text(f"{os.getpid()}\n", encoding="utf-8")
    tmp = url_file.with_suffix(".tmp")
    tmp.write_text(url + "\n", encoding="utf-8")
    tmp.replace(url_file)

    def _stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_up() -> int:
    url = running_url()
    if url:
        print(f"chart-repo: reusing {url}", file=sys.stderr)
        print(url)
        return 0
    cmd_down(quiet=True)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    SERVE_DIR.mkdir(parents=True, exist_ok=True)
    log_path = STATE_DIR / "chart-repo.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO_ROOT,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"chart-repo: the server exited with {process.returncode}; see {log_path}", file=sys.stderr)
            return 1
        if URL_FILE.is_file():
            url = URL_FILE.read_text(encoding="utf-8").strip()
            if answers(url):
                print(f"chart-repo: serving {len(chart_dirs())} test charts at {url} (URL in {URL_FILE})", file=sys.stderr)
                print(url)
                return 0
        time.sleep(0.2)
    print(f"chart-repo: no answer within {STARTUP_TIMEOUT:.0f}s; see {log_path}", file=sys.stderr)
    process.terminate()
    return 1


def cmd_down(quiet: bool = False) -> int:
    if PID_FILE.is_file():
        with contextlib.suppress(ValueError):
            stop_pid(int(PID_FILE.read_text(encoding="utf-8").strip()), lambda pid: _pid_alive(pid) and _our_server(pid), STOP_TIMEOUT)
    shutil.rmtree(SERVE_DIR, ignore_errors=True)
    URL_FILE.unlink(missing_ok=True)
    if not quiet:
        print("chart-repo: stopped and removed", file=sys.stderr)
    return 0


def cmd_status() -> int:
    url = running_url()
    if url:
        print(url)
        return 0
    print("chart-repo: not running (or serving outdated charts)", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "serve", "build"])
    parser.add_argument("--dest", type=Path, default=None, help="output directory for 'build'")
    parser.add_argument("--url", default="http://127.0.0.1:8879", help="repository URL for 'build'")
    args = parser.parse_args(argv)
    if args.command == "up":
        return cmd_up()
    if args.command == "down":
        return cmd_down()
    if args.command == "status":
        return cmd_status()
    if args.command == "serve":
        return cmd_serve(SERVE_DIR, URL_FILE)
    build(args.dest or STATE_DIR / "chart-repo-build", args.url)
    return 0


# --------------------------------------------------------------------------- pytest fixture

try:
    import pytest
except ImportError:  # the make CLI needs only the standard library
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def chart_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        """URL of a Helm repository serving the test charts: the make-started one if current, else our own."""
        url = running_url()
        if url:
            yield url
            return
        repo = ChartRepo.start(tmp_path_factory.mktemp("chart-repo"))
        try:
            yield repo.url
        finally:
            repo.stop()


if __name__ == "__main__":
    sys.exit(main())
