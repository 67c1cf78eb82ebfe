"""Placeholders left in an inventory are found by path, never shown by value."""

from __future__ import annotations

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.placeholders import find_placeholders


def test_paths_of_nested_placeholders() -> None:
    variables = {
        "platform_aws_account_id": "CHANGE_ME",
        "argocd_domain": "argocd.CHANGE_ME.example.com",
        "platform_secrets": [{"name": "dev/app", "json": {"host": "db", "password": "CHANGE_ME-in-vault"}}],
        "platform_workloads": [{"name": "my-microservice"}],
        "platform_count": 3,
        "platform_tags": {"CHANGE_ME": "x"},
    }
    assert find_placeholders(variables) == [
        "argocd_domain",
        "platform_aws_account_id",
        "platform_secrets[0].json.password",
        "platform_tags (key 'CHANGE_ME')",
    ]


def test_clean_variables_and_ignored_names() -> None:
    assert find_placeholders({"a": "value", "b": ["x", {"c": None}]}) == []
    assert find_placeholders({"a": "CHANGE_ME"}, ignore=["a"]) == []


def test_other_markers() -> None:
    assert find_placeholders({"a": "<ACCOUNT>", "b": "CHANGE_ME"}, markers=["<ACCOUNT>"]) == ["a"]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="mapping"):
        find_placeholders(["CHANGE_ME"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="marker"):
        find_placeholders({}, markers=[""])
