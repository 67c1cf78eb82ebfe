# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.bcrypt_hash import BcryptError, ensure_bcrypt_hash

DOCUMENTATION = r"""
name: bcrypt_hash
short_description: Idempotent bcrypt hash of a password
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Returns a bcrypt hash of the input password.
  - When O(current) is a bcrypt hash that still verifies the password and has the requested O(ident) and
    O(rounds), O(current) is returned unchanged; otherwise a new hash with a fresh salt is made. A task that
    writes the result therefore changes nothing while the password stays the same.
  - Use it with C(no_log=true) on the task; errors never contain the password.
requirements:
  - bcrypt (Python package, on the controller)
options:
  _input:
    description: The password.
    type: string
    required: true
  current:
    description: The hash in use now (for example read from a Kubernetes Secret), or empty.
    type: string
    default: ""
  rounds:
    description: The bcrypt cost factor.
    type: integer
    default: 10
  ident:
    description:
      - The bcrypt variant prefix. C(2a) is what Argo CD documents; C(2y) is Apache htpasswd's spelling of the
        same algorithm.
    type: string
    default: 2a
    choices: [2a, 2b, 2y]
seealso:
  - plugin: eks_gitops.platform.htpasswd_entry
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Keep Argo CD's admin password hash stable across runs
  no_log: true
  ansible.builtin.set_fact:
    admin_hash: "{{ admin_password | eks_gitops.platform.bcrypt_hash(current=current_secret.data['admin.password'] | default('') | b64decode) }}"
"""

RETURN = r"""
_value:
  description: The bcrypt hash (O(current) when it still fits).
  type: string
"""


def bcrypt_hash(password: str, current: str = "", rounds: int = 10, ident: str = "2a") -> str:
    try:
        return ensure_bcrypt_hash(password, current or None, rounds=int(rounds), ident=str(ident))
    except (BcryptError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.bcrypt_hash: {exc}") from None


class FilterModule:
    """Idempotent bcrypt hashes."""

    def filters(self) -> dict[str, Callable]:
        return {"bcrypt_hash": bcrypt_hash}
