# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM documents for workload identity: trust policies and least-privilege permissions.

Plain functions without AWS calls: they build the documents the ``irsa_role`` module
writes (the IRSA trust policy, the EKS Pod Identity trust policy, the GitHub Actions OIDC
trust policy, the ``secrets_read`` permissions), check documents users give, and compare documents semantically with
amazon.aws's ``compare_policies`` (order-insensitive, ``"x"`` equals ``["x"]``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

POLICY_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
SERVICE_ACCOUNT_ANNOTATION = "eks.amazonaws.com/role-arn"
RANDOM_SUFFIX_PATTERN = "-??????"
SECRETS_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
WILDCARDS = ("*", "?")

# DNS suffix of service endpoints per partition (for kms:ViaService).
_PARTITION_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@*?-]{1,512}$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GIT_BRANCH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_DOCUMENT_KEYS = {"Version", "Id", "Statement"}


@dataclass(frozen=True)
class ServiceAccount:
    """A Kubernetes service account that may assume a role; ``name`` may hold ``*`` / ``?`` wildcards."""

    namespace: str
    name: str

    @property
    def subject(self) -> str:
        """The ``sub`` claim of the service account's projected token."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    @property
    def has_wildcard(self) -> bool:
        return any(char in self.subject for char in WILDCARDS)


def issuer_host_path(issuer_url: str) -> str:
    """``https://oidc.eks.<region>.amazonaws.com/id/<id>`` -> ``oidc.eks.<region>.amazonaws.com/id/<id>``.

    That form names the IAM OIDC provider and prefixes its condition keys (``<host-path>:sub``).
    """
    value = issuer_url.strip()
    if value.lower().startswith("https://"):
        value = value[len("https://") :]
    return value.rstrip("/")


def normalize_issuer_url(issuer_url: str) -> str:
    """The issuer URL as IAM stores it: ``https://`` and no trailing slash."""
    return "https://" + issuer_host_path(issuer_url)


def issuer_url_problem(value: Any) -> Optional[str]:
    """Check an OIDC issuer URL: ``https://`` with a host, no query or fragment."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty https:// URL"
    if not value.lower().startswith("https://"):
        return f"{value!r} is not an https:// URL (IAM OIDC providers need an https issuer)"
    host_path = issuer_host_path(value)
    host = host_path.split("/", 1)[0]
    if not host or any(char in host_path for char in "?#@ ") or not re.match(r"^[A-Za-z0-9.-]+(:[0-9]+)?$", host):
        return f"{value!r} is not a valid issuer URL (https://<host>[/<path>], no query, fragment or credentials)"
    return None


def oidc_provider_arn(partition: str, account_id: str, issuer_url: str) -> str:
    """The ARN IAM gives the OIDC provider of ``issuer_url``."""
    return f"arn:{partition}:iam::{account_id}:oidc-provider/{issuer_host_path(issuer_url)}"


def role_arn(partition: str, account_id: str, role_name: str, path: str = "/") -> str:
    """The ARN of the role ``role_name`` under ``path`` (as IAM builds it)."""
    return f"arn:{partition}:iam::{account_id}:role{path}{role_name}"


def service_account_annotations(arn: Optional[str]) -> Dict[str, str]:
    """The annotations that make a service account use the role through IRSA."""
    return {SERVICE_ACCOUNT_ANNOTATION: arn} if arn else {}


def _one_or_many(values: Sequence[str]) -> Any:
    return values[0] if len(values) == 1 else list(values)


def _unique(values: Iterable[str]) -> List[str]:
    seen: Dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def irsa_trust_policy(provider_arn: str, issuer_url: str, service_accounts: Sequence[ServiceAccount], audience: str = STS_AUDIENCE) -> Dict[str, Any]:
    """The IRSA trust policy: ``sts:AssumeRoleWithWebIdentity`` for exactly these service accounts.

    Every statement pins both ``<issuer>:sub`` and ``<issuer>:aud``. Subjects with wildcards
    are matched with ``StringLike`` in a statement of their own, so that exact subjects keep
    ``StringEquals``.
    """
    if not service_accounts:
        raise ValueError("at least one service account is needed")
    prefix = issuer_host_path(issuer_url)
    exact = _unique(sa.subject for sa in service_accounts if not sa.has_wildcard)
    wildcard = _unique(sa.subject for sa in service_accounts if sa.has_wildcard)
    statements = []
    for subjects, operator in ((exact, "StringEquals"), (wildcard, "StringLike")):
        if not subjects:
            continue
        if operator == "StringEquals":
            condition = {"StringEquals": {f"{prefix}:sub": _one_or_many(subjects), f"{prefix}:aud": audience}}
        else:
            condition = {"StringLike": {f"{prefix}:sub": _one_or_many(subjects)}, "StringEquals": {f"{prefix}:aud": audience}}
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def pod_identity_trust_policy() -> Dict[str, Any]:
    """The EKS Pod Identity trust policy: the ``pods.eks.amazonaws.com`` service may assume and tag."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


@dataclass(frozen=True)
class GitHubRef:
    """A GitHub repository and branch (or deployment environment) whose workflows may assume a role.

    GitHub's OIDC token names the branch in ``sub`` for a job without an ``environment``, and the
    environment instead for a job that deploys to one.
    """

    repository: str
    branch: Optional[str] = None
    environment: Optional[str] = None

    @property
    def subject(self) -> str:
        """The ``sub`` claim of a workflow token of a job on the branch, or of a job in the environment."""
        if self.environment is not None:
            return f"repo:{self.repository}:environment:{self.environment}"
        return f"repo:{self.repository}:ref:refs/heads/{self.branch}"


def github_repository_problem(value: Any) -> Optional[str]:
    """Check ``owner/name``; no wildcards, so the trust stays pinned to one repository."""
    if not isinstance(value, str) or not _GITHUB_REPOSITORY.match(value) or value.split("/", 1)[1] in (".", ".."):
        return f"{value!r} is not a GitHub repository as owner/name (letters, digits, '-' in the owner; letters, digits, '.', '_', '-' in the name)"
    return None


def git_branch_problem(value: Any) -> Optional[str]:
    """Check a branch name (git's ref-name rules; no wildcards, so the trust stays pinned to one branch)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty branch name"
    if value.startswith(("refs/", "/", "-", ".")) or value.endswith(("/", ".", ".lock")) or _GIT_BRANCH_FORBIDDEN.search(value):
        return f"{value!r} is not a branch name (write the name without refs/heads/; no spaces, wildcards, '..', '~', '^', ':' or '\\')"
    return None


def github_environment_problem(value: Any) -> Optional[str]:
    """Check a GitHub deployment environment name (no wildcards, so the trust stays pinned to it)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        return "must be a GitHub environment name of 1 to 255 characters"
    if any(char in value for char in "*?:") or any(ord(char) < 32 for char in value):
        return f"{value!r} is not an environment name GitHub allows in a token subject (no '*', '?', ':' or control characters)"
    return None


def github_actions_trust_policy(provider_arn: str, issuer_url: str, refs: Sequence[GitHubRef], audience: str = STS_AUDIENCE) -> Dict[str, Any]:
    """The GitHub Actions trust policy: ``sts:AssumeRoleWithWebIdentity`` for workflows of exactly these branches.

    One statement pinning ``<issuer>:aud`` to ``audience`` and ``<issuer>:sub`` to
    ``repo:<owner>/<name>:ref:refs/heads/<branch>`` (or ``repo:<owner>/<name>:environment:<name>``) with
    ``StringEquals``: pull requests, tags, other branches and other repositories get no credentials.
    """
    if not refs:
        raise ValueError("at least one repository and branch is needed")
    prefix = issuer_host_path(issuer_url)
    subjects = _unique(ref.subject for ref in refs)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{prefix}:aud": audience, f"{prefix}:sub": _one_or_many(subjects)}},
            }
        ],
    }


def secret_reference_problem(value: Any) -> Optional[str]:
    """Check a secret reference of an IAM policy (``secrets_read``): a Secrets Manager secret name or secret ARN.

    Not the same rule as a secret's own name (secretsmanager.spec.secret_name_problem): a reference may be an ARN
    and may hold the wildcards * and ? (which :func:`wildcard_problem` refuses unless they are asked for)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty secret name or ARN"
    if value.startswith("arn:"):
        details = parse_aws_arn(value)
        if not details or details.get("service") != "secretsmanager" or details.get("resource_type") != "secret":
            return f"{value!r} is not a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)"
        if not details.get("region") or not details.get("account_id"):
            return f"{value!r} is not a Secrets Manager secret ARN: it needs a region and an account id"
        return None
    if not _SECRET_NAME.match(value):
        return f"{value!r} is not a valid secret name (1-512 of A-Z a-z 0-9 / _ + = . @ -, wildcards * and ?)"
    return None


# The pattern of the six random characters Secrets Manager appends to a secret's name in its ARN.
_SUFFIX_WILDCARD = "-??????"


def wildcard_problem(value: Any) -> Optional[str]:
    """A wildcard in a secret reference (other than the ARN's random-suffix pattern ``-??????`` at its end): it grants
    read on every secret it matches, a bare ``*`` on every secret of the account."""
    if not isinstance(value, str):
        return None
    name = value.split(":secret:", 1)[1] if value.startswith("arn:") and ":secret:" in value else value
    if value.startswith("arn:") and name.endswith(_SUFFIX_WILDCARD):
        name = name[: -len(_SUFFIX_WILDCARD)]
    if "*" not in name and "?" not in name:
        return None
    scope = "every secret of the account" if name.strip("*?/") == "" else f"every secret matching {name!r}"
    return f"{value!r} is a wildcard: it grants read on {scope}; name the secrets, or set allow_wildcards: true"


def kms_region_problem(value: Any, secret_regions: Sequence[str]) -> Optional[str]:
    """A KMS key of another region than the secrets: a secret can only be encrypted with a key of its own region."""
    details = parse_aws_arn(value) if isinstance(value, str) else None
    region = (details or {}).get("region")
    if not region or not secret_regions or region in secret_regions:
        return None
    return (
        f"{value!r} is in region {region}, the secrets are in {', '.join(sorted(set(secret_regions)))}: a secret is encrypted with a key of its own "
        "region; give that key, or set allow_cross_region_kms: true"
    )


def kms_key_arn_problem(value: Any) -> Optional[str]:
    """Check a KMS key ARN (``arn:<partition>:kms:<region>:<account>:key/<id>``); aliases do not authorize kms:Decrypt."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty KMS key ARN"
    details = parse_aws_arn(value)
    if not details or details.get("service") != "kms" or details.get("resource_type") != "key" or not details.get("resource_id"):
        return f"{value!r} is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key-id>; alias ARNs cannot grant kms:Decrypt)"
    return None


def secret_resource(partition: str, region: str, account_id: str, secret: str) -> str:
    """The policy resource for a secret: an ARN stays as given; a name gets the six-character suffix pattern."""
    if secret.startswith("arn:"):
        return secret
    return f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{secret}{RANDOM_SUFFIX_PATTERN}"


def _via_service(partition: str, region: str) -> str:
    return f"secretsmanager.{region}.{_PARTITION_DNS_SUFFIX.get(partition, 'amazonaws.com')}"


def secrets_read_policy(partition: str, region: str, account_id: str, secrets: Sequence[str], kms_key_arns: Sequence[str] = ()) -> Dict[str, Any]:
    """Least privilege to read these secrets: ``GetSecretValue`` and ``DescribeSecret`` on exactly them.

    With ``kms_key_arns`` a second statement allows ``kms:Decrypt`` with those keys, and only
    through Secrets Manager in the secrets' regions (``kms:ViaService``).
    """
    if not secrets:
        raise ValueError("at least one secret is needed")
    resources = _unique(secret_resource(partition, region, account_id, secret) for secret in secrets)
    statements: List[Dict[str, Any]] = [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": list(SECRETS_READ_ACTIONS), "Resource": _one_or_many(resources)},
    ]
    keys = _unique(kms_key_arns)
    if keys:
        regions = _unique(str((parse_aws_arn(resource) or {}).get("region") or region) for resource in resources)
        statements.append(
            {
                "Sid": "DecryptSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": _one_or_many(keys),
                "Condition": {"StringEquals": {"kms:ViaService": _one_or_many([_via_service(partition, r) for r in regions])}},
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_name_problem(value: Any) -> Optional[str]:
    """Check the name of an inline policy."""
    if not isinstance(value, str) or not _POLICY_NAME.match(value):
        return f"{value!r} is not a valid policy name (1-128 of A-Z a-z 0-9 + = , . @ _ -)"
    return None


def _statement_problem(statement: Any, index: int) -> Optional[str]:
    where = f"Statement[{index}]"
    if not isinstance(statement, dict):
        return f"{where} must be an object"
    unknown = sorted(set(statement) - _STATEMENT_KEYS)
    if unknown:
        return f"{where} has unknown keys: {', '.join(unknown)}"
    if statement.get("Effect") not in ("Allow", "Deny"):
        return f"{where}.Effect must be 'Allow' or 'Deny'"
    if ("Action" in statement) == ("NotAction" in statement):
        return f"{where} needs exactly one of Action and NotAction"
    if ("Resource" in statement) == ("NotResource" in statement):
        return f"{where} needs exactly one of Resource and NotResource"
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        value = statement.get(key)
        if (
            key in statement
            and not (isinstance(value, str) and value)
            and not (isinstance(value, list) and value and all(isinstance(item, str) and item for item in value))
        ):
            return f"{where}.{key} must be a non-empty string or list of strings"
    if "Condition" in statement and not isinstance(statement["Condition"], dict):
        return f"{where}.Condition must be an object"
    return None


def parse_policy_document(value: Any) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """Read a permissions policy given as a dict or a JSON string; return ``(document, problem)``.

    A document without ``Version`` gets ``2012-10-17`` (IAM would otherwise read it as the
    legacy ``2008-10-17``).
    """
    document = value
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except ValueError as exc:
            return None, f"is not valid JSON ({exc})"
    if not isinstance(document, dict):
        return None, "must be a policy document (an object with Version and Statement)"
    unknown = sorted(set(document) - _DOCUMENT_KEYS)
    if unknown:
        return None, f"has unknown top-level keys: {', '.join(unknown)}"
    if document.get("Version", POLICY_VERSION) not in ("2012-10-17", "2008-10-17"):
        return None, "Version must be '2012-10-17' (or the legacy '2008-10-17')"
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return None, "needs a Statement (an object or a non-empty list of objects)"
    for index, statement in enumerate(statements):
        problem = _statement_problem(statement, index)
        if problem:
            return None, problem
    return {"Version": POLICY_VERSION, **document}, None


def documents_differ(current: Optional[Dict[str, Any]], desired: Optional[Dict[str, Any]]) -> bool:
    """True when two policy documents mean different things (amazon.aws ``compare_policies``)."""
    if current is None or desired is None:
        return current is not desired
    return bool(compare_policies(current, desired))
