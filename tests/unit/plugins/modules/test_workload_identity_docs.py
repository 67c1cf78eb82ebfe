"""ansible-doc renders irsa_role and pod_identity_association, with the examples users start from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]


def ansible_doc(name: str) -> dict[str, Any]:
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-doc")), "--json", f"eks_gitops.platform.{name}"],
        cwd=REPO_ROOT,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)[f"eks_gitops.platform.{name}"]


def module_tasks(examples: str, module: str) -> list[dict[str, Any]]:
    return [task for task in yaml.safe_load(examples) if f"eks_gitops.platform.{module}" in task]


@pytest.fixture(scope="module")
def irsa_role_doc() -> dict[str, Any]:
    return ansible_doc("irsa_role")


def test_irsa_role_renders_with_its_options(irsa_role_doc: dict[str, Any]) -> None:
    options = irsa_role_doc["doc"]["options"]
    for option in ("cluster_name", "oidc_issuer_url", "create_oidc_provider", "service_accounts", "secrets_read", "kms_key_arns", "trust"):
        assert option in options
    assert set(irsa_role_doc["return"]) >= {"role_arn", "role_name", "oidc_provider_arn", "service_account_annotations"}


def test_irsa_role_examples_show_the_csi_role_an_app_reading_two_secrets_and_pod_identity(irsa_role_doc: dict[str, Any]) -> None:
    tasks = {task["name"]: task["eks_gitops.platform.irsa_role"] for task in module_tasks(irsa_role_doc["examples"], "irsa_role")}
    csi = next(args for name, args in tasks.items() if "Secrets Store CSI driver" in name)
    assert csi["service_accounts"]
    assert csi["secrets_read"]
    app = next(args for name, args in tasks.items() if "application that reads two secrets" in name)
    assert len(app["secrets_read"]) == 2
    assert any(args.get("trust") == "pod_identity" for args in tasks.values())
    assert module_tasks(irsa_role_doc["examples"], "pod_identity_association")


def test_pod_identity_association_renders_with_examples() -> None:
    doc = ansible_doc("pod_identity_association")
    assert {"cluster_name", "namespace", "service_account", "role_arn", "role_name", "tags", "state"} <= set(doc["doc"]["options"])
    tasks = module_tasks(doc["examples"], "pod_identity_association")
    assert {task["eks_gitops.platform.pod_identity_association"].get("state", "present") for task in tasks} == {"present", "absent"}
