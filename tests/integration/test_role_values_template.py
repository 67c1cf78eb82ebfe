"""`helm template` of every role's rendered values against the test charts.

For every role with a ``tasks/values.yml`` (the task file its release step uses), the values are rendered by
Ansible exactly as in a converge, for a small and a production environment, and handed to ``helm template``
with the test double of the pinned chart (tests/charts/<chart>, same name and version as the pin). The chart must
render, and its ``<release>-received-values`` ConfigMap must show every value the role passed.

Each double carries a values.schema.json listing the keys it knows, every one of them known to the upstream chart
at the pinned version (scripts/double_schema.py writes it from that chart's values and templates): a key the
real chart would ignore fails here. scripts/upstream_values.py renders the roles' values against a checkout of the
upstream charts themselves when a pin changes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import role_docs
from tests.support import linkerd_pki
from tests.support.ansible import REPO_ROOT, run_playbook
from tests.support.tools import tool

CHARTS = REPO_ROOT / "tests" / "charts"
ROLES = sorted(path.parent.parent.name for path in (REPO_ROOT / "roles").glob("*/tasks/values.yml"))
ENVIRONMENTS = ["local", "production"]
KUBE_VERSION = "1.37.0"

# Variables some roles need to render their values (placeholders: nothing is installed).
ROLE_VARS: dict[str, dict[str, Any]] = {
    # The trust bundle the linkerd_identity role exports (a certificate made for this test only).
    "linkerd": {"linkerd_identity_trust_bundle_pem": linkerd_pki.anchor().cert_pem},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """{environment: {<prefix>_release_values: values}} rendered by the roles' own values task files."""
    result: dict[str, dict[str, Any]] = {}
    for environment in ENVIRONMENTS:
        tmp_path = tmp_path_factory.mktemp(f"values-{environment}")
        out = tmp_path / "values.json"
        plays = [
            {
                "name": "render the roles' chart values",
                "hosts": "localhost",
                "gather_facts": False,
                "vars": {"platform_environment": environment, **{k: v for extra in ROLE_VARS.values() for k, v in extra.items()}},
                "tasks": [
                    {
                        "name": "render",
                        "ansible.builtin.include_role": {"name": "eks_gitops.platform.{{ item }}", "tasks_from": "values"},
                        "loop": ROLES,
                    },
                    {
                        "name": "write",
                        "ansible.builtin.copy": {
                            "dest": str(out),
                            "mode": "0600",
                            "content": "{{ dict(hostvars.localhost | dict2items | selectattr('key', 'match', '.*_release_values$')"
                            " | map(attribute='key') | zip(hostvars.localhost | dict2items"
                            " | selectattr('key', 'match', '.*_release_values$') | map(attribute='value'))) | to_json }}",
                        },
                    },
                ],
            }
        ]
        run = run_playbook(plays, tmp_path)
        assert run.rc == 0, run.output
        result[environment] = json.loads(out.read_text())
    return result


def _charts_of_role(role: str) -> list[tuple[str, str]]:
    """(fact prefix, chart name) of each chart a role pins."""
    defaults = role_docs.defaults(REPO_ROOT / "roles" / role)
    return [(key[: -len("_chart_name")], str(value)) for key, value in defaults.items() if key.endswith("_chart_name")]


CASES = [(f"{role}:{prefix}:{chart}", env) for role in ROLES for prefix, chart in _charts_of_role(role) for env in ENVIRONMENTS]


def test_every_role_with_values_is_covered() -> None:
    assert {"argocd", "reloader", "secrets_store_csi", "traefik", "linkerd"} <= set(ROLES)
    assert all(_charts_of_role(role) for role in ROLES)


@pytest.mark.parametrize(("case", "environment"), CASES, ids=[f"{c[0].split(':')[1]}-{c[1]}" for c in CASES])
def test_values_render_with_the_test_chart(rendered: dict[str, dict[str, Any]], tmp_path: Path, case: str, environment: str) -> None:
    role, prefix, chart = case.split(":")
    values = rendered[environment].get(f"{prefix}_release_values")
    assert isinstance(values, dict), f"{role}: tasks/values.yml set no {prefix}_release_values"
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    release = prefix.replace("_", "-")
    command = [tool("helm"), "template", release, str(CHARTS / chart), "--namespace", "values-test", "--kube-version", KUBE_VERSION]
    completed = subprocess.run(
        [*command, "--include-crds", "-f", str(values_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    documents = [doc for doc in yaml.safe_load_all(completed.stdout) if doc]
    received = next(doc for doc in documents if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == f"{release}-received-values")
    received_values = yaml.safe_load(received["data"]["values.yaml"])
    assert _contains(received_values, values), f"the chart did not receive all of {role}'s values"


def _contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(key in big and _contains(big[key], value) for key, value in small.items())
    return bool(big == small)


def test_production_values_are_sized_for_ha(rendered: dict[str, dict[str, Any]]) -> None:
    local, production = rendered["local"], rendered["production"]
    argocd = production["argocd_release_values"]
    assert argocd["redis-ha"]["enabled"] is True
    assert argocd["server"]["replicas"] == 2
    assert argocd["repoServer"]["replicas"] == 2
    assert argocd["applicationSet"]["replicas"] == 2
    assert all(argocd[component]["pdb"]["enabled"] is True for component in ("controller", "server", "repoServer", "applicationSet"))
    assert argocd["global"]["affinity"]["podAntiAffinity"] == "hard"
    assert local["argocd_release_values"]["redis-ha"]["enabled"] is False
    assert local["argocd_release_values"]["server"]["replicas"] == 1
    reloader = production["reloader_release_values"]["reloader"]
    assert reloader["enableHA"] is True
    assert reloader["deployment"]["replicas"] == 2
    assert reloader["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert local["reloader_release_values"]["reloader"]["deployment"]["replicas"] == 1


def test_values_carry_no_secret_material(rendered: dict[str, dict[str, Any]]) -> None:
    argocd = rendered["production"]["argocd_release_values"]
    assert argocd["configs"]["secret"]["createSecret"] is False
    assert "argocdServerAdminPassword" not in argocd["configs"]["secret"]
    assert "repositories" not in argocd["configs"]
    assert "credentialTemplates" not in argocd["configs"]
    assert yaml.safe_dump(argocd).count("$2a$") == 0


def test_production_sizing_of_traefik_and_linkerd(rendered: dict[str, dict[str, Any]]) -> None:
    local, production = rendered["local"], rendered["production"]
    traefik = production["traefik_release_values"]
    assert traefik["deployment"]["replicas"] == 3
    assert traefik["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert traefik["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert local["traefik_release_values"]["deployment"]["replicas"] == 1
    assert local["traefik_release_values"]["podDisruptionBudget"] == {"enabled": False}
    assert "affinity" not in local["traefik_release_values"]
    control_plane = production["linkerd_control_plane_release_values"]
    assert (control_plane["controllerReplicas"], control_plane["webhookFailurePolicy"]) == (3, "Fail")
    assert control_plane["enablePodDisruptionBudget"] is True
    assert control_plane["enablePodAntiAffinity"] is True
    # HA through the keys the chart's templates read, never highAvailability / controllerResources (read by none).
    assert {"highAvailability", "controllerResources"}.isdisjoint(control_plane)
    assert control_plane["proxyInjectorResources"]["memory"]["limit"] == "250Mi"
    assert local["linkerd_control_plane_release_values"]["controllerReplicas"] == 1
    assert "enablePodAntiAffinity" not in local["linkerd_control_plane_release_values"]
    viz = production["linkerd_viz_release_values"]
    assert (viz["tap"]["replicas"], viz["enablePodDisruptionBudget"], viz["enablePodAntiAffinity"]) == (3, True, True)
    assert local["linkerd_viz_release_values"]["tap"]["replicas"] == 1


def test_csi_traefik_and_linkerd_values_carry_no_secret_material(rendered: dict[str, dict[str, Any]]) -> None:
    for environment in ENVIRONMENTS:
        values = rendered[environment]
        text = yaml.safe_dump({key: values[key] for key in values if key.startswith(("secrets_store_csi_", "traefik_", "linkerd_"))})
        assert "PRIVATE KEY" not in text
        assert "$2y$" not in text
        assert "$2a$" not in text
        # The dashboard guard reads a Secret by name; the values never hold users or passwords.
        auth = next(o for o in values["traefik_release_values"]["extraObjects"] if o["metadata"]["name"] == "dashboard-auth")
        assert auth["spec"]["basicAuth"] == {"secret": "dashboard-auth", "realm": "traefik", "removeHeader": True}
        assert values["linkerd_control_plane_release_values"]["identity"] == {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}}
        assert values["linkerd_control_plane_release_values"]["identityTrustAnchorsPEM"].startswith("-----BEGIN CERTIFICATE-----")
