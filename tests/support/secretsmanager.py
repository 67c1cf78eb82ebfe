"""Helpers for tests of ``eks_gitops.platform.secretsmanager_secrets``: the play, and the state read back with boto3."""

from __future__ import annotations

import base64
from typing import Any

MODULE = "eks_gitops.platform.secretsmanager_secrets"
TASK = "reconcile"
WRITE_OPERATIONS = {
    "CreateSecret",
    "PutSecretValue",
    "UpdateSecret",
    "TagResource",
    "UntagResource",
    "DeleteSecret",
    "RestoreSecret",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "ReplicateSecretToRegions",
    "RemoveRegionsFromReplication",
    "RotateSecret",
    "CancelRotateSecret",
}


def reconcile_play(secrets: list[dict[str, Any]], *, task_args: dict[str, Any] | None = None, **module: Any) -> list[dict[str, Any]]:
    """A play with one task, ``reconcile``, running the module over ``secrets``."""
    task: dict[str, Any] = {"name": TASK, MODULE: {"secrets": secrets, **module}}
    task.update(task_args or {})
    return [{"name": "secrets", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in result.get("secrets", [])}


def snapshot(client: Any) -> dict[str, dict[str, Any]]:
    """Everything the module could change, per secret, read straight from the server."""
    state: dict[str, dict[str, Any]] = {}
    paginator = client.get_paginator("list_secrets")
    for page in paginator.paginate(IncludePlannedDeletion=True):
        for entry in page["SecretList"]:
            item: dict[str, Any] = {
                "description": entry.get("Description"),
                "kms_key_id": entry.get("KmsKeyId"),
                "tags": {tag["Key"]: tag["Value"] for tag in entry.get("Tags", [])},
                "deleted": entry.get("DeletedDate") is not None,
                "versions": sorted(entry.get("SecretVersionsToStages", {})),
                "value": None,
            }
            if not item["deleted"] and item["versions"]:
                item["value"] = value_of(client, entry["Name"])
            state[entry["Name"]] = item
    return state


def value_of(client: Any, name: str) -> str | bytes:
    response = client.get_secret_value(SecretId=name)
    return response["SecretString"] if "SecretString" in response else response["SecretBinary"]


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()
