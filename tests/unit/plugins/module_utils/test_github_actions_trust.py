"""irsa_role with trust=github_actions: the trust document, the input checks, the plan against a stubbed IAM."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import AccountInfo
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.documents import (
    GitHubRef,
    git_branch_problem,
    github_actions_trust_policy,
    github_environment_problem,
    github_repository_problem,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.irsa import IrsaRole, parse_irsa_role_params
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import execute

ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
ACCOUNT = AccountInfo(account_id="123456789012", partition="aws")


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "state": "present",
        "role_name": "eks-gitops-github-actions",
        "trust": "github_actions",
        "github_repositories": [{"repository": "example-org/platform-gitops", "branch": "main"}],
        "path": "/",
        "purge_tags": True,
        "create_oidc_provider": True,
        "purge_policies": True,
        "purge_inline_policies": True,
    }
    base.update(overrides)
    return base


def test_trust_policy_pins_audience_and_exact_subjects() -> None:
    refs = [GitHubRef("example-org/platform-gitops", "main"), GitHubRef("example-org/platform-gitops", "release/1.x")]
    policy = github_actions_trust_policy(PROVIDER, ISSUER, refs)
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": [
                            "repo:example-org/platform-gitops:ref:refs/heads/main",
                            "repo:example-org/platform-gitops:ref:refs/heads/release/1.x",
                        ],
                    }
                },
            }
        ],
    }
    assert "StringLike" not in str(policy)
    with pytest.raises(ValueError, match="at least one"):
        github_actions_trust_policy(PROVIDER, ISSUER, [])


def test_environment_subjects() -> None:
    refs = [GitHubRef("o/r", branch="main"), GitHubRef("o/r", environment="production")]
    subjects = github_actions_trust_policy(PROVIDER, ISSUER, refs)["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subjects == ["repo:o/r:ref:refs/heads/main", "repo:o/r:environment:production"]
    assert github_environment_problem("production") is None
    assert github_environment_problem("pre prod") is None
    for bad in ("", "prod*", "a:b", "x" * 256, None):
        assert github_environment_problem(bad)


@pytest.mark.parametrize("repository", ["example-org/platform-gitops", "a/b", "Org-1/repo.name_x"])
def test_good_repositories(repository: str) -> None:
    assert github_repository_problem(repository) is None


@pytest.mark.parametrize("repository", ["", "platform-gitops", "org/*", "org/repo/extra", "-org/repo", "org/..", None, "org/re po"])
def test_bad_repositories(repository: Any) -> None:
    assert github_repository_problem(repository)


@pytest.mark.parametrize("branch", ["main", "release/1.x", "feature-a_b"])
def test_good_branches(branch: str) -> None:
    assert git_branch_problem(branch) is None


@pytest.mark.parametrize("branch", ["", "refs/heads/main", "*", "ma*in", "a..b", "a b", "a:b", "a~1", "x.lock", "/main", "main/", "a//b", "a\\b"])
def test_bad_branches(branch: str) -> None:
    assert git_branch_problem(branch)


def test_parse_good_input_keeps_the_refs() -> None:
    spec, errors = parse_irsa_role_params(params(), region="eu-west-1")
    assert not errors, errors.summary()
    assert spec.github_refs == [GitHubRef("example-org/platform-gitops", "main")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"github_repositories": []}, "github_repositories: at least one repository and branch is required with trust=github_actions"),
        ({"github_repositories": [{"repository": "org/*", "branch": "main"}]}, "github_repositories[0].repository"),
        ({"github_repositories": [{"repository": "org/repo", "branch": "refs/heads/main"}]}, "github_repositories[0].branch"),
        ({"github_repositories": [{"repository": "org/repo", "environment": "prod*"}]}, "github_repositories[0].environment"),
        ({"github_repositories": [{"repository": "org/repo", "branch": "main", "environment": "prod"}]}, "github_repositories[0]: needs exactly one"),
        ({"github_repositories": [{"repository": "org/repo"}]}, "github_repositories[0]: needs exactly one"),
        ({"cluster_name": "platform"}, "cluster_name: is not used with trust=github_actions"),
        ({"service_accounts": [{"namespace": "a", "name": "b"}]}, "service_accounts: is not used with trust=github_actions"),
        ({"trust": "irsa", "cluster_name": "platform", "service_accounts": [{"namespace": "a", "name": "b"}]}, "github_repositories: is only used with"),
    ],
)
def test_parse_bad_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    _spec, errors = parse_irsa_role_params(params(**overrides), region="eu-west-1")
    assert field in errors.summary()


def test_absent_needs_no_repositories() -> None:
    _spec, errors = parse_irsa_role_params(params(state="absent", github_repositories=None), region="eu-west-1")
    assert not errors, errors.summary()


def test_plan_creates_github_provider_and_role_without_touching_eks() -> None:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(iam)
    stubber.add_client_error("get_open_id_connect_provider", "NoSuchEntity", expected_params={"OpenIDConnectProviderArn": PROVIDER})
    stubber.add_client_error("get_role", "NoSuchEntity", expected_params={"RoleName": "eks-gitops-github-actions"})
    stubber.activate()

    def unretried(client: Any) -> Any:
        class Wrapper:
            def __getattr__(self, name: str) -> Any:
                method = getattr(client, name)
                return lambda aws_retry=False, **kwargs: method(**kwargs)

        return Wrapper()

    spec, errors = parse_irsa_role_params(params(), region="eu-west-1")
    assert not errors
    plan = IrsaRole(unretried(iam), None, ACCOUNT, "eu-west-1").plan(spec)
    outcome = execute(plan, check_mode=True)
    stubber.assert_no_pending_responses()
    assert outcome.changed is True
    assert plan.changes == [f"create OIDC provider {PROVIDER}", "create role eks-gitops-github-actions"]
    result, diff = outcome.result, {"before": plan.before, "after": plan.after}
    assert result["oidc_provider_arn"] == PROVIDER
    assert result["service_account_annotations"] == {}
    assert result["role"]["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:example-org/platform-gitops:ref:refs/heads/main"
    )
    assert diff["after"]["oidc_provider"] == {"arn": PROVIDER, "client_ids": ["sts.amazonaws.com"]}
