"""The eks_access_entry module end to end (argument spec, glue, result, diff), EKS stubbed: moto has no access entry API."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.stub import ANY

from ansible_collections.eks_gitops.platform.plugins.modules import eks_access_entry as module
from tests.support.stubs import ACCOUNT_ID, REGION, all_responses_used, stubbed_client

PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-hub-argocd"
KEY = {"clusterName": "spoke-a", "principalArn": PRINCIPAL}
ENTRY = {**KEY, "kubernetesGroups": [], "accessEntryArn": f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:access-entry/spoke-a/x", "tags": {}, "type": "STANDARD"}


def run_module(args: dict[str, Any], eks: Any, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    patched = mock.patch.object(module, "aws_client", side_effect=lambda _module, service: {"eks": eks}[service])
    with patch_module_args({"region": REGION, "cluster_name": "spoke-a", "principal_arn": PRINCIPAL, **args}), patched, pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def expect_reads(stub: Any, entry: dict[str, Any] | None) -> None:
    stub.add_response("describe_cluster", {"cluster": {"name": "spoke-a"}}, {"name": "spoke-a"})
    if entry is None:
        stub.add_client_error("describe_access_entry", service_error_code="ResourceNotFoundException", http_status_code=404)
    else:
        stub.add_response("describe_access_entry", {"accessEntry": entry}, KEY)
        stub.add_response("list_associated_access_policies", {"associatedAccessPolicies": []}, KEY)


def test_create_with_diff_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    expect_reads(stub, None)
    stub.add_response("create_access_entry", {"accessEntry": ENTRY}, {**KEY, "type": "STANDARD", "kubernetesGroups": ["hub"], "clientRequestToken": ANY})
    # the read-back of the created entry, for its ARN and times
    stub.add_response("describe_access_entry", {"accessEntry": {**ENTRY, "kubernetesGroups": ["hub"]}}, KEY)
    stub.add_response("list_associated_access_policies", {"associatedAccessPolicies": []}, KEY)
    with all_responses_used(stub):
        result = run_module({"kubernetes_groups": ["hub"], "_ansible_diff": True}, eks, capsys)
    assert result["changed"] is True
    assert result["access_entry"]["access_entry_arn"] == ENTRY["accessEntryArn"]
    assert result["diff"]["before"] == ""
    assert json.loads(result["diff"]["after"])["kubernetes_groups"] == ["hub"]


def test_check_mode_and_an_unchanged_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    expect_reads(stub, None)
    with all_responses_used(stub):
        result = run_module({"_ansible_check_mode": True}, eks, capsys)
    assert result["changed"] is True
    assert result["access_entry"]["access_entry_arn"] is None
    expect_reads(stub, ENTRY)
    with all_responses_used(stub):
        result = run_module({}, eks, capsys)
    assert result["changed"] is False


def test_bad_input_fails_before_any_client(capsys: pytest.CaptureFixture[str]) -> None:
    with (
        patch_module_args({"region": REGION, "cluster_name": "spoke-a", "principal_arn": "nope", "username": "system:x"}),
        mock.patch.object(module, "aws_client", side_effect=AssertionError("a client was made")),
        pytest.raises(SystemExit),
    ):
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert result["changed"] is False
    assert "principal_arn:" in result["msg"]
    assert "username:" in result["msg"]
