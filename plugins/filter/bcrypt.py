# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotent bcrypt filters: ``bcrypt_hash`` (Argo CD's admin password) and ``htpasswd_entry`` (Traefik's basicAuth
users). Their documentation is in ``bcrypt_hash.yml`` and ``htpasswd_entry.yml`` beside this file; the hashing is
:mod:`module_utils.bcrypt_hash`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.bcrypt_hash import BcryptError, ensure_bcrypt_hash, ensure_htpasswd_entry


def _filter(name: str, run: Callable[[], str]) -> str:
    """``run()``, with a failure as the filter's error; the message never holds the password."""
    try:
        return run()
    except (BcryptError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.{name}: {exc}") from None


def bcrypt_hash(password: str, current: str = "", rounds: Any = 10, ident: str = "2a") -> str:
    return _filter("bcrypt_hash", lambda: ensure_bcrypt_hash(password, current or None, rounds=int(rounds), ident=str(ident)))


def htpasswd_entry(password: str, user: str, current: str = "", rounds: Any = 10, ident: str = "2y") -> str:
    return _filter("htpasswd_entry", lambda: ensure_htpasswd_entry(user, password, current or None, rounds=int(rounds), ident=str(ident)))


class FilterModule:
    """Idempotent bcrypt hashes and htpasswd entries."""

    def filters(self) -> dict[str, Callable]:
        return {"bcrypt_hash": bcrypt_hash, "htpasswd_entry": htpasswd_entry}
