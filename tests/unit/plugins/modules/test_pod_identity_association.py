"""The pod_identity_association module end to end (argument spec, glue, result, diff), EKS stubbed.

moto has no EKS Pod Identity API, so the EKS client is botocore's Stubber on the real
API model; the module's ``aws_client`` is pointed at it.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.eks_gitops.platform.plugins.modules import pod_identity_association as module
from tests.support.stubs import ACCOUNT_ID, REGION, all_responses_used, stubbed_client

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/shop-orders"
ASSOCIATION = {
    "clusterName": "platform",
    "namespace": "shop",
    "serviceAccount": "orders",
    "roleArn": ROLE,
    "associationArn": f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:podidentityassociation/platform/a-abcdefghijklmnop1",
    "associationId": "a-abcdefghijklmnop1",
    "tags": {},
}
LIST_PARAMS = {"clusterName": "platform", "namespace": "shop", "serviceAccount": "orders"}


def run_module(args: dict[str, Any], clients: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    patched_clients = mock.patch.object(module, "aws_client", side_effect=lambda _module, service: clients[service])
    with patch_module_args({"region": REGION, **args}), patched_clients, pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_create_with_diff_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    stub.add_response("list_pod_identity_associations", {"associations": []}, LIST_PARAMS)
    stub.add_response("create_pod_identity_association", {"association": ASSOCIATION}, {**LIST_PARAMS, "roleArn": ROLE})
    args = {"cluster_name": "platform", "namespace": "shop", "service_account": "orders", "role_arn": ROLE, "_ansible_diff": True}
    with all_responses_used(stub):
        result = run_module(args, {"eks": eks}, capsys)
    assert result["changed"] is True
    assert result["association"]["association_id"] == "a-abcdefghijklmnop1"
    assert result["diff"]["before"] == ""
    assert json.loads(result["diff"]["after"]) == {"cluster_name": "platform", "namespace": "shop", "role_arn": ROLE, "service_account": "orders", "tags": {}}


def test_unchanged_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    summary = {k: ASSOCIATION[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}
    stub.add_response("list_pod_identity_associations", {"associations": [summary]}, LIST_PARAMS)
    stub.add_response("describe_pod_identity_association", {"association": ASSOCIATION}, {"clusterName": "platform", "associationId": "a-abcdefghijklmnop1"})
    with all_responses_used(stub):
        result = run_module({"cluster_name": "platform", "namespace": "shop", "service_account": "orders", "role_arn": ROLE}, {"eks": eks}, capsys)
    assert result["changed"] is False
    assert "diff" not in result


def test_check_mode_creates_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    stub.add_response("list_pod_identity_associations", {"associations": []}, LIST_PARAMS)
    args = {"cluster_name": "platform", "namespace": "shop", "service_account": "orders", "role_arn": ROLE, "_ansible_check_mode": True}
    with all_responses_used(stub):
        result = run_module(args, {"eks": eks}, capsys)
    assert result["changed"] is True
    assert result["association"]["association_id"] is None


def test_bad_input_fails_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    """No call is stubbed: reaching AWS would fail differently."""
    eks, _stub = stubbed_client("eks")
    args = {"cluster_name": "platform", "namespace": "Shop", "service_account": "orders_", "role_arn": "shop-orders"}
    result = run_module(args, {"eks": eks}, capsys)
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"].startswith("invalid input (3 problems, nothing was changed): ")
    for field in ("namespace: ", "service_account: ", "role_arn: "):
        assert field in result["msg"]


def test_role_arn_and_role_name_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    args = {"cluster_name": "platform", "namespace": "shop", "service_account": "orders", "role_arn": ROLE, "role_name": "shop-orders"}
    result = run_module(args, {}, capsys)
    assert result["failed"] is True
    assert "mutually exclusive: role_arn|role_name" in result["msg"]


def test_unknown_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    eks, stub = stubbed_client("eks")
    stub.add_client_error(
        "list_pod_identity_associations", service_error_code="ResourceNotFoundException", service_message="No cluster found", http_status_code=404
    )
    result = run_module({"cluster_name": "nope", "namespace": "shop", "service_account": "orders", "role_arn": ROLE}, {"eks": eks}, capsys)
    assert result["failed"] is True
    assert result["msg"] == f"cluster_name: EKS cluster 'nope' was not found in region '{REGION}'"
