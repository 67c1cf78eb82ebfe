"""A Git remote on 127.0.0.1: the GitOps repository the sandbox's Argo CD syncs, and the tests' Git remotes.

Git's own server side does the work: ``git http-backend`` (smart HTTP, fetch and push) behind a small HTTP
server of the standard library, with HTTP basic auth, and a GitHub-style ``push`` webhook after every push
that changes a branch (signed with ``X-Hub-Signature-256``, the payload GitHub sends: ref, before, after,
repository.html_url / default_branch, and the commits with the files they added, modified and removed).
That is how Argo CD learns about a commit at once instead of polling: its ``/api/webhook`` refreshes every
Application whose repoURL is this repository.

The credentials, the webhook URL and its secret are read from files on every request (``config.json`` names
them), so they may be written after the server starts: the sandbox's Argo CD comes up after its Git remote.
A missing password file means no auth; a missing webhook URL or secret file means no webhook.

Two ways to run it:

* from make and the sandbox: ``python tests/support/git_server.py up [--repo NAME] [--user U --password-file F]
  [--webhook-url-file F --webhook-secret-file F]`` starts a detached server (or reuses the running one),
  creates the bare repositories, writes the base URL to ``.local/git-server.url``; ``down`` stops it by its PID;
* from pytest: ``GitServer.start(root)`` serves from a thread of the test process (``stop()`` ends it).

Only the standard library and the git binary are needed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from tests.support.tools import runs_script, stop_pid, stop_served
except ImportError:  # run as a script (python tests/support/git_server.py up)
    from tools import runs_script, stop_pid, stop_served  # type: ignore[no-redef]

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR", REPO_ROOT / ".local"))
URL_FILE = STATE_DIR / "git-server.url"
SERVE_DIR = STATE_DIR / "git-server"
PID_FILE = SERVE_DIR / "server.pid"
CONFIG_NAME = "config.json"
DEFAULT_BRANCH = "main"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
WEBHOOK_TIMEOUT = 10.0
GIT_TIMEOUT = 120.0


def git(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """Run git; its stdout, or a RuntimeError carrying its stderr."""
    completed = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT, check=False, env={**os.environ, **(env or {})})
    if completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed ({completed.returncode}): {completed.stderr.decode(errors='replace').strip()}")
    return completed.stdout


def create_bare(root: Path, name: str) -> Path:
    """The bare repository ``<root>/<name>.git`` (created when missing), with ``main`` as its default branch."""
    path = root / f"{name}.git"
    if not (path / "HEAD").is_file():
        path.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", f"--initial-branch={DEFAULT_BRANCH}", str(path))
        git("config", "http.receivepack", "true", cwd=path)
    return path


def refs_of(repository: Path) -> dict[str, str]:
    """Branch name -> commit of a bare repository."""
    out = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", cwd=repository).decode()
    return dict(tuple(line.split(" ", 1)) for line in out.splitlines() if line)  # type: ignore[misc]


def _read_secret_file(path: str) -> str:
    """The first whitespace-separated word of ``path`` (an Ansible password-lookup file), or '' when missing."""
    if not path:
        return ""
    try:
        words = Path(path).read_text(encoding="utf-8").split()
    except OSError:
        return ""
    return words[0] if words else ""


@dataclass(frozen=True)
class Config:
    """Where the server finds its credentials and webhook (file paths; the files are read per request)."""

    user: str = ""
    password_file: str = ""
    webhook_url_file: str = ""
    webhook_secret_file: str = ""

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls(**{key: str(data.get(key, "")) for key in ("user", "password_file", "webhook_url_file", "webhook_secret_file")})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")

    def password(self) -> str:
        return _read_secret_file(self.password_file)

    def webhook(self) -> tuple[str, str]:
        url = ""
        if self.webhook_url_file:
            with contextlib.suppress(OSError):
                url = Path(self.webhook_url_file).read_text(encoding="utf-8").strip()
        return url, _read_secret_file(self.webhook_secret_file)


def push_payload(repository: Path, base_url: str, branch: str, before: str, after: str) -> dict[str, Any]:
    """The body of GitHub's ``push`` event for ``branch`` moving from ``before`` to ``after``."""
    zero = "0" * 40
    name = repository.name.removesuffix(".git")
    span = after if before in ("", zero) else f"{before}..{after}"
    commits = []
    for sha in git("rev-list", "--reverse", span, cwd=repository).decode().split():
        changes: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
        status = git("diff-tree", "--root", "--no-commit-id", "--name-status", "-r", sha, cwd=repository).decode()
        for line in status.splitlines():
            kind, _sep, path = line.partition("\t")
            changes[{"A": "added", "D": "removed"}.get(kind[:1], "modified")].append(path)
        message = git("log", "-1", "--format=%s", sha, cwd=repository).decode().strip()
        commits.append({"id": sha, "message": message, "distinct": True, **changes})
    return {
        "ref": f"refs/heads/{branch}",
        "before": before or zero,
        "after": after,
        "created": before in ("", zero),
        "deleted": after == zero,
        "repository": {
            "name": name,
            "full_name": name,
            "html_url": f"{base_url}/{name}",
            "clone_url": f"{base_url}/{name}.git",
            "default_branch": DEFAULT_BRANCH,
        },
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
    }


def send_webhook(url: str, secret: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` as GitHub does (event ``push``, HMAC-SHA256 signature); the HTTP status, or 0."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 - a loopback URL the sandbox wrote
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": payload["after"], "X-Hub-Signature-256": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


class _Handler(http.server.BaseHTTPRequestHandler):
    """Smart HTTP: every request goes to ``git http-backend``; a successful push triggers the webhook."""

    server: _Server  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        if os.environ.get("GIT_SERVER_VERBOSE"):
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _authorized(self) -> str | None:
        """The user name when the request may go on ('' when no auth is configured); None after a 401."""
        config = self.server.config()
        password = config.password()
        if not password:
            return ""
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            with contextlib.suppress(ValueError):
                user, _sep, given = base64.b64decode(header[6:]).decode().partition(":")
                if hmac.compare_digest(user, config.user) and hmac.compare_digest(given, password):
                    return user
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        user = self._authorized()
        if user is None:
            return
        path, _sep, query = self.path.partition("?")
        body = self._body() if self.command == "POST" else b""
        pushing = path.endswith("/git-receive-pack")
        repository = self.server.root / path.lstrip("/").split("/", 1)[0]
        before = refs_of(repository) if pushing and (repository / "HEAD").is_file() else {}
        env = {
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user or "anonymous",
            "REMOTE_ADDR": self.client_address[0],
            "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(header):
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        completed = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env={**os.environ, **env}, timeout=GIT_TIMEOUT, check=False)
        head, _sep, payload = completed.stdout.partition(b"\r\n\r\n")
        if not _sep:
            head, _sep, payload = completed.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode(errors="replace").splitlines():
            name, _sep, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        if pushing and status == 200:
            self.server.notify(repository, before)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, config_path: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.root = root
        self.config_path = config_path
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def config(self) -> Config:
        return Config.load(self.config_path)

    def notify(self, repository: Path, before: dict[str, str]) -> None:
        """Send the push webhook for every branch the push moved (nothing when no webhook is configured)."""
        after = refs_of(repository)
        url, secret = self.config().webhook()
        for ref in sorted(set(before) | set(after)):
            old, new = before.get(ref, ""), after.get(ref, "0" * 40)
            if old == new:
                continue
            payload = push_payload(repository, self.base_url, ref.removeprefix("refs/heads/"), old, new)
            status = send_webhook(url, secret, payload) if url and secret else None
            with self._lock:
                self.deliveries.append({"ref": ref, "after": new, "status": status, "time": time.time()})
            print(f"git-server: push {repository.name} {ref} {old[:8] or '-'}..{new[:8]}: webhook {status or 'not configured'}", flush=True)


@dataclass
class GitServer:
    """A Git remote served from a thread of this process (tests)."""

    root: Path
    server: _Server | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def start(cls, root: Path, config: Config | None = None) -> GitServer:
        root.mkdir(parents=True, exist_ok=True)
        (config or Config()).save(root / CONFIG_NAME)
        served = cls(root=root)
        served.server = _Server(root, root / CONFIG_NAME)
        served.thread = threading.Thread(target=served.server.serve_forever, name="git-server", daemon=True)
        served.thread.start()
        return served

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    def repository(self, name: str) -> str:
        """URL of the repository ``name``, created (bare, empty) when missing."""
        create_bare(self.root, name)
        return f"{self.url}/{name}.git"

    def configure(self, config: Config) -> None:
        config.save(self.root / CONFIG_NAME)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        assert self.server is not None
        return list(self.server.deliveries)

    def stop(self) -> None:
        stop_served(self.server, self.thread, STOP_TIMEOUT)
        self.server, self.thread = None, None


# --------------------------------------------------------------------------- CLI for make and the sandbox


def answers(url: str) -> bool:
    """True when a git server answers at ``url`` (any HTTP answer, 401 included)."""
    try:
        with urllib.request.urlopen(f"{url}/", timeout=2.0):  # noqa: S310 - loopback URL we wrote
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def running_url() -> str | None:
    if not URL_FILE.is_file():
        return None
    url = URL_FILE.read_text(encoding="utf-8").strip()
    return url if url and answers(url) else None


def _our_server(pid: int) -> bool:
    return runs_script(pid, "git_server.py", "serve")


PORT_FILE = SERVE_DIR / "port"


def _previous_port() -> int:
    """The port of the last run over the same repositories, so that a restarted server keeps its URL; else 0."""
    with contextlib.suppress(OSError, ValueError):
        return int(PORT_FILE.read_text(encoding="utf-8").strip())
    return 0


def cmd_serve() -> int:
    # The repositories' URL is in Argo CD's Applications and the rendered checkout: keep it when the port is free.
    try:
        server = _Server(SERVE_DIR / "repos", SERVE_DIR / CONFIG_NAME, port=_previous_port())
    except OSError:
        server = _Server(SERVE_DIR / "repos", SERVE_DIR / CONFIG_NAME)
    PORT_FILE.write_text(f"{server.server_address[1]}\n", encoding="utf-8")
    PID_FILE.write_text(f"{os.getpid()}\n", encoding="utf-8")
    tmp = URL_FILE.with_suffix(".tmp")
    tmp.write_text(server.base_url + "\n", encoding="utf-8")
    tmp.replace(URL_FILE)

    def _stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_up(repos: list[str], config: Config) -> int:
    SERVE_DIR.mkdir(parents=True, exist_ok=True)
    config.save(SERVE_DIR / CONFIG_NAME)
    for name in repos:
        create_bare(SERVE_DIR / "repos", name)
    url = running_url()
    if url:
        print(f"git-server: reusing {url}", file=sys.stderr)
        print(url)
        return 0
    _stop_running()
    log_path = STATE_DIR / "git-server.log"
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
            print(f"git-server: the server exited with {process.returncode}; see {log_path}", file=sys.stderr)
            return 1
        url = running_url()
        if url:
            print(f"git-server: serving {', '.join(f'{url}/{name}.git' for name in repos) or url} (URL in {URL_FILE})", file=sys.stderr)
            print(url)
            return 0
        time.sleep(0.2)
    print(f"git-server: no answer within {STARTUP_TIMEOUT:.0f}s; see {log_path}", file=sys.stderr)
    process.terminate()
    return 1


def _stop_running() -> None:
    if PID_FILE.is_file():
        with contextlib.suppress(ValueError):
            stop_pid(int(PID_FILE.read_text(encoding="utf-8").strip()), _our_server, STOP_TIMEOUT)
    PID_FILE.unlink(missing_ok=True)
    URL_FILE.unlink(missing_ok=True)


def cmd_down() -> int:
    _stop_running()
    shutil.rmtree(SERVE_DIR, ignore_errors=True)
    print("git-server: stopped and removed", file=sys.stderr)
    return 0


def cmd_status() -> int:
    url = running_url()
    if url:
        print(url)
        return 0
    print("git-server: not running", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "serve"])
    parser.add_argument("--repo", action="append", default=[], help="bare repository to create (repeatable)")
    parser.add_argument("--user", default="", help="user name of HTTP basic auth")
    parser.add_argument("--password-file", default="", help="file holding the password (no auth while it is missing)")
    parser.add_argument("--webhook-url-file", default="", help="file holding the URL the push webhook goes to")
    parser.add_argument("--webhook-secret-file", default="", help="file holding the webhook's HMAC secret")
    args = parser.parse_args(argv)
    if args.command == "up":
        config = Config(args.user, args.password_file, args.webhook_url_file, args.webhook_secret_file)
        return cmd_up(args.repo, config)
    return {"down": cmd_down, "status": cmd_status, "serve": cmd_serve}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
