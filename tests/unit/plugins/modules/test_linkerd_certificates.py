"""The linkerd_certificates and linkerd_certificates_info modules as Ansible runs them: argument spec, result, check mode, diff, failures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.eks_gitops.platform.plugins.module_utils.linkerd_identity import utc_now
from ansible_collections.eks_gitops.platform.plugins.modules import linkerd_certificates, linkerd_certificates_info
from tests.support import linkerd_pki as pki

SECRET_OPTIONS = ("trust_anchor_key_pem", "issuer_key_pem")


def call(module: Any, args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def material_of(result: dict[str, Any], stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The next run's input: the result over what was stored before (keys come back only when new)."""
    names = ("trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem")
    return {**(stored or {}), **{name: result[name] for name in names if name in result}}


def test_private_key_options_are_no_log() -> None:
    spec = linkerd_certificates.argument_spec()
    assert [name for name, option in spec.items() if option.get("no_log")] == list(SECRET_OPTIONS)


def test_generate_then_rerun_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    first = call(linkerd_certificates, {}, capsys)
    assert first["changed"] is True
    assert first["trust_anchor_key_pem"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert (first["trust_anchor_days_left"], first["issuer_days_left"]) == (3650, 365)
    second = call(linkerd_certificates, material_of(first), capsys)
    assert second["changed"] is False
    assert "trust_anchor_key_pem" not in second
    assert "issuer_key_pem" not in second  # given keys are not returned (Ansible would mask them)
    assert second["issuer_cert_pem"] == first["issuer_cert_pem"]
    assert second["changes"] == []


def test_check_mode_reports_the_same_change(capsys: pytest.CaptureFixture[str]) -> None:
    now = utc_now()
    root = pki.anchor(not_before=now - timedelta(days=30), not_after=now + timedelta(days=3000))
    old = pki.issuer(root, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))  # expired yesterday
    args = {**pki.material(root, old), "_ansible_check_mode": True}
    result = call(linkerd_certificates, args, capsys)
    assert result["changed"] is True
    assert result["issuer_changed"] is True
    assert result["trust_anchor_pem"] == root.cert_pem
    unchanged = call(linkerd_certificates, {**material_of(result, pki.material(root)), "_ansible_check_mode": True}, capsys)
    assert unchanged["changed"] is False


def test_diff_shows_certificates_never_keys(capsys: pytest.CaptureFixture[str]) -> None:
    result = call(linkerd_certificates, {"_ansible_diff": True}, capsys)
    diff = result["diff"]
    assert diff["before"] == {"trust_anchor": None, "trust_bundle": [], "issuer": None}
    assert diff["after"]["issuer"]["subject"] == "identity.linkerd.cluster.local"
    assert diff["after"]["trust_bundle"] == [diff["after"]["trust_anchor"]["sha256_fingerprint"]]
    assert "PRIVATE KEY" not in json.dumps(diff)
    assert "diff" not in call(linkerd_certificates, {}, capsys)


def test_bad_input_fails_naming_the_input(capsys: pytest.CaptureFixture[str]) -> None:
    root = pki.anchor()
    args = {**pki.material(root, pki.issuer(root, key=pki.rsa_key())), "issuer_validity": "-1d"}
    result = call(linkerd_certificates, args, capsys)
    assert result["failed"] is True
    assert "issuer_cert_pem: has a RSA 2048 key" in result["msg"]
    assert "issuer_validity: " in result["msg"]
    assert "PRIVATE KEY" not in json.dumps(result)


def test_an_overflowing_validity_is_refused_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    """9000 years would end after the year 9999: refused by name, before anything is generated (no 'date value out of range')."""
    result = call(linkerd_certificates, {"anchor_validity": "9000y"}, capsys)
    assert result["failed"] is True
    assert "anchor_validity: '9000y' is too long" in result["msg"]
    assert "out of range" not in result["msg"]


def test_anchor_close_to_expiry_warns(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    monkeypatch.setattr(linkerd_certificates.AnsibleModule, "warn", lambda _self, message: warned.append(message))
    now = utc_now()  # the module reads the real clock
    root = pki.anchor(not_before=now - timedelta(days=3600), not_after=now + timedelta(days=20))
    mid = pki.issuer(root, not_before=now - timedelta(days=10), not_after=now + timedelta(days=300))
    result = call(linkerd_certificates, pki.material(root, mid), capsys)
    assert result["changed"] is False
    assert result["next_steps"] == ["start an anchor rotation (anchor_rotation=start)"]
    assert len(warned) == 1
    assert "rotate it (anchor_rotation=start, then issue, then finish)" in warned[0]


def test_missing_cryptography_is_reported(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkerd_certificates, "HAS_CRYPTOGRAPHY", False)
    monkeypatch.setattr(linkerd_certificates, "IMPORT_ERROR", "Traceback: No module named 'cryptography'")
    result = call(linkerd_certificates, {}, capsys)
    assert result["failed"] is True
    assert "cryptography" in result["msg"]
    monkeypatch.setattr(linkerd_certificates_info, "HAS_CRYPTOGRAPHY", False)
    assert "cryptography" in call(linkerd_certificates_info, {"trust_anchor_pem": "x"}, capsys)["msg"]


def test_info_module_reports_days_left(capsys: pytest.CaptureFixture[str]) -> None:
    generated = call(linkerd_certificates, {}, capsys)
    report = call(
        linkerd_certificates_info,
        {"trust_anchor_pem": generated["trust_anchor_pem"], "trust_bundle_pem": generated["trust_bundle_pem"], "issuer_cert_pem": generated["issuer_cert_pem"]},
        capsys,
    )
    assert report["changed"] is False
    assert (report["trust_anchor"]["days_left"], report["issuer"]["days_left"]) == (3650, 365)
    assert report["issuer"]["signed_by_trust_anchor"] is True
    assert report["anchor_rotation_phase"] == "none"
    assert report["problems"] == []
    anchor_only = call(linkerd_certificates_info, {"trust_anchor_pem": generated["trust_anchor_pem"]}, capsys)
    assert "issuer" not in anchor_only


def test_info_module_rejects_garbage(capsys: pytest.CaptureFixture[str]) -> None:
    result = call(linkerd_certificates_info, {"trust_anchor_pem": "garbage"}, capsys)
    assert result["failed"] is True
    assert "trust_anchor_pem: is not a PEM certificate" in result["msg"]
