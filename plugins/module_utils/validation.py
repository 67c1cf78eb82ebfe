# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input validation shared by the collection's modules.

Every check is a plain function that returns ``None`` when the value is fine, or a short
sentence saying what is wrong with it. Modules collect the problems of all their inputs
in a :class:`ValidationErrors` under the name of the field (``secrets[3].name``) and
fail once, before anything is written.
"""

from __future__ import annotations

import re
from typing import Any, List, Mapping, Optional

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KMS_KEY_ID = re.compile(r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
IAM_ROLE_NAME_MAX = 64
IAM_PATH_MAX = 512
EKS_CLUSTER_NAME_MAX = 100
AWS_TAG_KEY_MAX = 128
AWS_TAG_VALUE_MAX = 256
AWS_MAX_TAGS = 50
_IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]+$")
_IAM_PATH = re.compile(r"^/([\x21-\x7e]*/)?$")
_EKS_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*$")


class ValidationErrors:
    """Collects ``field: problem`` messages so that all bad input is reported at once."""

    def __init__(self) -> None:
        self._messages: List[str] = []

    def add(self, field: str, problem: Optional[str]) -> None:
        """Record ``problem`` for ``field``; a ``None`` problem is ignored."""
        if problem:
            self._messages.append(f"{field}: {problem}")

    @property
    def messages(self) -> List[str]:
        return list(self._messages)

    def __bool__(self) -> bool:
        return bool(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def summary(self) -> str:
        """One message for ``fail_json``: every problem, each naming its field."""
        count = len(self._messages)
        noun = "problem" if count == 1 else "problems"
        return f"invalid input ({count} {noun}, nothing was changed): " + "; ".join(self._messages)


def dns1123_label_problem(value: Any) -> Optional[str]:
    """Check a Kubernetes name that must be a DNS-1123 label (namespaces, service accounts' namespaces)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > DNS1123_LABEL_MAX:
        return f"must be at most {DNS1123_LABEL_MAX} characters, got {len(value)}"
    if not _DNS1123_LABEL.match(value):
        return f"{value!r} is not a valid DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"
    return None


def dns1123_subdomain_problem(value: Any) -> Optional[str]:
    """Check a Kubernetes name that must be a DNS-1123 subdomain (most object names, service accounts)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"must be at most {DNS1123_SUBDOMAIN_MAX} characters, got {len(value)}"
    if not _DNS1123_SUBDOMAIN.match(value):
        return f"{value!r} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)"
    return None


def arn_problem(value: Any, service: Optional[str] = None, resource_type: Optional[str] = None) -> Optional[str]:
    """Check an ARN, optionally of a given service and resource type (``arn:aws:lambda:...:function:x``)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty ARN string"
    details = parse_aws_arn(value)
    if not details:
        return f"{value!r} is not a valid ARN (expected arn:<partition>:<service>:<region>:<account>:<resource>)"
    if service and details.get("service") != service:
        return f"{value!r} is not an ARN of service {service!r}"
    if resource_type and details.get("resource_type") != resource_type:
        return f"{value!r} is not an ARN of a {service or ''} {resource_type!r} resource".replace("  ", " ")
    return None


def kms_key_id_problem(value: Any) -> Optional[str]:
    """Check a KMS key reference: key id, multi-region key id, alias name, key ARN or alias ARN."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if _KMS_KEY_ID.match(value) or _KMS_ALIAS.match(value):
        return None
    details = parse_aws_arn(value)
    if details and details.get("service") == "kms":
        resource = details.get("resource") or ""
        kind, _sep, name = resource.partition("/")
        if (kind == "key" and _KMS_KEY_ID.match(name)) or (kind == "alias" and _KMS_ALIAS.match(resource)):
            return None
    return f"{value!r} is not a KMS key id, alias (alias/<name>), key ARN or alias ARN"


def iam_role_name_problem(value: Any) -> Optional[str]:
    """Check an IAM role name: 1-64 of letters, digits and ``+=,.@_-``."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > IAM_ROLE_NAME_MAX:
        return f"must be at most {IAM_ROLE_NAME_MAX} characters, got {len(value)}"
    if not _IAM_ROLE_NAME.match(value):
        return f"{value!r} is not a valid IAM role name (letters, digits and + = , . @ _ -)"
    return None


def iam_path_problem(value: Any) -> Optional[str]:
    """Check an IAM path: ``/`` or ``/<segments>/`` of printable ASCII, at most 512 characters."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > IAM_PATH_MAX:
        return f"must be at most {IAM_PATH_MAX} characters, got {len(value)}"
    if not _IAM_PATH.match(value) or "//" in value:
        return f"{value!r} is not a valid IAM path (it starts and ends with '/', for example /platform/)"
    return None


def eks_cluster_name_problem(value: Any) -> Optional[str]:
    """Check an EKS cluster name: 1-100 of letters, digits, '-' and '_', starting with a letter or digit."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > EKS_CLUSTER_NAME_MAX:
        return f"must be at most {EKS_CLUSTER_NAME_MAX} characters, got {len(value)}"
    if not _EKS_CLUSTER_NAME.match(value):
        return f"{value!r} is not a valid EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit)"
    return None


def tag_key_problem(key: Any) -> Optional[str]:
    """Check an AWS tag name: 1-128 characters, not starting with the reserved ``aws:``."""
    if not isinstance(key, str) or not key:
        return "tag names must be non-empty strings"
    if len(key) > AWS_TAG_KEY_MAX:
        return f"tag names must be at most {AWS_TAG_KEY_MAX} characters"
    if key.lower().startswith("aws:"):
        return "the aws: prefix is reserved for AWS"
    return None


def tag_value_problem(value: Any, scalars: bool = False) -> Optional[str]:
    """Check an AWS tag value: a string of at most 256 characters (with ``scalars``, also a number, a boolean or
    None, which the caller turns into a string)."""
    if scalars and (value is None or isinstance(value, (bool, int, float))):
        value = "" if value is None else str(value)
    if not isinstance(value, str):
        return f"tag values must be strings, got {type(value).__name__} (quote it)"
    if len(value) > AWS_TAG_VALUE_MAX:
        return f"tag values must be at most {AWS_TAG_VALUE_MAX} characters"
    return None


def check_aws_tags(errors: ValidationErrors, field: str, tags: Any, max_tags: int = AWS_MAX_TAGS, scalars: bool = False) -> bool:
    """Record the problems of a tag dict (a mapping, how many, each name and value) under ``field``; True when
    there is none. The one tag check of the collection (IAM roles and Pod Identity associations take ``scalars``)."""
    if not isinstance(tags, Mapping):
        errors.add(field, f"must be a mapping of tag names to string values, got {type(tags).__name__}")
        return False
    before = len(errors)
    if len(tags) > max_tags:
        errors.add(field, f"at most {max_tags} tags are allowed, got {len(tags)}")
    for key, value in tags.items():
        errors.add(f"{field}.{key}", tag_key_problem(key))
        errors.add(f"{field}.{key}", tag_value_problem(value, scalars))
    return len(errors) == before
