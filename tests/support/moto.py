"""A moto server on 127.0.0.1 for integration tests: the local AWS.

``MotoServer.start()`` launches ``moto_server`` on a free port in its own process group,
waits until it answers, and ``stop()`` kills that group by its PID. The session fixture
``moto_server`` in tests/integration/conftest.py wraps it; tests call ``reset()`` to get
a clean account.

From make and Molecule (``make moto-up`` / ``make moto-down``): ``python tests/support/moto.py up``
starts a detached server (or reuses the running one), writes its URL to ``.local/moto.url`` and its
PID to ``.local/moto.pid``; ``env`` prints the ``AWS_*`` settings for it; ``down`` stops that PID.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

try:
    from tests.support.tools import stop_pid
except ImportError:  # run as a script (python tests/support/moto.py up)
    from tools import stop_pid  # type: ignore[no-redef]

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    region: str = REGION
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    account_id: str = ACCOUNT_ID

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("moto server is not running")
        return self.process.pid

    @classmethod
    def start(cls, log_path: Path, port: int | None = None) -> MotoServer:
        server = cls(port=port or free_port(), log_path=log_path)
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            server.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(server.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        try:
            server.wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2) as response:  # noqa: S310 - loopback http
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"moto server did not answer on {self.endpoint_url} within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        """Kill the server's whole process group and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def reset(self) -> None:
        """Forget every resource (a fresh account)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310 - loopback http
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback http
            response.read()

    def env(self) -> dict[str, str]:
        """Environment for processes (ansible-playbook, boto3) that must talk to this server only."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_URL": self.endpoint_url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def client(self, service: str, **kwargs: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=kwargs.pop("endpoint_url", self.endpoint_url),
            region_name=kwargs.pop("region_name", self.region),
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            **kwargs,
        )


# --------------------------------------------------------------------------- CLI for make and Molecule

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("LOCAL_CLUSTER_STATE_DIR", REPO_ROOT / ".local"))
URL_FILE = STATE_DIR / "moto.url"
PID_FILE = STATE_DIR / "moto.pid"
STOP_TIMEOUT = 10.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return False


def running_url() -> str | None:
    """URL of the make-started server, if it answers."""
    if not URL_FILE.is_file():
        return None
    url = URL_FILE.read_text(encoding="utf-8").strip()
    return url if url and _answers(url) else None


def _our_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"moto.server" in cmdline


def cmd_up(port: int | None = None) -> int:
    url = running_url()
    if url is not None and port is not None and not url.endswith(f":{port}"):
        url = None  # another port was asked for
    if url is None and port is not None and _answers(f"http://127.0.0.1:{port}"):
        url = f"http://127.0.0.1:{port}"  # someone else's server on that port: use it, never stop it
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        URL_FILE.write_text(url + "\n", encoding="utf-8")
        PID_FILE.unlink(missing_ok=True)
    if url is None:
        cmd_down(quiet=True)
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        server = MotoServer.start(log_path=STATE_DIR / "moto.log", port=port)
        PID_FILE.write_text(f"{server.pid}\n", encoding="utf-8")
        URL_FILE.write_text(server.endpoint_url + "\n", encoding="utf-8")
        server.process = None  # detached: it outlives this process; `down` stops it by its PID
        url = server.endpoint_url
        print(f"moto: serving {url} (URL in {URL_FILE})", file=sys.stderr)
    print(url)
    return 0


def cmd_down(quiet: bool = False) -> int:
    if PID_FILE.is_file():
        with contextlib.suppress(ValueError):
            stop_pid(int(PID_FILE.read_text(encoding="utf-8").strip()), _our_server, STOP_TIMEOUT, group=True)
    PID_FILE.unlink(missing_ok=True)
    URL_FILE.unlink(missing_ok=True)
    if not quiet:
        print("moto: stopped", file=sys.stderr)
    return 0


def cmd_env() -> int:
    """The AWS_* settings for the running server, as JSON (for Ansible's environment)."""
    url = running_url()
    if url is None:
        print("moto: not running", file=sys.stderr)
        return 1
    print(json.dumps(MotoServer(port=int(url.rsplit(":", 1)[1]), log_path=STATE_DIR / "moto.log").env()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A moto server on 127.0.0.1 for make and Molecule")
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--port", type=int, default=None, help="for 'up': serve on this port (default: a free one)")
    args = parser.parse_args(argv)
    if args.command == "up":
        return cmd_up(args.port)
    if args.command == "down":
        return cmd_down()
    if args.command == "env":
        return cmd_env()
    url = running_url()
    print(url or "moto: not running", file=sys.stdout if url else sys.stderr)
    return 0 if url else 1


if __name__ == "__main__":
    sys.exit(main())
