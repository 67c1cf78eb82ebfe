"""Applying a plan: per-secret failures, generated values, retries, and the paths moto cannot show.

botocore's Stubber stands in for Secrets Manager. Some tests exist *because* the local
moto server cannot show the behaviour; their docstrings say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import ANY, Stubber

from ansible_collections.eks_gitops.platform.plugins.module_utils import aws
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import executor, planner, state
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.spec import StoredValue, parse
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.state import CurrentSecret, ReplicaState

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{}-AbCdEf"
VERSION = "a1b2c3d4-0000-4000-8000-{:012d}"
LAMBDA_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:rotate"


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, aws.retry_decorator(retries=3, delay=0.001, max_delay=0.001)), stubber
        stubber.assert_no_pending_responses()


def make_plan(secrets: list[dict[str, Any]], existing: list[CurrentSecret] = (), **module: Any) -> planner.Plan:  # type: ignore[assignment]
    settings, desired, errors = parse({"secrets": secrets, **module}, region="eu-west-1")
    assert not errors, errors.messages
    return planner.plan(desired, {secret.name: secret for secret in existing}, settings)


def created(name: str, version: int = 1) -> dict[str, Any]:
    return {"ARN": ARN.format(name), "Name": name, "VersionId": VERSION.format(version)}


def test_one_failing_secret_does_not_stop_the_others(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    plan = make_plan([{"name": "a", "value": "1"}, {"name": "b", "value": "2"}, {"name": "c", "value": "3"}])
    stubber.add_response("create_secret", created("a"), {"Name": "a", "SecretString": "1", "ClientRequestToken": ANY})
    stubber.add_client_error("create_secret", "AccessDeniedException", "User is not authorized to perform secretsmanager:CreateSecret", 400)
    stubber.add_response("create_secret", created("c"), {"Name": "c", "SecretString": "3", "ClientRequestToken": ANY})
    outcomes = executor.execute(client, plan)
    assert [(outcome.name, outcome.changes, outcome.error) for outcome in outcomes] == [
        ("a", ["created"], None),
        ("b", [], "CreateSecret failed: AccessDeniedException: User is not authorized to perform secretsmanager:CreateSecret"),
        ("c", ["created"], None),
    ]
    assert outcomes[0].arn == ARN.format("a")
    assert [outcome.state for outcome in outcomes] == ["present", "absent", "present"]
    assert outcomes[0].version_id == VERSION.format(1)
    summary = executor.failure_summary(outcomes)
    assert summary is not None
    assert summary.startswith("1 of 3 secrets could not be reconciled (2 reconciled;")
    assert "b: CreateSecret failed: AccessDenied" in summary
    assert executor.failure_summary(outcomes[:1]) is None


def test_a_failure_stops_only_the_rest_of_that_secret(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    existing = CurrentSecret(name="a", arn=ARN.format("a"), version_id="v1", stored=StoredValue(string="old"), tags={"x": "1"})
    plan = make_plan([{"name": "a", "value": "new", "tags": {"y": "2"}}], [existing])
    stubber.add_response("put_secret_value", created("a", 2), {"SecretId": ARN.format("a"), "SecretString": "new", "ClientRequestToken": ANY})
    stubber.add_client_error("tag_resource", "AccessDeniedException", "no tagging", 400)
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["value"]
    assert outcome.version_id == VERSION.format(2)
    assert outcome.error == "TagResource failed: AccessDeniedException: no tagging"
    assert outcome.as_dict()["changed"] is True


def test_generated_value_goes_from_get_random_password_into_create_secret(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    plan = make_plan([{"name": "argocd/admin", "generate": {"length": 24, "exclude_punctuation": True}}])
    stubber.add_response(
        "get_random_password",
        {"RandomPassword": "GENERATED-0123456789abcd"},
        {
            "PasswordLength": 24,
            "ExcludeNumbers": False,
            "ExcludePunctuation": True,
            "ExcludeUppercase": False,
            "ExcludeLowercase": False,
            "IncludeSpace": False,
            "RequireEachIncludedType": True,
        },
    )
    stubber.add_response(
        "create_secret", created("argocd/admin"), {"Name": "argocd/admin", "SecretString": "GENERATED-0123456789abcd", "ClientRequestToken": ANY}
    )
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["created"]
    assert "GENERATED" not in json.dumps(outcome.as_dict())


def test_a_retried_write_reuses_its_client_request_token(stubbed: tuple[Any, Stubber]) -> None:
    """After a throttled (or lost) CreateSecret the retry carries the same token, so it cannot make a second version."""
    client, stubber = stubbed
    plan = make_plan([{"name": "a", "value": "1"}])
    token = Recorder()
    stubber.add_client_error(
        "create_secret", "ThrottlingException", "Rate exceeded", 400, expected_params={"Name": "a", "SecretString": "1", "ClientRequestToken": token}
    )
    stubber.add_response("create_secret", created("a"), {"Name": "a", "SecretString": "1", "ClientRequestToken": token})
    (outcome,) = executor.execute(client, plan)
    assert outcome.error is None
    assert outcome.changes == ["created"]
    assert len(token.seen) == 2
    assert token.seen[0] == token.seen[1]
    assert len(token.seen[0]) == 36


class Recorder:
    """An expected parameter that matches anything and remembers what it was compared with."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def __eq__(self, other: object) -> bool:
        self.seen.append(other)
        return True

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def test_check_mode_makes_no_call(stubbed: tuple[Any, Stubber]) -> None:
    client, _stubber = stubbed  # the Stubber fails on any call it was not given
    existing = CurrentSecret(name="b", arn=ARN.format("b"), version_id="v1", stored=StoredValue(string="old"))
    plan = make_plan([{"name": "a", "generate": {}}, {"name": "b", "value": "new"}], [existing])
    outcomes = executor.execute(client, plan, check_mode=True)
    assert [(outcome.name, outcome.changes) for outcome in outcomes] == [("a", ["created"]), ("b", ["value"])]
    assert outcomes[0].arn is None
    assert outcomes[1].arn == ARN.format("b")


def test_rotation_is_configured_with_rotate_secret(stubbed: tuple[Any, Stubber]) -> None:
    """moto accepts RotateSecret only for a Lambda function it hosts, and without one breaks AWSCURRENT: shown here instead."""
    client, stubber = stubbed
    existing = CurrentSecret(
        name="a", arn=ARN.format("a"), version_id="v1", rotation_enabled=True, rotation_lambda_arn=LAMBDA_ARN, rotation_rules={"AutomaticallyAfterDays": 30}
    )
    plan = make_plan([{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "schedule_expression": "cron(0 4 ? * SUN *)", "duration": "2h"}}], [existing])
    stubber.add_response(
        "rotate_secret",
        {"ARN": ARN.format("a"), "Name": "a", "VersionId": VERSION.format(9)},
        {
            "SecretId": ARN.format("a"),
            "RotationLambdaARN": LAMBDA_ARN,
            "RotationRules": {"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "2h"},
            "RotateImmediately": False,
        },
    )
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["rotation"]
    assert outcome.version_id == "v1"  # RotateSecret's version is AWSPENDING until the Lambda finishes


def test_rotation_is_read_from_list_secrets_and_is_then_unchanged(stubbed: tuple[Any, Stubber]) -> None:
    """What real Secrets Manager lists for a rotating secret (moto cannot rotate without a hosted Lambda)."""
    client, stubber = stubbed
    settings, desired, _errors = parse({"secrets": [{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 30, "duration": "3h"}}]})
    listed = {
        "ARN": ARN.format("a"),
        "Name": "a",
        "RotationEnabled": True,
        "RotationLambdaARN": LAMBDA_ARN,
        "RotationRules": {"AutomaticallyAfterDays": 30, "Duration": "3h"},
        "SecretVersionsToStages": {VERSION.format(1): ["AWSCURRENT"]},
    }
    stubber.add_response(
        "list_secrets", {"SecretList": [listed]}, {"Filters": [{"Key": "name", "Values": ["a"]}], "IncludePlannedDeletion": True, "MaxResults": 100}
    )
    plan = planner.plan(desired, state.read_current(client, desired, settings), settings)
    assert plan.secrets[0].calls == []


def test_turning_rotation_off(stubbed: tuple[Any, Stubber]) -> None:
    """CancelRotateSecret; moto only knows it for secrets it could rotate."""
    client, stubber = stubbed
    existing = CurrentSecret(name="a", arn=ARN.format("a"), rotation_enabled=True, rotation_lambda_arn=LAMBDA_ARN)
    plan = make_plan([{"name": "a", "rotation": {"enabled": False}}], [existing])
    stubber.add_response("cancel_rotate_secret", {"ARN": ARN.format("a"), "Name": "a"}, {"SecretId": ARN.format("a")})
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["rotation"]


def test_resource_policy_that_fails_validation_is_rejected_before_writing(stubbed: tuple[Any, Stubber]) -> None:
    """moto answers ValidateResourcePolicy with HTTP 500, so the validation path is shown here."""
    client, stubber = stubbed
    public = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
    fine = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "secretsmanager:*", "Resource": "*"}],
    }
    plan = make_plan([{"name": "a", "value": "v", "resource_policy": public}, {"name": "b", "value": "v", "resource_policy": fine}])
    stubber.add_response(
        "validate_resource_policy",
        {"PolicyValidationPassed": False, "ValidationErrors": [{"CheckName": "BROAD_ACCESS_POLICY", "ErrorMessage": "The policy grants broad access"}]},
        {"ResourcePolicy": json.dumps(public, sort_keys=True)},
    )
    stubber.add_response(
        "validate_resource_policy", {"PolicyValidationPassed": True, "ValidationErrors": []}, {"ResourcePolicy": json.dumps(fine, sort_keys=True)}
    )
    problems = executor.validate_policies(client, plan)
    assert problems.messages == ["secrets[name=a].resource_policy: failed ValidateResourcePolicy (BROAD_ACCESS_POLICY: The policy grants broad access)"]


def test_resource_policy_is_put_with_block_public_policy(stubbed: tuple[Any, Stubber]) -> None:
    """BlockPublicPolicy is ignored by moto; here the request itself is checked."""
    client, stubber = stubbed
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "secretsmanager:*", "Resource": "*"}],
    }
    existing = CurrentSecret(name="a", arn=ARN.format("a"), version_id="v1")
    plan = make_plan([{"name": "a", "resource_policy": policy}], [existing])
    stubber.add_response(
        "put_resource_policy",
        {"ARN": ARN.format("a"), "Name": "a"},
        {"SecretId": ARN.format("a"), "ResourcePolicy": json.dumps(policy, sort_keys=True), "BlockPublicPolicy": True},
    )
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["resource_policy"]


def test_replica_with_its_own_kms_key_is_stable(stubbed: tuple[Any, Stubber]) -> None:
    """moto reports every replica with the default key, whatever was asked; real Secrets Manager reports the key (here as an ARN)."""
    client, stubber = stubbed
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings, desired, _errors = parse(
        {"secrets": [{"name": "a", "replica_regions": [{"region": "us-east-1", "kms_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}]}]}, region="eu-west-1"
    )
    stubber.add_response(
        "list_secrets",
        {"SecretList": [{"ARN": ARN.format("a"), "Name": "a"}]},
        {"Filters": [{"Key": "name", "Values": ["a"]}], "IncludePlannedDeletion": True, "MaxResults": 100},
    )
    stubber.add_response(
        "describe_secret",
        {"ARN": ARN.format("a"), "ReplicationStatus": [{"Region": "us-east-1", "KmsKeyId": key, "Status": "InSync"}]},
        {"SecretId": ARN.format("a")},
    )
    plan = planner.plan(desired, state.read_current(client, desired, settings), settings)
    assert plan.secrets[0].calls == []


def test_replica_still_in_progress_counts_as_replicated(stubbed: tuple[Any, Stubber]) -> None:
    """Right after ReplicateSecretToRegions a replica is InProgress; moto reports InSync at once."""
    client, _stubber = stubbed
    existing = CurrentSecret(name="a", arn=ARN.format("a"), replicas={"us-east-1": ReplicaState("us-east-1", None, "InProgress")})
    plan = make_plan([{"name": "a", "replica_regions": [{"region": "us-east-1"}]}], [existing])
    assert executor.execute(client, plan)[0].changes == []


def test_delete_removes_replicas_first(stubbed: tuple[Any, Stubber]) -> None:
    """Secrets Manager refuses to delete a secret that still has replicas."""
    client, stubber = stubbed
    existing = CurrentSecret(name="a", arn=ARN.format("a"), replicas={"us-east-1": ReplicaState("us-east-1", None, "InSync")})
    plan = make_plan([{"name": "a", "state": "absent", "recovery_window_days": 7}], [existing])
    stubber.add_response("remove_regions_from_replication", {"ARN": ARN.format("a")}, {"SecretId": ARN.format("a"), "RemoveReplicaRegions": ["us-east-1"]})
    stubber.add_response("delete_secret", {"ARN": ARN.format("a"), "Name": "a"}, {"SecretId": ARN.format("a"), "RecoveryWindowInDays": 7})
    (outcome,) = executor.execute(client, plan)
    assert outcome.changes == ["deleted"]
    assert outcome.state == "absent"
    assert outcome.version_id is None
