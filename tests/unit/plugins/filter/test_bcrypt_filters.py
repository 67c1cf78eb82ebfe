"""The bcrypt_hash and htpasswd_entry filters, through Ansible's templating (what roles do)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleError

from ansible_collections.eks_gitops.platform.plugins.filter.bcrypt import FilterModule as BcryptFilters
from ansible_collections.eks_gitops.platform.plugins.filter.bcrypt import FilterModule as HtpasswdFilters
from ansible_collections.eks_gitops.platform.plugins.module_utils.bcrypt_hash import bcrypt_matches

PASSWORD = "canary-filter-9c1d"


def test_bcrypt_hash_filter_keeps_a_matching_hash() -> None:
    bcrypt_hash = BcryptFilters().filters()["bcrypt_hash"]
    first = bcrypt_hash(PASSWORD, rounds=4)
    assert bcrypt_matches(PASSWORD, first)
    assert bcrypt_hash(PASSWORD, current=first, rounds="4") == first


def test_htpasswd_entry_filter() -> None:
    entry = HtpasswdFilters().filters()["htpasswd_entry"]
    line = entry(PASSWORD, user="admin", rounds=4)
    assert line.startswith("admin:$2y$04$")
    assert entry(PASSWORD, user="admin", current=line, rounds=4) == line


def test_filter_errors_are_ansible_errors_without_the_password() -> None:
    bcrypt_hash = BcryptFilters().filters()["bcrypt_hash"]
    with pytest.raises(AnsibleError) as excinfo:
        bcrypt_hash(PASSWORD, rounds=99)
    assert "rounds" in str(excinfo.value)
    assert PASSWORD not in str(excinfo.value)
