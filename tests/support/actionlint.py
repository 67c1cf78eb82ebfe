"""actionlint, the GitHub Actions workflow checker, built from its pinned Go module.

actionlint's PyPI wrapper downloads a release binary at install time, which only works with access to
GitHub; the Go module proxy serves the same source. ``actionlint()`` builds the version pinned in
tools/actionlint/go.mod once into the user cache (keyed by go.mod and go.sum, like the local cluster's
binaries) and returns the binary's path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "tools" / "actionlint"
PACKAGE = "github.com/rhysd/actionlint/cmd/actionlint"
BUILD_TIMEOUT = 900


class ActionlintUnavailable(RuntimeError):
    """actionlint could not be built."""


def pinned_version() -> str:
    for line in (TOOLS_DIR / "go.mod").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["require"] and len(parts) == 3 and parts[1] == "github.com/rhysd/actionlint":
            return parts[2]
    raise ActionlintUnavailable(f"no github.com/rhysd/actionlint requirement in {TOOLS_DIR / 'go.mod'}")


def _cache_dir() -> Path:
    root = os.environ.get("EKS_GITOPS_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eks-gitops-platform"
    stamp = hashlib.sha256((TOOLS_DIR / "go.mod").read_bytes() + (TOOLS_DIR / "go.sum").read_bytes()).hexdigest()[:16]
    return Path(root) / "bin" / f"actionlint-{pinned_version()}-{stamp}"


def actionlint() -> Path:
    """Path of the pinned actionlint binary, built on first use."""
    binary = _cache_dir() / "actionlint"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    go = os.environ.get("GO") or shutil.which("go")
    if not go:
        raise ActionlintUnavailable("no Go toolchain on PATH (set GO=/path/to/go): actionlint is built from its Go module")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(f"actionlint.tmp.{os.getpid()}")
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    version = pinned_version()
    ldflags = f"-s -w -X github.com/rhysd/actionlint.version={version}"
    result = subprocess.run(
        [go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(partial), PACKAGE],
        cwd=TOOLS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ActionlintUnavailable(f"go build {PACKAGE}@{version} failed:\n{result.stderr[-4000:]}")
    partial.replace(binary)
    return binary
