"""pod_identity_association's backend against botocore's Stubber.

moto has no EKS Pod Identity API (its server answers 404 to every
``*PodIdentityAssociation*`` call), so these tests stub the EKS client: every request
is checked against the real API model and every canned response has the real shape.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import AccountInfo, IdentityError
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Plan, execute
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.pod_identity import PodIdentityAssociation, parse_pod_identity_params
from tests.support.stubs import ACCOUNT_ID, REGION, all_responses_used, stubbed_client

CLUSTER = "platform"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/shop-orders"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/shop-orders-v2"
ASSOCIATION_ID = "a-abcdefghijklmnop1"
ASSOCIATION_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:podidentityassociation/{CLUSTER}/{ASSOCIATION_ID}"
LIST_PARAMS = {"clusterName": CLUSTER, "namespace": "shop", "serviceAccount": "orders"}


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"state": "present", "cluster_name": CLUSTER, "namespace": "shop", "service_account": "orders", "role_arn": ROLE, "purge_tags": True}
    base.update(overrides)
    return base


def association(role_arn: str = ROLE, tags: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "clusterName": CLUSTER,
        "namespace": "shop",
        "serviceAccount": "orders",
        "roleArn": role_arn,
        "associationArn": ASSOCIATION_ARN,
        "associationId": ASSOCIATION_ID,
        "tags": tags or {},
        "createdAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "modifiedAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        **extra,
    }


def expect_existing(stub: Any, existing: dict[str, Any] | None) -> None:
    summaries = []
    if existing is not None:
        summaries = [{k: existing[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}]
    stub.add_response("list_pod_identity_associations", {"associations": summaries}, LIST_PARAMS)
    if existing is not None:
        stub.add_response("describe_pod_identity_association", {"association": existing}, {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID})


@dataclass
class Run:
    changed: bool
    warnings: list[str]


def reconcile(overrides: dict[str, Any], eks_stub_setup: Any, check_mode: bool = False, iam: Any = None, account: Any = None) -> tuple[Run, dict, dict]:
    """Plan and execute; return the outcome, the result and the diff sides. The plan says what ``changed`` claims."""
    eks, stub = stubbed_client("eks")
    eks_stub_setup(stub)
    spec, errors = parse_pod_identity_params(params(**overrides))
    assert not errors, errors.summary()
    with all_responses_used(stub):
        plan: Plan = PodIdentityAssociation(eks, iam, REGION, check_mode=check_mode, account=account).plan(spec)
        outcome = execute(plan, check_mode)
    assert outcome.error is None
    assert outcome.changed == bool(plan.changes)
    return Run(outcome.changed, plan.warnings), outcome.result, {"before": plan.before, "after": plan.after}


def test_creates_a_missing_association() -> None:
    def setup(stub: Any) -> None:
        expect_existing(stub, None)
        stub.add_response(
            "create_pod_identity_association", {"association": association(tags={"team": "shop"})}, {**LIST_PARAMS, "roleArn": ROLE, "tags": {"team": "shop"}}
        )

    backend, result, diff = reconcile({"tags": {"team": "shop"}}, setup)
    assert backend.changed
    assert result["association"]["association_id"] == ASSOCIATION_ID
    assert result["association"]["role_arn"] == ROLE
    assert diff == {
        "before": {},
        "after": {"cluster_name": CLUSTER, "namespace": "shop", "service_account": "orders", "role_arn": ROLE, "tags": {"team": "shop"}},
    }


def test_an_unchanged_association_is_left_alone() -> None:
    backend, result, diff = reconcile({"tags": {"team": "shop"}}, lambda stub: expect_existing(stub, association(tags={"team": "shop"})))
    assert not backend.changed
    assert diff["before"] == diff["after"]
    assert result["association"]["tags"] == {"team": "shop"}


def test_a_new_role_updates_the_association() -> None:
    def setup(stub: Any) -> None:
        expect_existing(stub, association())
        stub.add_response(
            "update_pod_identity_association",
            {"association": association(OTHER_ROLE)},
            {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID, "roleArn": OTHER_ROLE},
        )

    backend, result, diff = reconcile({"role_arn": OTHER_ROLE}, setup)
    assert backend.changed
    assert result["association"]["role_arn"] == OTHER_ROLE
    assert (diff["before"]["role_arn"], diff["after"]["role_arn"]) == (ROLE, OTHER_ROLE)


def test_tags_are_set_and_purged() -> None:
    def setup(stub: Any) -> None:
        expect_existing(stub, association(tags={"keep": "1", "old": "x", "aws:managed": "y"}))
        stub.add_response("untag_resource", {}, {"resourceArn": ASSOCIATION_ARN, "tagKeys": ["old"]})
        stub.add_response("tag_resource", {}, {"resourceArn": ASSOCIATION_ARN, "tags": {"keep": "2"}})

    backend, result, _diff = reconcile({"tags": {"keep": "2"}}, setup)
    assert backend.changed
    assert result["association"]["tags"] == {"aws:managed": "y", "keep": "2"}


def test_tags_without_purge_only_add() -> None:
    def setup(stub: Any) -> None:
        expect_existing(stub, association(tags={"old": "x"}))
        stub.add_response("tag_resource", {}, {"resourceArn": ASSOCIATION_ARN, "tags": {"new": "y"}})

    _backend, result, _diff = reconcile({"tags": {"new": "y"}, "purge_tags": False}, setup)
    assert result["association"]["tags"] == {"new": "y", "old": "x"}


def test_no_tags_given_leaves_tags_alone() -> None:
    backend, _result, _diff = reconcile({}, lambda stub: expect_existing(stub, association(tags={"old": "x"})))
    assert not backend.changed


def test_check_mode_writes_nothing() -> None:
    """No write is stubbed: a write would fail the test with an unexpected API call."""
    backend, result, diff = reconcile({"tags": {"new": "y"}}, lambda stub: expect_existing(stub, None), check_mode=True)
    assert backend.changed
    assert result["association"]["association_id"] is None
    assert diff["after"]["role_arn"] == ROLE
    backend, result, _diff = reconcile({"role_arn": OTHER_ROLE}, lambda stub: expect_existing(stub, association()), check_mode=True)
    assert backend.changed
    assert result["association"]["role_arn"] == OTHER_ROLE


def test_absent_deletes_the_association() -> None:
    def setup(stub: Any) -> None:
        expect_existing(stub, association())
        stub.add_response("delete_pod_identity_association", {"association": association()}, {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID})

    backend, result, diff = reconcile({"state": "absent", "role_arn": None}, setup)
    assert backend.changed
    assert result == {"association": None}
    assert diff["after"] == {}
    assert diff["before"]["role_arn"] == ROLE


def test_absent_without_an_association_changes_nothing() -> None:
    backend, _result, _diff = reconcile({"state": "absent", "role_arn": None}, lambda stub: expect_existing(stub, None))
    assert not backend.changed
    backend, _result, _diff = reconcile({"state": "absent"}, lambda stub: expect_existing(stub, association()), check_mode=True)
    assert backend.changed


def test_only_the_exact_service_account_matches() -> None:
    """A list answer holding another service account's association does not count as ours."""

    def setup(stub: Any) -> None:
        other = {"clusterName": CLUSTER, "namespace": "shop", "serviceAccount": "orders-batch", "associationArn": "arn:x", "associationId": "a-other"}
        stub.add_response("list_pod_identity_associations", {"associations": [other]}, LIST_PARAMS)
        stub.add_response("create_pod_identity_association", {"association": association()}, {**LIST_PARAMS, "roleArn": ROLE})

    backend, _result, _diff = reconcile({}, setup)
    assert backend.changed


def test_listing_follows_next_token() -> None:
    def setup(stub: Any) -> None:
        stub.add_response("list_pod_identity_associations", {"associations": [], "nextToken": "page-2"}, LIST_PARAMS)
        stub.add_response("list_pod_identity_associations", {"associations": []}, {**LIST_PARAMS, "nextToken": "page-2"})
        stub.add_response("create_pod_identity_association", {"association": association()}, {**LIST_PARAMS, "roleArn": ROLE})

    backend, _result, _diff = reconcile({}, setup)
    assert backend.changed


def test_unknown_cluster_names_cluster_and_region() -> None:
    eks, stub = stubbed_client("eks")
    stub.add_client_error(
        "list_pod_identity_associations",
        service_error_code="ResourceNotFoundException",
        service_message="No cluster found for name: nope.",
        http_status_code=404,
    )
    spec, _errors = parse_pod_identity_params(params(cluster_name="nope"))
    with pytest.raises(IdentityError) as raised:
        PodIdentityAssociation(eks, None, REGION).plan(spec)
    assert raised.value.message == f"cluster_name: EKS cluster 'nope' was not found in region '{REGION}'"


def test_other_errors_say_what_failed() -> None:
    eks, stub = stubbed_client("eks")
    stub.add_client_error("list_pod_identity_associations", service_error_code="AccessDeniedException", service_message="no", http_status_code=403)
    spec, _errors = parse_pod_identity_params(params())
    with pytest.raises(IdentityError) as raised:
        PodIdentityAssociation(eks, None, REGION).plan(spec)
    assert raised.value.message == f"failed to list the Pod Identity associations of EKS cluster '{CLUSTER}' in region '{REGION}'"


def test_an_add_on_owned_association_is_not_changed() -> None:
    eks, stub = stubbed_client("eks")
    expect_existing(stub, association(ownerArn=f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:addon/{CLUSTER}/aws-ebs-csi-driver/x"))
    spec, _errors = parse_pod_identity_params(params(role_arn=OTHER_ROLE))
    with pytest.raises(IdentityError, match=r"is managed by arn:aws:eks:.*addon"):
        PodIdentityAssociation(eks, None, REGION).plan(spec)


def test_role_name_is_resolved_with_get_role() -> None:
    iam, iam_stub = stubbed_client("iam")
    iam_stub.add_response(
        "get_role",
        {"Role": {"Path": "/", "RoleName": "shop-orders", "RoleId": "AROAEXAMPLEEXAMPLE123", "Arn": ROLE, "CreateDate": datetime.datetime(2026, 1, 1)}},
        {"RoleName": "shop-orders"},
    )
    backend, result, _diff = reconcile(
        {"role_arn": None, "role_name": "shop-orders"}, lambda stub: expect_existing(stub, association()), iam=iam, check_mode=False
    )
    iam_stub.assert_no_pending_responses()
    assert not backend.changed
    assert result["association"]["role_arn"] == ROLE


def test_unknown_role_name_fails_and_check_mode_predicts_the_arn() -> None:
    iam, iam_stub = stubbed_client("iam")
    iam_stub.add_client_error("get_role", service_error_code="NoSuchEntity", http_status_code=404)
    eks, _eks_stub = stubbed_client("eks")
    spec, _errors = parse_pod_identity_params(params(role_arn=None, role_name="shop-orders"))
    with pytest.raises(IdentityError, match="role_name: IAM role 'shop-orders' does not exist"):
        PodIdentityAssociation(eks, iam, REGION).plan(spec)

    iam_stub.add_client_error("get_role", service_error_code="NoSuchEntity", http_status_code=404)
    backend, result, _diff = reconcile(
        {"role_arn": None, "role_name": "shop-orders"},
        lambda stub: expect_existing(stub, None),
        iam=iam,
        check_mode=True,
        account=lambda: AccountInfo(ACCOUNT_ID, "aws"),
    )
    assert result["association"]["role_arn"] == ROLE
    assert backend.warnings == [f"IAM role 'shop-orders' does not exist (yet); check mode assumes {ROLE}"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "Shop"}, "namespace: 'Shop' is not a valid DNS-1123 label"),
        ({"service_account": "orders_svc"}, "service_account: 'orders_svc' is not a valid DNS-1123 subdomain"),
        ({"cluster_name": "-bad"}, "cluster_name: '-bad' is not a valid EKS cluster name"),
        ({"role_arn": "shop-orders"}, "role_arn: 'shop-orders' is not a valid ARN"),
        ({"role_arn": "arn:aws:iam::123456789012:policy/x"}, "role_arn: "),
        ({"role_arn": None}, "role_arn: one of role_arn and role_name is required"),
        ({"role_arn": None, "role_name": "r" * 65}, "role_name: must be at most 64"),
        ({"tags": {"aws:x": "1"}}, "tags.aws:x: "),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, Any], message: str) -> None:
    _spec, errors = parse_pod_identity_params(params(**overrides))
    assert message in errors.summary()


def test_absent_needs_no_role() -> None:
    _spec, errors = parse_pod_identity_params(params(state="absent", role_arn=None))
    assert not errors
