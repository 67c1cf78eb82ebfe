"""eks_gitops.platform.secretsmanager_secrets through ansible-playbook against the moto server, checked with boto3.

Requests go through the counting proxy (tests/support/fault_proxy.py, no faults here), so a
test can also say which calls a run made: "write only what differs" is checked, not assumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ansible import PlaybookRun, run_playbook
from tests.support.fault_proxy import FaultProxy
from tests.support.moto import MotoServer
from tests.support.secretsmanager import TASK, WRITE_OPERATIONS, b64, by_name, reconcile_play, snapshot, value_of

OWNER = {"key": "eks-gitops.platform/owner", "value": "sv-it-7q"}


@pytest.fixture
def proxy(aws: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream=aws.endpoint_url) as server:
        yield server


class Runner:
    """Runs the module through the proxy and returns the task's result."""

    def __init__(self, aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
        self.aws, self.proxy, self.tmp_path = aws, proxy, tmp_path
        self.env = dict(aws.env(), AWS_URL=proxy.endpoint_url, AWS_ENDPOINT_URL=proxy.endpoint_url)

    def run(self, secrets: list[dict[str, Any]], *, check: bool = False, diff: bool = False, expect_rc: int = 0, **module: Any) -> dict[str, Any]:
        self.last = self.playbook(reconcile_play(secrets, **module), check=check, diff=diff)
        assert self.last.rc == expect_rc, self.last.output
        return self.last.result(TASK)

    def playbook(self, plays: list[dict[str, Any]], **kwargs: Any) -> PlaybookRun:
        self.proxy.reset_counts()
        return run_playbook(plays, self.tmp_path, env=self.env, **kwargs)

    @property
    def writes(self) -> dict[str, int]:
        return {operation: count for operation, count in self.proxy.counts.items() if operation in WRITE_OPERATIONS}


@pytest.fixture
def runner(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> Runner:
    return Runner(aws, proxy, tmp_path)


def sm(aws: MotoServer) -> Any:
    return aws.client("secretsmanager")


# --- create, unchanged re-run, updates ----------------------------------------------

SECRETS = [
    {"name": "app/plain", "value": "plain-value", "description": "a string", "tags": {"team": "a"}},
    {"name": "app/json", "json": {"username": "svc-user-1", "password": "pw-1a2b", "port": 5432}},
    {"name": "app/binary", "binary": b64(b"\x00\x01\x02binary")},
    {"name": "app/generated", "generate": {"length": 40, "exclude_characters": "abc"}},
    {"name": "app/encrypted", "value": "sv-v-7q", "kms_key_id": "alias/platform"},
]


def test_create_then_unchanged_rerun(runner: Runner, aws: MotoServer) -> None:
    result = runner.run(SECRETS, owner_tag=OWNER)
    assert result["changed"] is True
    assert {name: item["changes"] for name, item in by_name(result).items()} == {secret["name"]: ["created"] for secret in SECRETS}
    state = snapshot(sm(aws))
    assert state["app/plain"]["value"] == "plain-value"
    assert state["app/plain"]["description"] == "a string"
    assert state["app/plain"]["tags"] == {"team": "a", OWNER["key"]: OWNER["value"]}
    assert json.loads(state["app/json"]["value"]) == {"username": "svc-user-1", "password": "pw-1a2b", "port": 5432}
    assert state["app/json"]["value"] == '{"password":"pw-1a2b","port":5432,"username":"svc-user-1"}'  # canonical
    assert state["app/binary"]["value"] == b"\x00\x01\x02binary"
    generated = state["app/generated"]["value"]
    assert isinstance(generated, str)
    assert len(generated) == 40
    assert not set(generated) & set("abc")
    assert state["app/encrypted"]["kms_key_id"] == "alias/platform"
    assert by_name(result)["app/plain"]["arn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/plain-")
    assert by_name(result)["app/plain"]["version_id"] == state["app/plain"]["versions"][0]

    again = runner.run(SECRETS, owner_tag=OWNER)
    assert again["changed"] is False, again
    assert all(item["changes"] == [] for item in again["secrets"])
    assert runner.writes == {}
    assert set(runner.proxy.counts) == {"ListSecrets", "BatchGetSecretValue"}
    assert snapshot(sm(aws)) == state
    assert by_name(again)["app/plain"]["version_id"] == state["app/plain"]["versions"][0]


def test_update_value_writes_only_that_value(runner: Runner, aws: MotoServer) -> None:
    runner.run(SECRETS)
    before = snapshot(sm(aws))
    changed = [dict(secret) for secret in SECRETS]
    changed[0]["value"] = "new-plain-value"
    result = runner.run(changed)
    assert {name: item["changes"] for name, item in by_name(result).items() if item["changed"]} == {"app/plain": ["value"]}
    assert runner.writes == {"PutSecretValue": 1}
    after = snapshot(sm(aws))
    assert after["app/plain"]["value"] == "new-plain-value"
    assert by_name(result)["app/plain"]["version_id"] not in before["app/plain"]["versions"]
    assert {name: item for name, item in after.items() if name != "app/plain"} == {name: item for name, item in before.items() if name != "app/plain"}


def test_update_tags_through_tag_and_untag(runner: Runner, aws: MotoServer) -> None:
    runner.run([{"name": "app/t", "value": "sv-v-7q", "tags": {"keep": "1", "change": "old", "drop": "x"}}])
    result = runner.run([{"name": "app/t", "value": "sv-v-7q", "tags": {"keep": "1", "change": "new", "add": "y"}}])
    assert by_name(result)["app/t"]["changes"] == ["tags"]
    assert runner.writes == {"TagResource": 1, "UntagResource": 1}
    assert snapshot(sm(aws))["app/t"]["tags"] == {"keep": "1", "change": "new", "add": "y"}
    kept = runner.run([{"name": "app/t", "value": "sv-v-7q", "tags": {"keep": "1"}}], purge_tags=False)
    assert kept["changed"] is False
    assert snapshot(sm(aws))["app/t"]["tags"] == {"keep": "1", "change": "new", "add": "y"}


def test_description_and_kms_key(runner: Runner, aws: MotoServer) -> None:
    runner.run([{"name": "app/k", "value": "sv-v-7q", "description": "one", "kms_key_id": "alias/one"}])
    result = runner.run([{"name": "app/k", "value": "sv-v-7q", "description": "two", "kms_key_id": "alias/two"}])
    assert by_name(result)["app/k"]["changes"] == ["description", "kms_key_id"]
    assert runner.writes == {"UpdateSecret": 1}
    state = snapshot(sm(aws))["app/k"]
    assert (state["description"], state["kms_key_id"], state["value"]) == ("two", "alias/two", "sv-v-7q")
    assert len(state["versions"]) == 1  # no new version for metadata


def test_json_is_compared_by_content(runner: Runner, aws: MotoServer) -> None:
    sm(aws).create_secret(Name="app/j", SecretString='{ "b": [1, 2],\n  "a": {"y": true, "x": null} }')
    result = runner.run([{"name": "app/j", "json": {"a": {"x": None, "y": True}, "b": [1, 2]}}])
    assert result["changed"] is False
    assert runner.writes == {}


def test_overwrite_false_is_create_only(runner: Runner, aws: MotoServer) -> None:
    sm(aws).create_secret(Name="app/existing", SecretString="set by hand")
    result = runner.run([{"name": "app/existing", "value": "from ansible", "overwrite": False}, {"name": "app/new", "value": "first", "overwrite": False}])
    assert {name: item["changes"] for name, item in by_name(result).items()} == {"app/existing": [], "app/new": ["created"]}
    runner.run([{"name": "app/new", "value": "second", "overwrite": False}])
    assert runner.writes == {}
    assert value_of(sm(aws), "app/existing") == "set by hand"
    assert value_of(sm(aws), "app/new") == "first"


def test_generated_once_and_readable_with_the_lookup(runner: Runner, aws: MotoServer, tmp_path: Path) -> None:
    secrets = [
        {"name": "platform/argocd/admin-password", "generate": {"length": 32, "exclude_characters": "\"'\\`$"}},
        {"name": "platform/traefik/dashboard", "generate": {"length": 24, "exclude_punctuation": True}},
        {"name": "platform/linkerd/trust-anchor", "json": {"ca.crt": "CERT", "ca.key": "KEY"}, "kms_key_id": "alias/platform", "overwrite": False},
    ]
    runner.run(secrets)
    first = {secret["name"]: value_of(sm(aws), secret["name"]) for secret in secrets}
    assert len(first["platform/argocd/admin-password"]) == 32
    assert not set(first["platform/argocd/admin-password"]) & set("\"'\\`$")
    assert first["platform/traefik/dashboard"].isalnum()

    changed_options = [dict(secrets[0], generate={"length": 64}), secrets[1], dict(secrets[2], json={"ca.crt": "NEW", "ca.key": "NEW"})]
    again = runner.run(changed_options)
    assert again["changed"] is False
    assert {secret["name"]: value_of(sm(aws), secret["name"]) for secret in secrets} == first

    # The roles read generated values back with the amazon.aws lookup.
    out = tmp_path / "looked-up"
    out.mkdir()
    tasks = [
        {
            "name": f"read {index}",
            "ansible.builtin.copy": {
                "content": "{{{{ lookup('amazon.aws.secretsmanager_secret', '{}') }}}}".format(secret["name"]),
                "dest": str(out / str(index)),
                "mode": "0600",
            },
            "no_log": True,
        }
        for index, secret in enumerate(secrets)
    ]
    lookup = runner.playbook([{"name": "lookup", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    assert lookup.rc == 0, lookup.output
    assert [(out / str(index)).read_text() for index in range(len(secrets))] == list(first.values())


# --- deletion and purge ------------------------------------------------------------


def test_absent_with_and_without_recovery(runner: Runner, aws: MotoServer) -> None:
    runner.run([{"name": "app/recoverable", "value": "sv-r-7q"}, {"name": "app/forced", "value": "sv-f-7q"}, {"name": "app/kept", "value": "sv-k-7q"}])
    result = runner.run(
        [
            {"name": "app/recoverable", "state": "absent", "recovery_window_days": 7},
            {"name": "app/forced", "state": "absent", "force_delete": True},
            {"name": "app/never-existed", "state": "absent"},
        ]
    )
    assert {name: (item["changes"], item["state"]) for name, item in by_name(result).items()} == {
        "app/recoverable": (["deleted"], "absent"),
        "app/forced": (["deleted"], "absent"),
        "app/never-existed": ([], "absent"),
    }
    described = sm(aws).describe_secret(SecretId="app/recoverable")
    assert described["DeletedDate"] is not None
    state = snapshot(sm(aws))
    assert "app/forced" not in state
    assert state["app/recoverable"]["deleted"]
    assert not state["app/kept"]["deleted"]

    again = runner.run([{"name": "app/recoverable", "state": "absent"}, {"name": "app/forced", "state": "absent", "force_delete": True}])
    assert again["changed"] is False

    restored = runner.run([{"name": "app/recoverable", "value": "sv-r-7q"}])
    assert by_name(restored)["app/recoverable"]["changes"] == ["restored", "value"]
    assert value_of(sm(aws), "app/recoverable") == "sv-r-7q"


def test_purge_deletes_only_owned_unlisted_secrets_under_the_prefix(runner: Runner, aws: MotoServer) -> None:
    client = sm(aws)
    owner_tags = [{"Key": OWNER["key"], "Value": OWNER["value"]}]
    client.create_secret(Name="apps/team/stale", SecretString="x", Tags=owner_tags)
    client.create_secret(Name="apps/team/foreign", SecretString="x", Tags=[{"Key": OWNER["key"], "Value": "another-team"}])
    client.create_secret(Name="apps/team/untagged", SecretString="x")
    client.create_secret(Name="apps/other/owned", SecretString="x", Tags=owner_tags)
    listed = [{"name": "apps/team/keep", "value": "sv-k-7q"}]
    result = runner.run(listed, purge=True, purge_prefix="apps/team/", owner_tag=OWNER, recovery_window_days=7)
    items = by_name(result)
    assert items["apps/team/keep"]["changes"] == ["created"]
    assert items["apps/team/stale"] == dict(items["apps/team/stale"], changes=["deleted"], purged=True, state="absent")
    assert set(items) == {"apps/team/keep", "apps/team/stale"}
    state = snapshot(client)
    assert state["apps/team/stale"]["deleted"]
    assert not any(state[name]["deleted"] for name in ("apps/team/keep", "apps/team/foreign", "apps/team/untagged", "apps/other/owned"))
    again = runner.run(listed, purge=True, purge_prefix="apps/team/", owner_tag=OWNER, recovery_window_days=7)
    assert again["changed"] is False


# --- check mode and diff -----------------------------------------------------------


def test_check_mode_writes_nothing_and_reports_what_a_real_run_changes(runner: Runner, aws: MotoServer) -> None:
    client = sm(aws)
    runner.run(
        [
            {"name": "apps/c/update", "value": "sv-old-7q", "tags": {"t": "1"}},
            {"name": "apps/c/delete", "value": "sv-d-7q"},
            {"name": "apps/c/stale", "value": "sv-s-7q"},
        ],
        owner_tag=OWNER,
    )
    before = snapshot(client)
    desired = [
        {"name": "apps/c/update", "value": "sv-new-7q", "tags": {"t": "2"}, "description": "now described"},
        {"name": "apps/c/delete", "state": "absent"},
        {"name": "apps/c/create", "generate": {}},
    ]
    module = {"owner_tag": OWNER, "purge": True, "purge_prefix": "apps/c/"}
    checked = runner.run(desired, check=True, **module)
    assert runner.writes == {}
    assert "GetRandomPassword" not in runner.proxy.counts
    assert snapshot(client) == before
    assert checked["changed"] is True
    real = runner.run(desired, **module)
    summary = {name: item["changes"] for name, item in by_name(checked).items()}
    assert summary == {name: item["changes"] for name, item in by_name(real).items()}
    assert summary == {
        "apps/c/update": ["description", "value", "tags"],
        "apps/c/delete": ["deleted"],
        "apps/c/create": ["created"],
        "apps/c/stale": ["deleted"],
    }
    assert runner.run(desired, check=True, **module)["changed"] is False


def test_diff_shows_what_changes_but_not_values(runner: Runner, aws: MotoServer) -> None:
    runner.run([{"name": "app/d", "value": "first-value", "description": "one", "tags": {"team": "a"}}])
    run = runner.playbook(
        reconcile_play([{"name": "app/d", "value": "second-value", "description": "two", "tags": {"team": "b"}}, {"name": "app/n", "generate": {}}]),
        diff=True,
        json_output=False,
    )
    assert run.rc == 0, run.output
    text = run.stdout
    assert "--- before: secret app/d" in text
    assert "+++ after: secret app/d" in text
    assert "-    description: one" in text
    assert "+    description: two" in text
    assert "-        team: a" in text
    assert "+        team: b" in text
    assert "+    value: (changed, not shown)" in text
    assert "--- before: secret app/n" in text
    assert "+    value: (generated by GetRandomPassword, not shown)" in text
    assert "first-value" not in text
    assert "second-value" not in text
    assert value_of(sm(aws), "app/n") not in text
    result = runner.run([{"name": "app/d", "value": "second-value", "description": "two", "tags": {"team": "b"}}], diff=True)
    assert result["diff"] == []


# --- replicas, resource policy -----------------------------------------------------


def test_replica_regions(runner: Runner, aws: MotoServer) -> None:
    result = runner.run([{"name": "app/r", "value": "sv-v-7q", "replica_regions": [{"region": "us-east-1"}, {"region": "eu-central-1"}]}])
    assert by_name(result)["app/r"]["changes"] == ["created"]
    status = sm(aws).describe_secret(SecretId="app/r")["ReplicationStatus"]
    assert sorted(item["Region"] for item in status) == ["eu-central-1", "us-east-1"]
    assert value_of(aws.client("secretsmanager", region_name="us-east-1"), "app/r") == "sv-v-7q"
    assert runner.run([{"name": "app/r", "value": "sv-v-7q", "replica_regions": [{"region": "us-east-1"}, {"region": "eu-central-1"}]}])["changed"] is False
    fewer = runner.run([{"name": "app/r", "replica_regions": [{"region": "us-east-1"}]}])
    assert by_name(fewer)["app/r"]["changes"] == ["replica_regions"]
    assert [item["Region"] for item in sm(aws).describe_secret(SecretId="app/r")["ReplicationStatus"]] == ["us-east-1"]
    gone = runner.run([{"name": "app/r", "state": "absent", "force_delete": True}])
    assert by_name(gone)["app/r"]["changes"] == ["deleted"]
    assert "app/r" not in snapshot(sm(aws))


def test_resource_policy(runner: Runner, aws: MotoServer) -> None:
    """moto answers ValidateResourcePolicy with HTTP 500, so validation is off here (tests/unit shows it)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/reader"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
        ],
    }
    runner.run([{"name": "app/p", "value": "sv-v-7q", "resource_policy": policy}], validate_resource_policies=False)
    assert json.loads(sm(aws).get_resource_policy(SecretId="app/p")["ResourcePolicy"]) == policy
    as_text = json.dumps({"Statement": policy["Statement"], "Version": "2012-10-17"}, indent=2)
    assert runner.run([{"name": "app/p", "resource_policy": as_text}], validate_resource_policies=False)["changed"] is False
    removed = runner.run([{"name": "app/p", "resource_policy": {}}], validate_resource_policies=False)
    assert by_name(removed)["app/p"]["changes"] == ["resource_policy"]
    assert "ResourcePolicy" not in sm(aws).get_resource_policy(SecretId="app/p")


# --- bad input ---------------------------------------------------------------------

BAD_INPUT = [
    pytest.param([{"name": ""}], {}, "secrets[0].name: must be a non-empty string", id="empty-name"),
    pytest.param([{"name": "a" * 513, "value": "sv-v-7q"}], {}, "secrets[0].name: must be at most 512 characters", id="long-name"),
    pytest.param(
        [{"name": "app/bad name", "value": "sv-v-7q"}], {}, "secrets[0].name: 'app/bad name' contains characters Secrets Manager refuses", id="bad-characters"
    ),
    pytest.param(
        [{"name": "app/a", "value": "sv-1-7q"}, {"name": "app/a", "value": "sv-2-7q"}], {}, "secrets[1].name: 'app/a' is listed twice", id="duplicate"
    ),
    pytest.param(
        [{"name": "app/a", "value": "sv-1-7q", "json": {"a": 1}}], {}, "secrets[name=app/a]: give only one of value, json and binary", id="two-values"
    ),
    pytest.param(
        [{"name": "app/a", "description": "no value"}],
        {},
        "secrets[name=app/a]: does not exist yet: give one of value, json, binary or generate",
        id="no-value",
    ),
    pytest.param([{"name": "app/a", "json": "a string"}], {}, "secrets[name=app/a].json: must be a mapping or a list, got str", id="json-not-mapping"),
    pytest.param(
        [{"name": "app/a", "state": "absent", "recovery_window_days": 3}],
        {},
        "secrets[name=app/a].recovery_window_days: must be between 7 and 30",
        id="recovery-window",
    ),
    pytest.param(
        [{"name": "app/a", "value": "sv-v-7q", "kms_key_id": "my-key"}], {}, "secrets[name=app/a].kms_key_id: 'my-key' is not a KMS key id", id="kms-key"
    ),
    pytest.param(
        [{"name": "app/a", "value": "sv-v-7q", "rotation": {"lambda_arn": "arn:aws:lambda:eu-west-1:123456789012:layer:x", "days": 30}}],
        {},
        "secrets[name=app/a].rotation.lambda_arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:x' is not an ARN of a lambda 'function' resource",
        id="rotation-arn",
    ),
    pytest.param(
        [{"name": "app/a", "value": "sv-v-7q", "tags": {"env": 5}}], {}, "secrets[name=app/a].tags.env: tag values must be strings, got int", id="tag-value"
    ),
    pytest.param([{"name": "app/a", "value": "sv-v-7q"}], {"purge": True}, "purge: needs owner_tag and purge_prefix", id="purge-unowned"),
    pytest.param([{"name": "app/a", "value": "sv-v-7q"}], {"purge": True, "owner_tag": OWNER}, "purge: needs purge_prefix", id="purge-no-prefix"),
]


@pytest.mark.parametrize(("secrets", "module", "message"), BAD_INPUT)
def test_bad_input_is_rejected_before_anything_is_written(
    runner: Runner, aws: MotoServer, secrets: list[dict[str, Any]], module: dict[str, Any], message: str
) -> None:
    good = {"name": "app/good", "value": "would be written"}
    result = runner.run([*secrets, good], expect_rc=2, **module)
    assert result["failed"] is True
    assert message in result["msg"], result["msg"]
    assert "nothing was changed" in result["msg"]
    assert runner.writes == {}
    assert snapshot(sm(aws)) == {}


# --- per-secret failures -----------------------------------------------------------


def test_one_denied_secret_is_reported_and_the_rest_reconciled(runner: Runner, aws: MotoServer) -> None:
    secrets = [{"name": "app/a", "value": "sv-a-7q"}, {"name": "app/b", "value": "sv-b-7q"}, {"name": "app/c", "value": "sv-c-7q"}]
    runner.proxy.deny = {"app/b"}
    failed = runner.run(secrets, expect_rc=2)
    assert failed["failed"] is True
    assert failed["changed"] is True
    assert failed["msg"].startswith("1 of 3 secrets could not be reconciled (2 reconciled;")
    assert "app/b: CreateSecret failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/test is not authorized" in failed["msg"]
    items = by_name(failed)
    assert items["app/b"]["error"].startswith("CreateSecret failed: AccessDeniedException")
    assert items["app/b"]["changes"] == []
    assert items["app/a"]["changes"] == items["app/c"]["changes"] == ["created"]
    assert sorted(snapshot(sm(aws))) == ["app/a", "app/c"]

    runner.proxy.deny = set()
    second = runner.run(secrets)
    assert {name: item["changes"] for name, item in by_name(second).items()} == {"app/a": [], "app/b": ["created"], "app/c": []}
    assert value_of(sm(aws), "app/b") == "sv-b-7q"


def test_a_secret_whose_value_cannot_be_read_is_reported(runner: Runner, aws: MotoServer) -> None:
    runner.run([{"name": "app/a", "value": "sv-a-7q"}, {"name": "app/b", "value": "sv-b-7q"}])
    runner.proxy.deny = {"app/a"}
    failed = runner.run([{"name": "app/a", "value": "sv-a2-7q"}, {"name": "app/b", "value": "sv-b2-7q"}], expect_rc=2)
    assert "app/a: reading the value failed: AccessDeniedException" in failed["msg"]
    assert by_name(failed)["app/b"]["changes"] == ["value"]
    assert value_of(sm(aws), "app/a") == "sv-a-7q"
    assert value_of(sm(aws), "app/b") == "sv-b2-7q"
