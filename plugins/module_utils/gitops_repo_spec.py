# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of eks_gitops.platform.gitops_repo_sync, shared by its action plugin and its documentation stub."""

from __future__ import annotations

from typing import Any, Dict

ARGUMENT_SPEC: Dict[str, Any] = {
    "dest": {"type": "path", "required": True},
    "repo_url": {"type": "str", "required": True},
    "environments": {"type": "list", "elements": "str", "required": True},
    "render_environments": {"type": "list", "elements": "str"},
    "applications_path": {"type": "str", "default": "applications/{env}"},
    "workloads": {"type": "list", "elements": "dict", "required": True},
    "workload_defaults": {"type": "dict", "default": {}},
    "repo_files": {"type": "list", "elements": "str", "required": True},
    "chart_files": {"type": "list", "elements": "str", "required": True},
    "aws_account_id": {"type": "str", "required": True},
    "aws_region": {"type": "str", "required": True},
    "ecr_registry": {"type": "str", "required": True},
    "ci_role_arn": {"type": "str", "required": True},
    "workload_role_arn": {"type": "str", "required": True},
    "secret_name": {"type": "str", "required": True},
    "host": {"type": "str", "required": True},
    "use_pod_identity": {"type": "bool", "default": False},
    "eks_cluster_name": {"type": "str", "required": True},
    "argocd_namespace": {"type": "str", "default": "argocd"},
    "initial_image_tag": {"type": "str", "default": ""},
    "service_monitor": {"type": "bool", "default": False},
    "environment_values": {"type": "dict", "default": {}},
    "manifest_name": {"type": "str", "default": ".eks-gitops-scaffold.json"},
    "adopt_existing": {"type": "bool", "default": False},
    "prune": {"type": "bool", "default": True},
    "git": {
        "type": "dict",
        "default": {},
        "options": {
            "commit": {"type": "bool", "default": False},
            "push": {"type": "bool", "default": False},
            "pull": {"type": "bool", "default": True},
            "remote": {"type": "str", "default": "origin"},
            "branch": {"type": "str", "default": "main"},
            "commit_message": {"type": "str", "default": "Render the GitOps repository ({environments})"},
            "author_name": {"type": "str", "default": "eks-gitops-platform"},
            "author_email": {"type": "str", "default": "eks-gitops-platform@users.noreply.github.com"},
            "username": {"type": "str", "default": ""},
            "password": {"type": "str", "default": "", "no_log": True},
        },
    },
}
