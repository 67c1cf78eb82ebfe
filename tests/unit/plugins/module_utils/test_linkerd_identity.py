"""Decisions of the Linkerd identity backend: generation, reuse, issuer rotation, anchor rotation, bad input, clock edges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.eks_gitops.platform.plugins.module_utils import linkerd_identity as li
from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import ValidationErrors
from tests.support import linkerd_pki as pki

NOW = pki.NOW
MATERIAL_KEYS = ("trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem")


def run(inputs: dict[str, Any] | None = None, now: Any = NOW, **options: Any) -> tuple[li.Outcome, dict[str, Any]]:
    errors = ValidationErrors()
    settings = li.settings_from(errors, **options)
    material = li.load_material(errors=errors, **(inputs or {}))
    assert settings is not None
    outcome = li.reconcile(material, settings, now)
    return outcome, outcome.result(now)


def fails(inputs: dict[str, Any] | None = None, now: Any = NOW, **options: Any) -> str:
    with pytest.raises(li.IdentityInputError) as caught:
        run(inputs, now, **options)
    return str(caught.value)


def feed(result: dict[str, Any], stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a caller stores after a run: the result over what it stored before (keys come back only when new)."""
    inputs = dict(stored or {})
    inputs.update({key: result[key] for key in MATERIAL_KEYS if key in result})
    return inputs


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def bundle(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def fresh() -> dict[str, Any]:
    return run()[1]


# --- durations and settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3650d", timedelta(days=3650)),
        ("8760h", timedelta(days=365)),
        ("1y30d", timedelta(days=395)),
        ("2w", timedelta(days=14)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration_accepts_units(text: str, expected: timedelta) -> None:
    assert li.parse_duration(text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "fragment"), [("", "not a duration"), ("10", "not a duration"), ("ten days", "not a duration"), (None, "not a duration"), ("-5d", "negative")]
)
def test_parse_duration_rejects(text: Any, fragment: str) -> None:
    duration, problem = li.parse_duration(text)
    assert duration is None
    assert fragment in (problem or "")


def test_settings_defaults_are_linkerds() -> None:
    settings = li.settings_from(ValidationErrors())
    assert settings is not None
    assert settings.anchor_validity == timedelta(days=3650)
    assert settings.issuer_validity == timedelta(days=365)
    assert settings.renew_before == timedelta(days=60)
    assert (settings.anchor_common_name, settings.issuer_common_name) == ("root.linkerd.cluster.local", "identity.linkerd.cluster.local")


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"anchor_validity": "-3650d"}, "anchor_validity", "negative"),
        ({"issuer_validity": "-1h"}, "issuer_validity", "negative"),
        ({"issuer_validity": "0d"}, "issuer_validity", "longer than zero"),
        ({"issuer_validity": "30d"}, "issuer_validity", "longer than renew_before"),
        ({"issuer_validity": "60d"}, "issuer_validity", "longer than renew_before"),
        ({"anchor_validity": "1440h"}, "anchor_validity", "longer than renew_before"),
        ({"renew_before": "-1d"}, "renew_before", "negative"),
        ({"renew_before": "soon"}, "renew_before", "not a duration"),
        ({"anchor_validity": "9000y"}, "anchor_validity", "'9000y' is too long: at most 100y"),
        ({"issuer_validity": "99999999999999d"}, "issuer_validity", "is too long"),
        ({"anchor_rotation": "begin"}, "anchor_rotation", "not one of start, issue, finish"),
        ({"issuer_common_name": " "}, "issuer_common_name", "non-empty"),
    ],
)
def test_bad_settings_name_their_option(options: dict[str, Any], field: str, fragment: str) -> None:
    message = fails(**options)
    assert f"{field}: " in message
    assert fragment in message


def test_prepare_checks_material_and_settings_together() -> None:
    material, settings = li.prepare(renew_before="30d", trust_anchor_pem="", force_issuer_rotation=True)
    assert material.anchor is None
    assert (settings.renew_before, settings.force_issuer_rotation) == (timedelta(days=30), True)
    with pytest.raises(li.IdentityInputError) as caught:
        li.prepare(trust_anchor_pem="garbage", trust_anchor_key_pem=pki.anchor().key_pem, issuer_validity="1d")
    assert "2 problems" in str(caught.value)
    assert "trust_anchor_pem: is not a PEM certificate" in str(caught.value)
    assert "issuer_validity: '1d' must be longer than renew_before" in str(caught.value)


def test_all_problems_are_reported_at_once() -> None:
    message = fails({"trust_anchor_pem": "garbage", "trust_anchor_key_pem": "garbage"}, issuer_validity="-1d")
    assert "3 problems" in message
    for field in ("trust_anchor_pem: ", "trust_anchor_key_pem: ", "issuer_validity: "):
        assert field in message


# --- generation -------------------------------------------------------------------------------


def extension(certificate: x509.Certificate, kind: type) -> x509.Extension:
    return certificate.extensions.get_extension_for_class(kind)


def test_generates_the_documented_profile() -> None:
    outcome, result = run()
    anchor, issuer = cert(result["trust_anchor_pem"]), cert(result["issuer_cert_pem"])
    for certificate in (anchor, issuer):
        public_key = certificate.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert public_key.curve.name == "secp256r1"
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
        usage = extension(certificate, x509.KeyUsage)
        assert usage.critical
        assert (usage.value.key_cert_sign, usage.value.crl_sign, usage.value.digital_signature, usage.value.key_encipherment) == (True, True, False, False)
        assert extension(certificate, x509.BasicConstraints).critical
    assert extension(anchor, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=1)
    assert extension(issuer, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=0)
    assert anchor.subject == anchor.issuer
    anchor.verify_directly_issued_by(anchor)
    issuer.verify_directly_issued_by(anchor)
    aki = extension(issuer, x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == extension(anchor, x509.SubjectKeyIdentifier).value.digest
    assert li.common_name(anchor) == "root.linkerd.cluster.local"
    assert li.common_name(issuer) == "identity.linkerd.cluster.local"
    assert anchor.not_valid_after_utc == NOW + timedelta(days=3650)
    assert issuer.not_valid_after_utc == NOW + timedelta(days=365)
    assert anchor.not_valid_before_utc == issuer.not_valid_before_utc == NOW - li.NOT_BEFORE_BACKDATE
    assert (result["trust_anchor_days_left"], result["issuer_days_left"]) == (3650, 365)
    assert result["trust_anchor_not_after"] == "2040-06-12T12:00:00Z"
    assert result["issuer_not_after"] == "2031-06-15T12:00:00Z"
    assert result["trust_bundle_pem"] == result["trust_anchor_pem"]
    assert (result["changed"], result["anchor_changed"], result["issuer_changed"], result["trust_bundle_changed"]) == (True, True, True, True)
    assert result["anchor_rotation_phase"] == "none"
    assert len(result["changes"]) == 2
    assert result["next_steps"] == [li.NEXT_PUBLISH_BUNDLE, li.NEXT_WRITE_ISSUER]
    assert outcome.warnings == []


def test_keys_are_ec_private_key_pem_and_match() -> None:
    result = fresh()
    for key_name, cert_name in (("trust_anchor_key_pem", "trust_anchor_pem"), ("issuer_key_pem", "issuer_cert_pem")):
        assert result[key_name].startswith("-----BEGIN EC PRIVATE KEY-----\n")  # the only PEM type Linkerd's identity reads
        key = serialization.load_pem_private_key(result[key_name].encode(), password=None)
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert key.public_key().public_bytes(*spki) == cert(result[cert_name]).public_key().public_bytes(*spki)


def test_generation_honours_names_and_validities() -> None:
    _outcome, result = run(
        anchor_validity="5y", issuer_validity="2160h", renew_before="30d", anchor_common_name="root.mesh.example", issuer_common_name="issuer.mesh.example"
    )
    anchor, issuer = cert(result["trust_anchor_pem"]), cert(result["issuer_cert_pem"])
    assert (li.common_name(anchor), li.common_name(issuer)) == ("root.mesh.example", "issuer.mesh.example")
    assert (result["trust_anchor_days_left"], result["issuer_days_left"]) == (5 * 365, 90)


def test_each_generation_is_new() -> None:
    first, second = fresh(), fresh()
    assert first["trust_anchor_pem"] != second["trust_anchor_pem"]
    assert first["issuer_key_pem"] != second["issuer_key_pem"]


def test_issuer_is_generated_under_a_given_anchor() -> None:
    root = pki.anchor()
    _outcome, result = run(pki.material(root))
    assert result["trust_anchor_pem"] == root.cert_pem
    assert "trust_anchor_key_pem" not in result
    assert (result["anchor_changed"], result["issuer_changed"], result["trust_bundle_changed"]) == (False, True, False)
    cert(result["issuer_cert_pem"]).verify_directly_issued_by(root.cert)


def test_rsa_anchor_is_accepted_and_signs_the_issuer() -> None:
    root = pki.anchor(key=pki.rsa_key(2048))
    _outcome, result = run(pki.material(root))
    issuer = cert(result["issuer_cert_pem"])
    issuer.verify_directly_issued_by(root.cert)
    assert isinstance(issuer.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(root.cert.public_key(), rsa.RSAPublicKey)


# --- reuse ------------------------------------------------------------------------------------


def test_valid_material_is_returned_unchanged() -> None:
    first = fresh()
    outcome, second = run(feed(first))
    assert second["changed"] is False
    for key in ("trust_anchor_pem", "trust_bundle_pem", "issuer_cert_pem"):
        assert second[key] == first[key]
    assert "trust_anchor_key_pem" not in second  # the caller gave the keys: they are not returned
    assert "issuer_key_pem" not in second
    assert (second["changes"], second["next_steps"], outcome.warnings) == ([], [], [])
    assert outcome.before == outcome.after


def test_rerun_never_regenerates() -> None:
    result = fresh()
    for day in (0, 100, 200, 300):
        _outcome, again = run(feed(result), now=NOW + timedelta(days=day))
        assert again["changed"] is False
        assert again["issuer_cert_pem"] == result["issuer_cert_pem"]


def test_pkcs8_issuer_key_is_kept_and_returned_as_ec_private_key() -> None:
    root = pki.anchor()
    mid = pki.issuer(root)
    inputs = pki.material(root, mid)
    inputs["issuer_key_pem"] = mid.pkcs8_pem
    _outcome, result = run(inputs)
    assert result["changed"] is False
    assert result["issuer_key_pem"] == mid.key_pem
    assert result["issuer_key_pem"].startswith("-----BEGIN EC PRIVATE KEY-----")


def test_empty_strings_count_as_absent() -> None:
    _outcome, result = run(dict.fromkeys(MATERIAL_KEYS, ""))
    assert result["anchor_changed"] is True


def test_a_given_bundle_equal_to_the_anchor_is_unchanged_and_duplicates_are_dropped() -> None:
    root = pki.anchor()
    mid = pki.issuer(root)
    _outcome, result = run(pki.material(root, mid, bundle=[root, root]))
    assert result["changed"] is False
    assert result["trust_bundle_pem"] == root.cert_pem


# --- issuer rotation --------------------------------------------------------------------------


def expiring_material(remaining: timedelta) -> tuple[pki.Pair, pki.Pair, dict[str, str]]:
    root = pki.anchor()
    mid = pki.issuer(root, not_after=NOW + remaining)
    return root, mid, pki.material(root, mid)


def assert_reissued_from(result: dict[str, Any], root: pki.Pair, old: pki.Pair) -> None:
    assert result["issuer_changed"] is True
    assert (result["anchor_changed"], result["trust_bundle_changed"]) == (False, False)
    assert result["issuer_cert_pem"] != old.cert_pem
    assert result["issuer_key_pem"] != old.key_pem
    assert result["trust_anchor_pem"] == root.cert_pem
    cert(result["issuer_cert_pem"]).verify_directly_issued_by(root.cert)
    assert result["issuer_days_left"] == 365
    assert result["next_steps"] == [li.NEXT_WRITE_ISSUER]


def test_expiring_issuer_is_reissued_from_the_same_anchor() -> None:
    root, old, inputs = expiring_material(timedelta(days=30))
    _outcome, result = run(inputs)
    assert_reissued_from(result, root, old)
    assert "within renew_before" in result["changes"][0]


def test_renew_before_boundary_is_inclusive() -> None:
    root, old, inputs = expiring_material(timedelta(days=60))
    assert_reissued_from(run(inputs)[1], root, old)
    _root, _old, inputs = expiring_material(timedelta(days=60, seconds=1))
    assert run(inputs)[1]["changed"] is False


def test_issuer_at_its_last_second_is_reissued_not_rejected() -> None:
    root, old, inputs = expiring_material(timedelta(0))
    assert_reissued_from(run(inputs)[1], root, old)


def test_expired_issuer_is_reissued() -> None:
    root = pki.anchor()
    old = pki.issuer(root, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(seconds=1))
    _outcome, result = run(pki.material(root, old))
    assert_reissued_from(result, root, old)
    assert "expired on 2030-06-15T11:59:59Z" in result["changes"][0]


def test_issuer_not_yet_valid_is_reissued() -> None:
    root = pki.anchor()
    old = pki.issuer(root, not_before=NOW + timedelta(minutes=1))
    _outcome, result = run(pki.material(root, old))
    assert_reissued_from(result, root, old)
    assert "not valid before" in result["changes"][0]


def test_clock_moving_past_renew_before_triggers_exactly_once() -> None:
    first = fresh()
    due = NOW + timedelta(days=365 - 60)
    assert run(feed(first), now=due - timedelta(seconds=1))[1]["changed"] is False
    _outcome, rotated = run(feed(first), now=due)
    assert rotated["issuer_changed"] is True
    assert run(feed(rotated, feed(first)), now=due)[1]["changed"] is False


def test_forced_issuer_rotation_keeps_the_anchor() -> None:
    root = pki.anchor()
    old = pki.issuer(root)
    _outcome, result = run(pki.material(root, old), force_issuer_rotation=True)
    assert_reissued_from(result, root, old)
    assert "force_issuer_rotation" in result["changes"][0]


def test_issuer_signed_by_a_previous_anchor_of_the_bundle_is_reissued() -> None:
    old_root, new_root = pki.anchor(), pki.anchor()
    old = pki.issuer(old_root)
    _outcome, result = run(pki.material(new_root, old, bundle=[new_root, old_root]))
    assert result["issuer_changed"] is True
    cert(result["issuer_cert_pem"]).verify_directly_issued_by(new_root.cert)
    assert "previous trust anchor" in result["changes"][0]
    assert result["anchor_rotation_phase"] == "issued"


# --- the trust anchor and the clock ----------------------------------------------------------


def test_anchor_within_renew_before_warns_and_is_kept() -> None:
    root = pki.anchor(not_after=NOW + timedelta(days=59))
    mid = pki.issuer(root)
    outcome, result = run(pki.material(root, mid))
    assert result["changed"] is False
    assert len(outcome.warnings) == 1
    assert "anchor_rotation=start" in outcome.warnings[0]
    assert result["next_steps"] == ["start an anchor rotation (anchor_rotation=start)"]
    assert result["trust_anchor_days_left"] == 59


def test_expired_anchor_without_rotation_fails() -> None:
    root = pki.anchor(not_before=NOW - timedelta(days=3650), not_after=NOW - timedelta(days=1))
    mid = pki.issuer(root, not_before=NOW - timedelta(days=30))
    message = fails(pki.material(root, mid))
    assert "trust_anchor_pem: expired on 2030-06-14T12:00:00Z" in message
    assert "anchor_rotation=start" in message
    for phase in ("issue", "finish"):
        assert "trust_anchor_pem: expired" in fails(pki.material(root, mid), anchor_rotation=phase)


def test_anchor_at_its_last_second_is_still_usable() -> None:
    root = pki.anchor(not_after=NOW)
    mid = pki.issuer(root, not_after=NOW + timedelta(days=300))
    outcome, result = run(pki.material(root, mid))
    assert result["changed"] is False
    assert result["trust_anchor_days_left"] == 0
    assert outcome.warnings
    assert "expired" in fails(pki.material(root, mid), now=NOW + timedelta(seconds=1))


def test_anchor_not_yet_valid_fails() -> None:
    root = pki.anchor(not_before=NOW + timedelta(hours=1))
    assert "trust_anchor_pem: is not valid before 2030-06-15T13:00:00Z" in fails(pki.material(root))


def test_now_defaults_to_the_clock() -> None:
    errors = ValidationErrors()
    settings = li.settings_from(errors)
    assert settings is not None
    outcome = li.reconcile(li.load_material(), settings)
    assert abs((outcome.anchor.not_valid_before_utc + li.NOT_BEFORE_BACKDATE - li.utc_now()).total_seconds()) < 60


# --- anchor rotation --------------------------------------------------------------------------


def test_anchor_rotation_start_issue_finish() -> None:
    first = fresh()
    store = feed(first)
    old_root, old_root_key = cert(first["trust_anchor_pem"]), first["trust_anchor_key_pem"]

    started_outcome, started = run(store, anchor_rotation="start")
    store = feed(started, store)
    new_root, new_root_key = cert(started["trust_anchor_pem"]), started["trust_anchor_key_pem"]
    assert new_root != old_root
    assert new_root_key != old_root_key
    assert [item.fingerprint(hashes.SHA256()) for item in bundle(started["trust_bundle_pem"])] == [
        new_root.fingerprint(hashes.SHA256()),
        old_root.fingerprint(hashes.SHA256()),
    ]
    assert started["issuer_cert_pem"] == first["issuer_cert_pem"]  # still the old anchor's until "issue"
    assert (started["anchor_changed"], started["issuer_changed"], started["trust_bundle_changed"]) == (True, False, True)
    assert started["anchor_rotation_phase"] == "started"
    assert started["next_steps"][0] == li.NEXT_PUBLISH_BUNDLE
    assert "restart" in started["next_steps"][1]
    assert started["next_steps"][-1] == "then run anchor_rotation=issue"
    assert started_outcome.before["trust_anchor"]["sha256_fingerprint"] == li.fingerprint(old_root)

    again = run(store, anchor_rotation="start")[1]
    assert again["changed"] is False
    assert again["anchor_rotation_phase"] == "started"
    assert again["trust_anchor_pem"] == started["trust_anchor_pem"]

    issued = run(store, anchor_rotation="issue")[1]
    store = feed(issued, store)
    cert(issued["issuer_cert_pem"]).verify_directly_issued_by(new_root)
    assert issued["trust_bundle_pem"] == started["trust_bundle_pem"]
    assert (issued["anchor_changed"], issued["issuer_changed"], issued["trust_bundle_changed"]) == (False, True, False)
    assert issued["anchor_rotation_phase"] == "issued"
    assert "restart" in issued["next_steps"][1]
    assert issued["next_steps"][-1] == "then run anchor_rotation=finish"
    issued_again = run(store, anchor_rotation="issue")[1]
    assert issued_again["changed"] is False
    assert issued_again["next_steps"] == ["then run anchor_rotation=finish"]

    finished = run(store, anchor_rotation="finish")[1]
    store = feed(finished, store)
    assert finished["trust_bundle_pem"] == finished["trust_anchor_pem"] == started["trust_anchor_pem"]
    assert (finished["anchor_changed"], finished["issuer_changed"], finished["trust_bundle_changed"]) == (False, False, True)
    assert finished["anchor_rotation_phase"] == "finished"
    assert "restart" in finished["next_steps"][-1]
    finished_again = run(store, anchor_rotation="finish")[1]
    assert finished_again["changed"] is False
    assert finished_again["anchor_rotation_phase"] == "none"
    assert run(store)[1]["changed"] is False
    assert store["trust_anchor_key_pem"] == new_root_key


def test_normal_run_during_a_rotation_moves_the_issuer_to_the_new_anchor() -> None:
    store = feed(fresh())
    started = run(store, anchor_rotation="start")[1]
    store = feed(started, store)
    # The issuer is still the previous anchor's, so it is not signed by the current one: re-issued.
    normal = run(store)[1]
    assert normal["issuer_changed"] is True
    assert normal["anchor_rotation_phase"] == "issued"
    assert normal["trust_bundle_pem"] == started["trust_bundle_pem"]
    assert run(feed(normal, store))[1]["changed"] is False


def test_start_reissues_a_due_issuer_from_the_previous_anchor() -> None:
    root = pki.anchor()
    old = pki.issuer(root, not_after=NOW + timedelta(days=10))
    _outcome, result = run(pki.material(root, old), anchor_rotation="start")
    issuer = cert(result["issuer_cert_pem"])
    issuer.verify_directly_issued_by(root.cert)  # the proxies trust only the previous anchor until they restart
    assert result["issuer_changed"] is True
    assert result["anchor_rotation_phase"] == "started"


def test_start_with_an_expired_anchor_issues_from_the_new_one_at_once() -> None:
    root = pki.anchor(not_before=NOW - timedelta(days=3650), not_after=NOW - timedelta(days=1))
    old = pki.issuer(root, not_before=NOW - timedelta(days=100))
    _outcome, result = run(pki.material(root, old), anchor_rotation="start")
    new_root = cert(result["trust_anchor_pem"])
    cert(result["issuer_cert_pem"]).verify_directly_issued_by(new_root)
    assert len(bundle(result["trust_bundle_pem"])) == 2
    assert result["anchor_rotation_phase"] == "issued"
    assert result["next_steps"][-1] == "then run anchor_rotation=finish"


def test_forced_issuer_rotation_during_start_issues_from_the_previous_anchor() -> None:
    started = run(feed(fresh()), anchor_rotation="start", force_issuer_rotation=True)[1]
    cert(started["issuer_cert_pem"]).verify_directly_issued_by(bundle(started["trust_bundle_pem"])[1])
    assert started["issuer_changed"] is True
    assert started["anchor_rotation_phase"] == "started"


@pytest.mark.parametrize("phase", ["start", "issue", "finish"])
def test_rotation_needs_the_current_anchor(phase: str) -> None:
    message = fails(anchor_rotation=phase)
    assert f"anchor_rotation: {phase} needs the current trust anchor" in message


def test_issue_without_a_rotation_in_progress_fails() -> None:
    assert "anchor_rotation: issue needs an anchor rotation in progress" in fails(feed(fresh()), anchor_rotation="issue")


def test_finish_before_issue_fails() -> None:
    store = feed(fresh())
    started = run(store, anchor_rotation="start")[1]
    assert "anchor_rotation: finish would drop the anchor that signed issuer_cert_pem" in fails(feed(started, store), anchor_rotation="finish")


def test_finish_without_a_rotation_is_a_no_op() -> None:
    result = fresh()
    again = run(feed(result), anchor_rotation="finish")[1]
    assert again["changed"] is False
    assert again["anchor_rotation_phase"] == "none"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", MATERIAL_KEYS)
def test_garbage_pem_names_its_input(field: str) -> None:
    root = pki.anchor()
    inputs = pki.material(root, pki.issuer(root), bundle=[root])
    inputs[field] = "garbage" if field.endswith("key_pem") else "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    message = fails(inputs)
    assert f"{field}: is not a PEM" in message


def test_key_that_does_not_match_its_certificate() -> None:
    root, other = pki.anchor(), pki.anchor()
    mid, other_mid = pki.issuer(root), pki.issuer(root)
    inputs = pki.material(root, mid)
    inputs["trust_anchor_key_pem"] = other.key_pem
    inputs["issuer_key_pem"] = other_mid.key_pem
    message = fails(inputs)
    assert "trust_anchor_key_pem: does not match the certificate in trust_anchor_pem" in message
    assert "issuer_key_pem: does not match the certificate in issuer_cert_pem" in message


@pytest.mark.parametrize(("key", "described"), [(lambda: pki.rsa_key(2048), "RSA 2048"), (lambda: pki.ec_key(ec.SECP384R1()), "ECDSA P-384")])
def test_issuer_must_be_p256(key: Any, described: str) -> None:
    root = pki.anchor()
    message = fails(pki.material(root, pki.issuer(root, key=key())))
    assert f"issuer_cert_pem: has a {described} key; Linkerd needs ECDSA P-256 for the issuer" in message


def test_issuer_with_an_ed25519_key_is_refused() -> None:
    root = pki.anchor()
    message = fails(pki.material(root, pki.issuer(root, key=ed25519.Ed25519PrivateKey.generate())))
    assert "issuer_cert_pem: has a Ed25519 key" in message


def test_issuer_without_key_usage_is_accepted() -> None:
    root = pki.anchor()
    mid = pki.issuer(root, key_usage=False)  # Linkerd does not require the extension
    assert run(pki.material(root, mid))[1]["changed"] is False


def test_anchor_key_type_is_checked() -> None:
    root = pki.anchor(key=pki.ec_key(ec.SECP384R1()))
    assert "trust_anchor_pem: has a ECDSA P-384 key; Linkerd needs ECDSA P-256 or RSA 2048 or RSA 4096" in fails(pki.material(root))


def test_issuer_must_be_a_ca() -> None:
    root = pki.anchor()
    message = fails(pki.material(root, pki.issuer(root, ca=False)))
    assert "issuer_cert_pem: is not a CA certificate" in message
    assert "issuer_cert_pem: has a key usage without certSign" in message


def test_anchor_must_be_a_ca_with_room_for_the_issuer() -> None:
    assert "trust_anchor_pem: is not a CA certificate" in fails(pki.material(pki.anchor(ca=False)))
    assert "trust_anchor_pem: is not a CA certificate" in fails(pki.material(pki.anchor(basic_constraints=False)))
    assert "trust_anchor_pem: has path length 0" in fails(pki.material(pki.anchor(path_length=0)))


def test_issuer_not_signed_by_the_given_anchor() -> None:
    root, stranger = pki.anchor(), pki.anchor()
    assert "issuer_cert_pem: is not signed by trust_anchor_pem" in fails(pki.material(root, pki.issuer(stranger)))
    message = fails(pki.material(root, pki.issuer(stranger), bundle=[root, pki.anchor()]))
    assert "issuer_cert_pem: is not signed by trust_anchor_pem or any certificate of trust_bundle_pem" in message


def test_bundle_must_contain_the_anchor() -> None:
    root = pki.anchor()
    assert "trust_bundle_pem: does not contain trust_anchor_pem" in fails(pki.material(root, bundle=[pki.anchor()]))


def test_one_certificate_per_single_input() -> None:
    root = pki.anchor()
    inputs = pki.material(root)
    inputs["trust_anchor_pem"] = root.cert_pem + pki.anchor().cert_pem
    assert "trust_anchor_pem: holds 2 certificates" in fails(inputs)


def test_encrypted_key_is_refused() -> None:
    root = pki.anchor()
    inputs = pki.material(root)
    inputs["trust_anchor_key_pem"] = root.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
    ).decode()
    assert "trust_anchor_key_pem: is an encrypted private key" in fails(inputs)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (("trust_anchor_pem",), "trust_anchor_key_pem: is required with trust_anchor_pem"),
        (("trust_anchor_key_pem",), "trust_anchor_pem: is required with trust_anchor_key_pem"),
        (("trust_anchor_pem", "trust_anchor_key_pem", "issuer_cert_pem"), "issuer_key_pem: is required with issuer_cert_pem"),
        (("issuer_cert_pem", "issuer_key_pem"), "issuer_cert_pem: needs trust_anchor_pem"),
        (("trust_bundle_pem",), "trust_bundle_pem: needs trust_anchor_pem"),
    ],
)
def test_inputs_that_need_each_other(present: tuple[str, ...], expected: str) -> None:
    root = pki.anchor()
    full = pki.material(root, pki.issuer(root), bundle=[root])
    assert expected in fails({key: full[key] for key in present})


def test_messages_never_carry_key_material() -> None:
    root, other = pki.anchor(), pki.anchor()
    inputs = pki.material(root, pki.issuer(root))
    inputs["trust_anchor_key_pem"] = other.key_pem
    inputs["issuer_key_pem"] = inputs["issuer_key_pem"][:-40] + "garbage\n-----END EC PRIVATE KEY-----\n"
    message = fails(inputs)
    assert "PRIVATE KEY-----" not in message
    for pem in (other.key_pem, root.key_pem):
        for line in pem.splitlines()[1:-1]:
            assert line not in message


# --- inspect (no keys) ------------------------------------------------------------------------


def test_inspect_reports_days_chain_and_phase() -> None:
    result = fresh()
    report = li.inspect(result["trust_anchor_pem"], issuer_cert_pem=result["issuer_cert_pem"], trust_bundle_pem=result["trust_bundle_pem"], now=NOW)
    assert report["trust_anchor"]["days_left"] == 3650
    assert report["issuer"]["days_left"] == 365
    assert report["issuer"]["signed_by_trust_anchor"] is True
    assert report["issuer"]["signed_by"] == report["trust_anchor"]["sha256_fingerprint"]
    assert report["issuer"]["key"] == "ECDSA P-256"
    assert (report["phase"], report["problems"]) == ("none", [])
    later = li.inspect(result["trust_anchor_pem"], issuer_cert_pem=result["issuer_cert_pem"], now=NOW + timedelta(days=366))
    assert later["issuer"]["days_left"] == -1
    assert later["problems"] == ["the issuer expired on 2031-06-15T12:00:00Z"]


def test_inspect_during_a_rotation() -> None:
    started = run(feed(fresh()), anchor_rotation="start")[1]
    report = li.inspect(started["trust_anchor_pem"], issuer_cert_pem=started["issuer_cert_pem"], trust_bundle_pem=started["trust_bundle_pem"], now=NOW)
    assert report["phase"] == "started"
    assert len(report["trust_bundle"]) == 2
    assert report["issuer"]["signed_by_trust_anchor"] is False
    assert report["issuer"]["signed_by"] == report["trust_bundle"][1]["sha256_fingerprint"]


def test_inspect_problems() -> None:
    root, stranger = pki.anchor(not_after=NOW - timedelta(days=1), not_before=NOW - timedelta(days=10)), pki.anchor()
    report = li.inspect(root.cert_pem, issuer_cert_pem=pki.issuer(stranger, key=pki.rsa_key()).cert_pem, trust_bundle_pem=stranger.cert_pem, now=NOW)
    assert "the trust bundle does not contain the trust anchor" in report["problems"]
    assert any("expired" in problem for problem in report["problems"])
    assert "the issuer is not an ECDSA P-256 CA certificate" in report["problems"]
    assert report["issuer"]["signed_by_trust_anchor"] is False
    assert li.inspect(root.cert_pem, now=NOW)["issuer"] is None
    orphan = li.inspect(stranger.cert_pem, issuer_cert_pem=pki.issuer(pki.anchor()).cert_pem, now=NOW)
    assert orphan["problems"] == ["the issuer is not signed by any anchor of the trust bundle"]
    assert orphan["issuer"]["signed_by"] is None


def test_inspect_rejects_garbage() -> None:
    with pytest.raises(li.IdentityInputError, match="issuer_cert_pem: is not a PEM certificate"):
        li.inspect(pki.anchor().cert_pem, issuer_cert_pem="garbage")
    with pytest.raises(li.IdentityInputError, match="trust_anchor_pem: is required"):
        li.inspect("")


def test_key_type_names() -> None:
    assert li.key_type(pki.ec_key().public_key()) == "ECDSA P-256"
    assert li.key_type(pki.ec_key(ec.SECP521R1()).public_key()) == "ECDSA P-521"
    assert li.key_type(pki.rsa_key(2048).public_key()) == "RSA 2048"
