# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.bcrypt_hash import BcryptError, ensure_htpasswd_entry

DOCUMENTATION = r"""
name: htpasswd_entry
short_description: Idempotent htpasswd line (user and bcrypt hash)
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Returns C(user:<bcrypt hash of the input password>), the format of an htpasswd file and of Traefik's
    basicAuth C(users).
  - When O(current) is this user's line and its hash still verifies the password (same O(ident) and O(rounds)),
    O(current) is returned unchanged, so the Secret holding it does not change between runs.
  - Use it with C(no_log=true) on the task; errors never contain the password.
requirements:
  - bcrypt (Python package, on the controller)
options:
  _input:
    description: The password.
    type: string
    required: true
  user:
    description: The user name (no C(:)).
    type: string
    required: true
  current:
    description: The line in use now, or empty.
    type: string
    default: ""
  rounds:
    description: The bcrypt cost factor.
    type: integer
    default: 10
  ident:
    description: The bcrypt variant prefix; C(2y) is the htpasswd convention.
    type: string
    default: 2y
    choices: [2a, 2b, 2y]
seealso:
  - plugin: eks_gitops.platform.bcrypt_hash
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Traefik dashboard basicAuth users, stable across runs
  no_log: true
  ansible.builtin.set_fact:
    dashboard_users: "{{ dashboard_password | eks_gitops.platform.htpasswd_entry(user='admin', current=current_line) }}"
"""

RETURN = r"""
_value:
  description: The htpasswd line (O(current) when it still fits).
  type: string
"""


def htpasswd_entry(password: str, user: str, current: str = "", rounds: int = 10, ident: str = "2y") -> str:
    try:
        return ensure_htpasswd_entry(user, password, current or None, rounds=int(rounds), ident=str(ident))
    except (BcryptError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.htpasswd_entry: {exc}") from None


class FilterModule:
    """Idempotent htpasswd entries."""

    def filters(self) -> dict[str, Callable]:
        return {"htpasswd_entry": htpasswd_entry}
