# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validation report of the platform: one row per check, as a console table, Markdown and JSON.

``playbooks/validate.yml`` collects one row per success criterion, ``{check, status, evidence}`` with
``status`` one of ``pass``, ``fail`` or ``skipped``, and hands them to :func:`build_report`. Everything
here is plain Python without Ansible, so the layout is unit-tested and the playbook stays short.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

STATUSES = ("pass", "fail", "skipped")
COLUMNS = ("check", "status", "evidence")


class ReportError(ValueError):
    """A row that is not ``{check, status, evidence}`` with a known status."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(item) for item in value)
    return " ".join(str(value).split())


def normalize_rows(rows: Any) -> List[Dict[str, str]]:
    """Check the rows and return them as ``{check, status, evidence}`` strings, in order."""
    if not isinstance(rows, (list, tuple)):
        raise ReportError(f"the rows must be a list, got {type(rows).__name__}")
    normalized = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ReportError(f"rows[{index}] must be a mapping with check, status and evidence")
        check = _text(row.get("check"))
        if not check:
            raise ReportError(f"rows[{index}].check must be a non-empty string")
        status = _text(row.get("status")).lower()
        if status not in STATUSES:
            raise ReportError(f"rows[{index}].status ({check}) must be one of {', '.join(STATUSES)}, got {row.get('status')!r}")
        normalized.append({"check": check, "status": status, "evidence": _text(row.get("evidence"))})
    return normalized


def summarize(rows: Sequence[Mapping[str, str]]) -> Dict[str, Any]:
    """Counts per status; ``ok`` is true when no check failed."""
    counts = {status: sum(1 for row in rows if row["status"] == status) for status in STATUSES}
    return {**counts, "total": len(rows), "ok": counts["fail"] == 0}


def _markdown_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|") or " "


def markdown(rows: Sequence[Mapping[str, str]], title: Optional[str] = None) -> str:
    """A Markdown document: optional title, the table, and a summary line."""
    summary = summarize(rows)
    lines = []
    if title:
        lines += [f"# {title}", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("| " + " | ".join(["---"] * len(COLUMNS)) + " |")
    for row in rows:
        lines.append("| " + " | ".join(_markdown_cell(row[column]) for column in COLUMNS) + " |")
    lines += ["", f"{summary['pass']} passed, {summary['fail']} failed, {summary['skipped']} skipped."]
    return "\n".join(lines) + "\n"


def _wrap(value: str, width: int) -> List[str]:
    """Split ``value`` into lines of at most ``width`` characters, at spaces where possible."""
    if width <= 0 or len(value) <= width:
        return [value]
    lines: List[str] = []
    current = ""
    for whole in value.split(" "):
        word = whole
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]


def text_table(rows: Sequence[Mapping[str, str]], width: int = 120) -> List[str]:
    """The table for a terminal, as lines: fixed columns, evidence wrapped to fit ``width``."""
    check_width = max([len(COLUMNS[0])] + [len(row["check"]) for row in rows])
    status_width = max(len(status) for status in (*STATUSES, COLUMNS[1]))
    evidence_width = max(20, width - check_width - status_width - 4)
    lines = [f"{COLUMNS[0]:<{check_width}}  {COLUMNS[1]:<{status_width}}  {COLUMNS[2]}", "-" * min(width, check_width + status_width + 4 + evidence_width)]
    for row in rows:
        evidence = _wrap(row["evidence"], evidence_width)
        lines.append(f"{row['check']:<{check_width}}  {row['status'].upper():<{status_width}}  {evidence[0]}".rstrip())
        for more in evidence[1:]:
            lines.append(f"{'':<{check_width}}  {'':<{status_width}}  {more}".rstrip())
    summary = summarize(rows)
    lines.append(f"{summary['pass']} passed, {summary['fail']} failed, {summary['skipped']} skipped.")
    return lines


def build_report(rows: Any, title: Optional[str] = None, width: int = 120, **facts: Any) -> Dict[str, Any]:
    """Everything the playbook writes and prints: rows, summary, Markdown text and console lines.

    ``facts`` (for example ``environment`` and ``generated_at``) are kept in the JSON document as given.
    """
    checked = normalize_rows(rows)
    return {
        **facts,
        "title": title or "",
        "summary": summarize(checked),
        "checks": checked,
        "markdown": markdown(checked, title),
        "lines": text_table(checked, width),
    }
