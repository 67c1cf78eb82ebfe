# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.platform_report import ReportError, build_report

DOCUMENTATION = r"""
name: validation_report
short_description: The platform validation report (console table, Markdown, JSON) from a list of checks
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes the rows of C(playbooks/validate.yml), one per check, each C({check, status, evidence}) with
    C(status) one of C(pass), C(fail) or C(skipped), and returns the report as a dictionary
    C({title, summary, checks, markdown, lines, ...}).
  - C(summary) counts the rows per status and has C(ok), true when no check failed. C(markdown) is a Markdown
    document with the table; C(lines) is the table for a terminal, one string per line.
  - A row with an unknown status or without a check name fails the filter, naming the row.
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
  title:
    description: Title of the Markdown document.
    type: string
  width:
    description: Width of the console table; the evidence column is wrapped to fit.
    type: integer
    default: 120
  facts:
    description: More keys of the report (for example C(environment) and C(generated_at)), kept as given.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Build the report
  ansible.builtin.set_fact:
    validate_report: >-
      {{ validate_rows | eks_gitops.platform.validation_report(title='Platform validation: ' ~ platform_environment,
                                                               facts={'environment': platform_environment}) }}

- name: Print the table
  ansible.builtin.debug:
    msg: "{{ validate_report.lines }}"
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    summary:
      description: C(pass), C(fail), C(skipped), C(total) counts and C(ok).
      type: dict
    checks:
      description: The rows, normalized.
      type: list
      elements: dict
    markdown:
      description: The report as a Markdown document.
      type: string
    lines:
      description: The console table.
      type: list
      elements: string
"""


def validation_report(rows: Any, title: str | None = None, width: int = 120, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return build_report(rows, title=title, width=int(width), **(facts or {}))
    except (ReportError, TypeError) as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.validation_report: {exc}") from None


class FilterModule:
    """The platform validation report."""

    def filters(self) -> dict[str, Callable]:
        return {"validation_report": validation_report}
