"""The README's facts contract table is the one cluster_secrets.CONTRACT describes, row for row."""

from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.cluster_secrets import CONTRACT

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_contract() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("### The cluster Secret: the facts contract")
    section = text[start : text.index("\n## ", start)]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| (.+) \|$", section, flags=re.MULTILINE)
    assert [(key, where.strip(), what.strip()) for key, where, what in rows] == list(CONTRACT)
