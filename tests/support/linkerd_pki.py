"""Certificates for Linkerd identity tests: good ones at any point in time, and every kind of bad one.

Built directly with ``cryptography`` (not with the code under test), so that tests can hand
the module material it did not make itself: RSA or P-384 issuers, issuers that are not CAs,
issuers signed by another anchor, material that expired or is not valid yet.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime(2030, 6, 15, 12, 0, 0, tzinfo=UTC)


def ec_key(curve: ec.EllipticCurve | None = None) -> Any:
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key(bits: int = 2048) -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@dataclass
class Pair:
    cert: x509.Certificate
    key: Any

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return key_pem(self.key)

    @property
    def pkcs8_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def key_pem(key: Any) -> str:
    """EC and RSA keys in their traditional PEM form (as Linkerd reads them), other keys as PKCS #8."""
    kind = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, kind, serialization.NoEncryption()).decode()


def make_cert(
    cn: str,
    *,
    key: Any = None,
    signer: Pair | None = None,
    ca: bool = True,
    path_length: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: bool = True,
    basic_constraints: bool = True,
) -> Pair:
    """A certificate for ``cn``: self-signed unless ``signer`` is given; valid a year around NOW by default."""
    key = key or ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer.cert.subject if signer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    signing_key = signer.key if signer else key
    return Pair(builder.sign(signing_key, hashes.SHA256()), key)


def anchor(**kwargs: Any) -> Pair:
    kwargs.setdefault("path_length", 1)
    kwargs.setdefault("not_after", NOW + timedelta(days=3650))
    return make_cert("root.linkerd.cluster.local", **kwargs)


def issuer(signer: Pair, **kwargs: Any) -> Pair:
    kwargs.setdefault("path_length", 0)
    return make_cert("identity.linkerd.cluster.local", signer=signer, **kwargs)


def leaf(signer: Pair, cn: str = "default.default.serviceaccount.identity.linkerd.cluster.local") -> Pair:
    """What Linkerd's identity controller hands a proxy: an end-entity certificate signed by the issuer."""
    return make_cert(cn, signer=signer, ca=False, not_before=datetime.now(UTC) - timedelta(hours=1), not_after=datetime.now(UTC) + timedelta(hours=24))


def material(anchor_pair: Pair, issuer_pair: Pair | None = None, bundle: list[Pair] | None = None) -> dict[str, str]:
    """Module input for the given pairs."""
    values = {"trust_anchor_pem": anchor_pair.cert_pem, "trust_anchor_key_pem": anchor_pair.key_pem}
    if issuer_pair is not None:
        values.update(issuer_cert_pem=issuer_pair.cert_pem, issuer_key_pem=issuer_pair.key_pem)
    if bundle is not None:
        values["trust_bundle_pem"] = "".join(pair.cert_pem for pair in bundle)
    return values


def openssl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the openssl CLI (never with a private key on its command line)."""
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False, timeout=60)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
