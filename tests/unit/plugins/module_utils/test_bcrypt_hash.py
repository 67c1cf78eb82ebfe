"""Idempotent bcrypt hashes: keep the current hash while it verifies, never re-salt needlessly."""

from __future__ import annotations

import bcrypt
import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils.bcrypt_hash import (
    BcryptError,
    bcrypt_matches,
    ensure_bcrypt_hash,
    ensure_htpasswd_entry,
    parse_hash,
)

PASSWORD = "canary-Pa55word-7f3e"


def test_new_hash_verifies_and_has_the_requested_shape() -> None:
    hashed = ensure_bcrypt_hash(PASSWORD, rounds=4)
    assert parse_hash(hashed) == ("2a", 4)
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())


def test_matching_current_hash_is_kept() -> None:
    first = ensure_bcrypt_hash(PASSWORD, rounds=4)
    assert ensure_bcrypt_hash(PASSWORD, first, rounds=4) == first


def test_two_fresh_hashes_differ_which_is_why_the_current_one_is_kept() -> None:
    assert ensure_bcrypt_hash(PASSWORD, rounds=4) != ensure_bcrypt_hash(PASSWORD, rounds=4)


def test_changed_password_gets_a_new_hash() -> None:
    first = ensure_bcrypt_hash(PASSWORD, rounds=4)
    second = ensure_bcrypt_hash(PASSWORD + "x", first, rounds=4)
    assert second != first
    assert bcrypt_matches(PASSWORD + "x", second)
    assert not bcrypt_matches(PASSWORD, second)


@pytest.mark.parametrize(("ident", "rounds"), [("2y", 4), ("2a", 5)])
def test_other_variant_or_cost_gets_a_new_hash(ident: str, rounds: int) -> None:
    first = ensure_bcrypt_hash(PASSWORD, rounds=4, ident="2a")
    second = ensure_bcrypt_hash(PASSWORD, first, rounds=rounds, ident=ident)
    assert second != first
    assert parse_hash(second) == (ident, rounds)
    assert bcrypt_matches(PASSWORD, second)


def test_2y_hash_is_apache_compatible_and_verifies() -> None:
    hashed = ensure_bcrypt_hash(PASSWORD, rounds=4, ident="2y")
    assert hashed.startswith("$2y$04$")
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    assert ensure_bcrypt_hash(PASSWORD, hashed, rounds=4, ident="2y") == hashed


@pytest.mark.parametrize("current", ["", "garbage", "$2a$04$short", "plain-password", None])
def test_malformed_current_is_replaced(current: str | None) -> None:
    hashed = ensure_bcrypt_hash(PASSWORD, current, rounds=4)
    assert bcrypt_matches(PASSWORD, hashed)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"password": ""}, "non-empty string"),
        ({"password": None}, "non-empty string"),
        ({"rounds": 3}, "rounds"),
        ({"rounds": 32}, "rounds"),
        ({"rounds": True}, "rounds"),
        ({"ident": "1"}, "ident"),
    ],
)
def test_bad_input_is_rejected_without_the_password(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"password": PASSWORD, "rounds": 4, "ident": "2a"} | kwargs
    with pytest.raises(BcryptError, match=message) as excinfo:
        ensure_bcrypt_hash(args.pop("password"), **args)  # type: ignore[arg-type]
    assert PASSWORD not in str(excinfo.value)


def test_htpasswd_entry_is_kept_for_the_same_user_and_password() -> None:
    line = ensure_htpasswd_entry("admin", PASSWORD, rounds=4)
    user, separator, hashed = line.partition(":")
    assert separator == ":"
    assert user == "admin"
    assert hashed.startswith("$2y$04$")
    assert ensure_htpasswd_entry("admin", PASSWORD, line + "\n", rounds=4) == line


def test_htpasswd_entry_of_another_user_is_not_reused() -> None:
    line = ensure_htpasswd_entry("admin", PASSWORD, rounds=4)
    other = ensure_htpasswd_entry("ops", PASSWORD, line, rounds=4)
    assert other.startswith("ops:")
    assert other.partition(":")[2] != line.partition(":")[2]


@pytest.mark.parametrize("user", ["", "a:b", "a\nb"])
def test_htpasswd_entry_rejects_bad_users(user: str) -> None:
    with pytest.raises(BcryptError, match="user name"):
        ensure_htpasswd_entry(user, PASSWORD, rounds=4)
