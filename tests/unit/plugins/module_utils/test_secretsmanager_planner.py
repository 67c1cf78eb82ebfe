"""The pure planner of secretsmanager_secrets: (desired, current) -> the calls that reconcile them, and the diff."""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import planner
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.spec import Settings, StoredValue, parse
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.state import CurrentSecret, ReplicaState

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{}-AbCdEf"
LAMBDA_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:rotate"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}"
OWNER = {"key": "owner", "value": "platform"}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/reader"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    ],
}


def current(name: str, **fields: Any) -> CurrentSecret:
    fields.setdefault("version_id", "v1")
    return CurrentSecret(name=name, arn=ARN.format(name), **fields)


def make_plan(secrets: list[dict[str, Any]], existing: list[CurrentSecret] = (), **module: Any) -> planner.Plan:  # type: ignore[assignment]
    settings, desired, errors = parse({"secrets": secrets, **module}, region="eu-west-1")
    assert not errors, errors.messages
    return planner.plan(desired, {secret.name: secret for secret in existing}, settings)


def calls(plan: planner.Plan, name: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [(call.operation, call.params) for secret in plan.secrets if name in (None, secret.name) for call in secret.calls]


def operations(plan: planner.Plan) -> list[str]:
    return [operation for operation, _params in calls(plan)]


# --- create ------------------------------------------------------------------------


def test_create_is_one_call_with_everything_it_can_carry() -> None:
    plan = make_plan(
        [
            {
                "name": "app/db",
                "json": {"user": "u", "password": "p"},
                "description": "db",
                "kms_key_id": "alias/platform",
                "tags": {"team": "a"},
                "replica_regions": [{"region": "eu-central-1"}],
            }
        ],
        owner_tag=OWNER,
    )
    assert calls(plan) == [
        (
            "create_secret",
            {
                "Name": "app/db",
                "Description": "db",
                "KmsKeyId": "alias/platform",
                "Tags": [{"Key": "team", "Value": "a"}, {"Key": "owner", "Value": "platform"}],
                "AddReplicaRegions": [{"Region": "eu-central-1"}],
                "SecretString": '{"password":"p","user":"u"}',
            },
        )
    ]
    assert plan.secrets[0].changes == ["created"]
    assert plan.changed


def test_create_with_policy_and_rotation_adds_their_calls() -> None:
    plan = make_plan([{"name": "a", "value": "v", "resource_policy": POLICY, "rotation": {"lambda_arn": LAMBDA_ARN, "days": 30}}])
    assert operations(plan) == ["create_secret", "put_resource_policy", "rotate_secret"]
    _op, rotate = calls(plan)[2]
    assert rotate == {"SecretId": "a", "RotationLambdaARN": LAMBDA_ARN, "RotationRules": {"AutomaticallyAfterDays": 30}, "RotateImmediately": False}
    _op, policy = calls(plan)[1]
    assert json.loads(policy["ResourcePolicy"]) == POLICY
    assert policy["BlockPublicPolicy"] is True
    assert plan.secrets[0].changes == ["created"]


def test_generated_value_is_made_at_create_time_only() -> None:
    plan = make_plan([{"name": "a", "generate": {"length": 40, "exclude_characters": "'\""}}])
    (call,) = plan.secrets[0].calls
    assert call.operation == "create_secret"
    assert "SecretString" not in call.params
    assert call.generate is not None
    assert call.generate.request_params()["PasswordLength"] == 40
    assert call.generate.request_params()["ExcludeCharacters"] == "'\""
    unchanged = make_plan([{"name": "a", "generate": {"length": 40}}], [current("a")])
    assert operations(unchanged) == []


def test_a_new_secret_needs_a_value() -> None:
    plan = make_plan([{"name": "a", "description": "no value"}])
    assert plan.problems.messages == ["secrets[name=a]: does not exist yet: give one of value, json, binary or generate to create it"]


def test_an_existing_secret_without_value_options_keeps_its_value() -> None:
    plan = make_plan([{"name": "a", "description": "new"}], [current("a", description="old")])
    assert calls(plan) == [("update_secret", {"Description": "new", "SecretId": ARN.format("a")})]


# --- values ------------------------------------------------------------------------


def test_unchanged_secret_makes_no_call() -> None:
    existing = current("a", description="d", tags={"team": "a", "owner": "platform"}, stored=StoredValue(string="v"))
    plan = make_plan([{"name": "a", "value": "v", "description": "d", "tags": {"team": "a"}}], [existing], owner_tag=OWNER)
    assert calls(plan) == []
    assert not plan.changed
    assert plan.secrets[0].version_id == "v1"


def test_json_compared_by_content() -> None:
    existing = current("a", stored=StoredValue(string='{ "b": 2,\n "a": [1, {"y": 1, "x": 0}] }'))
    assert calls(make_plan([{"name": "a", "json": {"a": [1, {"x": 0, "y": 1}], "b": 2}}], [existing])) == []
    assert operations(make_plan([{"name": "a", "json": {"a": [1], "b": 2}}], [existing])) == ["put_secret_value"]


def test_changed_value_is_one_put_secret_value() -> None:
    plan = make_plan([{"name": "a", "value": "new"}], [current("a", stored=StoredValue(string="old"))])
    assert calls(plan) == [("put_secret_value", {"SecretString": "new", "SecretId": ARN.format("a")})]
    assert plan.secrets[0].changes == ["value"]


def test_value_and_description_change_in_one_update_secret() -> None:
    plan = make_plan([{"name": "a", "value": "new", "description": "d2"}], [current("a", description="d1", stored=StoredValue(string="old"))])
    assert calls(plan) == [("update_secret", {"Description": "d2", "SecretId": ARN.format("a"), "SecretString": "new"})]
    assert plan.secrets[0].changes == ["description", "value"]


def test_overwrite_false_is_create_only() -> None:
    existing = current("a", stored=None)
    assert calls(make_plan([{"name": "a", "value": "other", "overwrite": False}], [existing])) == []
    # ... but a secret that holds no value yet gets it
    empty = current("a", version_id=None)
    assert operations(make_plan([{"name": "a", "value": "v", "overwrite": False}], [empty])) == ["put_secret_value"]


def test_generate_fills_an_existing_secret_without_value() -> None:
    plan = make_plan([{"name": "a", "generate": {}}], [current("a", version_id=None)])
    (call,) = plan.secrets[0].calls
    assert call.operation == "put_secret_value"
    assert call.generate is not None


def test_binary_value_compared_as_bytes() -> None:
    existing = current("a", stored=StoredValue(binary=b"\x00\x01"))
    assert calls(make_plan([{"name": "a", "binary": "AAE="}], [existing])) == []
    assert calls(make_plan([{"name": "a", "binary": "AAI="}], [existing])) == [("put_secret_value", {"SecretBinary": b"\x00\x02", "SecretId": ARN.format("a")})]


# --- restore and delete ------------------------------------------------------------


def test_a_secret_scheduled_for_deletion_is_restored_and_written() -> None:
    plan = make_plan([{"name": "a", "value": "v"}], [current("a", deleted=True)])
    assert operations(plan) == ["restore_secret", "put_secret_value"]
    assert plan.secrets[0].changes == ["restored", "value"]
    kept = make_plan([{"name": "a", "generate": {}}], [current("a", deleted=True)])
    assert operations(kept) == ["restore_secret"]  # a generated value comes back with the secret


def test_absent_with_recovery_window_or_force() -> None:
    existing = [current("a"), current("b")]
    plan = make_plan([{"name": "a", "state": "absent", "recovery_window_days": 7}, {"name": "b", "state": "absent", "force_delete": True}], existing)
    assert calls(plan) == [
        ("delete_secret", {"SecretId": ARN.format("a"), "RecoveryWindowInDays": 7}),
        ("delete_secret", {"SecretId": ARN.format("b"), "ForceDeleteWithoutRecovery": True}),
    ]
    assert [secret.changes for secret in plan.secrets] == [["deleted"], ["deleted"]]
    assert [secret.state for secret in plan.secrets] == ["absent", "absent"]


def test_absent_is_idempotent() -> None:
    assert calls(make_plan([{"name": "a", "state": "absent"}])) == []
    assert calls(make_plan([{"name": "a", "state": "absent"}], [current("a", deleted=True)])) == []
    forced = make_plan([{"name": "a", "state": "absent", "force_delete": True}], [current("a", deleted=True)])
    assert operations(forced) == ["delete_secret"]


def test_replicas_are_removed_before_delete() -> None:
    existing = current("a", replicas={"us-east-1": ReplicaState("us-east-1", None, "InSync")})
    plan = make_plan([{"name": "a", "state": "absent"}], [existing])
    assert operations(plan) == ["remove_regions_from_replication", "delete_secret"]


def test_purge_deletes_only_owned_secrets_under_the_prefix_that_are_not_listed() -> None:
    owned = {"owner": "platform"}
    existing = [
        current("apps/keep", tags=owned, stored=StoredValue(string="v")),
        current("apps/stale", tags=owned),
        current("apps/foreign", tags={"owner": "someone-else"}),
        current("apps/untagged"),
        current("apps/gone", tags=owned, deleted=True),
        current("other/stale", tags=owned),
    ]
    plan = make_plan([{"name": "apps/keep", "value": "v"}], existing, purge=True, purge_prefix="apps/", owner_tag=OWNER, recovery_window_days=7)
    assert calls(plan) == [("delete_secret", {"SecretId": ARN.format("apps/stale"), "RecoveryWindowInDays": 7})]
    purged = [secret for secret in plan.secrets if secret.purged]
    assert [(secret.name, secret.changes) for secret in purged] == [("apps/gone", []), ("apps/stale", ["deleted"])]


# --- metadata ----------------------------------------------------------------------


def test_tags_through_tag_and_untag() -> None:
    existing = current("a", tags={"keep": "1", "change": "old", "drop": "x", "aws:cloudformation:stack-name": "s"}, stored=StoredValue(string="v"))
    plan = make_plan([{"name": "a", "value": "v", "tags": {"keep": "1", "change": "new", "add": "y"}}], [existing])
    assert calls(plan) == [
        ("tag_resource", {"SecretId": ARN.format("a"), "Tags": [{"Key": "add", "Value": "y"}, {"Key": "change", "Value": "new"}]}),
        ("untag_resource", {"SecretId": ARN.format("a"), "TagKeys": ["drop"]}),
    ]
    assert plan.secrets[0].changes == ["tags"]
    no_purge = make_plan([{"name": "a", "value": "v", "tags": {"keep": "1"}}], [existing], purge_tags=False)
    assert operations(no_purge) == []


def test_owner_tag_alone_never_removes_tags() -> None:
    existing = current("a", tags={"team": "x"}, stored=StoredValue(string="v"))
    plan = make_plan([{"name": "a", "value": "v"}], [existing], owner_tag=OWNER)
    assert calls(plan) == [("tag_resource", {"SecretId": ARN.format("a"), "Tags": [{"Key": "owner", "Value": "platform"}]})]


def test_kms_key_references_that_name_the_same_key_are_equal() -> None:
    assert planner.same_kms_key(KEY_ID, KEY_ARN)
    assert planner.same_kms_key(KEY_ARN, KEY_ID)
    assert planner.same_kms_key("alias/platform", "arn:aws:kms:eu-west-1:123456789012:alias/platform")
    assert planner.same_kms_key("alias/aws/secretsmanager", None)
    assert not planner.same_kms_key("alias/platform", None)
    assert not planner.same_kms_key("alias/platform", KEY_ARN)
    unchanged = make_plan([{"name": "a", "kms_key_id": KEY_ID}], [current("a", kms_key_id=KEY_ARN)])
    assert calls(unchanged) == []
    changed = make_plan([{"name": "a", "kms_key_id": "alias/other"}], [current("a", kms_key_id=KEY_ARN)])
    assert calls(changed) == [("update_secret", {"KmsKeyId": "alias/other", "SecretId": ARN.format("a")})]
    assert changed.secrets[0].changes == ["kms_key_id"]


def test_replica_regions_added_removed_and_rekeyed() -> None:
    existing = current(
        "a",
        replicas={
            "us-east-1": ReplicaState("us-east-1", "alias/aws/secretsmanager", "InSync"),
            "eu-central-1": ReplicaState("eu-central-1", "alias/old", "InSync"),
            "ap-south-1": ReplicaState("ap-south-1", "alias/aws/secretsmanager", "InSync"),
        },
    )
    plan = make_plan(
        [{"name": "a", "replica_regions": [{"region": "us-east-1"}, {"region": "eu-central-1", "kms_key_id": "alias/new"}, {"region": "us-west-2"}]}],
        [existing],
    )
    assert calls(plan) == [
        ("remove_regions_from_replication", {"SecretId": ARN.format("a"), "RemoveReplicaRegions": ["ap-south-1", "eu-central-1"]}),
        (
            "replicate_secret_to_regions",
            {"SecretId": ARN.format("a"), "AddReplicaRegions": [{"Region": "eu-central-1", "KmsKeyId": "alias/new"}, {"Region": "us-west-2"}]},
        ),
    ]
    assert (
        calls(make_plan([{"name": "a", "replica_regions": [{"region": "us-east-1"}]}], [current("a", replicas={"us-east-1": ReplicaState("us-east-1", "k")})]))
        == []
    )


def test_failed_replica_is_reported_not_hidden() -> None:
    """Secrets Manager reports Status=Failed when the replica region already has a secret of that name."""
    existing = current(
        "a", replicas={"us-east-1": ReplicaState("us-east-1", None, "Failed", "Replication failed: Secret name a already exists in region us-east-1.")}
    )
    plan = make_plan([{"name": "a", "replica_regions": [{"region": "us-east-1"}]}], [existing])
    assert plan.secrets[0].calls == []
    assert "already exists in region us-east-1" in (plan.secrets[0].error or "")


def test_resource_policy_compared_as_policy() -> None:
    reordered = {"Statement": [dict(reversed(list(POLICY["Statement"][0].items())))], "Version": "2012-10-17"}
    same = make_plan([{"name": "a", "resource_policy": POLICY}], [current("a", resource_policy=reordered)])
    assert calls(same) == []
    other = json.loads(json.dumps(POLICY))
    other["Statement"][0]["Action"] = "secretsmanager:*"
    changed = make_plan([{"name": "a", "resource_policy": other}], [current("a", resource_policy=POLICY)])
    assert operations(changed) == ["put_resource_policy"]
    removed = make_plan([{"name": "a", "resource_policy": {}}], [current("a", resource_policy=POLICY)])
    assert operations(removed) == ["delete_resource_policy"]
    assert calls(make_plan([{"name": "a", "resource_policy": {}}], [current("a")])) == []


def test_rotation_only_when_settings_differ() -> None:
    rotating = current("a", rotation_enabled=True, rotation_lambda_arn=LAMBDA_ARN, rotation_rules={"AutomaticallyAfterDays": 30})
    assert calls(make_plan([{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 30}}], [rotating])) == []
    assert operations(make_plan([{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 7}}], [rotating])) == ["rotate_secret"]
    assert operations(make_plan([{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "schedule_expression": "rate(4 hours)"}}], [rotating])) == [
        "rotate_secret"
    ]
    assert operations(make_plan([{"name": "a", "rotation": {"enabled": False}}], [rotating])) == ["cancel_rotate_secret"]
    assert calls(make_plan([{"name": "a", "rotation": {"enabled": False}}], [current("a")])) == []
    assert operations(make_plan([{"name": "a", "rotation": {"lambda_arn": LAMBDA_ARN, "days": 30}}], [current("a")])) == ["rotate_secret"]


def test_a_secret_that_could_not_be_read_is_left_alone() -> None:
    plan = make_plan(
        [{"name": "a", "value": "v"}, {"name": "b", "value": "v"}], [current("a", read_error="reading the value failed: AccessDeniedException: no")]
    )
    assert [secret.error for secret in plan.secrets] == ["reading the value failed: AccessDeniedException: no", None]
    assert operations(plan) == ["create_secret"]


# --- diff --------------------------------------------------------------------------


def test_diff_names_what_changes_and_never_a_value() -> None:
    canary = "CANARY-9f2d"
    existing = [current("a", description="old", tags={"team": "x"}, stored=StoredValue(string="CANARY-old"))]
    plan = make_plan(
        [
            {"name": "a", "value": canary, "description": "new", "tags": {"team": "y"}},
            {"name": "b", "json": {"password": canary}},
            {"name": "c", "generate": {}},
        ],
        existing,
    )
    views = planner.diff_views(plan.secrets)
    text = json.dumps(views)
    assert canary not in text
    assert "CANARY-old" not in text
    first = views[0]
    assert first["before"] == {"state": "present", "description": "old", "tags": {"team": "x"}, "value": planner.VALUE_STORED}
    assert first["after"] == {"state": "present", "description": "new", "tags": {"team": "y"}, "value": planner.VALUE_CHANGED}
    assert views[1]["before"] == {"state": "absent"}
    assert views[1]["after"]["value"] == planner.VALUE_SET
    assert views[2]["after"]["value"] == planner.VALUE_GENERATED
    assert canary not in repr(plan)


def test_diff_after_a_partial_failure_shows_only_what_was_applied() -> None:
    plan = make_plan([{"name": "a", "value": "new", "tags": {"t": "1"}}], [current("a", stored=StoredValue(string="old"))])
    (view,) = planner.diff_views(plan.secrets, {"a": ("value",)})
    assert set(view["after"]) == {"state", "value"}
    assert planner.diff_views(plan.secrets, {"a": ()}) == []


def test_settings_default_is_conservative() -> None:
    settings = Settings()
    assert not settings.purge
    assert settings.recovery_window_days == 30
    assert not settings.force_delete
