"""The shape every workload identity backend shares: its AWS calls (workload_identity/aws.py) and plan/execute
(workload_identity/plan.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.parsers import ResponseParserError

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import (
    IdentityError,
    call,
    caller_account,
    create,
    get,
    list_all,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Plan, execute, json_diff
from tests.support.stubs import ACCOUNT_ID, all_responses_used, stubbed_client


def test_get_answers_none_for_a_missing_entity_of_iam_and_of_eks() -> None:
    iam, iam_stub = stubbed_client("iam")
    iam_stub.add_client_error("get_role", service_error_code="NoSuchEntity", http_status_code=404)
    eks, eks_stub = stubbed_client("eks")
    eks_stub.add_client_error("describe_cluster", service_error_code="ResourceNotFoundException", http_status_code=404)
    with all_responses_used(iam_stub, eks_stub):
        assert get(iam.get_role, "read IAM role 'app'", RoleName="app") is None
        assert get(eks.describe_cluster, "describe EKS cluster 'x'", name="x") is None


def test_a_failure_names_what_was_being_done_and_keeps_the_aws_error() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_client_error("get_role", service_error_code="AccessDenied", service_message="no", http_status_code=403)
    with pytest.raises(IdentityError) as raised:
        get(iam.get_role, "read IAM role 'app'", RoleName="app")
    assert raised.value.message == "failed to read IAM role 'app'"
    assert raised.value.exception is not None


def test_an_answer_botocore_cannot_parse_is_an_identity_error_saying_it_outlasted_the_retries() -> None:
    """A plain-text 5xx page in front of IAM: botocore's ResponseParserError is neither a ClientError nor a
    BotoCoreError, which amazon.aws's handler alone would let escape. (The retries themselves: test_aws.py, and
    integration/test_identity_faults.py through a faulty proxy.)"""

    class Client:
        def get_role(self, aws_retry: bool = False, **_kwargs: Any) -> dict:
            assert aws_retry
            raise ResponseParserError("Unable to parse response (syntax error), invalid XML received")

    with pytest.raises(IdentityError) as raised:
        call(Client().get_role, "read IAM role 'app'", RoleName="app")
    assert raised.value.message == "failed to read IAM role 'app' (still failing after 6 attempts with jittered backoff)"
    assert isinstance(raised.value.exception, ResponseParserError)


def test_list_all_follows_every_page_with_amazon_aws_paginator() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_response("list_role_policies", {"PolicyNames": ["a"], "IsTruncated": True, "Marker": "m1"}, {"RoleName": "app"})
    stub.add_response("list_role_policies", {"PolicyNames": ["b"], "IsTruncated": False}, {"RoleName": "app", "Marker": "m1"})
    with all_responses_used(stub):
        assert list_all(iam, "list_role_policies", "PolicyNames", "list the inline policies of role 'app'", RoleName="app") == ["a", "b"]


def test_list_all_failures_raise_identity_errors() -> None:
    eks, stub = stubbed_client("eks")
    stub.add_client_error("list_access_entries", service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(IdentityError, match="failed to list the access entries"):
        list_all(eks, "list_access_entries", "accessEntries", "list the access entries", clusterName="c")


def test_create_adopts_what_already_exists() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_client_error("create_role", service_error_code="EntityAlreadyExists", http_status_code=409)
    adopted = []
    assert create(iam.create_role, "create IAM role 'app'", lambda: adopted.append(True), RoleName="app", AssumeRolePolicyDocument="{}") == {}
    assert adopted == [True]
    stub.add_client_error("create_role", service_error_code="MalformedPolicyDocument", http_status_code=400)
    with pytest.raises(IdentityError, match="failed to create IAM role 'app'"):
        create(iam.create_role, "create IAM role 'app'", lambda: None, RoleName="app", AssumeRolePolicyDocument="{}")


def test_caller_account() -> None:
    sts, stub = stubbed_client("sts")
    stub.add_response("get_caller_identity", {"Account": ACCOUNT_ID, "Arn": f"arn:aws-cn:iam::{ACCOUNT_ID}:user/ci", "UserId": "AIDA"})
    account = caller_account(sts)
    assert (account.account_id, account.partition) == (ACCOUNT_ID, "aws-cn")


def test_execute_runs_the_steps_in_order_and_completes_the_result() -> None:
    ran: list[str] = []
    plan = Plan(result={"id": None}, before={}, after={"x": 1})
    plan.add("first", lambda: ran.append("first"))
    plan.add("second", lambda: ran.append("second"))
    plan.refresh = lambda result: dict(result, id="from-aws")
    outcome = execute(plan, check_mode=False)
    assert ran == ["first", "second"]
    assert outcome.changed
    assert outcome.result == {"id": "from-aws"}
    assert plan.changes == ["first", "second"]


def test_check_mode_runs_nothing_and_reports_the_same_change() -> None:
    plan = Plan(result={"id": None})
    plan.add("write", lambda: pytest.fail("check mode wrote"))
    plan.refresh = lambda result: pytest.fail("check mode read back")
    outcome = execute(plan, check_mode=True)
    assert outcome.changed
    assert outcome.result == {"id": None}
    assert not execute(Plan(result={}), check_mode=True).changed
    assert not execute(Plan(result={}), check_mode=False).changed


def test_a_failure_halfway_stops_and_says_whether_anything_was_written() -> None:
    def failing() -> None:
        raise IdentityError(message="failed to attach")

    plan = Plan(result={})
    plan.add("fails", failing)
    plan.add("never", lambda: pytest.fail("ran after a failure"))
    outcome = execute(plan, check_mode=False)
    assert outcome.error is not None
    assert not outcome.changed
    plan = Plan(result={})
    plan.add("works", lambda: None)
    plan.add("fails", failing)
    assert execute(plan, check_mode=False).changed


def test_json_diff() -> None:
    assert json_diff({}, {"b": 1, "a": 2}, "IAM role app") == {
        "before": "",
        "after": '{\n  "a": 2,\n  "b": 1\n}\n',
        "before_header": "IAM role app (before)",
        "after_header": "IAM role app (after)",
    }
