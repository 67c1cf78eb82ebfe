"""The validation report: rows checked, the console table, Markdown and the summary."""

from __future__ import annotations

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.platform_report import (
    ReportError,
    build_report,
    markdown,
    normalize_rows,
    summarize,
    text_table,
)

ROWS = [
    {"check": "Deployments ready", "status": "pass", "evidence": "12/12 ready"},
    {"check": "Argo CD Applications Synced/Healthy", "status": "skipped", "evidence": "skipped: needs a live Argo CD"},
    {"check": "Reloader running", "status": "FAIL", "evidence": ["reloader/reloader 0/1 ready", "no pod"]},
]


def test_rows_are_normalized_in_order() -> None:
    rows = normalize_rows(ROWS)
    assert [row["check"] for row in rows] == [row["check"] for row in ROWS]
    assert rows[2] == {"check": "Reloader running", "status": "fail", "evidence": "reloader/reloader 0/1 ready; no pod"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("pass", "must be a list"),
        ([{"check": "x", "status": "ok"}], "rows[0].status (x) must be one of pass, fail, skipped"),
        ([{"status": "pass"}], "rows[0].check must be a non-empty string"),
        ([["x"]], "rows[0] must be a mapping"),
    ],
)
def test_bad_rows_are_named(rows: object, message: str) -> None:
    with pytest.raises(ReportError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        normalize_rows(rows)


def test_summary_counts_and_ok() -> None:
    rows = normalize_rows(ROWS)
    assert summarize(rows) == {"pass": 1, "fail": 1, "skipped": 1, "total": 3, "ok": False}
    assert summarize(rows[:2])["ok"] is True


def test_markdown_escapes_pipes_and_has_a_summary() -> None:
    rows = normalize_rows([{"check": "a | b", "status": "pass", "evidence": ""}])
    text = markdown(rows, "Platform validation: local")
    lines = text.splitlines()
    assert lines[0] == "# Platform validation: local"
    assert lines[2] == "| check | status | evidence |"
    assert lines[4] == "| a \\| b | pass |   |"
    assert lines[-1] == "1 passed, 0 failed, 0 skipped."


def test_text_table_wraps_evidence_under_its_column() -> None:
    long = " ".join(f"ns{i}/deployment-{i}" for i in range(20))
    lines = text_table(normalize_rows([{"check": "Deployments ready", "status": "pass", "evidence": long}]), width=80)
    assert all(len(line) <= 80 for line in lines)
    evidence_column = lines[0].index("evidence")
    assert lines[2].startswith("Deployments ready  PASS")
    assert all(line[:evidence_column].strip() == "" for line in lines[3:-1])
    assert " ".join(line[evidence_column:] for line in lines[2:-1]) == long


def test_text_table_cuts_words_longer_than_the_column() -> None:
    lines = text_table(normalize_rows([{"check": "c", "status": "pass", "evidence": "x" * 300}]), width=60)
    assert all(len(line) <= 60 for line in lines)
    assert "".join(line.split()[-1] for line in lines[2:-1]).endswith("x" * 10)


def test_build_report_keeps_facts() -> None:
    report = build_report(ROWS, title="t", environment="local", generated_at="2026-12-01T00:00:00Z")
    assert report["environment"] == "local"
    assert report["generated_at"] == "2026-12-01T00:00:00Z"
    assert report["summary"]["fail"] == 1
    assert report["checks"][0]["status"] == "pass"
    assert report["markdown"].startswith("# t\n")
    assert report["lines"][-1] == "1 passed, 1 failed, 1 skipped."
