#!/usr/bin/env python3
"""Write the values.schema.json of a test chart double: the value keys it knows, checked against the upstream chart.

    python scripts/double_schema.py tests/charts/NAME UPSTREAM_CHART_DIR [ROLE_VALUES.json ...]

The keys are the double's own defaults (its values.yaml) and every key the roles set (their rendered values, for
each environment given). Each one must be known to the upstream chart at the pinned version (see
scripts/upstream_values.py; UPSTREAM_CHART_DIR is a checkout of it, never committed): the script stops, naming the
key, when one is not. Maps the upstream chart takes whole (a template passes them on with toYaml, range or a
partial, or its defaults leave them empty: annotations, configs.cm, resources, ...) stay open; every other object
gets ``additionalProperties: false``, so Helm refuses a key the double does not know, and with it the tests.

Run it again when a role sets a new key or a pin changes, after checking that key upstream.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upstream_values import template_paths, unknown_keys

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def merge(tree: dict[str, Any], values: Any) -> dict[str, Any]:
    """``tree`` with every key path of ``values`` added (a list of the values seen at each leaf)."""
    for key, value in (values or {}).items():
        if isinstance(value, dict) and value:
            node = tree.setdefault(key, {})
            if isinstance(node, dict):
                merge(node, value)
        else:
            tree.setdefault(key, [])
            if isinstance(tree[key], list):
                tree[key].append(value)
    return tree


def open_map(path: tuple[str, ...], upstream_defaults: Any, read: set[tuple[str, ...]]) -> bool:
    """True when the upstream chart takes the map at ``path`` whole (a template reads it, or its default is empty)."""
    if path in read:
        return True
    node = upstream_defaults
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return node is None or node == {}


def schema(tree: dict[str, Any], path: tuple[str, ...], upstream_defaults: Any, read: set[tuple[str, ...]], subcharts: set[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key, node in sorted(tree.items()):
        child = (*path, key)
        if isinstance(node, dict):
            if open_map(child, upstream_defaults, read) or (not path and key in subcharts):
                properties[key] = {"type": "object"}
            else:
                properties[key] = schema(node, child, upstream_defaults, read, subcharts)
        else:
            types = sorted({_JSON_TYPES.get(type(value), "null") for value in node if value is not None})
            properties[key] = {"type": types[0]} if len(types) == 1 else ({"type": types} if types else {})
    return {"type": "object", "properties": properties, "additionalProperties": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("double", type=Path)
    parser.add_argument("upstream", type=Path)
    parser.add_argument("role_values", type=Path, nargs="*")
    args = parser.parse_args(argv)
    tree: dict[str, Any] = {}
    sources = [yaml.safe_load((args.double / "values.yaml").read_text(encoding="utf-8")) or {}]
    sources += [json.loads(path.read_text(encoding="utf-8")) for path in args.role_values]
    for values in sources:
        merge(tree, values)
        unknown = unknown_keys(args.upstream, values)
        if unknown:
            print(f"not known to the upstream chart {args.upstream}: {', '.join(unknown)}", file=sys.stderr)
            return 1
    upstream_defaults = yaml.safe_load((args.upstream / "values.yaml").read_text(encoding="utf-8")) or {}
    subcharts = {path.name for path in (args.upstream / "charts").glob("*") if path.is_dir()}
    document = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"Values of the {args.double.name} test double: the keys it knows, each known to the upstream chart",
        **schema(tree, (), upstream_defaults, template_paths(args.upstream), subcharts),
    }
    (args.double / "values.schema.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.double / 'values.schema.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
