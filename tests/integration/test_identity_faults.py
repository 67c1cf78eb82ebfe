"""irsa_role (IAM, STS, EKS) under injected faults: 5xx answers botocore cannot parse, and lost answers.

A proxy in front of moto answers a share of the requests itself with a bare HTTP 503 and a plain-text body. IAM
and STS answer in XML and EKS in JSON, so botocore cannot parse such a body: the retry policy must treat that as
the transient error it is, on every service the module calls. A "lost" fault lets a create reach moto and then
drops its answer: the retried create finds the role (or the OIDC provider) already there, and the run must treat
that as done and go on to reconcile it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ansible import PlaybookRun, run_playbook
from tests.support.fault_proxy import FaultProxy
from tests.support.moto import MotoServer

CLUSTER = "platform"
SERVICE_ACCOUNT = {"namespace": "shop", "name": "checkout"}


@pytest.fixture
def proxy(aws: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream=aws.endpoint_url, seed=11) as server:
        yield server


def irsa_play(**args: Any) -> list[dict[str, Any]]:
    task = {"name": "role", "eks_gitops.platform.irsa_role": args, "register": "out"}
    return [{"name": "irsa_role", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def through(proxy: FaultProxy, aws: MotoServer, tmp_path: Path, **args: Any) -> PlaybookRun:
    env = dict(aws.env(), AWS_URL=proxy.endpoint_url, AWS_ENDPOINT_URL=proxy.endpoint_url)
    return run_playbook(irsa_play(**args), tmp_path, env=env)


def role_args(**extra: Any) -> dict[str, Any]:
    return {
        "role_name": "shop-checkout",
        "cluster_name": CLUSTER,
        "service_accounts": [SERVICE_ACCOUNT],
        "secrets_read": ["shop/checkout/database"],
        "tags": {"team": "shop"},
        **extra,
    }


def assert_converged(aws: MotoServer) -> None:
    iam = aws.client("iam")
    role = iam.get_role(RoleName="shop-checkout")["Role"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])}["team"] == "shop"
    assert iam.list_role_policies(RoleName="shop-checkout")["PolicyNames"] == ["secrets-read"]
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_plain_text_5xx_answers_of_iam_sts_and_eks_are_retried(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    aws.client("eks").create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{aws.account_id}:role/eks", resourcesVpcConfig={})
    proxy.faults = ("503",)
    proxy.first_attempts = True

    run = through(proxy, aws, tmp_path, **role_args())

    assert run.rc == 0, run.output
    assert run.result("role")["changed"] is True
    # The first call of every operation of every service got a plain-text 503, and was retried through it.
    for operation in ("GetCallerIdentity", "GET /clusters/platform", "GetRole", "CreateOpenIDConnectProvider", "CreateRole", "PutRolePolicy"):
        assert proxy.faulted[operation] == 1, proxy.faulted
        assert proxy.counts[operation] >= 2, proxy.counts
    assert_converged(aws)


def test_an_outage_gives_up_after_bounded_retries_with_a_clear_message(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    aws.client("eks").create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{aws.account_id}:role/eks", resourcesVpcConfig={})
    proxy.faults = ("503",)
    proxy.failure_share = 1.0
    proxy.fault_operations = {"GetCallerIdentity"}

    run = through(proxy, aws, tmp_path, **role_args())

    assert run.rc != 0
    message = run.result("role")["msg"]
    assert message.startswith("failed to find the AWS account (sts:GetCallerIdentity)")
    assert "still failing after 6 attempts" in message
    assert "invalid XML received" in message
    assert "Traceback" not in run.output
    assert proxy.counts["GetCallerIdentity"] == 6


@pytest.mark.parametrize("lost", ["CreateRole", "CreateOpenIDConnectProvider"])
def test_a_create_whose_answer_was_lost_is_taken_as_done_and_reconciled(aws: MotoServer, proxy: FaultProxy, tmp_path: Path, lost: str) -> None:
    aws.client("eks").create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{aws.account_id}:role/eks", resourcesVpcConfig={})
    proxy.faults = ("lost",)
    proxy.failure_share = 1.0
    proxy.fault_operations = {lost}
    proxy.max_faults = 1

    run = through(proxy, aws, tmp_path, **role_args())

    assert run.rc == 0, run.output
    assert proxy.faults_injected["lost"] == 1
    assert proxy.counts[lost] >= 2, "the create was retried"
    assert run.result("role")["changed"] is True
    assert_converged(aws)
    # And the next run finds nothing to do.
    (tmp_path / "again").mkdir()
    again = through(proxy, aws, tmp_path / "again", **role_args())
    assert again.rc == 0, again.output
    assert again.result("role")["changed"] is False
