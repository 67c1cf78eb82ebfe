"""The collection artifact: what `ansible-galaxy collection build` ships."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_PARTS = {".venv", ".local", "__pycache__", ".pytest_cache", ".ruff_cache", ".git", "collections"}


def test_build_produces_a_clean_tarball(tmp_path: Path) -> None:
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    subprocess.run(
        [str(Path(sys.executable).with_name("ansible-galaxy")), "collection", "build", "--output-path", str(tmp_path), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    tarball = tmp_path / f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    assert tarball.name == "eks_gitops-platform-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "MANIFEST.json" in names
    assert "galaxy.yml" not in names  # replaced by MANIFEST.json
    assert "meta/runtime.yml" in names
    assert "README.md" in names
    offenders = [name for name in names if FORBIDDEN_PARTS & set(Path(name).parts) or name.startswith("tests/output") or name.endswith((".pyc", ".tar.gz"))]
    assert offenders == []
