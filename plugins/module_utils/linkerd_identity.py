# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linkerd identity material: trust anchor, trust bundle and issuer.

Plain functions over ``cryptography`` behind the ``linkerd_certificates`` modules:

* :func:`parse_duration` reads validities such as ``3650d`` or ``8760h``;
* :func:`load_material` parses and checks what the caller already has (every problem
  is collected under the name of its input);
* :func:`reconcile` decides what to keep and what to (re-)issue, following the profile
  and the trust-anchor rotation procedure that Linkerd documents, and builds the new
  certificates;
* :func:`inspect` reports on certificates without any private key (days left, chain,
  rotation phase).

Every function that looks at the clock takes ``now``, so the time-dependent decisions
can be tested at their edges.

The profile: ECDSA P-256 keys, SHA-256 signatures; the trust anchor is a self-signed
root CA with path length 1, the issuer an intermediate CA with path length 0 signed by
the anchor; both with key usage certSign + cRLSign, critical. Private keys are written
as ``EC PRIVATE KEY`` (SEC 1), the only PEM type Linkerd's identity controller reads.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # the modules report the missing library with an "install cryptography" message
    HAS_CRYPTOGRAPHY = False
    IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    IMPORT_ERROR = None

from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import ValidationErrors

DEFAULT_ANCHOR_VALIDITY = "3650d"
DEFAULT_ISSUER_VALIDITY = "365d"
DEFAULT_RENEW_BEFORE = "60d"
DEFAULT_ANCHOR_COMMON_NAME = "root.linkerd.cluster.local"
DEFAULT_ISSUER_COMMON_NAME = "identity.linkerd.cluster.local"
ROTATION_PHASES = ("start", "issue", "finish")
UTC = timezone.utc  # noqa: UP017 - datetime.UTC needs Python 3.11; modules may run on older Pythons

# What the material looks like after a run (``anchor_rotation_phase``).
PHASE_NONE = "none"  # the bundle holds the current anchor only
PHASE_STARTED = "started"  # new anchor in the bundle beside the old one; the issuer is still the old anchor's
PHASE_ISSUED = "issued"  # the issuer is the new anchor's; the old anchor is still in the bundle
PHASE_FINISHED = "finished"  # this run dropped the old anchor from the bundle

# Generated certificates start this long before "now", so that a controller or node whose
# clock is a little behind the one that issued them still sees them as valid.
NOT_BEFORE_BACKDATE = timedelta(minutes=5)
# The longest validity issued or accepted (an X.509 date ends at 9999-12-31; Linkerd's own docs use 10 years).
MAX_VALIDITY = timedelta(days=100 * 365)

# Key types Linkerd accepts: the issuer must be ECDSA P-256; a trust anchor may also be RSA 2048/4096.
ISSUER_KEY_TYPES = ("ECDSA P-256",)
ANCHOR_KEY_TYPES = ("ECDSA P-256", "RSA 2048", "RSA 4096")

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"^(-)?((?:\d+[smhdwy])+)$")
_DURATION_PART = re.compile(r"(\d+)([smhdwy])")

NEXT_PUBLISH_BUNDLE = "publish trust_bundle_pem to the cluster (ConfigMap linkerd-identity-trust-roots and the identityTrustAnchorsPEM chart value)"
NEXT_WRITE_ISSUER = "write the issuer to the linkerd-identity-issuer Secret (the identity controller reloads it; no restart needed)"


class IdentityInputError(ValueError):
    """Bad input: the message names every offending input and nothing was generated."""

    def __init__(self, errors: ValidationErrors) -> None:
        super().__init__(errors.summary())
        self.errors = errors


# --- durations and dates ------------------------------------------------------------------


def parse_duration(value: Any) -> Tuple[Optional[timedelta], Optional[str]]:
    """Parse ``3650d``, ``8760h``, ``1y30d``, ... (units s, m, h, d, w, y = 365d): ``(duration, problem)``."""
    text = str(value).strip().lower() if value is not None else ""
    match = _DURATION.match(text)
    if not match:
        return None, f"{value!r} is not a duration (a number with a unit s, m, h, d, w or y, for example 365d or 8760h)"
    seconds = sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(match.group(2)))
    if match.group(1):
        return None, f"{value!r} is negative; it must be a positive duration"
    if seconds > MAX_VALIDITY.total_seconds():
        return (
            None,
            f"{value!r} is too long: at most {MAX_VALIDITY.days // 365}y (a certificate must expire before the year 9999)",
        )
    return timedelta(seconds=seconds), None


def utc_now() -> datetime:
    """The current time, timezone-aware and cut to whole seconds (X.509 dates have no fractions)."""
    return datetime.now(UTC).replace(microsecond=0)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso8601(moment: datetime) -> str:
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_left(cert: x509.Certificate, now: datetime) -> int:
    """Whole days until ``cert`` expires (negative once it has)."""
    return int((not_after(cert) - _as_utc(now)).total_seconds() // 86400)


def not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after_utc


def not_before(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before_utc


# --- keys and certificates ----------------------------------------------------------------


def key_type(public_key: Any) -> str:
    """``ECDSA P-256``, ``ECDSA P-384``, ``RSA 2048``, ``Ed25519``, ..."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return "ECDSA " + names.get(public_key.curve.name, public_key.curve.name)
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    return type(public_key).__name__.replace("PublicKey", "").lstrip("_") or "unknown"


def _public_der(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, colon-separated upper-case hex (as ``openssl x509 -fingerprint -sha256``)."""
    return ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256()))


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def bundle_pem(certs: Sequence[x509.Certificate]) -> str:
    return "".join(cert_pem(cert) for cert in certs)


def key_pem(key: Any) -> str:
    """A private key as Linkerd reads it: ``EC PRIVATE KEY`` (SEC 1) or ``RSA PRIVATE KEY`` (PKCS #1), unencrypted."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode("ascii")


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _basic_constraints(cert: x509.Certificate) -> Optional[x509.BasicConstraints]:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _key_usage(cert: x509.Certificate) -> Optional[x509.KeyUsage]:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def is_ca(cert: x509.Certificate) -> bool:
    constraints = _basic_constraints(cert)
    return bool(constraints and constraints.ca)


def path_length(cert: x509.Certificate) -> Optional[int]:
    constraints = _basic_constraints(cert)
    return constraints.path_length if constraints else None


def signed_by(cert: x509.Certificate, signer: x509.Certificate) -> bool:
    """Whether ``signer`` issued ``cert`` (issuer name and signature)."""
    try:
        cert.verify_directly_issued_by(signer)
    except (InvalidSignature, ValueError, TypeError):  # bad signature, issuer name mismatch, unsupported key
        return False
    return True


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _ca_certificate(
    *,
    subject_cn: str,
    public_key: Any,
    signer_key: Any,
    issuer_cert: Optional[x509.Certificate],
    path_len: int,
    now: datetime,
    validity: timedelta,
) -> x509.Certificate:
    now = _as_utc(now)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - NOT_BEFORE_BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer_cert is not None:
        try:
            ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def build_anchor(key: Any, cn: str, now: datetime, validity: timedelta) -> x509.Certificate:
    """A self-signed root CA, path length 1 (room for exactly one issuer below it)."""
    return _ca_certificate(subject_cn=cn, public_key=key.public_key(), signer_key=key, issuer_cert=None, path_len=1, now=now, validity=validity)


def build_issuer(key: Any, cn: str, *, anchor: x509.Certificate, anchor_key: Any, now: datetime, validity: timedelta) -> x509.Certificate:
    """An intermediate CA, path length 0, signed by ``anchor``."""
    return _ca_certificate(subject_cn=cn, public_key=key.public_key(), signer_key=anchor_key, issuer_cert=anchor, path_len=0, now=now, validity=validity)


def describe(cert: Optional[x509.Certificate], now: Optional[datetime] = None) -> Optional[Dict[str, Any]]:
    """Non-secret facts about a certificate, for diffs and reports."""
    if cert is None:
        return None
    facts: Dict[str, Any] = {
        "subject": common_name(cert),
        "serial": f"{cert.serial_number:x}",
        "not_before": iso8601(not_before(cert)),
        "not_after": iso8601(not_after(cert)),
        "key": key_type(cert.public_key()),
        "sha256_fingerprint": fingerprint(cert),
    }
    if now is not None:
        facts["days_left"] = days_left(cert, now)
    return facts


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the caller asks for (validities already parsed)."""

    anchor_validity: timedelta
    issuer_validity: timedelta
    renew_before: timedelta
    anchor_common_name: str = DEFAULT_ANCHOR_COMMON_NAME
    issuer_common_name: str = DEFAULT_ISSUER_COMMON_NAME
    force_issuer_rotation: bool = False
    anchor_rotation: Optional[str] = None


@dataclass
class Material:
    """Parsed identity material. ``bundle`` always contains ``anchor`` (first) when there is one."""

    anchor: Optional[x509.Certificate] = None
    anchor_key: Any = None
    bundle: List[x509.Certificate] = field(default_factory=list)
    issuer: Optional[x509.Certificate] = None
    issuer_key: Any = None
    issuer_key_text: Optional[str] = None  # the key as given, to tell whether re-encoding changed it

    def previous_anchors(self) -> List[x509.Certificate]:
        """The anchors of the bundle other than the current one."""
        current = self.anchor.fingerprint(hashes.SHA256()) if self.anchor is not None else None
        return [cert for cert in self.bundle if cert.fingerprint(hashes.SHA256()) != current]


def settings_from(
    errors: ValidationErrors,
    *,
    anchor_validity: Any = DEFAULT_ANCHOR_VALIDITY,
    issuer_validity: Any = DEFAULT_ISSUER_VALIDITY,
    renew_before: Any = DEFAULT_RENEW_BEFORE,
    anchor_common_name: Optional[str] = DEFAULT_ANCHOR_COMMON_NAME,
    issuer_common_name: Optional[str] = DEFAULT_ISSUER_COMMON_NAME,
    force_issuer_rotation: bool = False,
    anchor_rotation: Optional[str] = None,
) -> Optional[Settings]:
    """Parse and check the options; problems go to ``errors`` (and ``None`` is returned)."""
    renew, problem = parse_duration(renew_before)
    errors.add("renew_before", problem)
    parsed: Dict[str, timedelta] = {}
    for name, value in (("anchor_validity", anchor_validity), ("issuer_validity", issuer_validity)):
        duration, problem = parse_duration(value)
        if problem is None and duration is not None:
            if duration.total_seconds() <= 0:
                problem = f"{value!r} must be longer than zero"
            elif renew is not None and duration <= renew:
                problem = f"{value!r} must be longer than renew_before ({renew_before}), or the certificate would be renewed on every run"
        errors.add(name, problem)
        if duration is not None:
            parsed[name] = duration
    for name, cn in (("anchor_common_name", anchor_common_name), ("issuer_common_name", issuer_common_name)):
        if not isinstance(cn, str) or not cn.strip():
            errors.add(name, "must be a non-empty string")
    if anchor_rotation is not None and anchor_rotation not in ROTATION_PHASES:
        errors.add("anchor_rotation", f"{anchor_rotation!r} is not one of {', '.join(ROTATION_PHASES)}")
    if errors or renew is None:
        return None
    return Settings(
        anchor_validity=parsed["anchor_validity"],
        issuer_validity=parsed["issuer_validity"],
        renew_before=renew,
        anchor_common_name=str(anchor_common_name),
        issuer_common_name=str(issuer_common_name),
        force_issuer_rotation=bool(force_issuer_rotation),
        anchor_rotation=anchor_rotation,
    )


def _present(value: Optional[str]) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _load_certificates(errors: ValidationErrors, name: str, pem: str) -> List[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem.strip().encode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        certs = []
    if not certs:
        errors.add(name, "is not a PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)")
    return certs


def _load_certificate(errors: ValidationErrors, name: str, pem: str) -> Optional[x509.Certificate]:
    certs = _load_certificates(errors, name, pem)
    if len(certs) > 1:
        errors.add(name, f"holds {len(certs)} certificates; give exactly one (other anchors go in trust_bundle_pem)")
        return None
    return certs[0] if certs else None


def _load_key(errors: ValidationErrors, name: str, pem: str) -> Any:
    # Never put the key text, or anything derived from it, into a message.
    try:
        return serialization.load_pem_private_key(pem.strip().encode("utf-8"), password=None)
    except TypeError:
        errors.add(name, "is an encrypted private key; give it unencrypted")
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        errors.add(name, "is not a PEM private key (expected an unencrypted EC, RSA or PKCS #8 key)")
    return None


def _check_ca(errors: ValidationErrors, name: str, cert: x509.Certificate, allowed_keys: Sequence[str], what: str) -> None:
    kind = key_type(cert.public_key())
    if kind not in allowed_keys:
        errors.add(name, f"has a {kind} key; Linkerd needs {' or '.join(allowed_keys)} for the {what}")
    if not is_ca(cert):
        errors.add(name, f"is not a CA certificate (basic constraints CA:TRUE is missing); the {what} must be a CA")
    usage = _key_usage(cert)
    if usage is not None and not usage.key_cert_sign:
        errors.add(name, f"has a key usage without certSign; the {what} must be able to sign certificates")


def _check_key_matches(errors: ValidationErrors, key_name: str, key: Any, cert_name: str, cert: Optional[x509.Certificate]) -> None:
    if key is None or cert is None:
        return
    if _public_der(key.public_key()) != _public_der(cert.public_key()):
        errors.add(key_name, f"does not match the certificate in {cert_name}")


def load_material(
    *,
    trust_anchor_pem: Optional[str] = None,
    trust_anchor_key_pem: Optional[str] = None,
    trust_bundle_pem: Optional[str] = None,
    issuer_cert_pem: Optional[str] = None,
    issuer_key_pem: Optional[str] = None,
    errors: Optional[ValidationErrors] = None,
) -> Material:
    """Parse the caller's material and check everything that does not depend on the clock.

    Empty strings count as absent. Raises :class:`IdentityInputError` naming every bad input.
    """
    errors = errors if errors is not None else ValidationErrors()
    material = Material()
    given = {
        "trust_anchor_pem": _present(trust_anchor_pem),
        "trust_anchor_key_pem": _present(trust_anchor_key_pem),
        "trust_bundle_pem": _present(trust_bundle_pem),
        "issuer_cert_pem": _present(issuer_cert_pem),
        "issuer_key_pem": _present(issuer_key_pem),
    }
    for first, second in (("trust_anchor_pem", "trust_anchor_key_pem"), ("issuer_cert_pem", "issuer_key_pem")):
        if given[first] != given[second]:
            missing, present = (second, first) if given[first] else (first, second)
            errors.add(missing, f"is required with {present}")
    for dependent in ("trust_bundle_pem", "issuer_cert_pem"):
        if given[dependent] and not given["trust_anchor_pem"]:
            errors.add(dependent, "needs trust_anchor_pem (and trust_anchor_key_pem) to be checked against")

    if given["trust_anchor_pem"]:
        material.anchor = _load_certificate(errors, "trust_anchor_pem", str(trust_anchor_pem))
    if given["trust_anchor_key_pem"]:
        material.anchor_key = _load_key(errors, "trust_anchor_key_pem", str(trust_anchor_key_pem))
    if given["issuer_cert_pem"]:
        material.issuer = _load_certificate(errors, "issuer_cert_pem", str(issuer_cert_pem))
    if given["issuer_key_pem"]:
        material.issuer_key = _load_key(errors, "issuer_key_pem", str(issuer_key_pem))
        material.issuer_key_text = str(issuer_key_pem)
    bundle = _load_certificates(errors, "trust_bundle_pem", str(trust_bundle_pem)) if given["trust_bundle_pem"] else []

    if material.anchor is not None:
        _check_ca(errors, "trust_anchor_pem", material.anchor, ANCHOR_KEY_TYPES, "trust anchor")
        if path_length(material.anchor) == 0:
            errors.add("trust_anchor_pem", "has path length 0, which leaves no room for the issuer below it")
        _check_key_matches(errors, "trust_anchor_key_pem", material.anchor_key, "trust_anchor_pem", material.anchor)
        material.bundle = _merge_bundle(errors, material.anchor, bundle, given["trust_bundle_pem"])
    if material.issuer is not None:
        _check_ca(errors, "issuer_cert_pem", material.issuer, ISSUER_KEY_TYPES, "issuer")
        _check_key_matches(errors, "issuer_key_pem", material.issuer_key, "issuer_cert_pem", material.issuer)
        if material.anchor is not None and not any(signed_by(material.issuer, candidate) for candidate in material.bundle):
            where = "trust_anchor_pem or any certificate of trust_bundle_pem" if given["trust_bundle_pem"] else "trust_anchor_pem"
            errors.add("issuer_cert_pem", f"is not signed by {where}")
    if errors:
        raise IdentityInputError(errors)
    return material


def _merge_bundle(errors: ValidationErrors, anchor: x509.Certificate, bundle: List[x509.Certificate], bundle_given: bool) -> List[x509.Certificate]:
    """The bundle with the current anchor first, duplicates dropped, order otherwise kept."""
    merged = [anchor]
    seen = {anchor.fingerprint(hashes.SHA256())}
    for index, cert in enumerate(bundle):
        digest = cert.fingerprint(hashes.SHA256())
        if digest in seen:
            continue
        seen.add(digest)
        _check_ca(errors, f"trust_bundle_pem[{index}]", cert, ANCHOR_KEY_TYPES, "trust anchor")
        merged.append(cert)
    if bundle_given and anchor.fingerprint(hashes.SHA256()) not in {cert.fingerprint(hashes.SHA256()) for cert in bundle}:
        errors.add("trust_bundle_pem", "does not contain trust_anchor_pem; the bundle must hold the current anchor")
    return merged


def prepare(**options: Any) -> Tuple[Material, Settings]:
    """Parse and check the module's options (material and settings) together: every problem at once.

    Raises :class:`IdentityInputError`; material keys are those of :func:`load_material`, the rest
    those of :func:`settings_from`.
    """
    material_names = ("trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem")
    errors = ValidationErrors()
    settings = settings_from(errors, **{name: value for name, value in options.items() if name not in material_names})
    material = load_material(errors=errors, **{name: value for name, value in options.items() if name in material_names})
    if settings is None:  # not reached: load_material raised, the same errors hold the settings' problems
        raise IdentityInputError(errors)
    return material, settings


# --- decisions -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """The material after a run, and what happened to it."""

    anchor: x509.Certificate
    bundle: List[x509.Certificate]
    issuer: x509.Certificate
    issuer_key: Any
    anchor_key: Any = None  # only when the anchor was generated in this run
    return_issuer_key: bool = True  # False when the caller already holds exactly this key text
    anchor_changed: bool = False
    issuer_changed: bool = False
    trust_bundle_changed: bool = False
    phase: str = PHASE_NONE
    changes: List[str] = field(default_factory=list)
    next_steps: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.anchor_changed or self.issuer_changed or self.trust_bundle_changed

    def result(self, now: datetime) -> Dict[str, Any]:
        """The module's return values (the anchor key only when it was generated)."""
        values: Dict[str, Any] = {
            "changed": self.changed,
            "trust_anchor_pem": cert_pem(self.anchor),
            "trust_bundle_pem": bundle_pem(self.bundle),
            "issuer_cert_pem": cert_pem(self.issuer),
            "trust_anchor_not_after": iso8601(not_after(self.anchor)),
            "trust_anchor_days_left": days_left(self.anchor, now),
            "issuer_not_after": iso8601(not_after(self.issuer)),
            "issuer_days_left": days_left(self.issuer, now),
            "anchor_changed": self.anchor_changed,
            "issuer_changed": self.issuer_changed,
            "trust_bundle_changed": self.trust_bundle_changed,
            "anchor_rotation_phase": self.phase,
            "changes": list(self.changes),
            "next_steps": list(self.next_steps),
        }
        # Keys the caller gave are not returned (Ansible would mask them anyway): the caller has them.
        if self.return_issuer_key:
            values["issuer_key_pem"] = key_pem(self.issuer_key)
        if self.anchor_key is not None:
            values["trust_anchor_key_pem"] = key_pem(self.anchor_key)
        return values


def summary(anchor: Optional[x509.Certificate], bundle: Sequence[x509.Certificate], issuer: Optional[x509.Certificate]) -> Dict[str, Any]:
    """What a diff shows: certificates' public facts, never a key."""
    return {
        "trust_anchor": describe(anchor),
        "trust_bundle": [fingerprint(cert) for cert in bundle],
        "issuer": describe(issuer),
    }


def issuer_renewal_reason(material: Material, settings: Settings, now: datetime, *, keep_previous_anchors_issuer: bool = False) -> Optional[str]:
    """Why the issuer must be (re-)issued from the current anchor, or ``None`` to keep it.

    ``keep_previous_anchors_issuer``: an issuer signed by a previous anchor of the bundle is fine
    (a rotation has started and the "issue" phase has not run yet).
    """
    issuer = material.issuer
    if issuer is None:
        return "no issuer was given"
    now = _as_utc(now)
    if now > not_after(issuer):
        return f"it expired on {iso8601(not_after(issuer))}"
    if now < not_before(issuer):
        return f"it is not valid before {iso8601(not_before(issuer))}"
    if not_after(issuer) - now <= settings.renew_before:
        return f"it expires on {iso8601(not_after(issuer))}, {days_left(issuer, now)} days from now, within renew_before"
    if material.anchor is not None and not keep_previous_anchors_issuer and not signed_by(issuer, material.anchor):
        return "it is signed by a previous trust anchor, not by the current one"
    if settings.force_issuer_rotation:
        return "force_issuer_rotation is set"
    return None


def _check_anchor_clock(errors: ValidationErrors, material: Material, settings: Settings, now: datetime) -> None:
    anchor = material.anchor
    if anchor is None:
        return
    if now < not_before(anchor):
        errors.add("trust_anchor_pem", f"is not valid before {iso8601(not_before(anchor))}; check the clock of this machine")
    elif now > not_after(anchor) and settings.anchor_rotation != "start":
        errors.add(
            "trust_anchor_pem",
            f"expired on {iso8601(not_after(anchor))}; replace it with an anchor rotation (anchor_rotation=start, then issue, then finish)",
        )


def _check_rotation_request(errors: ValidationErrors, material: Material, settings: Settings) -> None:
    phase = settings.anchor_rotation
    if phase is None:
        return
    if material.anchor is None or material.anchor_key is None:
        errors.add("anchor_rotation", f"{phase} needs the current trust anchor (trust_anchor_pem and trust_anchor_key_pem)")
        return
    in_progress = bool(material.previous_anchors())
    if phase == "issue" and not in_progress:
        errors.add("anchor_rotation", "issue needs an anchor rotation in progress (trust_bundle_pem holds only the current anchor); run start first")
    if phase == "finish" and in_progress and material.issuer is not None and not signed_by(material.issuer, material.anchor):
        errors.add("anchor_rotation", "finish would drop the anchor that signed issuer_cert_pem; run issue first")


def reconcile(material: Material, settings: Settings, now: Optional[datetime] = None) -> Outcome:
    """Keep what is valid, (re-)issue what is missing or expiring, and drive anchor rotation.

    Raises :class:`IdentityInputError` for material that no run could use as it is (for
    example an expired anchor when no rotation is requested).
    """
    now = _as_utc(now) if now is not None else utc_now()
    errors = ValidationErrors()
    _check_anchor_clock(errors, material, settings, now)
    _check_rotation_request(errors, material, settings)
    if errors:
        raise IdentityInputError(errors)

    before = summary(material.anchor, material.bundle, material.issuer)
    changes: List[str] = []
    next_steps: List[str] = []
    warnings: List[str] = []

    anchor, anchor_key, bundle = material.anchor, material.anchor_key, list(material.bundle)
    anchor_generated = False
    if anchor is None:
        anchor_key = generate_key()
        anchor = build_anchor(anchor_key, settings.anchor_common_name, now, settings.anchor_validity)
        bundle = [anchor]
        anchor_generated = True
        changes.append("generated a new trust anchor (no trust_anchor_pem was given)")

    # Start: a new anchor goes first in the bundle. While the previous anchor is still valid the issuer
    # stays its own (re-issued from it if it must be) until the "issue" phase; an expired anchor
    # protects nothing any more, so the issuer then comes from the new anchor at once.
    start = settings.anchor_rotation == "start" and not material.previous_anchors()
    expired_anchor = now > not_after(anchor)
    rotation_started = False

    def rotate_anchor() -> None:
        nonlocal anchor, anchor_key, bundle, anchor_generated, rotation_started
        previous = anchor
        anchor_key = generate_key()
        anchor = build_anchor(anchor_key, settings.anchor_common_name, now, settings.anchor_validity)
        bundle = [anchor, *bundle]
        anchor_generated = rotation_started = True
        changes.append(f"started an anchor rotation: new trust anchor, bundle of the new and the previous anchor ({fingerprint(previous)})")

    if start and expired_anchor:
        rotate_anchor()
    issuer, issuer_key = material.issuer, material.issuer_key
    working = Material(anchor=anchor, anchor_key=anchor_key, bundle=bundle, issuer=issuer, issuer_key=issuer_key)
    # Re-running "start" keeps the previous anchor's issuer, unless that anchor has expired.
    reason = issuer_renewal_reason(working, settings, now, keep_previous_anchors_issuer=settings.anchor_rotation == "start" and not expired_anchor)
    if reason is not None:
        issuer_key = generate_key()
        issuer = build_issuer(issuer_key, settings.issuer_common_name, anchor=anchor, anchor_key=anchor_key, now=now, validity=settings.issuer_validity)
        changes.append(f"issued a new issuer from the current trust anchor: {reason}")
    issuer_changed = reason is not None
    if start and not expired_anchor:
        rotate_anchor()

    rotation_finished = False
    if settings.anchor_rotation == "finish" and len(bundle) > 1:
        dropped = bundle[1:]
        bundle = [anchor]
        rotation_finished = True
        changes.append("finished the anchor rotation: dropped " + ", ".join(fingerprint(cert) for cert in dropped) + " from the bundle")

    phase = _phase(anchor, bundle, issuer, rotation_finished)
    bundle_changed = [fingerprint(cert) for cert in bundle] != before["trust_bundle"]

    if bundle_changed:
        next_steps.append(NEXT_PUBLISH_BUNDLE)
    if issuer_changed:
        next_steps.append(NEXT_WRITE_ISSUER)
    if phase == PHASE_STARTED:
        if rotation_started:
            next_steps.append("restart the control plane and the meshed workloads, so that every proxy trusts both anchors")
        next_steps.append("then run anchor_rotation=issue")
    elif phase == PHASE_ISSUED:
        if issuer_changed:
            next_steps.append("restart the control plane and the meshed workloads, so that every proxy gets a certificate from the new issuer")
        next_steps.append("then run anchor_rotation=finish")
    elif phase == PHASE_FINISHED:
        next_steps.append("restart the control plane and the meshed workloads, so that no proxy trusts the previous anchor any more")

    anchor_remaining = not_after(anchor) - now
    if settings.anchor_rotation is None and anchor_remaining <= settings.renew_before:
        message = (
            f"the trust anchor expires on {iso8601(not_after(anchor))} ({days_left(anchor, now)} days from now, within renew_before); "
            "rotate it (anchor_rotation=start, then issue, then finish)"
        )
        warnings.append(message)
        next_steps.append("start an anchor rotation (anchor_rotation=start)")

    return Outcome(
        anchor=anchor,
        bundle=bundle,
        issuer=issuer,
        issuer_key=issuer_key,
        anchor_key=anchor_key if anchor_generated else None,
        return_issuer_key=issuer_changed or _reencoded(issuer_key, material.issuer_key_text),
        anchor_changed=anchor_generated,
        issuer_changed=issuer_changed,
        trust_bundle_changed=bundle_changed,
        phase=phase,
        changes=changes,
        next_steps=next_steps,
        warnings=warnings,
        before=before,
        after=summary(anchor, bundle, issuer),
    )


def _reencoded(key: Any, given: Optional[str]) -> bool:
    """Whether the PEM Linkerd needs differs from the text the caller gave (for example PKCS #8 in, SEC 1 out)."""
    return given is None or key_pem(key).strip() != given.strip()


def _phase(anchor: x509.Certificate, bundle: Sequence[x509.Certificate], issuer: x509.Certificate, finished: bool) -> str:
    if finished:
        return PHASE_FINISHED
    if len(bundle) == 1:
        return PHASE_NONE
    return PHASE_ISSUED if signed_by(issuer, anchor) else PHASE_STARTED


# --- reports without keys ------------------------------------------------------------------


def inspect(
    trust_anchor_pem: str, *, issuer_cert_pem: Optional[str] = None, trust_bundle_pem: Optional[str] = None, now: Optional[datetime] = None
) -> Dict[str, Any]:
    """Days left, chain and rotation phase of certificates, without their keys.

    Raises :class:`IdentityInputError` when a certificate cannot be read.
    """
    now = _as_utc(now) if now is not None else utc_now()
    errors = ValidationErrors()
    anchor = _load_certificate(errors, "trust_anchor_pem", trust_anchor_pem) if _present(trust_anchor_pem) else None
    if not _present(trust_anchor_pem):
        errors.add("trust_anchor_pem", "is required")
    issuer = _load_certificate(errors, "issuer_cert_pem", str(issuer_cert_pem)) if _present(issuer_cert_pem) else None
    given_bundle = _load_certificates(errors, "trust_bundle_pem", str(trust_bundle_pem)) if _present(trust_bundle_pem) else []
    if errors or anchor is None:
        raise IdentityInputError(errors)
    bundle = _merge_bundle(ValidationErrors(), anchor, given_bundle, False)
    problems: List[str] = []
    if given_bundle and anchor.fingerprint(hashes.SHA256()) not in {cert.fingerprint(hashes.SHA256()) for cert in given_bundle}:
        problems.append("the trust bundle does not contain the trust anchor")
    for cert in bundle:
        if days_left(cert, now) < 0:
            problems.append(f"trust anchor {fingerprint(cert)} expired on {iso8601(not_after(cert))}")
    report: Dict[str, Any] = {
        "trust_anchor": describe(anchor, now),
        "trust_bundle": [describe(cert, now) for cert in bundle],
        "issuer": describe(issuer, now),
        "phase": PHASE_NONE if len(bundle) == 1 else PHASE_STARTED,
    }
    if issuer is not None:
        signer = next((cert for cert in bundle if signed_by(issuer, cert)), None)
        report["issuer"]["signed_by"] = fingerprint(signer) if signer is not None else None
        report["issuer"]["signed_by_trust_anchor"] = signer is anchor
        if signer is None:
            problems.append("the issuer is not signed by any anchor of the trust bundle")
        if key_type(issuer.public_key()) not in ISSUER_KEY_TYPES or not is_ca(issuer):
            problems.append("the issuer is not an ECDSA P-256 CA certificate")
        if days_left(issuer, now) < 0:
            problems.append(f"the issuer expired on {iso8601(not_after(issuer))}")
        report["phase"] = _phase(anchor, bundle, issuer, False)
    report["problems"] = problems
    return report
