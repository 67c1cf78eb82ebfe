"""secretsmanager_secrets under injected faults: throttling and HTTP 503 from a proxy in front of moto.

A share of the requests is answered by the proxy with ``ThrottlingException`` or a bare
503 instead of reaching moto. The run must still converge with nothing lost and nothing
written twice; with every request failing it must give up after its bounded retries
with a clear message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils import aws as aws_utils
from tests.support.ansible import run_playbook
from tests.support.fault_proxy import FaultProxy
from tests.support.moto import MotoServer
from tests.support.secretsmanager import TASK, WRITE_OPERATIONS, b64, by_name, reconcile_play, snapshot

OWNER = {"key": "eks-gitops.platform/owner", "value": "faults"}


@pytest.fixture
def proxy(aws: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream=aws.endpoint_url, seed=7) as server:
        yield server


def desired() -> list[dict[str, Any]]:
    secrets: list[dict[str, Any]] = []
    for index in range(24):
        kind = index % 4
        name = f"apps/faults/s{index:02d}"
        if kind == 0:
            secrets.append({"name": name, "value": f"string-value-{index:02d}", "tags": {"n": str(index)}})
        elif kind == 1:
            secrets.append({"name": name, "json": {"index": f"json-{index:02d}"}, "description": f"secret {index}"})
        elif kind == 2:
            secrets.append({"name": name, "binary": b64(f"bytes-{index:02d}")})
        else:
            secrets.append({"name": name, "generate": {"length": 20}})
    return secrets


def test_converges_through_throttling_and_503(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    client = aws.client("secretsmanager")
    for stale in ("apps/faults/stale-1", "apps/faults/stale-2"):
        client.create_secret(Name=stale, SecretString="old", Tags=[{"Key": OWNER["key"], "Value": OWNER["value"]}])
    env = dict(aws.env(), AWS_URL=proxy.endpoint_url, AWS_ENDPOINT_URL=proxy.endpoint_url)
    module = {"owner_tag": OWNER, "purge": True, "purge_prefix": "apps/faults/", "force_delete": True}

    proxy.failure_share = 0.3
    run = run_playbook(reconcile_play(desired(), **module), tmp_path, env=env)
    assert run.rc == 0, run.output
    assert proxy.faults_injected["throttle"] >= 3, proxy.faults_injected
    assert proxy.faults_injected["503"] >= 3, proxy.faults_injected
    result = run.result(TASK)
    assert sum(item["changes"] == ["created"] for item in result["secrets"]) == 24
    assert sorted(name for name, item in by_name(result).items() if item.get("purged")) == ["apps/faults/stale-1", "apps/faults/stale-2"]

    state = snapshot(client)
    assert sorted(state) == sorted(secret["name"] for secret in desired())
    for index, secret in enumerate(desired()):
        item = state[secret["name"]]
        assert len(item["versions"]) == 1, f"{secret['name']} was written more than once"
        assert item["tags"][OWNER["key"]] == OWNER["value"]
        if index % 4 == 0:
            assert item["value"] == f"string-value-{index:02d}"
            assert item["tags"]["n"] == str(index)
        elif index % 4 == 1:
            assert item["value"] == f'{{"index":"json-{index:02d}"}}'
            assert item["description"] == f"secret {index}"
        elif index % 4 == 2:
            assert item["value"] == f"bytes-{index:02d}".encode()
        else:
            assert isinstance(item["value"], str)
            assert len(item["value"]) == 20

    proxy.reset_counts()
    again = run_playbook(reconcile_play(desired(), **module), tmp_path, env=env)
    assert again.rc == 0, again.output
    assert again.result(TASK)["changed"] is False
    assert not set(proxy.counts) & WRITE_OPERATIONS
    assert sum(proxy.faults_injected.values()) > 0
    assert snapshot(client) == state


def test_gives_up_with_a_clear_message_when_every_request_fails(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    env = dict(aws.env(), AWS_URL=proxy.endpoint_url, AWS_ENDPOINT_URL=proxy.endpoint_url)
    proxy.failure_share = 1.0
    started = time.monotonic()
    run = run_playbook(reconcile_play([{"name": "apps/down/a", "value": "never-written"}]), tmp_path, env=env)
    elapsed = time.monotonic() - started
    assert run.rc == 2, run.output
    result = run.result(TASK)
    assert result["msg"].startswith(
        f"could not list the current secrets, nothing was changed (still failing after {aws_utils.DEFAULT_RETRIES} attempts with jittered backoff): "
    )
    assert "ThrottlingException" in result["msg"] or "503" in result["msg"]
    # AWSRetry attempts times botocore's own two attempts each, and nothing else
    assert dict(proxy.counts) == {"ListSecrets": aws_utils.DEFAULT_RETRIES * 2}
    assert elapsed < 60, f"gave up after {elapsed:.0f}s"
    proxy.failure_share = 0.0
    assert snapshot(aws.client("secretsmanager")) == {}
