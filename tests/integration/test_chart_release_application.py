"""The Argo CD Application chart_release renders in argocd mode (rendered by Ansible, nothing applied)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.ansible import REPO_ROOT, run_playbook

ROLE = REPO_ROOT / "roles" / "chart_release"


def render(tmp_path: Path, **variables: Any) -> dict[str, Any]:
    out = tmp_path / "application.yaml"
    play = {
        "name": "Render the Application of chart_release",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": "Defaults of chart_release", "ansible.builtin.include_vars": {"file": str(ROLE / "defaults" / "main.yml")}},
            {
                "name": "Render the Application",
                "ansible.builtin.copy": {
                    "dest": str(out),
                    "mode": "0644",
                    "content": f"{{{{ lookup('ansible.builtin.template', '{ROLE}/templates/application.yaml.j2') }}}}",
                },
            },
        ],
    }
    base = {
        "chart_release_name": "linkerd-viz",
        "chart_release_namespace": "linkerd-viz",
        "chart_release_chart": {"repo": "https://helm.example.test/edge", "name": "linkerd-viz", "version": "2026.8.3"},
        "chart_release__repo": "https://helm.example.test/edge",
    }
    run = run_playbook([play], tmp_path, extra_vars={**base, **variables})
    assert run.rc == 0, run.output
    return yaml.safe_load(out.read_text())


def test_ignore_differences_of_core_kinds_carry_no_empty_group(tmp_path: Path) -> None:
    rules = [
        {"group": "", "kind": "Secret", "name": "tap-k8s-tls", "jsonPointers": ["/data"]},
        {"kind": "Secret", "name": "tap-injector-k8s-tls", "jsonPointers": ["/data"]},
        {"group": "apiregistration.k8s.io", "kind": "APIService", "name": "v1alpha1.tap.linkerd.io", "jsonPointers": ["/spec/caBundle"]},
    ]
    application = render(tmp_path, chart_release_ignore_differences=rules)
    assert application["spec"]["ignoreDifferences"] == [
        {"kind": "Secret", "name": "tap-k8s-tls", "jsonPointers": ["/data"]},
        {"kind": "Secret", "name": "tap-injector-k8s-tls", "jsonPointers": ["/data"]},
        {"group": "apiregistration.k8s.io", "kind": "APIService", "name": "v1alpha1.tap.linkerd.io", "jsonPointers": ["/spec/caBundle"]},
    ]
    assert "ignoreDifferences" not in render(tmp_path, chart_release_ignore_differences=[])["spec"]
