# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbooks derive from an inventory: names, ARNs and lists every phase uses the same way.

:func:`plan` takes the inventory's values (``playbooks/vars/bootstrap.yml`` passes them as ``bootstrap_inputs``) and
returns the workloads with their namespace, IAM role, secret and ECR repository, the IAM roles the aws phase writes,
the GitHub Actions trust, the role ARNs published to Argo CD and the Applications validate expects. Plain data in,
plain data out: no secret value goes through here (the inventory's secrets are tagged by :func:`tagged_secrets`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

DEFAULT_SECRET_KEYS = [{"path": "username", "objectAlias": "DB_USERNAME"}, {"path": "password", "objectAlias": "DB_PASSWORD"}]
ROLE_OPTIONS = ("managed_policy_arns", "inline_policies", "kms_key_arns")
REPO_SERVER_ROLE = "argocd-repo-server"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _fill(template: str, workload: str, environment: str) -> str:
    return template.replace("{workload}", workload).replace("{env}", environment)


def plan(inputs: Mapping[str, Any]) -> Dict[str, Any]:
    """Everything derived from the inventory's values (see playbooks/vars/bootstrap.yml for the keys)."""
    environment = str(inputs["environment"])
    region = str(inputs["region"])
    account = str(inputs["account_id"])
    aws = partition(region)
    arn_prefix = f"arn:{aws}:iam::{account}:role{inputs.get('iam_role_path') or '/'}"
    identity = inputs.get("workload_identity") or "irsa"

    workloads = []
    for workload in inputs.get("workloads") or []:
        name = workload["name"]
        keys = workload.get("secret_keys", DEFAULT_SECRET_KEYS)
        role = _fill(inputs.get("workload_role_name") or "{workload}-{env}", name, environment)
        repository = workload.get("image_repository") or name
        workloads.append(
            {
                "name": name,
                "namespace": _fill(workload.get("namespace") or name, name, environment),
                "service_account": name,
                "role_name": role,
                "role_arn": arn_prefix + role,
                "secret_name": _fill(inputs.get("workload_secret_name") or "{env}/{workload}", name, environment) if keys else "",
                "image_repository": repository,
                "ecr_arn": f"arn:{aws}:ecr:{region}:{account}:repository/{repository}",
            }
        )

    addon_roles = [{**role, "role_arn": arn_prefix + role["role_name"]} for role in inputs.get("addon_roles") or []]
    iam_roles: List[Dict[str, Any]] = []
    for role in addon_roles:
        iam_roles.append(
            {
                "role_name": role["role_name"],
                "role_arn": role["role_arn"],
                "trust": role.get("trust") or "irsa",
                "namespace": role["namespace"],
                "service_account": role["service_account"],
                "description": role.get("description") or f"Add-on {role['name']} ({role['namespace']}/{role['service_account']}), {environment}",
                "secrets_read": role.get("secrets_read") or [],
                **{key: role[key] for key in ROLE_OPTIONS if key in role},
            }
        )
    for workload in workloads:
        iam_roles.append(
            {
                "role_name": workload["role_name"],
                "role_arn": workload["role_arn"],
                "trust": identity,
                "namespace": workload["namespace"],
                "service_account": workload["service_account"],
                "description": f"Workload {workload['name']} ({workload['namespace']}/{workload['service_account']}), {environment}",
                "secrets_read": [workload["secret_name"]] if workload["secret_name"] else [],
            }
        )

    addon_role_arns = {role["name"]: role["role_arn"] for role in addon_roles}
    github_actions_role_arn = arn_prefix + str(inputs.get("github_actions_role_name") or "")
    repository = inputs.get("github_repository") or ""
    github_subjects = [{"repository": repository, "branch": inputs.get("gitops_repo_revision") or "main"}]
    github_subjects += [{"repository": repository, "environment": name} for name in inputs.get("github_actions_environments") or []]
    cluster_template = inputs.get("gitops_cluster_name") or "eks-gitops-{env}"
    cluster_names = [cluster_template.replace("{env}", name) for name in inputs.get("gitops_environments") or []]
    repo_server_trust = [role.get("trust") or "irsa" for role in addon_roles if role["name"] == REPO_SERVER_ROLE]

    return {
        "partition": aws,
        "account_id": account,
        "iam_arn_prefix": arn_prefix,
        "workload_identity": identity,
        "workloads": workloads,
        "workload_namespaces": list(dict.fromkeys(workload["namespace"] for workload in workloads)),
        "addon_roles": addon_roles,
        "addon_role_arns": addon_role_arns,
        "iam_roles": iam_roles,
        "github_actions_role_arn": github_actions_role_arn,
        "github_actions_subjects": github_subjects,
        "gitops_cluster_names": cluster_names,
        "gitops_cluster_arns": [f"arn:{aws}:eks:{region}:{account}:cluster/{name}" for name in cluster_names],
        "ecr_arns": list(dict.fromkeys(workload["ecr_arn"] for workload in workloads)),
        "cluster_role_arns": {**addon_role_arns, **{w["name"]: w["role_arn"] for w in workloads}, "github-actions": github_actions_role_arn},
        # The repo-server assumes its role by IRSA only when the inventory gives it one with IRSA trust.
        "argocd_repo_server_role_arn": addon_role_arns[REPO_SERVER_ROLE] if repo_server_trust == ["irsa"] else "",
        "expected_applications": expected_applications(inputs, workloads),
    }


def expected_applications(inputs: Mapping[str, Any], workloads: List[Mapping[str, Any]]) -> List[str]:
    """The Applications the environment declares: the self-managed Argo CD, the root app-of-apps, one per workload
    (``<workload>-<env>``) and, with Argo CD delivery, one per add-on release."""
    environment = inputs["environment"]
    names = [inputs.get("argocd_release_name") or "argocd"] if inputs.get("argocd_self_managed", True) else []
    names.append(f"root-{environment}")
    names += [f"{workload['name']}-{environment}" for workload in workloads]
    if inputs.get("delivery") == "argocd":
        names += [release["name"] for release in inputs.get("addon_releases") or []]
    return list(dict.fromkeys(names))


def tagged_secrets(secrets: List[Mapping[str, Any]], tags: Mapping[str, str], kms_key_id: str = "") -> List[Dict[str, Any]]:
    """The inventory's secrets with the platform's tags (a secret's own tags win) and KMS key (a secret's own wins)."""
    result = []
    for secret in secrets or []:
        extra: Dict[str, Any] = {"tags": {**(tags or {}), **(secret.get("tags") or {})}}
        if kms_key_id and "kms_key_id" not in secret:
            extra["kms_key_id"] = kms_key_id
        result.append({**secret, **extra})
    return result
