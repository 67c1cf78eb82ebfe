"""eks_access_entry's backend: input checks, and its plan against botocore's Stubber on the real EKS API model
(moto has no access entry API)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.access_entry import (
    AccessEntry,
    parse_access_entry_params,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import IdentityError
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Outcome, Plan, execute
from tests.support.stubs import ACCOUNT_ID, REGION, all_responses_used, stubbed_client

CLUSTER = "spoke-a"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-hub-argocd"
ENTRY_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:access-entry/{CLUSTER}/role/{ACCOUNT_ID}/platform-hub-argocd/a1b2"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
KEY = {"clusterName": CLUSTER, "principalArn": PRINCIPAL}
NOW = datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)


def params(**overrides: Any) -> dict[str, Any]:
    base = {
        "cluster_name": CLUSTER,
        "principal_arn": PRINCIPAL,
        "state": "present",
        "type": None,
        "kubernetes_groups": None,
        "username": None,
        "access_policies": [{"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": None}}],
        "purge_access_policies": True,
        "tags": None,
        "purge_tags": True,
    }
    return {**base, **overrides}


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "clusterName": CLUSTER,
        "principalArn": PRINCIPAL,
        "kubernetesGroups": [],
        "accessEntryArn": ENTRY_ARN,
        "createdAt": NOW,
        "modifiedAt": NOW,
        "tags": {"platform": "eks-gitops"},
        "username": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/platform-hub-argocd/{{{{SessionName}}}}",
        "type": "STANDARD",
        **overrides,
    }


def associated(arn: str = ADMIN, scope: str = "cluster", namespaces: list[str] | None = None) -> dict[str, Any]:
    access_scope: dict[str, Any] = {"type": scope}
    if namespaces:
        access_scope["namespaces"] = namespaces
    return {"policyArn": arn, "accessScope": access_scope, "associatedAt": NOW, "modifiedAt": NOW}


def expect_cluster(stub: Stubber, access_config: dict[str, Any] | None = None) -> None:
    cluster: dict[str, Any] = {"name": CLUSTER, "arn": f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:cluster/{CLUSTER}"}
    if access_config:
        cluster["accessConfig"] = access_config
    stub.add_response("describe_cluster", {"cluster": cluster}, {"name": CLUSTER})


def expect_entry(stub: Stubber, current: dict[str, Any] | None, policies: list[dict[str, Any]] | None = None) -> None:
    if current is None:
        stub.add_client_error("describe_access_entry", service_error_code="ResourceNotFoundException", http_status_code=404, expected_params=KEY)
        return
    stub.add_response("describe_access_entry", {"accessEntry": current}, KEY)
    stub.add_response("list_associated_access_policies", {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicies": policies or []}, KEY)


def expect_catalogue(stub: Stubber) -> None:
    policies = [{"name": arn.rsplit("/", 1)[1], "arn": arn} for arn in (ADMIN, VIEW)]
    stub.add_response("list_access_policies", {"accessPolicies": policies}, {})


def plan_and_run(stub_setup: Any, check_mode: bool = False, **overrides: Any) -> tuple[Plan, Outcome]:
    eks, stub = stubbed_client("eks")
    stub_setup(stub)
    spec, errors = parse_access_entry_params(params(**overrides))
    assert not errors, errors.summary()
    with all_responses_used(stub):
        plan = AccessEntry(eks, REGION).plan(spec)
        outcome = execute(plan, check_mode)
    assert outcome.error is None
    assert outcome.changed == bool(plan.changes)
    return plan, outcome


# --- input ---------------------------------------------------------------------------------------------------------
def test_every_bad_input_is_reported_at_once_naming_its_field() -> None:
    _spec, errors = parse_access_entry_params(
        params(
            cluster_name="-bad",
            principal_arn=f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/platform-hub-argocd/session",
            kubernetes_groups=["system:masters", "ok"],
            username="eks:me",
            access_policies=[
                {"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": None},
                {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": []}},
                {"policy_arn": VIEW, "access_scope": {"type": "cluster"}},
                {"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": ["shop"]}},
            ],
            tags={"aws:reserved": "x"},
        )
    )
    summary = errors.summary()
    for field in (
        "cluster_name",
        "principal_arn: 'arn:aws:sts::123456789012:assumed-role/platform-hub-argocd/session' is an STS session",
        "kubernetes_groups[0]: a group 'system:masters' starts with a prefix EKS keeps for itself",
        "username: the username 'eks:me' starts with a prefix",
        "access_policies[0].policy_arn: 'AmazonEKSClusterAdminPolicy' is not an EKS access policy ARN",
        "access_policies[1].access_scope.namespaces: a namespace scope needs at least one namespace",
        "access_policies[2].policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy is listed twice",
        "access_policies[3].access_scope.namespaces: a cluster scope takes no namespaces",
        "tags.aws:reserved",
    ):
        assert field in summary, (field, summary)
    assert "kubernetes_groups[1]" not in summary


def test_only_standard_entries_take_groups_username_and_policies() -> None:
    _spec, errors = parse_access_entry_params(params(type="EC2_LINUX", kubernetes_groups=["a"], username="u"))
    summary = errors.summary()
    assert "kubernetes_groups: only an entry of type STANDARD takes groups" in summary
    assert "username: only an entry of type STANDARD takes a username" in summary
    assert "access_policies: only an entry of type STANDARD takes access policies" in summary


@pytest.mark.parametrize(
    ("principal", "fine"),
    [
        (PRINCIPAL, True),
        (f"arn:aws:iam::{ACCOUNT_ID}:role/path/to/role", True),
        (f"arn:aws:iam::{ACCOUNT_ID}:user/alice", True),
        (f"arn:aws:iam::{ACCOUNT_ID}:policy/p", False),
        ("arn:aws:s3:::bucket", False),
        ("platform-hub-argocd", False),
    ],
)
def test_principal_arn(principal: str, fine: bool) -> None:
    _spec, errors = parse_access_entry_params(params(principal_arn=principal))
    assert ("principal_arn" not in errors.summary()) is fine


def test_namespace_scopes_sort_and_accept_prefixes() -> None:
    spec, errors = parse_access_entry_params(
        params(access_policies=[{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["shop-*", "cart", "cart"]}}])
    )
    assert not errors
    assert spec.access_policies is not None
    assert spec.access_policies[0].namespaces == ("cart", "shop-*")


# --- plan ----------------------------------------------------------------------------------------------------------
def test_creates_the_entry_then_associates_its_policy() -> None:
    def setup(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, None)
        expect_catalogue(stub)
        stub.add_response("create_access_entry", {"accessEntry": entry(tags={})}, {**KEY, "type": "STANDARD", "clientRequestToken": ANY})
        stub.add_response(
            "associate_access_policy",
            {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": associated()},
            {**KEY, "policyArn": ADMIN, "accessScope": {"type": "cluster"}},
        )
        expect_entry(stub, entry(tags={}), [associated()])  # read back for the result

    plan, outcome = plan_and_run(setup)
    assert plan.changes == [f"create the access entry of {PRINCIPAL}", f"associate {ADMIN} on the cluster"]
    assert plan.before == {}
    assert plan.after["access_policies"] == [{"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": []}}]
    result = outcome.result["access_entry"]
    assert result["access_entry_arn"] == ENTRY_ARN
    assert result["created_at"] == NOW.isoformat()


def test_check_mode_plans_the_same_and_writes_nothing() -> None:
    def setup(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, None)
        expect_catalogue(stub)

    plan, outcome = plan_and_run(setup, check_mode=True)
    assert outcome.changed
    assert len(plan.changes) == 2
    assert outcome.result["access_entry"]["access_entry_arn"] is None
    assert outcome.result["access_entry"]["type"] == "STANDARD"


def test_an_unchanged_entry_reads_only_and_skips_the_catalogue() -> None:
    def setup(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, entry(), [associated()])

    plan, outcome = plan_and_run(setup, tags={"platform": "eks-gitops"})
    assert plan.changes == []
    assert not outcome.changed
    assert plan.before == plan.after


def test_groups_username_tags_and_scope_changes_and_purge() -> None:
    def setup(stub: Stubber) -> None:
        expect_cluster(stub, {"authenticationMode": "API_AND_CONFIG_MAP"})
        expect_entry(stub, entry(kubernetesGroups=["old"]), [associated(), associated(VIEW, "namespace", ["shop"])])
        expect_catalogue(stub)
        stub.add_response("update_access_entry", {"accessEntry": entry()}, {**KEY, "kubernetesGroups": ["deployers"], "username": "hub"})
        stub.add_response("untag_resource", {}, {"resourceArn": ENTRY_ARN, "tagKeys": ["platform"]})
        stub.add_response("tag_resource", {}, {"resourceArn": ENTRY_ARN, "tags": {"team": "platform"}})
        stub.add_response(
            "associate_access_policy",
            {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": associated(VIEW, "namespace", ["cart", "shop"])},
            {**KEY, "policyArn": VIEW, "accessScope": {"type": "namespace", "namespaces": ["cart", "shop"]}},
        )
        stub.add_response("disassociate_access_policy", {}, {**KEY, "policyArn": ADMIN})

    plan, outcome = plan_and_run(
        setup,
        kubernetes_groups=["deployers"],
        username="hub",
        tags={"team": "platform"},
        access_policies=[{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["shop", "cart"]}}],
    )
    assert plan.changes == [
        f"update the kubernetesGroups and username of the access entry of {PRINCIPAL}",
        "remove tags",
        "set tags",
        f"associate {VIEW} on namespaces cart, shop",
        f"disassociate {ADMIN}",
    ]
    assert plan.before["kubernetes_groups"] == ["old"]
    assert plan.after["kubernetes_groups"] == ["deployers"]
    assert plan.after["access_policies"] == [{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["cart", "shop"]}}]
    assert outcome.result["access_entry"]["tags"] == {"team": "platform"}


def test_without_purge_other_policies_stay() -> None:
    def setup(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, entry(), [associated(VIEW)])
        expect_catalogue(stub)
        stub.add_response(
            "associate_access_policy",
            {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": associated()},
            {**KEY, "policyArn": ADMIN, "accessScope": {"type": "cluster"}},
        )

    plan, _outcome = plan_and_run(setup, purge_access_policies=False)
    assert plan.changes == [f"associate {ADMIN} on the cluster"]
    assert [policy["policy_arn"] for policy in plan.after["access_policies"]] == [ADMIN, VIEW]


def test_absent_deletes_the_entry_and_is_idempotent() -> None:
    def present(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, entry(), [associated()])
        stub.add_response("delete_access_entry", {}, KEY)

    plan, outcome = plan_and_run(present, state="absent")
    assert plan.changes == [f"delete the access entry of {PRINCIPAL}"]
    assert outcome.result == {"access_entry": None}
    assert plan.after == {}

    def gone(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, None)

    plan, outcome = plan_and_run(gone, state="absent")
    assert not outcome.changed


def test_a_lost_create_answer_is_adopted() -> None:
    """The create went through but its answer was lost; the retry hears ResourceInUseException: the existing entry is
    brought to the spec and the planned association follows."""

    def setup(stub: Stubber) -> None:
        expect_cluster(stub)
        expect_entry(stub, None)
        expect_catalogue(stub)
        stub.add_client_error("create_access_entry", service_error_code="ResourceInUseException", http_status_code=409)
        expect_entry(stub, entry(kubernetesGroups=[]), [])
        stub.add_response("update_access_entry", {"accessEntry": entry()}, {**KEY, "kubernetesGroups": ["deployers"]})
        stub.add_response(
            "associate_access_policy",
            {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": associated()},
            {**KEY, "policyArn": ADMIN, "accessScope": {"type": "cluster"}},
        )
        expect_entry(stub, entry(kubernetesGroups=["deployers"]), [associated()])

    _plan, outcome = plan_and_run(setup, kubernetes_groups=["deployers"])
    assert outcome.result["access_entry"]["kubernetes_groups"] == ["deployers"]


def test_refusals_before_any_write() -> None:
    eks, stub = stubbed_client("eks")
    spec, _errors = parse_access_entry_params(params())
    stub.add_client_error("describe_cluster", service_error_code="ResourceNotFoundException", http_status_code=404)
    with pytest.raises(IdentityError, match=rf"cluster_name: EKS cluster '{CLUSTER}' in region '{REGION}' was not found"):
        AccessEntry(eks, REGION).plan(spec)

    expect_cluster(stub, {"authenticationMode": "CONFIG_MAP"})
    with pytest.raises(IdentityError, match="authenticates with the aws-auth ConfigMap only"):
        AccessEntry(eks, REGION).plan(spec)

    expect_cluster(stub)
    expect_entry(stub, entry(type="EC2_LINUX"), [])
    typed, _errors = parse_access_entry_params(params(type="STANDARD", access_policies=None))
    with pytest.raises(IdentityError, match=r"type: the access entry .* exists with type EC2_LINUX; EKS cannot change the type"):
        AccessEntry(eks, REGION).plan(typed)

    expect_cluster(stub)
    expect_entry(stub, None)
    stub.add_response("list_access_policies", {"accessPolicies": [{"name": "AmazonEKSViewPolicy", "arn": VIEW}]}, {})
    with pytest.raises(IdentityError, match=rf"access_policies\[0\].policy_arn: EKS has no access policy {ADMIN}"):
        AccessEntry(eks, REGION).plan(spec)
    stub.assert_no_pending_responses()
