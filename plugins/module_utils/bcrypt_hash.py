# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotent bcrypt hashes and htpasswd entries.

A bcrypt hash carries a random salt, so hashing the same password twice gives two different
strings: a role that re-hashed on every run would report a change on every run and restart
whatever reads the hash. These helpers keep the current hash while it still verifies the
password (and has the requested variant and cost) and make a new one only otherwise.

Used by the ``bcrypt_hash`` and ``htpasswd_entry`` filters (Argo CD's admin password,
Traefik's basicAuth users). Nothing here ever puts a password into an error message.
"""

from __future__ import annotations

import re
from typing import Optional

try:
    import bcrypt

    HAS_BCRYPT = True
except ImportError:  # pragma: no cover - reported by require_bcrypt()
    bcrypt = None
    HAS_BCRYPT = False

IDENTS = ("2a", "2b", "2y")
MIN_ROUNDS = 4
MAX_ROUNDS = 31
_HASH = re.compile(r"^\$(2[aby])\$(\d{2})\$[./A-Za-z0-9]{53}$")


class BcryptError(ValueError):
    """Bad input to a helper (never carries the password)."""


def require_bcrypt() -> None:
    if not HAS_BCRYPT:
        raise BcryptError("the Python package 'bcrypt' is required on the controller (pip install bcrypt)")


def parse_hash(hashed: str) -> Optional[tuple[str, int]]:
    """``(ident, rounds)`` of a well-formed bcrypt hash, or None."""
    match = _HASH.match(hashed or "")
    if not match:
        return None
    return match.group(1), int(match.group(2))


def _check_options(password: object, rounds: object, ident: object) -> None:
    if not isinstance(password, str) or not password:
        raise BcryptError("the password must be a non-empty string")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        raise BcryptError(f"rounds must be an integer from {MIN_ROUNDS} to {MAX_ROUNDS}")
    if ident not in IDENTS:
        raise BcryptError(f"ident must be one of {', '.join(IDENTS)}")


def bcrypt_matches(password: str, hashed: str) -> bool:
    """True when ``hashed`` is a well-formed bcrypt hash of ``password``."""
    require_bcrypt()
    if not isinstance(hashed, str) or parse_hash(hashed) is None:
        return False
    try:
        return bool(bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii")))
    except ValueError:
        return False


def ensure_bcrypt_hash(password: str, current: Optional[str] = None, rounds: int = 10, ident: str = "2a") -> str:
    """A bcrypt hash of ``password``: ``current`` when it still fits, else a new one.

    ``current`` fits when it verifies ``password`` and has the requested ``ident`` (``2a``,
    ``2b`` or ``2y``: the same algorithm, spelled as the consumer expects) and cost ``rounds``.
    """
    require_bcrypt()
    _check_options(password, rounds, ident)
    if current and parse_hash(current) == (ident, rounds) and bcrypt_matches(password, current):
        return current
    # The bcrypt package makes $2a$ or $2b$ salts; $2y$ is the same algorithm under Apache's name.
    salt = bcrypt.gensalt(rounds=rounds, prefix=b"2a" if ident == "2a" else b"2b")
    hashed = bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")
    return f"${ident}${hashed[4:]}"


def ensure_htpasswd_entry(user: str, password: str, current: Optional[str] = None, rounds: int = 10, ident: str = "2y") -> str:
    """An htpasswd line ``user:<bcrypt hash>``, keeping ``current`` when it is this user's line and still fits."""
    if not isinstance(user, str) or not user or ":" in user or "\n" in user:
        raise BcryptError("the user name must be a non-empty string without ':' or a newline")
    current_hash = None
    if isinstance(current, str) and current.strip():
        line = current.strip()
        current_user, sep, hashed = line.partition(":")
        if sep and current_user == user:
            current_hash = hashed
    return f"{user}:{ensure_bcrypt_hash(password, current_hash, rounds=rounds, ident=ident)}"
