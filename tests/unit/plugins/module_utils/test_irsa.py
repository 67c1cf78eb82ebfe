"""irsa_role's backend: input checks, and the paths the moto server cannot show (botocore Stubber).

moto answers ``iam:AddClientIDToOpenIDConnectProvider`` with HTTP 500, so adding the
``sts.amazonaws.com`` client id to an existing provider is shown here against the real
API shapes. So is a write failing halfway (``changed`` must stay honest).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from botocore.stub import ANY

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import AccountInfo, IdentityError
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.irsa import IrsaRole, parse_irsa_role_params
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import execute
from tests.support.stubs import ACCOUNT_ID, REGION, all_responses_used, stubbed_client

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
ACCOUNT = AccountInfo(account_id=ACCOUNT_ID, partition="aws")
POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "state": "present",
        "role_name": "app",
        "path": "/",
        "trust": "irsa",
        "oidc_issuer_url": ISSUER,
        "service_accounts": [{"namespace": "shop", "name": "checkout"}],
        "purge_tags": True,
        "purge_policies": True,
        "purge_inline_policies": True,
        "create_oidc_provider": True,
        "secrets_read_policy_name": "secrets-read",
    }
    base.update(overrides)
    return base


def test_parse_good_input() -> None:
    spec, errors = parse_irsa_role_params(
        params(secrets_read=["shop/db"], kms_key_arns=[], tags={"team": 7, "empty": None}, managed_policy_arns=[POLICY_ARN, POLICY_ARN]), REGION
    )
    assert not errors, errors.summary()
    assert spec.tags == {"team": "7", "empty": ""}
    assert spec.managed_policy_arns == [POLICY_ARN]
    assert [sa.subject for sa in spec.service_accounts] == ["system:serviceaccount:shop:checkout"]


def test_parse_absent_needs_only_the_role_name() -> None:
    spec, errors = parse_irsa_role_params({"state": "absent", "role_name": "app"}, None)
    assert not errors
    assert spec.state == "absent"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role_name": "r" * 65}, "role_name: must be at most 64"),
        ({"role_name": "bad/name"}, "role_name: 'bad/name' is not a valid IAM role name"),
        ({"path": "platform"}, "path: "),
        ({"max_session_duration": 3599}, "max_session_duration: must be between 3600 and 43200"),
        ({"max_session_duration": 43201}, "max_session_duration: must be between 3600 and 43200"),
        ({"description": "x" * 1001}, "description: must be at most 1000"),
        ({"permissions_boundary": "ReadOnlyAccess"}, "permissions_boundary: "),
        ({"tags": {"aws:x": "y"}}, "tags.aws:x: "),
        ({"service_accounts": [{"namespace": "Shop", "name": "checkout"}]}, "service_accounts[0].namespace: 'Shop' is not a valid DNS-1123 label"),
        ({"service_accounts": [{"namespace": "shop", "name": "Check_out"}]}, "service_accounts[0].name: 'Check_out' is not a valid service account name"),
        ({"service_accounts": []}, "service_accounts: at least one service account is required"),
        ({"oidc_issuer_url": "http://oidc.example.com"}, "oidc_issuer_url: 'http://oidc.example.com' is not an https:// URL"),
        ({"oidc_issuer_url": None}, "cluster_name: one of cluster_name and oidc_issuer_url is required"),
        ({"oidc_issuer_url": None, "cluster_name": "bad.name"}, "cluster_name: 'bad.name' is not a valid EKS cluster name"),
        ({"managed_policy_arns": ["ReadOnlyAccess"]}, "managed_policy_arns[0]: 'ReadOnlyAccess' is not a valid ARN"),
        ({"managed_policy_arns": ["arn:aws:iam::123456789012:role/x"]}, "managed_policy_arns[0]: "),
        ({"inline_policies": {"p": "{not json"}}, "inline_policies.p: is not valid JSON"),
        ({"inline_policies": {"p": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}, "inline_policies.p: Statement[0] needs exactly one of Resource"),
        ({"inline_policies": {"bad name": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}}, "inline_policies.bad name: "),
        ({"secrets_read": ["has space"]}, "secrets_read[0]: 'has space' is not a valid secret name"),
        ({"secrets_read": ["arn:aws:s3:::bucket"]}, "secrets_read[0]: 'arn:aws:s3:::bucket' is not a Secrets Manager secret ARN"),
        ({"secrets_read": []}, "secrets_read: must name at least one secret"),
        ({"secrets_read": ["db"], "kms_key_arns": ["alias/db"]}, "kms_key_arns[0]: 'alias/db' is not a KMS key ARN"),
        ({"kms_key_arns": ["arn:aws:kms:eu-west-1:123456789012:key/k"]}, "kms_key_arns: only adds kms:Decrypt"),
        (
            {"secrets_read": ["db"], "inline_policies": {"secrets-read": {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}}},
            "inline_policies.secrets-read: is the name of the secrets_read policy",
        ),
        ({"trust": "pod_identity"}, "service_accounts: is only used with trust=irsa"),
        ({"trust": "pod_identity", "service_accounts": None}, "oidc_issuer_url: is only used with trust=irsa"),
    ],
)
def test_parse_bad_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    _spec, errors = parse_irsa_role_params(params(**overrides), REGION)
    assert errors, overrides
    assert field in errors.summary()


def test_parse_needs_a_region_for_secret_names_and_clusters() -> None:
    _spec, errors = parse_irsa_role_params(params(oidc_issuer_url=None, cluster_name="platform", secrets_read=["db"]), None)
    assert "region: is required to turn secrets_read names into ARNs" in errors.summary()
    assert "region: is required to look up cluster_name" in errors.summary()
    _spec, errors = parse_irsa_role_params(params(secrets_read=["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"]), None)
    assert not errors


def test_parse_reports_every_problem_at_once() -> None:
    _spec, errors = parse_irsa_role_params(params(role_name="r" * 65, max_session_duration=60, secrets_read=["has space"]), REGION)
    assert len(errors) == 3
    assert errors.summary().startswith("invalid input (3 problems, nothing was changed): ")


def no_such_entity(stubber: Any, method: str, params: dict[str, Any]) -> None:
    stubber.add_client_error(method, service_error_code="NoSuchEntity", http_status_code=404, expected_params=params)


def role_response(trust: dict[str, Any]) -> dict[str, Any]:
    return {
        "Role": {
            "Path": "/",
            "RoleName": "app",
            "RoleId": "AROAEXAMPLEEXAMPLE123",
            "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/app",
            "CreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            "AssumeRolePolicyDocument": json.dumps(trust),
            "MaxSessionDuration": 3600,
        }
    }


def test_existing_provider_without_the_sts_client_id_gets_it_added() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_response(
        "get_open_id_connect_provider",
        {"Url": ISSUER[len("https://") :], "ClientIDList": ["other-audience"], "ThumbprintList": []},
        {"OpenIDConnectProviderArn": PROVIDER_ARN},
    )
    no_such_entity(stub, "get_role", {"RoleName": "app"})
    stub.add_response("add_client_id_to_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": PROVIDER_ARN, "ClientID": "sts.amazonaws.com"})
    stub.add_response("create_role", role_response({}), {"RoleName": "app", "Path": "/", "AssumeRolePolicyDocument": ANY})
    stub.add_response("get_role", role_response({}), {"RoleName": "app"})
    spec, errors = parse_irsa_role_params(params(), REGION)
    assert not errors
    with all_responses_used(stub):
        plan = IrsaRole(iam, None, ACCOUNT, REGION).plan(spec)
        outcome = execute(plan, check_mode=False)
    assert plan.changes == [f"add client id sts.amazonaws.com to OIDC provider {PROVIDER_ARN}", "create role app"]
    assert outcome.changed
    assert outcome.error is None
    assert outcome.result["oidc_provider_arn"] == PROVIDER_ARN
    assert outcome.result["role_id"] == role_response({})["Role"]["RoleId"]
    assert plan.before["oidc_provider"]["client_ids"] == ["other-audience"]
    assert plan.after["oidc_provider"]["client_ids"] == ["other-audience", "sts.amazonaws.com"]


def test_check_mode_plans_the_client_id_without_writing() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_response("get_open_id_connect_provider", {"Url": "x", "ClientIDList": [], "ThumbprintList": []}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    no_such_entity(stub, "get_role", {"RoleName": "app"})
    spec, _errors = parse_irsa_role_params(params(), REGION)
    with all_responses_used(stub):
        plan = IrsaRole(iam, None, ACCOUNT, REGION).plan(spec)
        outcome = execute(plan, check_mode=True)
    assert outcome.changed
    result = outcome.result
    assert result["role_arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/app"
    assert result["role_id"] is None


def test_a_write_failing_halfway_reports_changed() -> None:
    """The role is created, then attaching a policy fails: the error says so and changed stays true."""
    iam, stub = stubbed_client("iam")
    stub.add_response("get_open_id_connect_provider", {"Url": "x", "ClientIDList": ["sts.amazonaws.com"]}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    no_such_entity(stub, "get_role", {"RoleName": "app"})
    stub.add_response("get_policy", {"Policy": {"Arn": POLICY_ARN, "PolicyName": "ReadOnlyAccess"}}, {"PolicyArn": POLICY_ARN})
    stub.add_response("create_role", role_response({}), {"RoleName": "app", "Path": "/", "AssumeRolePolicyDocument": ANY})
    stub.add_client_error("attach_role_policy", service_error_code="LimitExceeded", service_message="too many policies", http_status_code=409)
    spec, _errors = parse_irsa_role_params(params(managed_policy_arns=[POLICY_ARN]), REGION)
    outcome = execute(IrsaRole(iam, None, ACCOUNT, REGION).plan(spec), check_mode=False)
    stub.assert_no_pending_responses()
    assert outcome.error is not None
    assert outcome.error.message == f"failed to attach {POLICY_ARN} to role 'app'"
    assert outcome.changed


def test_missing_managed_policy_fails_before_any_write() -> None:
    iam, stub = stubbed_client("iam")
    stub.add_response("get_open_id_connect_provider", {"Url": "x", "ClientIDList": ["sts.amazonaws.com"]}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    no_such_entity(stub, "get_role", {"RoleName": "app"})
    missing = "arn:aws:iam::123456789012:policy/missing"
    no_such_entity(stub, "get_policy", {"PolicyArn": missing})
    spec, _errors = parse_irsa_role_params(params(managed_policy_arns=[missing]), REGION)
    with pytest.raises(IdentityError, match=r"managed_policy_arns: managed policy .*missing does not exist"):
        IrsaRole(iam, None, ACCOUNT, REGION).plan(spec)
    stub.assert_no_pending_responses()
