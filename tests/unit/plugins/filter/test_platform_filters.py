"""The validation_report, placeholders and secret_findings filters, through Ansible's templating."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleError

from ansible_collections.eks_gitops.platform.plugins.filter.placeholders import FilterModule as PlaceholderFilters
from ansible_collections.eks_gitops.platform.plugins.filter.secret_findings import FilterModule as SecretFilters
from ansible_collections.eks_gitops.platform.plugins.filter.validation_report import FilterModule as ReportFilters


def test_validation_report_filter() -> None:
    report = ReportFilters().filters()["validation_report"]
    result = report([{"check": "c", "status": "pass", "evidence": "e"}], title="t", width="100", facts={"environment": "dev"})
    assert result["summary"]["ok"] is True
    assert result["environment"] == "dev"
    with pytest.raises(AnsibleError, match=r"validation_report: rows\[0\]\.status"):
        report([{"check": "c", "status": "green"}])


def test_placeholders_filter() -> None:
    placeholders = PlaceholderFilters().filters()["placeholders"]
    assert placeholders({"a": "CHANGE_ME", "b": "fine"}) == ["a"]
    assert placeholders({"a": "TODO"}, markers=["TODO"]) == ["a"]
    with pytest.raises(AnsibleError, match="placeholders: the variables must be a mapping"):
        placeholders("CHANGE_ME")


def test_secret_findings_filter() -> None:
    findings = SecretFilters().filters()["secret_findings"]
    assert findings({"doc": {"password": "x"}}) == [{"path": "doc.password", "reason": "a value under the secret-like key 'password'"}]
    with pytest.raises(AnsibleError, match="mapping of names"):
        findings(["x"])
