#!/usr/bin/env python3
"""Lay the collection out the way ansible-test wants it, and make sanity work offline.

ansible-test only runs inside ``ansible_collections/<namespace>/<name>``. This script
builds the collection with ``ansible-galaxy collection build`` (so galaxy.yml's
``build_ignore`` decides what the collection is: no virtualenv, cache, test output or
development-only tooling) and unpacks the tarball into such a tree, replacing what was
there. Sanity therefore checks exactly what users install. The tree gets an empty git
repository of its own so that ansible-test lists its files.

With ``--get-pip-stand-in`` it also provides the pip bootstrap script that
``ansible-test --venv`` otherwise downloads from a host that CI cannot reach: a stand-in
that bootstraps pip with ``ensurepip`` and then installs the requested packages from the
configured package index.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

GET_PIP_STAND_IN = '''\
"""Stand-in for get-pip.py, written by eks_gitops.platform's scripts/sanity_tree.py.

Bootstraps pip with ensurepip, then installs the requested packages with it.
"""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
# ensurepip points PIP_CONFIG_FILE at /dev/null; drop it so the machine's pip settings apply.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
if args:
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
'''


def build_collection(root: Path, output: Path) -> Path:
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    subprocess.run([str(galaxy), "collection", "build", "--force", "--output-path", str(output), str(root)], check=True, stdout=subprocess.DEVNULL)
    tarballs = list(output.glob("*.tar.gz"))
    if len(tarballs) != 1:
        raise SystemExit(f"expected one collection tarball in {output}, found {tarballs}")
    return tarballs[0]


def unpack(tarball: Path, dest: Path) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(dest, filter="data")
        return sum(1 for member in archive.getmembers() if member.isfile())


def link_dependencies(dest: Path) -> list[str]:
    """Make the collections galaxy.yml depends on visible beside ours, as ansible-test expects.

    They are linked from the installed ``ansible`` package, the same copies the tests use.
    """
    manifest = json.loads(Path(dest, "MANIFEST.json").read_text())
    dependencies = sorted(manifest["collection_info"]["dependencies"])
    spec = importlib.util.find_spec("ansible_collections")
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit("no installed ansible_collections package: install the `ansible` package")
    search = [Path(location) for location in spec.submodule_search_locations]
    collections_root = dest.parent.parent
    for name in dependencies:
        namespace, collection = name.split(".")
        source = next((root / namespace / collection for root in search if (root / namespace / collection).is_dir()), None)
        if source is None:
            raise SystemExit(f"dependency {name} is not installed")
        link = collections_root / namespace / collection
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source, target_is_directory=True)
    return dependencies


def make_content_root(dest: Path) -> None:
    """Give the tree its own (empty) git repository.

    ansible-test walks up to the nearest ``.git`` to list files; without one it would find
    the checkout's, where this tree is ignored, and skip every target.
    """
    subprocess.run(["git", "init", "--quiet", str(dest)], check=True)
    # ansible-test writes its virtualenvs and results under tests/output/; never lint those.
    (dest / ".git" / "info" / "exclude").write_text("/tests/output/\n")


def ansible_test_pip_version() -> str:
    """Read the pip version that the installed ansible-test bootstraps into its venvs."""
    spec = importlib.util.find_spec("ansible_test")
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit("ansible-test is not installed in this interpreter")
    source = Path(next(iter(spec.submodule_search_locations)), "_internal", "python_requirements.py").read_text()
    match = re.search(r"pip='([0-9.]+)'", source)
    if not match:
        raise SystemExit("could not find the pip version ansible-test bootstraps; update scripts/sanity_tree.py")
    return match.group(1)


def write_get_pip_stand_in() -> Path:
    version = ansible_test_pip_version()
    path = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(GET_PIP_STAND_IN)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", required=True, type=Path, help="ansible_collections/<ns>/<name> directory to (re)create")
    parser.add_argument("--get-pip-stand-in", action="store_true", help="also provide the offline pip bootstrap script")
    args = parser.parse_args()

    if args.dest.parts[-3:-2] != ("ansible_collections",):
        raise SystemExit(f"--dest must end in ansible_collections/<namespace>/<name>, got {args.dest}")
    root = Path(__file__).resolve().parent.parent
    dest = args.dest.resolve()
    with tempfile.TemporaryDirectory(prefix="collection-build-") as tmp:
        count = unpack(build_collection(root, Path(tmp)), dest)
    make_content_root(dest)
    print(f"unpacked the collection ({count} files) into {args.dest}")
    print(f"linked its dependencies: {', '.join(link_dependencies(dest))}")
    if args.get_pip_stand_in:
        print(f"pip bootstrap stand-in: {write_get_pip_stand_in()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
