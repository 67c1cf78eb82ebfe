from __future__ import annotations

import json

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity import documents as docs
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.documents import ServiceAccount

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
HOST_PATH = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST_PATH}"


def test_issuer_forms() -> None:
    assert docs.issuer_host_path(ISSUER) == HOST_PATH
    assert docs.issuer_host_path(ISSUER + "/") == HOST_PATH
    assert docs.normalize_issuer_url(ISSUER + "/") == ISSUER
    assert docs.oidc_provider_arn("aws", "123456789012", ISSUER) == PROVIDER
    assert docs.oidc_provider_arn("aws-cn", "123456789012", "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/X").startswith("arn:aws-cn:iam::")


@pytest.mark.parametrize("value", [ISSUER, "https://token.actions.example.com", "https://issuer.example.com:8443/realms/k8s"])
def test_issuer_url_accepts(value: str) -> None:
    assert docs.issuer_url_problem(value) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("http://oidc.example.com/id/1", "not an https:// URL"),
        ("oidc.eks.eu-west-1.amazonaws.com/id/1", "not an https:// URL"),
        ("https://", "not a valid issuer URL"),
        ("https://issuer.example.com/?x=1", "not a valid issuer URL"),
        ("https://user@issuer.example.com", "not a valid issuer URL"),
        ("", "non-empty"),
    ],
)
def test_issuer_url_rejects(value: str, fragment: str) -> None:
    assert fragment in (docs.issuer_url_problem(value) or "")


def test_role_arn_and_annotations() -> None:
    assert docs.role_arn("aws", "123456789012", "app") == "arn:aws:iam::123456789012:role/app"
    assert docs.role_arn("aws-us-gov", "123456789012", "app", "/platform/") == "arn:aws-us-gov:iam::123456789012:role/platform/app"
    assert docs.service_account_annotations("arn:aws:iam::1:role/a") == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/a"}
    assert docs.service_account_annotations(None) == {}


def test_irsa_trust_policy_pins_sub_and_aud_for_one_service_account() -> None:
    assert docs.irsa_trust_policy(PROVIDER, ISSUER, [ServiceAccount("shop", "checkout")]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{HOST_PATH}:sub": "system:serviceaccount:shop:checkout",
                        f"{HOST_PATH}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def test_irsa_trust_policy_lists_many_service_accounts_once() -> None:
    accounts = [ServiceAccount("shop", "checkout"), ServiceAccount("shop", "orders"), ServiceAccount("shop", "checkout")]
    (statement,) = docs.irsa_trust_policy(PROVIDER, ISSUER, accounts)["Statement"]
    assert statement["Condition"]["StringEquals"][f"{HOST_PATH}:sub"] == ["system:serviceaccount:shop:checkout", "system:serviceaccount:shop:orders"]


def test_irsa_trust_policy_wildcards_use_string_like_in_their_own_statement() -> None:
    accounts = [ServiceAccount("shop", "checkout"), ServiceAccount("jobs", "worker-*"), ServiceAccount("jobs", "batch-?")]
    exact, wildcard = docs.irsa_trust_policy(PROVIDER, ISSUER, accounts)["Statement"]
    assert exact["Condition"] == {"StringEquals": {f"{HOST_PATH}:sub": "system:serviceaccount:shop:checkout", f"{HOST_PATH}:aud": "sts.amazonaws.com"}}
    assert wildcard["Condition"] == {
        "StringLike": {f"{HOST_PATH}:sub": ["system:serviceaccount:jobs:worker-*", "system:serviceaccount:jobs:batch-?"]},
        "StringEquals": {f"{HOST_PATH}:aud": "sts.amazonaws.com"},
    }
    only_wildcards = docs.irsa_trust_policy(PROVIDER, ISSUER, [ServiceAccount("jobs", "*")])["Statement"]
    assert [list(s["Condition"]) for s in only_wildcards] == [["StringLike", "StringEquals"]]


def test_irsa_trust_policy_needs_a_service_account() -> None:
    with pytest.raises(ValueError, match="at least one"):
        docs.irsa_trust_policy(PROVIDER, ISSUER, [])


def test_pod_identity_trust_policy() -> None:
    assert docs.pod_identity_trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def test_secret_resource_names_get_the_suffix_pattern_and_arns_stay() -> None:
    assert docs.secret_resource("aws", "eu-west-1", "123456789012", "shop/db") == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-??????"
    arn = "arn:aws:secretsmanager:us-east-1:210987654321:secret:other-AbCdEf"
    assert docs.secret_resource("aws", "eu-west-1", "123456789012", arn) == arn
    assert docs.secret_resource("aws-cn", "cn-north-1", "1", "x").startswith("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x")


def test_secrets_read_policy_is_exactly_scoped() -> None:
    stripe = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe-AbCdEf"
    policy = docs.secrets_read_policy("aws", "eu-west-1", "123456789012", ["shop/db", stripe, "shop/db"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                "Resource": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-??????", stripe],
            }
        ],
    }
    assert "*" not in json.dumps(policy)


def test_secrets_read_policy_with_kms_keys_decrypts_only_through_secrets_manager() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    other_region = "arn:aws:secretsmanager:us-east-1:123456789012:secret:replica-AbCdEf"
    read, decrypt = docs.secrets_read_policy("aws", "eu-west-1", "123456789012", ["shop/db", other_region], [key, key])["Statement"]
    assert read["Resource"][1] == other_region
    assert decrypt == {
        "Sid": "DecryptSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"]}},
    }
    (_read, china) = docs.secrets_read_policy("aws-cn", "cn-north-1", "1", ["x"], ["arn:aws-cn:kms:cn-north-1:1:key/k"])["Statement"]
    assert china["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.cn-north-1.amazonaws.com.cn"


def test_secrets_read_policy_keeps_only_the_wildcards_the_user_wrote() -> None:
    (statement,) = docs.secrets_read_policy("aws", "eu-west-1", "123456789012", ["shop/*"])["Statement"]
    assert statement["Resource"] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/*-??????"
    with pytest.raises(ValueError, match="at least one"):
        docs.secrets_read_policy("aws", "eu-west-1", "123456789012", [])


@pytest.mark.parametrize("value", ["shop/db", "a", "x" * 512, "team_a+b=c.d@e-f", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"])
def test_secret_name_accepts(value: str) -> None:
    assert docs.secret_reference_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "has space",
        "x" * 513,
        "arn:aws:s3:::bucket",
        "arn:aws:secretsmanager:eu-west-1:123456789012:rotation:x",
        "arn:aws:secretsmanager:::secret:x",
        42,
    ],
)
def test_secret_name_rejects(value: object) -> None:
    assert docs.secret_reference_problem(value) is not None


def test_kms_key_arn_problem() -> None:
    assert docs.kms_key_arn_problem("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab") is None
    assert "alias ARNs" in (docs.kms_key_arn_problem("arn:aws:kms:eu-west-1:123456789012:alias/platform") or "")
    assert docs.kms_key_arn_problem("1234abcd-12ab-34cd-56ef-1234567890ab") is not None
    assert docs.kms_key_arn_problem("") is not None


def test_policy_name_problem() -> None:
    assert docs.policy_name_problem("secrets-read") is None
    assert docs.policy_name_problem("a" * 129) is not None
    assert docs.policy_name_problem("has space") is not None


GOOD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}


def test_parse_policy_document_accepts_dicts_and_json() -> None:
    assert docs.parse_policy_document(GOOD) == (GOOD, None)
    assert docs.parse_policy_document(json.dumps(GOOD)) == (GOOD, None)
    single = {"Statement": {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::b"}}
    assert docs.parse_policy_document(single) == ({"Version": "2012-10-17", **single}, None)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('{"Version": "2012-10-17", ', "not valid JSON"),
        ("[1, 2]", "must be a policy document"),
        (42, "must be a policy document"),
        ({"Version": "2012-10-17"}, "needs a Statement"),
        ({"Statement": []}, "needs a Statement"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}], "Extra": 1}, "unknown top-level keys: Extra"),
        ({"Version": "2020-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "Version must be"),
        ({"Statement": ["Allow"]}, "Statement[0] must be an object"),
        ({"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]}, "Statement[0].Effect"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "exactly one of Action and NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}, "exactly one of Resource and NotResource"),
        ({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}, "Statement[0].Action must be"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}]}, "Condition must be an object"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Actions": "x"}]}, "unknown keys: Actions"),
    ],
)
def test_parse_policy_document_rejects(value: object, fragment: str) -> None:
    document, problem = docs.parse_policy_document(value)
    assert document is None
    assert fragment in (problem or "")


def test_documents_differ_is_semantic() -> None:
    reordered = {
        "Statement": [{"Resource": ["arn:aws:s3:::b/*"], "Action": ["s3:GetObject"], "Effect": "Allow"}],
        "Version": "2012-10-17",
    }
    assert not docs.documents_differ(GOOD, reordered)
    assert docs.documents_differ(GOOD, {**GOOD, "Statement": [{**GOOD["Statement"][0], "Action": "s3:PutObject"}]})
    assert docs.documents_differ(None, GOOD)
    assert not docs.documents_differ(None, None)
    two = docs.irsa_trust_policy(PROVIDER, ISSUER, [ServiceAccount("a", "x"), ServiceAccount("b", "y")])
    swapped = docs.irsa_trust_policy(PROVIDER, ISSUER, [ServiceAccount("b", "y"), ServiceAccount("a", "x")])
    assert not docs.documents_differ(two, swapped)


@pytest.mark.parametrize(
    ("value", "scope"),
    [
        ("*", "every secret of the account"),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:*", "every secret of the account"),
        ("shop/*", "every secret matching 'shop/*'"),
        ("shop/db-?", "every secret matching 'shop/db-?'"),
    ],
)
def test_a_wildcard_is_named_with_what_it_grants(value: str, scope: str) -> None:
    problem = docs.wildcard_problem(value)
    assert problem is not None
    assert scope in problem
    assert "allow_wildcards" in problem


@pytest.mark.parametrize(
    "value", ["shop/db", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-??????", "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf"]
)
def test_exact_references_and_the_suffix_pattern_are_no_wildcard(value: str) -> None:
    assert docs.wildcard_problem(value) is None


def test_a_kms_key_of_another_region_than_the_secrets_is_named() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    problem = docs.kms_region_problem(key, ["eu-west-1"])
    assert problem is not None
    assert "us-east-1" in problem
    assert "allow_cross_region_kms" in problem
    assert docs.kms_region_problem(key, ["eu-west-1", "us-east-1"]) is None
