from __future__ import annotations

import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import (
    ValidationErrors,
    arn_problem,
    check_aws_tags,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    eks_cluster_name_problem,
    iam_path_problem,
    iam_role_name_problem,
    kms_key_id_problem,
)


@pytest.mark.parametrize("value", ["a", "kube-system", "ns1", "a" * 63])
def test_dns1123_label_accepts(value: str) -> None:
    assert dns1123_label_problem(value) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "non-empty"),
        (None, "non-empty"),
        ("Upper", "DNS-1123 label"),
        ("-lead", "DNS-1123 label"),
        ("trail-", "DNS-1123 label"),
        ("has.dot", "DNS-1123 label"),
        ("a" * 64, "at most 63"),
    ],
)
def test_dns1123_label_rejects(value: object, fragment: str) -> None:
    problem = dns1123_label_problem(value)
    assert problem is not None
    assert fragment in problem


def test_dns1123_subdomain_accepts_dots_and_rejects_bad_labels() -> None:
    assert dns1123_subdomain_problem("csi.secrets-store") is None
    assert dns1123_subdomain_problem("a" * 254) is not None
    assert "DNS-1123 subdomain" in (dns1123_subdomain_problem("a..b") or "")
    assert "DNS-1123 subdomain" in (dns1123_subdomain_problem("under_score") or "")


def test_arn_problem_checks_shape_service_and_resource_type() -> None:
    lambda_arn = "arn:aws:lambda:eu-west-1:123456789012:function:rotate"
    assert arn_problem(lambda_arn) is None
    assert arn_problem(lambda_arn, service="lambda", resource_type="function") is None
    assert "service 'iam'" in (arn_problem(lambda_arn, service="iam") or "")
    assert "'layer'" in (arn_problem(lambda_arn, service="lambda", resource_type="layer") or "")
    assert "not a valid ARN" in (arn_problem("rotate") or "")
    assert "non-empty" in (arn_problem("") or "")


@pytest.mark.parametrize(
    "value",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/platform/secrets",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:123456789012:alias/platform",
        "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ],
)
def test_kms_key_id_accepts(value: str) -> None:
    assert kms_key_id_problem(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "not-a-key", "alias/", "alias/has space", "arn:aws:kms:eu-west-1:123456789012:key/nope", "arn:aws:s3:::bucket", 42],
)
def test_kms_key_id_rejects(value: object) -> None:
    assert kms_key_id_problem(value) is not None


def test_validation_errors_collects_every_problem_with_its_field() -> None:
    errors = ValidationErrors()
    assert not errors
    errors.add("secrets[0].name", None)
    assert not errors
    errors.add("secrets[0].name", "must be a non-empty string")
    errors.add("secrets[2].recovery_window_days", "must be between 7 and 30, got 3")
    assert errors
    assert len(errors) == 2
    summary = errors.summary()
    assert summary.startswith("invalid input (2 problems, nothing was changed): ")
    assert "secrets[0].name: must be a non-empty string" in summary
    assert "secrets[2].recovery_window_days: must be between 7 and 30, got 3" in summary


@pytest.mark.parametrize("value", ["app", "a" * 64, "Team+A=b,c.d@e_f-g"])
def test_iam_role_name_accepts(value: str) -> None:
    assert iam_role_name_problem(value) is None


@pytest.mark.parametrize(
    ("value", "fragment"), [("a" * 65, "at most 64"), ("has space", "not a valid IAM role name"), ("caf\u00e9", "not a valid"), ("", "non-empty")]
)
def test_iam_role_name_rejects(value: str, fragment: str) -> None:
    assert fragment in (iam_role_name_problem(value) or "")


def test_iam_path_problem() -> None:
    assert iam_path_problem("/") is None
    assert iam_path_problem("/platform/irsa/") is None
    for bad in ("platform/", "/platform", "//", "/a b/", "/" + "a" * 512 + "/"):
        assert iam_path_problem(bad) is not None, bad


def test_eks_cluster_name_problem() -> None:
    assert eks_cluster_name_problem("platform-prod_1") is None
    assert eks_cluster_name_problem("a" * 100) is None
    assert "at most 100" in (eks_cluster_name_problem("a" * 101) or "")
    assert "not a valid EKS cluster name" in (eks_cluster_name_problem("-lead") or "")
    assert "not a valid EKS cluster name" in (eks_cluster_name_problem("has.dot") or "")


def test_check_aws_tags_names_each_bad_tag() -> None:
    errors = ValidationErrors()
    check_aws_tags(errors, "tags", {"ok": "x", "aws:owner": "y", "k" * 129: "z", "long": "v" * 257})
    assert len(errors) == 3
    assert any(m.startswith("tags.aws:owner: ") for m in errors.messages)
    assert any(m.startswith("tags.long: ") and "256" in m for m in errors.messages)
    errors = ValidationErrors()
    check_aws_tags(errors, "tags", {str(i): "v" for i in range(51)})
    assert errors.messages == ["tags: at most 50 tags are allowed, got 51"]
