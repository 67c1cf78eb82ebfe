"""The without_condition filter the bounded waits of chart_release use."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.filter.without_condition import FilterModule

without_condition = FilterModule().filters()["without_condition"]


def obj(name: str, *conditions: tuple[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"conditions": [{"type": kind, "status": status} for kind, status in conditions]}}


def test_names_whose_object_lacks_the_condition_in_the_order_given() -> None:
    resources = [
        obj("ready", ("Progressing", "True"), ("Available", "True")),
        obj("down", ("Available", "False")),
        obj("other-condition", ("Progressing", "True")),
        {"metadata": {"name": "no-status"}},
        {"metadata": {"name": "empty-status"}, "status": None},
    ]
    names = ["missing", "down", "ready", "other-condition", "no-status", "empty-status"]
    assert without_condition(resources, names, "Available") == ["missing", "down", "other-condition", "no-status", "empty-status"]


def test_all_ready_gives_nothing_and_nothing_asked_gives_nothing() -> None:
    resources = [obj("a", ("Established", "True")), obj("b", ("Established", "True"))]
    assert without_condition(resources, ["a", "b"], "Established") == []
    assert without_condition([], [], "Established") == []


def test_objects_not_named_do_not_count() -> None:
    assert without_condition([obj("unrelated", ("Available", "True"))], ["wanted"], "Available") == ["wanted"]


@pytest.mark.parametrize(
    ("resources", "names", "condition", "message"),
    [
        ("not a list", ["a"], "Available", "list of objects"),
        ([1], ["a"], "Available", "list of objects"),
        ([], "a", "Available", "names must be a list"),
        ([], ["a"], "", "condition must be"),
    ],
)
def test_bad_input_is_refused_naming_what_is_wrong(resources: Any, names: Any, condition: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        without_condition(resources, names, condition)
