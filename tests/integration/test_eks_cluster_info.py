"""eks_cluster_info against the moto server: a missing cluster, a cluster before and after its OIDC provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.ansible import run_playbook
from tests.support.moto import MotoServer


def info(aws: MotoServer, tmp_path: Path, name: str, **args: Any) -> dict[str, Any]:
    plays = [
        {
            "name": "eks_cluster_info",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "info", "eks_gitops.platform.eks_cluster_info": {"name": name, **args}, "register": "out"}],
        }
    ]
    run = run_playbook(plays, tmp_path, env=aws.env(), check=True)
    result = run.result("info")
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    return dict(result["cluster"])


def test_missing_cluster_is_reported_not_failed(aws: MotoServer, tmp_path: Path) -> None:
    cluster = info(aws, tmp_path, "absent-cluster")
    assert cluster["exists"] is False
    assert cluster["oidc_issuer_url"] is None
    assert cluster["irsa_ready"] is False


def test_cluster_issuer_and_provider(aws: MotoServer, tmp_path: Path) -> None:
    eks = aws.client("eks")
    created = eks.create_cluster(
        name="platform", version="1.37", roleArn=f"arn:aws:iam::{aws.account_id}:role/eks", resourcesVpcConfig={}, tags={"team": "platform"}
    )["cluster"]
    issuer = created["identity"]["oidc"]["issuer"]
    cluster = info(aws, tmp_path, "platform")
    provider = f"arn:aws:iam::{aws.account_id}:oidc-provider/{issuer[len('https://') :]}"
    assert cluster["exists"] is True
    assert cluster["arn"] == created["arn"]
    assert cluster["version"] == "1.37"
    assert cluster["tags"] == {"team": "platform"}
    assert cluster["oidc_issuer_url"] == issuer
    assert cluster["oidc_provider_arn"] == provider
    assert cluster["oidc_provider_exists"] is False
    assert cluster["irsa_ready"] is False

    aws.client("iam").create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])
    cluster = info(aws, tmp_path, "platform")
    assert cluster["oidc_provider_exists"] is True
    assert cluster["oidc_provider_client_ids"] == ["sts.amazonaws.com"]
    assert cluster["irsa_ready"] is True

    assert info(aws, tmp_path, "platform", oidc_provider=False)["oidc_provider_exists"] is False


def test_bad_name_fails_naming_the_option(aws: MotoServer, tmp_path: Path) -> None:
    plays = [{"name": "p", "hosts": "localhost", "gather_facts": False, "tasks": [{"name": "info", "eks_gitops.platform.eks_cluster_info": {"name": "-bad"}}]}]
    result = run_playbook(plays, tmp_path, env=aws.env()).result("info")
    assert result["failed"] is True
    assert result["msg"].startswith("name: ")
