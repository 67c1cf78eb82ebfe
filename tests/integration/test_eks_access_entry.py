"""eks_access_entry against the moto server, through a counting proxy: what moto answers (the cluster lookup) and what
the module refuses before any write. moto implements no access entry API (it answers 404), so the plan itself is
tested in unit/plugins/module_utils/test_access_entry.py on botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ansible import PlaybookRun, run_playbook
from tests.support.fault_proxy import FaultProxy
from tests.support.moto import MotoServer

ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@pytest.fixture
def proxy(aws: MotoServer) -> Iterator[FaultProxy]:
    """A proxy that only counts (no faults), to show which requests the module made."""
    with FaultProxy(upstream=aws.endpoint_url, failure_share=0.0) as server:
        yield server


def entry(proxy: FaultProxy, aws: MotoServer, tmp_path: Path, check: bool = False, **args: Any) -> tuple[PlaybookRun, dict[str, Any]]:
    task = {"name": "entry", "eks_gitops.platform.eks_access_entry": args, "register": "out", "ignore_errors": True}
    env = dict(aws.env(), AWS_URL=proxy.endpoint_url, AWS_ENDPOINT_URL=proxy.endpoint_url)
    run = run_playbook([{"name": "eks_access_entry", "hosts": "localhost", "gather_facts": False, "tasks": [task]}], tmp_path, env=env, check=check)
    return run, run.result("entry")


def hub_role(aws: MotoServer) -> str:
    return f"arn:aws:iam::{aws.account_id}:role/platform-hub-argocd"


def test_bad_input_is_refused_before_any_request(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    _run, result = entry(
        proxy,
        aws,
        tmp_path,
        cluster_name="spoke a",
        principal_arn=f"arn:aws:sts::{aws.account_id}:assumed-role/platform-hub-argocd/session",
        kubernetes_groups=["system:masters"],
        access_policies=[{"policy_arn": "AmazonEKSClusterAdminPolicy"}],
    )
    assert result["failed"] is True
    assert result["changed"] is False
    for field in ("cluster_name:", "principal_arn:", "kubernetes_groups[0]:", "access_policies[0].policy_arn:"):
        assert field in result["msg"]
    assert proxy.total == 0, proxy.counts


@pytest.mark.parametrize("check", [False, True])
def test_a_missing_cluster_is_refused_after_one_read(aws: MotoServer, proxy: FaultProxy, tmp_path: Path, check: bool) -> None:
    _run, result = entry(proxy, aws, tmp_path, check=check, cluster_name="absent", principal_arn=hub_role(aws))
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"] == "cluster_name: EKS cluster 'absent' in region 'eu-west-1' was not found"
    assert list(proxy.counts) == ["GET /clusters/absent"]


def test_where_moto_stops_the_module_fails_naming_the_call_and_writes_nothing(aws: MotoServer, proxy: FaultProxy, tmp_path: Path) -> None:
    aws.client("eks").create_cluster(name="spoke-a", roleArn=f"arn:aws:iam::{aws.account_id}:role/eks", resourcesVpcConfig={})
    _run, result = entry(proxy, aws, tmp_path, cluster_name="spoke-a", principal_arn=hub_role(aws), access_policies=[{"policy_arn": ADMIN}])
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"].startswith(f"failed to describe the access entry of {hub_role(aws)} on EKS cluster 'spoke-a'")
    assert all(operation.startswith("GET ") for operation in proxy.counts), proxy.counts
    assert "GET /clusters/spoke-a" in proxy.counts
