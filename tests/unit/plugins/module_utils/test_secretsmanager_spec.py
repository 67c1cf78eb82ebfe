"""Input normalisation and validation of secretsmanager_secrets: every bad input names the secret and the field."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import spec
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.spec import SecretValue, StoredValue, parse

LAMBDA_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:rotate"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def params(*secrets: dict[str, Any], **module: Any) -> dict[str, Any]:
    return {"secrets": list(secrets), **module}


def problems_of(*secrets: dict[str, Any], **module: Any) -> list[str]:
    _settings, _desired, errors = parse(params(*secrets, **module), region="eu-west-1")
    return errors.messages


def one(secret: dict[str, Any], **module: Any) -> spec.DesiredSecret:
    _settings, desired, errors = parse(params(secret, **module), region="eu-west-1")
    assert not errors, errors.messages
    return desired[0]


def test_a_plain_secret_is_normalised() -> None:
    secret = one({"name": "app/db", "value": "s3cr3t", "tags": {"team": "a"}})
    assert secret.name == "app/db"
    assert secret.value == SecretValue("string", "s3cr3t")
    assert secret.state == "present"
    assert secret.overwrite is True
    assert secret.tags == {"team": "a"}
    assert secret.recovery_window_days == 30
    assert secret.description is None  # not managed


def test_json_is_stored_canonical() -> None:
    secret = one({"name": "app/db", "json": {"b": [1, 2], "a": {"y": 1, "x": 2}}})
    assert secret.value == SecretValue("json", '{"a":{"x":2,"y":1},"b":[1,2]}')


def test_binary_is_decoded() -> None:
    secret = one({"name": "app/key", "binary": base64.b64encode(b"\x00\x01binary").decode()})
    assert secret.value == SecretValue("binary", b"\x00\x01binary")


def test_json_matches_by_content_not_by_text() -> None:
    value = one({"name": "a", "json": {"a": 1, "b": "x"}}).value
    assert value is not None
    assert value.matches(StoredValue(string='{ "b": "x",\n  "a": 1 }'))
    assert not value.matches(StoredValue(string='{"a": 2, "b": "x"}'))
    assert not value.matches(StoredValue(string="not json"))
    assert not value.matches(StoredValue(binary=b'{"a":1,"b":"x"}'))


def test_string_and_binary_match_exactly() -> None:
    assert SecretValue("string", "x").matches(StoredValue(string="x"))
    assert not SecretValue("string", "x").matches(StoredValue(string="x "))
    assert not SecretValue("string", "x").matches(StoredValue(binary=b"x"))
    assert SecretValue("binary", b"\x01").matches(StoredValue(binary=b"\x01"))
    assert not SecretValue("binary", b"\x01").matches(StoredValue(string="\x01"))


def test_values_never_show_in_repr() -> None:
    assert "hunter2" not in repr(SecretValue("string", "hunter2"))
    assert "hunter2" not in repr(StoredValue(string="hunter2"))
    assert "hunter2" not in repr(one({"name": "a", "value": "hunter2"}))


def test_module_level_defaults_apply_to_entries() -> None:
    secret = one({"name": "a", "state": "absent"}, recovery_window_days=7, force_delete=False)
    assert secret.recovery_window_days == 7
    secret = one({"name": "a", "state": "absent"}, force_delete=True)
    assert secret.force_delete is True
    secret = one({"name": "a", "state": "absent", "force_delete": False}, force_delete=True)
    assert secret.force_delete is False


def test_rotation_and_replicas_are_parsed() -> None:
    secret = one(
        {
            "name": "a",
            "value": "v",
            "rotation": {"lambda_arn": LAMBDA_ARN, "schedule_expression": "rate(10 days)", "duration": "3h"},
            "replica_regions": [{"region": "us-east-1"}, {"region": "eu-central-1", "kms_key_id": KEY_ID}],
        }
    )
    assert secret.rotation == spec.Rotation(lambda_arn=LAMBDA_ARN, schedule_expression="rate(10 days)", duration="3h")
    assert secret.rotation.rules() == {"ScheduleExpression": "rate(10 days)", "Duration": "3h"}
    assert [replica.region for replica in secret.replica_regions or ()] == ["eu-central-1", "us-east-1"]
    assert one({"name": "a", "rotation": {"enabled": False}}).rotation == spec.Rotation(enabled=False)


def test_resource_policy_as_text_or_mapping() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "x", "Resource": "*"}]}
    assert one({"name": "a", "resource_policy": policy}).resource_policy == policy
    assert one({"name": "a", "resource_policy": '{"Statement": []}'}).resource_policy == {"Statement": []}
    assert one({"name": "a", "resource_policy": {}}).resource_policy == {}


def test_owner_tag_is_added_to_desired_tags() -> None:
    settings, desired, errors = parse(params({"name": "a", "value": "v"}, owner_tag={"key": "owner", "value": "me"}))
    assert not errors
    assert desired[0].desired_tags(settings.owner_tag) == {"owner": "me"}
    assert desired[0].tags is None
    _settings, desired, _errors = parse(params({"name": "a", "value": "v"}))
    assert desired[0].desired_tags(None) is None


@pytest.mark.parametrize(
    ("secret", "field", "fragment"),
    [
        ({"name": ""}, "secrets[0].name", "non-empty"),
        ({"name": None}, "secrets[0].name", "non-empty"),
        ({"name": "a" * 513}, "secrets[0].name", "at most 512"),
        ({"name": "app db"}, "secrets[0].name", "characters Secrets Manager refuses"),
        ({"name": "app/d!b"}, "secrets[0].name", "'!'"),
        ({"name": "a", "value": "x", "json": {"a": 1}}, "secrets[name=a]", "only one of value, json and binary"),
        ({"name": "a", "value": "x", "binary": "eA=="}, "secrets[name=a]", "only one of value, json and binary"),
        ({"name": "a", "value": "x", "generate": {}}, "secrets[name=a]", "generate makes the value"),
        ({"name": "a", "json": "text"}, "secrets[name=a].json", "mapping or a list"),
        ({"name": "a", "json": 5}, "secrets[name=a].json", "mapping or a list"),
        ({"name": "a", "json": {"when": object()}}, "secrets[name=a].json", "cannot be stored as JSON"),
        ({"name": "a", "binary": "not base64!"}, "secrets[name=a].binary", "not valid base64"),
        ({"name": "a", "value": ""}, "secrets[name=a].value", "must not be empty"),
        ({"name": "a", "value": "x" * 65537}, "secrets[name=a].value", "at most 65536"),
        ({"name": "a", "state": "absent", "recovery_window_days": 6}, "secrets[name=a].recovery_window_days", "between 7 and 30"),
        ({"name": "a", "state": "absent", "recovery_window_days": 31}, "secrets[name=a].recovery_window_days", "between 7 and 30"),
        ({"name": "a", "state": "absent", "recovery_window_days": 7, "force_delete": True}, "secrets[name=a].force_delete", "recovery_window_days"),
        ({"name": "a", "kms_key_id": "my-key"}, "secrets[name=a].kms_key_id", "not a KMS key"),
        ({"name": "a", "kms_key_id": "arn:aws:s3:::bucket"}, "secrets[name=a].kms_key_id", "not a KMS key"),
        ({"name": "a", "rotation": {"lambda_arn": "rotate-fn", "days": 30}}, "secrets[name=a].rotation.lambda_arn", "not a valid ARN"),
        ({"name": "a", "rotation": {"lambda_arn": "arn:aws:iam::123456789012:role/x", "days": 30}}, "secrets[name=a].rotation.lambda_arn", "lambda"),
        ({"name": "a", "rotation": {"days": 30}}, "secrets[name=a].rotation.lambda_arn", "required"),
        ({"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN}}, "secrets[name=a].rotation", "exactly one of days and schedule_expression"),
        ({"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 0}}, "secrets[name=a].rotation.days", "1 to 1000"),
        ({"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "schedule_expression": "daily"}}, "secrets[name=a].rotation.schedule_expression", "rate"),
        ({"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 3, "duration": "3 hours"}}, "secrets[name=a].rotation.duration", "hours"),
        ({"name": "a", "tags": {"env": 5}}, "secrets[name=a].tags.env", "tag values must be strings, got int"),
        ({"name": "a", "tags": {"env": True}}, "secrets[name=a].tags.env", "got bool"),
        ({"name": "a", "tags": {"aws:x": "y"}}, "secrets[name=a].tags.aws:x", "reserved"),
        ({"name": "a", "tags": ["x"]}, "secrets[name=a].tags", "mapping"),
        ({"name": "a", "replica_regions": [{"region": "Europe"}]}, "secrets[name=a].replica_regions[0].region", "not an AWS region"),
        ({"name": "a", "replica_regions": [{"region": "eu-west-1"}]}, "secrets[name=a].replica_regions[0].region", "own region"),
        ({"name": "a", "replica_regions": [{"region": "us-east-1"}, {"region": "us-east-1"}]}, "secrets[name=a].replica_regions[1].region", "twice"),
        ({"name": "a", "replica_regions": [{"region": "us-east-1", "kms_key_id": "nope"}]}, "secrets[name=a].replica_regions[0].kms_key_id", "not a KMS key"),
        ({"name": "a", "resource_policy": "{not json"}, "secrets[name=a].resource_policy", "not valid JSON"),
        ({"name": "a", "resource_policy": ["x"]}, "secrets[name=a].resource_policy", "policy document"),
        ({"name": "a", "resource_policy": {"Version": "2012-10-17"}}, "secrets[name=a].resource_policy.Statement", "needs a Statement"),
        ({"name": "a", "generate": {"length": 0}}, "secrets[name=a].generate.length", "1 to 4096"),
        ({"name": "a", "generate": {"length": 5000}}, "secrets[name=a].generate.length", "1 to 4096"),
        (
            {"name": "a", "generate": {"exclude_numbers": True, "exclude_punctuation": True, "exclude_uppercase": True, "exclude_lowercase": True}},
            "secrets[name=a].generate",
            "every kind",
        ),
        ({"name": "a", "state": "gone"}, "secrets[name=a].state", "present or absent"),
        ({"name": "a", "description": "d" * 2049}, "secrets[name=a].description", "2048"),
    ],
)
def test_bad_input_names_the_secret_and_the_field(secret: dict[str, Any], field: str, fragment: str) -> None:
    problems = problems_of(secret)
    assert any(problem.startswith(f"{field}: ") and fragment in problem for problem in problems), problems


def test_duplicate_names_are_rejected() -> None:
    problems = problems_of({"name": "app/db", "value": "a"}, {"name": "app/x", "value": "b"}, {"name": "app/db", "value": "c"})
    assert problems == ["secrets[2].name: 'app/db' is listed twice (first as secrets[0])"]


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of({"name": ""}, {"name": "b", "json": "x", "tags": {"n": 1}}, {"name": "c", "kms_key_id": "k"})
    assert [problem.split(":")[0] for problem in problems] == [
        "secrets[0].name",
        "secrets[name=b].json",
        "secrets[name=b].tags.n",
        "secrets[name=c].kms_key_id",
    ]


@pytest.mark.parametrize(
    ("module", "field", "fragment"),
    [
        ({"purge": True}, "purge", "needs owner_tag and purge_prefix"),
        ({"purge": True, "owner_tag": {"key": "o", "value": "me"}}, "purge", "needs purge_prefix"),
        ({"purge": True, "purge_prefix": "apps/"}, "purge", "needs owner_tag"),
        ({"purge_prefix": "apps payments/"}, "purge_prefix", "not a possible secret name prefix"),
        ({"owner_tag": {"key": "o", "value": 3}}, "owner_tag.value", "must be strings"),
        ({"recovery_window_days": 3}, "recovery_window_days", "between 7 and 30"),
    ],
)
def test_bad_module_options(module: dict[str, Any], field: str, fragment: str) -> None:
    problems = problems_of({"name": "a", "value": "v"}, **module)
    assert any(problem.startswith(f"{field}: ") and fragment in problem for problem in problems), problems


def test_purge_with_owner_and_prefix_is_accepted() -> None:
    settings, _desired, errors = parse(params({"name": "apps/a", "value": "v"}, purge=True, purge_prefix="apps/", owner_tag={"key": "o", "value": "me"}))
    assert not errors
    assert settings.purge
    assert settings.purge_prefix == "apps/"
    assert settings.owner_tag == spec.OwnerTag("o", "me")


def test_owner_tag_cannot_be_overridden_per_secret() -> None:
    problems = problems_of({"name": "a", "value": "v", "tags": {"owner": "someone-else"}}, owner_tag={"key": "owner", "value": "me"})
    assert problems == ["secrets[name=a].tags.owner: is the owner tag; its value is set by owner_tag ('me')"]


def test_messages_never_quote_a_value() -> None:
    canary = "CANARY-b7e1c0"
    problems = problems_of(
        {"name": "a", "value": canary, "json": {"k": canary}},
        {"name": "b", "binary": canary + "!"},
        {"name": "c", "json": canary},
    )
    assert problems
    assert not any(canary in problem for problem in problems), problems
