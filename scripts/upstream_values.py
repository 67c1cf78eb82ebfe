#!/usr/bin/env python3
"""Check chart values against an upstream chart: render them, and list the keys the chart does not know.

    python scripts/upstream_values.py CHART_DIR VALUES.json [--kube-version 1.37.0]

CHART_DIR is a checkout of the upstream chart at the pinned version (its public repository at the release tag, with
its dependencies in charts/; never committed here). The values are rendered with ``helm template --kube-version``
(a chart with a values.schema.json refuses unknown keys by itself), then every leaf of the values is looked up in the
chart: a key is known when the chart's values.yaml has it, when a template reads it (``.Values.a.b``, ``index .Values
"a" "b"``), when a template reads a map above it whole (``toYaml``, ``range``, ``omit``, a partial), when the
defaults leave that map empty for you to fill, or when it switches a subchart on. Keys of a subchart (charts/<name>/)
are looked up in it.

Prints one line per unknown key and exits 1 when there is one, or when the chart does not render. This is how the
roles' values are kept true to the upstream charts when a pin changes (the test doubles of tests/charts carry a
values.schema.json written from this check, so the tests catch a key the real chart would ignore).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_INDEX_PATH = re.compile(r"index\s+\.Values((?:\s+\"[^\"]+\")+)")


def leaves(values: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of ``values`` that ends in a scalar, a list or an empty map."""
    if isinstance(values, dict) and values:
        return [path for key, value in values.items() for path in leaves(value, (*prefix, str(key)))]
    return [prefix] if prefix else []


def template_paths(chart: Path) -> set[tuple[str, ...]]:
    """The value paths the chart's templates read (``.Values.a.b``, ``index .Values "a" "b"``)."""
    read: set[tuple[str, ...]] = set()
    for template in chart.glob("templates/**/*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8", errors="replace")
            read |= {tuple(match.strip(".").split(".")) for match in _VALUES_PATH.findall(text)}
            read |= {tuple(re.findall(r"\"([^\"]+)\"", match)) for match in _INDEX_PATH.findall(text)}
    return read


def dependency_conditions(chart: Path) -> set[tuple[str, ...]]:
    """The values that switch a subchart on (Chart.yaml ``dependencies[].condition``)."""
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8")) or {}
    conditions = [str(dependency.get("condition") or "") for dependency in metadata.get("dependencies") or []]
    return {tuple(part.split(".")) for condition in conditions for part in condition.split(",") if part}


def defaults_have(defaults: Any, path: tuple[str, ...]) -> bool:
    node = defaults
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def unknown_keys(chart: Path, values: dict[str, Any]) -> list[str]:
    """The key paths of ``values`` the chart (and its subcharts) does not know."""
    defaults = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")) or {}
    read = template_paths(chart)
    conditions = dependency_conditions(chart)
    subcharts = {path.name: path for path in (chart / "charts").glob("*") if (path / "values.yaml").is_file()}
    found = []
    for path in leaves(values):
        if path in conditions:
            continue
        if path[0] in subcharts and len(path) > 1:
            if unknown_keys(subcharts[path[0]], _nest(path[1:])):
                found.append(".".join(path))
            continue
        prefixes = [path[:length] for length in range(1, len(path))]
        known = defaults_have(defaults, path) or path in read
        # A map a template reads whole (toYaml, range, omit, include of a partial): every key under it is consumed.
        known = known or any(prefix in read for prefix in prefixes)
        # A map the defaults leave empty (or null) is the chart's to fill: every key under it is its own.
        known = known or any(defaults_have(defaults, prefix) and _empty_map(defaults, prefix) for prefix in prefixes)
        if not known:
            found.append(".".join(path))
    return found


def _empty_map(defaults: Any, path: tuple[str, ...]) -> bool:
    node = defaults
    for key in path:
        node = node[key]
    return node is None or node == {}


def _nest(path: tuple[str, ...]) -> dict[str, Any]:
    value: Any = "x"
    for key in reversed(path):
        value = {key: value}
    return value


def render(chart: Path, values_file: Path, kube_version: str) -> subprocess.CompletedProcess[str]:
    helm = Path(sys.executable).with_name("helm")
    return subprocess.run(
        [str(helm if helm.is_file() else "helm"), "template", "check", str(chart), "--kube-version", kube_version, "-f", str(values_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chart", type=Path)
    parser.add_argument("values", type=Path, help="the values as JSON or YAML")
    parser.add_argument("--kube-version", default="1.37.0")
    args = parser.parse_args(argv)
    values = yaml.safe_load(args.values.read_text(encoding="utf-8")) or {}
    rendered = render(args.chart, args.values, args.kube_version)
    status = 0
    if rendered.returncode != 0:
        print(f"helm template failed: {rendered.stderr.strip()}")
        status = 1
    for key in unknown_keys(args.chart, values):
        print(f"unknown key: {key}")
        status = 1
    if status == 0:
        print(f"ok: {len(leaves(values))} keys, all known to {args.chart.name}; helm template renders {len(rendered.stdout.splitlines())} lines")
    return status


if __name__ == "__main__":
    sys.exit(main())
