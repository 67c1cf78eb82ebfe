# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look for secret material in documents that must hold none (Argo CD Application specs, Helm values).

:func:`scan` walks a document and reports where it finds

* one of the ``known`` secret values (the platform's own passwords and keys, compared exactly, also
  inside longer strings and base64-encoded);
* a PEM private key, an AWS access key id, a bcrypt or htpasswd hash, a JSON web token;
* a non-empty string under a key that names a secret (``password``, ``token``, ``privateKey``, ...),
  unless the key says it is a reference (``existingSecret``, ``passwordSecretRef``, ``secretName``: such
  keys do not end in a secret word).

A finding is a path and a reason, never the value, so a report of findings is safe to print.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

MIN_KNOWN_LENGTH = 8

_PATTERNS = (
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a bcrypt hash", re.compile(r"\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
# Key names (lower case, without "-", "_" and ".") whose string values are secrets.
_SECRET_KEYS = {
    "password",
    "passwd",
    "clientsecret",
    "secretkey",
    "secretaccesskey",
    "awssecretaccesskey",
    "token",
    "accesstoken",
    "apitoken",
    "bearertoken",
    "apikey",
    "privatekey",
    "sshprivatekey",
    "tlskey",
    "keypem",
    "htpasswd",
    "users",
}
# Endings of key names whose string values are secrets (``adminPassword``, ``githubToken``).
_SECRET_SUFFIXES = ("password", "passwd", "token", "privatekey", "clientsecret", "secretaccesskey")
# Beginnings of key names that refer to a secret kept elsewhere (``existingSecretPassword``).
_REFERENCE_PREFIXES = ("existing",)


def _key(value: Any) -> str:
    return re.sub(r"[-_.]", "", str(value)).lower()


def _secret_key(key: Any) -> bool:
    name = _key(key)
    if name.startswith(_REFERENCE_PREFIXES):
        return False
    return name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def _encodings(value: str) -> List[str]:
    raw = value.encode("utf-8")
    return [value, base64.b64encode(raw).decode("ascii")]


def _strings(value: Any) -> Iterable[str]:
    """Every string in ``value``, also inside mappings (their values) and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _known_values(known: Iterable[Any]) -> List[str]:
    values = []
    for value in _strings(list(known or ())):
        if len(value) >= MIN_KNOWN_LENGTH:
            values.extend(_encodings(value))
    return values


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string_reason(value: str, known: Sequence[str]) -> Optional[str]:
    if any(secret in value for secret in known):
        return "one of the platform's secret values"
    for reason, pattern in _PATTERNS:
        if pattern.search(value):
            return reason
    return None


def _scan(value: Any, path: str, known: Sequence[str], findings: List[Dict[str, str]], key: Any = None) -> None:
    """One finding per path at most: a known value, else a pattern, else a secret-like key."""
    if isinstance(value, Mapping):
        for child_key, item in value.items():
            _scan(item, _join(path, str(child_key)), known, findings, child_key)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _scan(item, f"{path}[{index}]", known, findings)
    elif isinstance(value, str):
        reason = _string_reason(value, known)
        if reason is None and key is not None and value.strip() and _secret_key(key):
            reason = f"a value under the secret-like key {str(key)!r}"
        if reason:
            findings.append({"path": path, "reason": reason})


def scan(document: Any, known: Iterable[Any] = (), path: str = "") -> List[Dict[str, str]]:
    """Every place in ``document`` that holds secret material, as ``{path, reason}`` (no values)."""
    findings: List[Dict[str, str]] = []
    _scan(document, path, _known_values(known), findings)
    return findings


def scan_many(documents: Mapping[str, Any], known: Iterable[Any] = ()) -> List[Dict[str, str]]:
    """:func:`scan` over named documents (``{"Application argocd/root-dev": spec}``); paths start with the name."""
    known_values = _known_values(known)
    findings: List[Dict[str, str]] = []
    for name in sorted(documents):
        _scan(documents[name], str(name), known_values, findings)
    return findings
