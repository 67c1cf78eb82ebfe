"""Standard tools read the generated material: openssl verify -CAfile, openssl x509 -text, and the cryptography library."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.eks_gitops.platform.plugins.module_utils import linkerd_identity as li
from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import ValidationErrors
from tests.support import linkerd_pki as pki

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
MATERIAL_KEYS = ("trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem")


def run(stored: dict[str, Any] | None = None, **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run at the real clock (openssl checks validity against it); returns the result and what a caller stores."""
    errors = ValidationErrors()
    settings = li.settings_from(errors, **options)
    assert settings is not None
    now = li.utc_now()
    result = li.reconcile(li.load_material(errors=errors, **(stored or {})), settings, now).result(now)
    return result, {**(stored or {}), **{key: result[key] for key in MATERIAL_KEYS if key in result}}


def verify(tmp_path: Path, ca_pem: str, cert_pem: str, untrusted_pem: str | None = None, strict: bool = True) -> tuple[bool, str]:
    ca, cert = pki.write(tmp_path / "ca.pem", ca_pem), pki.write(tmp_path / "cert.pem", cert_pem)
    args = ["verify", *(["-x509_strict"] if strict else []), "-CAfile", str(ca)]
    if untrusted_pem is not None:
        args += ["-untrusted", str(pki.write(tmp_path / "untrusted.pem", untrusted_pem))]
    completed = pki.openssl(*args, str(cert))
    return completed.returncode == 0 and completed.stdout.strip().endswith(": OK"), completed.stdout + completed.stderr


def text(cert_pem: str) -> str:
    completed = pki.openssl("x509", "-noout", "-text", stdin=cert_pem)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def leaf_pem(issuer_cert_pem: str, issuer_key_pem: str) -> str:
    """A proxy certificate as Linkerd's identity controller would sign it with the issuer."""
    issuer = pki.Pair(x509.load_pem_x509_certificate(issuer_cert_pem.encode()), serialization.load_pem_private_key(issuer_key_pem.encode(), None))
    return pki.leaf(issuer).cert_pem


def test_openssl_verifies_anchor_then_issuer_then_a_proxy_certificate(tmp_path: Path) -> None:
    result, _stored = run()
    ok, output = verify(tmp_path, result["trust_anchor_pem"], result["trust_anchor_pem"])
    assert ok, output
    ok, output = verify(tmp_path, result["trust_anchor_pem"], result["issuer_cert_pem"])
    assert ok, output
    ok, output = verify(
        tmp_path, result["trust_bundle_pem"], leaf_pem(result["issuer_cert_pem"], result["issuer_key_pem"]), result["issuer_cert_pem"], strict=False
    )
    assert ok, output
    ok, output = verify(tmp_path, pki.anchor().cert_pem, result["issuer_cert_pem"])
    assert not ok  # and a stranger's anchor does not verify it


def test_openssl_text_shows_the_profile() -> None:
    result, _stored = run()
    anchor, issuer = text(result["trust_anchor_pem"]), text(result["issuer_cert_pem"])
    for output in (anchor, issuer):
        assert "Public Key Algorithm: id-ecPublicKey" in output
        assert "ASN1 OID: prime256v1" in output
        assert "NIST CURVE: P-256" in output
        assert "Signature Algorithm: ecdsa-with-SHA256" in output
        assert re.search(r"X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n", output)
        assert "X509v3 Basic Constraints: critical" in output
    assert re.search(r"Basic Constraints: critical\n\s+CA:TRUE, pathlen:1\n", anchor)
    assert re.search(r"Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n", issuer)
    assert "Issuer: CN = root.linkerd.cluster.local" in anchor
    assert "Subject: CN = root.linkerd.cluster.local" in anchor
    assert "Issuer: CN = root.linkerd.cluster.local" in issuer
    assert "Subject: CN = identity.linkerd.cluster.local" in issuer


def test_openssl_and_cryptography_read_the_keys() -> None:
    result, _stored = run()
    for name in ("trust_anchor_key_pem", "issuer_key_pem"):
        completed = pki.openssl("ec", "-check", "-noout", stdin=result[name])
        assert completed.returncode == 0, completed.stderr
        assert "EC Key valid." in completed.stdout + completed.stderr
        key = serialization.load_pem_private_key(result[name].encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == "secp256r1"


def test_openssl_follows_every_phase_of_an_anchor_rotation(tmp_path: Path) -> None:
    first, stored = run()
    old_leaf = leaf_pem(first["issuer_cert_pem"], first["issuer_key_pem"])

    started, stored = run(stored, anchor_rotation="start")
    new_anchor = started["trust_anchor_pem"]
    # Proxies restarted with the new bundle still accept certificates from the old issuer ...
    assert verify(tmp_path, started["trust_bundle_pem"], old_leaf, first["issuer_cert_pem"], strict=False)[0]
    # ... and the issuer is still the old anchor's.
    assert verify(tmp_path, first["trust_anchor_pem"], started["issuer_cert_pem"])[0]
    assert not verify(tmp_path, new_anchor, started["issuer_cert_pem"])[0]

    issued, stored = run(stored, anchor_rotation="issue")
    new_leaf = leaf_pem(issued["issuer_cert_pem"], issued["issuer_key_pem"])
    assert verify(tmp_path, new_anchor, issued["issuer_cert_pem"])[0]
    assert verify(tmp_path, issued["trust_bundle_pem"], new_leaf, issued["issuer_cert_pem"], strict=False)[0]
    assert verify(tmp_path, issued["trust_bundle_pem"], old_leaf, first["issuer_cert_pem"], strict=False)[0]
    # A proxy that was never restarted (old anchor only) would reject the new certificates: hence the restarts.
    assert not verify(tmp_path, first["trust_anchor_pem"], new_leaf, issued["issuer_cert_pem"], strict=False)[0]

    finished, _stored = run(stored, anchor_rotation="finish")
    assert finished["trust_bundle_pem"] == new_anchor
    assert verify(tmp_path, finished["trust_bundle_pem"], new_leaf, issued["issuer_cert_pem"], strict=False)[0]
    assert not verify(tmp_path, finished["trust_bundle_pem"], old_leaf, first["issuer_cert_pem"], strict=False)[0]


def test_openssl_verifies_an_issuer_reissued_from_the_same_anchor(tmp_path: Path) -> None:
    first, stored = run()
    rotated, _stored = run(stored, force_issuer_rotation=True)
    assert rotated["issuer_cert_pem"] != first["issuer_cert_pem"]
    assert verify(tmp_path, first["trust_anchor_pem"], rotated["issuer_cert_pem"])[0]
