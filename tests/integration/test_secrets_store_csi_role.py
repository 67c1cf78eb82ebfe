"""The secrets_store_csi role: one release of the provider chart with the driver as its subchart (a second driver
release is refused before anything is written), and the secret_provider_class entry point, which renders a
workload's SecretProviderClass and gives its service account an IRSA role that reads exactly its secrets.

Runs against the local cluster, the test chart repository and moto.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.ansible import ok, run_playbook
from tests.support.kube import KubeCluster
from tests.support.moto import MotoServer
from tests.support.roles import HELM, kubectl, kubectl_json, role_play

ROLE = "eks_gitops.platform.secrets_store_csi"
RELEASE = "secrets-store-csi-driver-provider-aws"
ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"


def play(tasks_from: str = "main", **variables: Any) -> list[dict[str, Any]]:
    return role_play(ROLE, tasks_from, **variables)


SPC_CHECK = f"{ROLE} : Check the SecretProviderClass settings"


@pytest.mark.parametrize(
    ("objects", "secret_objects", "message"),
    [
        ([{"objectName": "shop/db"}], [{"secretName": "db", "data": [{"objectName": "password", "key": "password"}]}], "not mounted: password"),
        ([{"objectName": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf"}], [], "an ARN objectName needs an objectAlias"),
        ([{"objectName": "shop/db", "objectAlias": "db"}, {"objectName": "shop/db2", "objectAlias": "db"}], [], "file names must be unique"),
    ],
    ids=["synced file not mounted", "ARN without alias", "duplicate file name"],
)
def test_a_bad_secret_provider_class_fails_before_anything_is_written(objects: list, secret_objects: list, message: str, tmp_path: Path) -> None:
    run = run_playbook(
        play(
            "secret_provider_class",
            secrets_store_csi_spc_name="shop",
            secrets_store_csi_spc_namespace="shop",
            secrets_store_csi_spc_service_account="shop",
            secrets_store_csi_oidc_issuer_url=ISSUER,
            secrets_store_csi_spc_objects=objects,
            secrets_store_csi_spc_secret_objects=secret_objects,
        ),
        tmp_path,
    )
    assert run.rc != 0
    assert message in run.result(SPC_CHECK)["msg"]


def test_irsa_needs_a_cluster_or_an_issuer(tmp_path: Path) -> None:
    run = run_playbook(
        play(
            "secret_provider_class",
            secrets_store_csi_spc_name="a",
            secrets_store_csi_spc_namespace="b",
            secrets_store_csi_spc_service_account="c",
            secrets_store_csi_spc_objects=[{"objectName": "x"}],
        ),
        tmp_path,
    )
    assert run.rc != 0
    assert "secrets_store_csi_cluster_name (or secrets_store_csi_oidc_issuer_url for irsa)" in run.result(SPC_CHECK)["msg"]


@pytest.fixture
def installed(kube_cluster: KubeCluster, chart_repo: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The role converged with its defaults (the one release in kube-system); uninstalled afterwards if this test installed it."""
    had_release = kubectl(kube_cluster, "-n", "kube-system", "get", "secret", "-l", f"owner=helm,name={RELEASE}", "-o", "name").stdout.strip() != ""
    variables = {"platform_chart_repository": chart_repo, "secrets_store_csi_wait_timeout": 180}
    run = ok(run_playbook(play(**variables), tmp_path_factory.mktemp("csi"), env={"K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)}))
    yield {"variables": variables, "run": run}
    if not had_release:
        subprocess.run([HELM, "uninstall", RELEASE, "-n", "kube-system", "--wait"], env=kube_cluster.env(), capture_output=True, timeout=180, check=False)


@pytest.mark.kube
def test_one_release_with_the_driver_as_subchart_and_a_second_release_is_refused(installed: dict[str, Any], kube_cluster: KubeCluster, tmp_path: Path) -> None:
    env = {"K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)}
    values = yaml.safe_load(kubectl_json(kube_cluster, "-n", "kube-system", "get", "configmap", f"{RELEASE}-received-values")["data"]["values.yaml"])
    driver = values["secrets-store-csi-driver"]
    assert driver["install"] is True
    assert (driver["syncSecret"]["enabled"], driver["enableSecretRotation"], driver["rotationPollInterval"]) == (True, True, "2m")
    assert driver["tokenRequests"] == [{"audience": "sts.amazonaws.com"}, {"audience": "pods.eks.amazonaws.com"}]
    csidriver = kubectl_json(kube_cluster, "get", "csidriver", "secrets-store.csi.k8s.io")
    assert csidriver["metadata"]["annotations"]["meta.helm.sh/release-name"] == RELEASE
    for crd in ("secretproviderclasses", "secretproviderclasspodstatuses"):
        conditions = {c["type"]: c["status"] for c in kubectl_json(kube_cluster, "get", "crd", f"{crd}.secrets-store.csi.x-k8s.io")["status"]["conditions"]}
        assert conditions["Established"] == "True"
    assert installed["run"].result(f"{ROLE} : Publish what workloads and Reloader need to know")["ansible_facts"] == {
        "secrets_store_csi_rotation_enabled": True,
        "secrets_store_csi_sync_secret_enabled": True,
    }

    again = ok(run_playbook(play(**installed["variables"]), tmp_path, env=env))
    assert again.stats["changed"] == 0

    second = run_playbook(play(**installed["variables"], secrets_store_csi_release_name="secrets-store-csi-driver"), tmp_path, env=env)
    assert second.rc != 0
    message = second.result(f"{ROLE} : Check that no other release owns the driver")["msg"]
    assert f"belongs to another release (Helm kube-system/{RELEASE}" in message
    # No second release was installed (other tests may install theirs on the shared cluster meanwhile: only this name counts).
    listed = subprocess.run(
        [HELM, "list", "-A", "-q", "--filter", "^secrets-store-csi-driver$"], env=kube_cluster.env(), capture_output=True, text=True, check=True
    )
    assert listed.stdout == ""

    off = run_playbook(play(**installed["variables"], secrets_store_csi_values_overrides={"secrets-store-csi-driver": {"install": False}}), tmp_path, env=env)
    assert off.rc != 0
    assert "secrets-store-csi-driver.install must stay true" in off.result(f"{ROLE} : Check that the driver is the provider chart's subchart")["msg"]


@pytest.fixture
def workload_namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}-shop"
    kubectl(kube_cluster, "create", "namespace", name)
    yield name
    kubectl(kube_cluster, "delete", "namespace", name, "--wait=false", check=False)


@pytest.mark.kube
def test_secret_provider_class_with_an_irsa_role_for_exactly_its_secrets(
    installed: dict[str, Any], aws: MotoServer, kube_cluster: KubeCluster, workload_namespace: str, tmp_path: Path
) -> None:
    env = {**aws.env(), "K8S_AUTH_KUBECONFIG": str(kube_cluster.kubeconfig)}
    sm = aws.client("secretsmanager")
    database = sm.create_secret(Name="shop/db", SecretString=json.dumps({"username": "shop", "password": "not-used-here"}))
    api_key = sm.create_secret(Name="shop/api-key", SecretString="k")
    variables = {
        "secrets_store_csi_oidc_issuer_url": ISSUER,
        "secrets_store_csi_spc_name": "shop",
        "secrets_store_csi_spc_namespace": workload_namespace,
        "secrets_store_csi_spc_service_account": "shop",
        "secrets_store_csi_spc_role_name": f"{workload_namespace}-shop",
        "secrets_store_csi_spc_objects": [
            {"objectName": "shop/db", "jmesPath": [{"path": "username", "objectAlias": "db-username"}, {"path": "password", "objectAlias": "db-password"}]},
            {"objectName": api_key["ARN"], "objectAlias": "api-key", "objectVersionLabel": "AWSCURRENT"},
        ],
        "secrets_store_csi_spc_secret_objects": [
            {"secretName": "shop-db", "data": [{"objectName": "db-username", "key": "username"}, {"objectName": "db-password", "key": "password"}]}
        ],
    }
    first = ok(run_playbook(play("secret_provider_class", **variables), tmp_path, env=env))

    spc = kubectl_json(kube_cluster, "-n", workload_namespace, "get", "secretproviderclass", "shop")["spec"]
    assert spc["provider"] == "aws"
    assert spc["secretObjects"] == [
        {
            "secretName": "shop-db",
            "type": "Opaque",
            "data": [{"objectName": "db-username", "key": "username"}, {"objectName": "db-password", "key": "password"}],
        }
    ]
    assert set(spc["parameters"]) == {"objects"}
    assert yaml.safe_load(spc["parameters"]["objects"]) == [
        {
            "objectName": "shop/db",
            "objectType": "secretsmanager",
            "jmesPath": [{"path": "username", "objectAlias": "db-username"}, {"path": "password", "objectAlias": "db-password"}],
        },
        {"objectName": api_key["ARN"], "objectType": "secretsmanager", "objectAlias": "api-key", "objectVersionLabel": "AWSCURRENT"},
    ]

    iam = aws.client("iam")
    role = iam.get_role(RoleName=f"{workload_namespace}-shop")["Role"]
    sa = kubectl_json(kube_cluster, "-n", workload_namespace, "get", "serviceaccount", "shop")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role["Arn"]}
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub"] == f"system:serviceaccount:{workload_namespace}:shop"
    policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="secrets-read")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    resources = {r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert resources == {database["ARN"].rsplit("-", 1)[0] + "-??????", api_key["ARN"]}
    published = first.result(f"{ROLE} : Publish the SecretProviderClass and its identity")["ansible_facts"]["secrets_store_csi_spc_result"]
    assert published["role_arn"] == role["Arn"]

    second = ok(run_playbook(play("secret_provider_class", **variables), tmp_path, env=env))
    assert second.stats["changed"] == 0
    checked = ok(run_playbook(play("secret_provider_class", **variables), tmp_path, env=env, check=True, diff=True))
    assert checked.stats["changed"] == 0
