# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CustomResourceDefinitions a Helm chart ships in its ``crds/`` directories.

Helm installs the files of a chart's ``crds/`` directory (and of its subcharts') only when the release is
first installed and never upgrades them. To keep them current, the ``chart_release`` role renders the pinned
chart with ``helm template --include-crds`` and applies those CRDs itself, before Helm installs the chart or
upgrades it to another version.

Only the ``crds/`` ones: a CRD rendered from ``templates/`` belongs to the Helm release (Helm upgrades it, and
applying it before the first install would make Helm refuse to adopt it). ``helm template`` marks where every
manifest comes from with a ``# Source: <chart>/<path>`` comment; a ``crds/`` file is printed as it is, so only
its first document carries the comment and the documents after it belong to the same file.

Used by the ``chart_crds`` filter.
"""

from __future__ import annotations

import re
from typing import Any

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by crd_documents()
    yaml = None
    HAS_YAML = False

CRD_KIND = "CustomResourceDefinition"
CRD_GROUP = "apiextensions.k8s.io/"
# A YAML document separator line: "---", optionally followed by a comment or other content.
_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
# <chart>/crds/... or <chart>/charts/<subchart>/.../crds/...: the crds/ directory of a chart, never templates/.
_CRDS_DIR = re.compile(r"^[^/]+(?:/charts/[^/]+)*/crds/")


class ChartCrdsError(ValueError):
    """The rendered chart cannot be read."""


def source_of(document: str) -> str | None:
    """The ``# Source:`` path of a document, when its first non-blank line is that comment."""
    for line in document.splitlines():
        if not line.strip():
            continue
        match = _SOURCE.match(line)
        return match.group(1) if match else None
    return None


def from_crds_dir(source: str) -> bool:
    """Whether a ``# Source:`` path is a file of a chart's (or subchart's) ``crds/`` directory."""
    return bool(_CRDS_DIR.match(source))


def split_documents(manifest: str) -> list[tuple[str | None, str]]:
    """The documents of ``helm template`` output, each with the source file it came from."""
    documents = []
    current: str | None = None
    for document in _SEPARATOR.split(manifest):
        source = source_of(document)
        if source is not None:
            current = source
        documents.append((current, document))
    return documents


def crd_documents(manifest: str) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of the chart's ``crds/`` directories in ``helm template --include-crds`` output.

    In the order Helm printed them; other kinds in ``crds/`` files and everything from ``templates/`` are left out.
    """
    if not HAS_YAML:
        raise ChartCrdsError("the Python package 'PyYAML' is required on the controller")
    if not isinstance(manifest, str):
        raise ChartCrdsError(f"expected the text helm template printed, got {type(manifest).__name__}")
    crds = []
    for index, (source, document) in enumerate(split_documents(manifest)):
        if source is None or not from_crds_dir(source):
            continue
        try:
            loaded = yaml.safe_load(document)
        except yaml.YAMLError as exc:
            raise ChartCrdsError(f"document {index} (from {source}) is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            continue
        if loaded.get("kind") == CRD_KIND and str(loaded.get("apiVersion", "")).startswith(CRD_GROUP):
            name = (loaded.get("metadata") or {}).get("name")
            if not name:
                raise ChartCrdsError(f"a CustomResourceDefinition from {source} has no metadata.name")
            crds.append(loaded)
    return crds
