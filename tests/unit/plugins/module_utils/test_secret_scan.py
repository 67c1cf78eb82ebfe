"""Secret material in Application specs and Helm values is found, and reported without its value."""

from __future__ import annotations

import base64
import json

from ansible_collections.eks_gitops.platform.plugins.module_utils.secret_scan import scan, scan_many

KNOWN = "s3cr3t-canary-value-7f2e"
PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n"
BCRYPT = "$2y$10$" + "a" * 53


def test_a_clean_application_spec_has_no_findings() -> None:
    spec = {
        "source": {
            "repoURL": "https://github.com/example-org/platform-gitops.git",
            "helm": {
                "valuesObject": {
                    "configs": {"secret": {"createSecret": False}, "repositories": {}},
                    "existingSecret": "argocd-secret",
                    "passwordSecretRef": {"name": "x", "key": "password"},
                    "basicAuth": {"secret": "dashboard-auth"},
                    "automountServiceAccountToken": True,
                    "tokenRequests": [{"audience": "sts.amazonaws.com"}],
                    "secretName": "tls",
                }
            },
        }
    }
    assert scan(spec, known=[KNOWN]) == []


def test_known_values_plain_embedded_and_base64() -> None:
    document = {
        "a": KNOWN,
        "b": [f"url=https://user:{KNOWN}@host"],
        "c": {"data": base64.b64encode(KNOWN.encode()).decode()},
    }
    findings = scan(document, known=[KNOWN])
    assert [finding["path"] for finding in findings] == ["a", "b[0]", "c.data"]
    assert all(finding["reason"] == "one of the platform's secret values" for finding in findings)
    assert KNOWN not in json.dumps(findings)


def test_known_values_may_be_nested_like_secret_json() -> None:
    known = [{"username": "app_user_x", "password": KNOWN}, ["other-secret-value"]]
    findings = scan({"a": KNOWN, "b": "other-secret-value", "c": "app_user_x"}, known=known)
    assert [finding["path"] for finding in findings] == ["a", "b", "c"]


def test_short_known_values_are_ignored() -> None:
    assert scan({"replicas": "1"}, known=["1"]) == []


def test_patterns_and_secret_keys() -> None:
    document = {
        "tls": {"keyPEM": PEM},
        "aws": {"id": "AKIAABCDEFGHIJKLMNOP"},
        "users": [f"admin:{BCRYPT}"],
        "configs": {"credentialTemplates": {"gh": {"password": "hunter22"}}},
        "githubToken": "ghp_x",
    }
    found = {finding["path"]: finding["reason"] for finding in scan(document)}
    assert found["tls.keyPEM"] == "a PEM private key"
    assert found["aws.id"] == "an AWS access key id"
    assert found["users[0]"] == "a bcrypt hash"
    assert found["configs.credentialTemplates.gh.password"] == "a value under the secret-like key 'password'"
    assert found["githubToken"] == "a value under the secret-like key 'githubToken'"
    assert "hunter22" not in json.dumps(found)


def test_empty_secret_keys_are_fine() -> None:
    assert scan({"password": "", "token": "  "}) == []


def test_scan_many_prefixes_paths_with_the_document_name() -> None:
    findings = scan_many({"Application argocd/b": {"x": PEM}, "Application argocd/a": {"y": "ok"}})
    assert findings == [{"path": "Application argocd/b.x", "reason": "a PEM private key"}]
