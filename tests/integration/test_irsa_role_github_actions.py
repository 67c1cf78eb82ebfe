"""irsa_role with trust=github_actions against the moto server: GitHub's OIDC provider, the pinned trust, re-runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.ansible import run_playbook
from tests.support.moto import MotoServer

ROLE = "eks-gitops-github-actions"
ISSUER = "https://token.actions.githubusercontent.com"


def task(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "role_name": ROLE,
        "trust": "github_actions",
        "github_repositories": [{"repository": "example-org/platform-gitops", "branch": "main"}],
        "inline_policies": {
            "ecr-push": {
                "Statement": [
                    {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                    {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:UploadLayerPart"], "Resource": "arn:aws:ecr:eu-west-1:123456789012:repository/app"},
                ]
            }
        },
    }
    args.update(overrides)
    return {"name": "role", "eks_gitops.platform.irsa_role": args, "register": "out"}


def run(aws: MotoServer, tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    check = kwargs.pop("check", False)
    plays = [{"name": "github actions role", "hosts": "localhost", "gather_facts": False, "tasks": [task(**kwargs)]}]
    result = run_playbook(plays, tmp_path, env=aws.env(), check=check, diff=True).result("role")
    return dict(result)


def test_role_trusts_exactly_the_repository_and_branch(aws: MotoServer, tmp_path: Path) -> None:
    iam = aws.client("iam")
    checked = run(aws, tmp_path, check=True)
    assert checked["changed"] is True
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []

    created = run(aws, tmp_path)
    assert not created.get("failed"), created.get("msg")
    assert created["changed"] is True
    provider = f"arn:aws:iam::{aws.account_id}:oidc-provider/token.actions.githubusercontent.com"
    assert created["oidc_provider_arn"] == provider
    assert created["service_account_annotations"] == {}
    stored = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    assert stored["Url"].removeprefix("https://") == "token.actions.githubusercontent.com"
    assert stored["ClientIDList"] == ["sts.amazonaws.com"]
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": "repo:example-org/platform-gitops:ref:refs/heads/main",
                }
            },
        }
    ]
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["ecr-push"]

    again = run(aws, tmp_path)
    assert again["changed"] is False

    moved = run(
        aws,
        tmp_path,
        github_repositories=[
            {"repository": "example-org/platform-gitops", "branch": "release"},
            {"repository": "example-org/platform-gitops", "environment": "production"},
        ],
    )
    assert moved["changed"] is True
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
        "repo:example-org/platform-gitops:ref:refs/heads/release",
        "repo:example-org/platform-gitops:environment:production",
    ]


def test_wildcards_are_refused_before_anything_is_written(aws: MotoServer, tmp_path: Path) -> None:
    failed = run(aws, tmp_path, github_repositories=[{"repository": "example-org/*", "branch": "*"}])
    assert failed["failed"] is True
    assert "github_repositories[0].repository" in failed["msg"]
    assert "github_repositories[0].branch" in failed["msg"]
    assert aws.client("iam").list_roles()["Roles"] == []
