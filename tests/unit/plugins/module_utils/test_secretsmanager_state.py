"""Reading the current state with few calls: name-filter prefixes, ListSecrets paging, BatchGetSecretValue in 20s.

botocore's Stubber stands in for Secrets Manager and fails the test on any call it was not
told to expect, so these tests also prove which calls are *not* made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.eks_gitops.platform.plugins.module_utils import aws
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import state
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.spec import StoredValue, parse

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{}-AbCdEf"
VERSION = "a1b2c3d4-0000-4000-8000-{:012d}"


def entry(name: str, version: int | None = 1, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"ARN": ARN.format(name), "Name": name, **fields}
    if version is not None:
        item["SecretVersionsToStages"] = {VERSION.format(version): ["AWSCURRENT"]}
    return item


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, aws.retry_decorator(retries=2, delay=0.001, max_delay=0.001)), stubber
        stubber.assert_no_pending_responses()


def desired(secrets: list[dict[str, Any]], **module: Any) -> tuple[Any, list[Any]]:
    settings, items, errors = parse({"secrets": secrets, **module}, region="eu-west-1")
    assert not errors, errors.messages
    return settings, items


def list_request(values: list[str], token: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"Filters": [{"Key": "name", "Values": values}], "IncludePlannedDeletion": True, "MaxResults": 100}
    if token:
        request["NextToken"] = token
    return request


# --- name filter prefixes ----------------------------------------------------------


def test_few_names_are_their_own_prefixes() -> None:
    assert state.name_filter_prefixes(["b", "a", "a"]) == ["a", "b"]


def test_a_prefix_covers_its_extensions() -> None:
    assert state.name_filter_prefixes(["apps/x", "apps/", "apps/y/z", "other"]) == ["apps/", "other"]


def test_many_names_fold_into_at_most_ten_prefixes() -> None:
    names = [f"bench/module/secret-{index:03d}" for index in range(200)]
    prefixes = state.name_filter_prefixes(names)
    assert 1 <= len(prefixes) <= 10
    assert all(any(name.startswith(prefix) for prefix in prefixes) for name in names)
    assert all(prefix.startswith("bench/module/secret-") for prefix in prefixes)


def test_names_without_common_prefix_need_several_queries() -> None:
    names = [f"{letter}/x" for letter in "abcdefghijkl"]
    prefixes = state.name_filter_prefixes(names)
    assert prefixes == sorted(names)  # nothing to fold: the reader makes two queries of up to 10


def test_folding_keeps_groups_apart() -> None:
    names = [f"team-a/s{index}" for index in range(8)] + [f"team-b/s{index}" for index in range(8)]
    assert state.name_filter_prefixes(names) == ["team-a/s", "team-b/s"]


# --- ListSecrets -------------------------------------------------------------------


def test_list_follows_pages_and_keeps_only_listed_names(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired([{"name": "app/a", "generate": {}}, {"name": "app/b", "generate": {}}])
    stubber.add_response("list_secrets", {"SecretList": [entry("app/a")], "NextToken": "t1"}, list_request(["app/a", "app/b"]))
    stubber.add_response(
        "list_secrets", {"SecretList": [entry("app/a-old"), entry("app/b", Tags=[{"Key": "t", "Value": "1"}])]}, list_request(["app/a", "app/b"], "t1")
    )
    current = state.read_current(client, items, settings)
    assert sorted(current) == ["app/a", "app/b"]  # app/a-old matched the prefix only
    assert current["app/b"].tags == {"t": "1"}
    assert current["app/b"].version_id == VERSION.format(1)


def test_more_than_ten_prefixes_are_split_over_queries(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    names = [f"{letter}/x" for letter in "abcdefghijkl"]
    settings, items = desired([{"name": name, "generate": {}} for name in names])
    stubber.add_response("list_secrets", {"SecretList": []}, list_request(names[:10]))
    stubber.add_response("list_secrets", {"SecretList": [entry("l/x")]}, list_request(names[10:]))
    assert list(state.read_current(client, items, settings)) == ["l/x"]


def test_purge_lists_the_whole_prefix(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired(
        [{"name": "apps/a", "generate": {}}, {"name": "other/b", "generate": {}}], purge=True, purge_prefix="apps/", owner_tag={"key": "o", "value": "me"}
    )
    stale = entry("apps/stale", Tags=[{"Key": "o", "Value": "me"}])
    stubber.add_response("list_secrets", {"SecretList": [entry("apps/a"), stale]}, list_request(["apps/", "other/b"]))
    stubber.add_response("describe_secret", {"ARN": stale["ARN"], "Name": "apps/stale"}, {"SecretId": stale["ARN"]})
    current = state.read_current(client, items, settings)
    assert sorted(current) == ["apps/a", "apps/stale"]
    assert current["apps/stale"].replicas == {}


def test_listing_failure_is_raised(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired([{"name": "a", "generate": {}}])
    stubber.add_client_error("list_secrets", "AccessDeniedException", "no", 400)
    with pytest.raises(Exception, match="AccessDenied"):
        state.read_current(client, items, settings)


# --- values ------------------------------------------------------------------------


def test_values_are_read_twenty_per_call_and_only_when_compared(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    names = [f"app/s{index:02d}" for index in range(45)]
    secrets = [{"name": name, "value": "v"} for name in names]
    secrets += [{"name": "app/gen", "generate": {}}, {"name": "app/once", "value": "v", "overwrite": False}, {"name": "app/meta", "description": "d"}]
    settings, items = desired(secrets)
    listed = [entry(name) for name in [*names, "app/gen", "app/once", "app/meta"]]
    stubber.add_response("list_secrets", {"SecretList": listed[:100]}, list_request(state.name_filter_prefixes([item.name for item in items])))
    arns = [ARN.format(name) for name in names]
    for batch in (arns[:20], arns[20:40], arns[40:]):
        values = [{"ARN": arn, "Name": arn.split(":secret:")[1][:-7], "SecretString": "v", "VersionId": VERSION.format(1)} for arn in batch]
        stubber.add_response("batch_get_secret_value", {"SecretValues": values, "Errors": []}, {"SecretIdList": batch})
    current = state.read_current(client, items, settings)
    assert current["app/s44"].stored == StoredValue(string="v")
    assert current["app/gen"].stored is None
    assert current["app/once"].stored is None


def test_a_value_error_is_recorded_on_that_secret(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired([{"name": "a", "value": "v"}, {"name": "b", "value": "v"}])
    stubber.add_response("list_secrets", {"SecretList": [entry("a"), entry("b")]}, list_request(["a", "b"]))
    stubber.add_response(
        "batch_get_secret_value",
        {
            "SecretValues": [{"ARN": ARN.format("a"), "Name": "a", "SecretString": "v"}],
            "Errors": [{"SecretId": ARN.format("b"), "ErrorCode": "AccessDeniedException", "Message": "not authorized"}],
        },
        {"SecretIdList": [ARN.format("a"), ARN.format("b")]},
    )
    current = state.read_current(client, items, settings)
    assert current["a"].read_error is None
    assert current["b"].read_error == "reading the value failed: AccessDeniedException: not authorized"


def test_secrets_without_value_or_scheduled_for_deletion_are_not_read(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired([{"name": "a", "value": "v"}, {"name": "b", "value": "v"}])
    stubber.add_response("list_secrets", {"SecretList": [entry("a", version=None), entry("b", DeletedDate="2030-01-01T00:00:00Z")]}, list_request(["a", "b"]))
    current = state.read_current(client, items, settings)
    assert current["a"].version_id is None
    assert current["b"].deleted


# --- details only where managed ----------------------------------------------------


def test_replicas_and_policy_read_only_for_secrets_that_manage_them(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    settings, items = desired(
        [
            {"name": "a", "replica_regions": [{"region": "us-east-1"}], "resource_policy": {"Statement": []}},
            {"name": "b", "description": "x"},
        ]
    )
    stubber.add_response("list_secrets", {"SecretList": [entry("a"), entry("b")]}, list_request(["a", "b"]))
    stubber.add_response(
        "describe_secret",
        {"ARN": ARN.format("a"), "ReplicationStatus": [{"Region": "us-east-1", "KmsKeyId": "alias/aws/secretsmanager", "Status": "InSync"}]},
        {"SecretId": ARN.format("a")},
    )
    stubber.add_response("get_resource_policy", {"ARN": ARN.format("a"), "ResourcePolicy": '{"Statement": []}'}, {"SecretId": ARN.format("a")})
    current = state.read_current(client, items, settings)
    assert current["a"].replicas == {"us-east-1": state.ReplicaState("us-east-1", "alias/aws/secretsmanager", "InSync")}
    assert current["a"].resource_policy == {"Statement": []}
    assert current["b"].replicas is None
    assert current["b"].resource_policy is None
