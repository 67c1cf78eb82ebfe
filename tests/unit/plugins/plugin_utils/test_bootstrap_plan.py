"""What the playbooks derive from an inventory: workloads, IAM roles, ARNs, the Applications validate expects."""

from __future__ import annotations

from typing import Any

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.bootstrap_plan import plan, tagged_secrets

INPUTS: dict[str, Any] = {
    "environment": "prod",
    "region": "eu-west-1",
    "account_id": "123456789012",
    "iam_role_path": "/platform/",
    "workload_identity": "irsa",
    "workload_role_name": "{workload}-{env}",
    "workload_secret_name": "{env}/{workload}",
    "workloads": [{"name": "web", "namespace": "shop-{env}", "image_repository": "shop/web"}, {"name": "batch", "secret_keys": []}],
    "addon_roles": [
        {"name": "argocd-repo-server", "role_name": "repo", "namespace": "argocd", "service_account": "argocd-repo-server", "managed_policy_arns": ["arn:p"]}
    ],
    "github_actions_role_name": "gha",
    "github_repository": "acme/gitops",
    "gitops_repo_revision": "main",
    "github_actions_environments": ["prod"],
    "gitops_environments": ["dev", "prod"],
    "gitops_cluster_name": "eks-{env}",
    "delivery": "argocd",
    "argocd_release_name": "argocd",
    "argocd_self_managed": True,
    "addon_releases": [{"name": "traefik", "namespace": "traefik"}, {"name": "reloader", "namespace": "reloader"}],
}


def test_workloads_get_their_namespace_role_secret_and_repository() -> None:
    web, batch = plan(INPUTS)["workloads"]
    assert web == {
        "name": "web",
        "namespace": "shop-prod",
        "service_account": "web",
        "role_name": "web-prod",
        "role_arn": "arn:aws:iam::123456789012:role/platform/web-prod",
        "secret_name": "prod/web",
        "image_repository": "shop/web",
        "ecr_arn": "arn:aws:ecr:eu-west-1:123456789012:repository/shop/web",
    }
    assert (batch["namespace"], batch["secret_name"], batch["image_repository"]) == ("batch", "", "batch")


def test_iam_roles_of_add_ons_and_workloads() -> None:
    repo, web, batch = plan(INPUTS)["iam_roles"]
    assert repo["description"] == "Add-on argocd-repo-server (argocd/argocd-repo-server), prod"
    assert (repo["trust"], repo["managed_policy_arns"], repo["secrets_read"]) == ("irsa", ["arn:p"], [])
    assert (web["trust"], web["secrets_read"]) == ("irsa", ["prod/web"])
    assert batch["secrets_read"] == []


def test_github_actions_eks_arns_and_expected_applications() -> None:
    result = plan(INPUTS)
    assert result["github_actions_role_arn"] == "arn:aws:iam::123456789012:role/platform/gha"
    assert result["github_actions_subjects"] == [{"repository": "acme/gitops", "branch": "main"}, {"repository": "acme/gitops", "environment": "prod"}]
    assert result["gitops_cluster_arns"] == ["arn:aws:eks:eu-west-1:123456789012:cluster/eks-dev", "arn:aws:eks:eu-west-1:123456789012:cluster/eks-prod"]
    assert result["cluster_role_arns"]["github-actions"] == result["github_actions_role_arn"]
    assert result["argocd_repo_server_role_arn"] == "arn:aws:iam::123456789012:role/platform/repo"
    assert result["expected_applications"] == ["argocd", "root-prod", "web-prod", "batch-prod", "traefik", "reloader"]
    helm = plan({**INPUTS, "delivery": "helm", "argocd_self_managed": False})
    assert helm["expected_applications"] == ["root-prod", "web-prod", "batch-prod"]


def test_partitions_and_pod_identity() -> None:
    china = plan({**INPUTS, "region": "cn-north-1", "workload_identity": "pod_identity"})
    assert china["workloads"][0]["role_arn"].startswith("arn:aws-cn:iam::")
    assert china["iam_roles"][1]["trust"] == "pod_identity"
    assert plan({**INPUTS, "region": "us-gov-west-1"})["partition"] == "aws-us-gov"
    repo_by_pod_identity = {**INPUTS["addon_roles"][0], "trust": "pod_identity"}
    assert plan({**INPUTS, "addon_roles": [repo_by_pod_identity]})["argocd_repo_server_role_arn"] == ""


def test_secrets_get_the_platform_tags_and_key_their_own_win() -> None:
    secrets = [{"name": "a", "value": "v"}, {"name": "b", "json": {}, "tags": {"team": "x"}, "kms_key_id": "alias/own"}]
    tagged = tagged_secrets(secrets, {"team": "platform", "env": "prod"}, "alias/platform")
    assert tagged[0] == {"name": "a", "value": "v", "tags": {"team": "platform", "env": "prod"}, "kms_key_id": "alias/platform"}
    assert tagged[1]["tags"] == {"team": "x", "env": "prod"}
    assert tagged[1]["kms_key_id"] == "alias/own"
