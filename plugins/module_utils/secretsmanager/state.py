# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The current state of the secrets a ``secretsmanager_secrets`` task is about, read with few calls.

- ``ListSecrets`` (paginated, 100 per page, planned deletions included) with ``name``
  filters gives metadata, tags, rotation settings and whether a value exists. The names
  are folded into at most 10 prefixes per call (a filter takes 10 values), so 200 names
  under one path cost 2 pages, not 200 calls.
- ``BatchGetSecretValue`` (20 ids per call) reads the values that have to be compared:
  only for secrets with a supplied value that may be overwritten.
- ``DescribeSecret`` (replica regions) and ``GetResourcePolicy`` are called only for the
  secrets whose task entry manages replicas or a policy, and for secrets about to be
  deleted (their replicas must go first).

A failure to read one secret's value or details is recorded on that secret
(``read_error``); a failure to list is raised to the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import AWS_ERRORS, error_summary
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.spec import DesiredSecret, Settings, StoredValue

FILTER_VALUES_MAX = 10  # values in one ListSecrets filter
LIST_PAGE_SIZE = 100  # ListSecrets MaxResults ceiling
BATCH_SIZE = 20  # BatchGetSecretValue SecretIdList ceiling
MAX_PAGES = 10000  # a bound on any pagination loop


@dataclass(frozen=True)
class ReplicaState:
    region: str
    kms_key_id: Optional[str]
    status: Optional[str] = None
    message: Optional[str] = None


@dataclass
class CurrentSecret:
    """A secret as Secrets Manager has it. Fields read on demand stay ``None`` when not needed."""

    name: str
    arn: str
    description: Optional[str] = None
    kms_key_id: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    rotation_enabled: bool = False
    rotation_lambda_arn: Optional[str] = None
    rotation_rules: Dict[str, Any] = field(default_factory=dict)
    version_id: Optional[str] = None  # the AWSCURRENT version; None when the secret holds no value
    stored: Optional[StoredValue] = field(default=None, repr=False)
    replicas: Optional[Dict[str, ReplicaState]] = None
    resource_policy: Optional[Dict[str, Any]] = None
    read_error: Optional[str] = None

    @classmethod
    def from_list_entry(cls, entry: Dict[str, Any]) -> CurrentSecret:
        version_id = None
        for version, stages in (entry.get("SecretVersionsToStages") or {}).items():
            if "AWSCURRENT" in stages:
                version_id = version
        return cls(
            name=entry["Name"],
            arn=entry["ARN"],
            description=entry.get("Description") or None,
            kms_key_id=entry.get("KmsKeyId") or None,
            tags=boto3_tag_list_to_ansible_dict(entry.get("Tags") or []),
            deleted=entry.get("DeletedDate") is not None,
            rotation_enabled=bool(entry.get("RotationEnabled")),
            rotation_lambda_arn=entry.get("RotationLambdaARN") or None,
            rotation_rules=dict(entry.get("RotationRules") or {}),
            version_id=version_id,
        )

    def owned_by(self, key: str, value: str) -> bool:
        return self.tags.get(key) == value


def purge_candidates(current: Dict[str, CurrentSecret], desired_names: Iterable[str], settings: Settings) -> List[CurrentSecret]:
    """The secrets ``purge`` deletes: owned (owner tag key and value), under ``purge_prefix``, not listed."""
    if not (settings.purge and settings.purge_prefix and settings.owner_tag):
        return []
    listed = set(desired_names)
    owner = settings.owner_tag
    return [
        secret
        for name, secret in sorted(current.items())
        if name not in listed and name.startswith(settings.purge_prefix) and secret.owned_by(owner.key, owner.value)
    ]


def name_filter_prefixes(names: Iterable[str], max_values: int = FILTER_VALUES_MAX) -> List[str]:
    """Name prefixes that together match every name, as few as the filter limit allows.

    Prefixes that extend another one are dropped; then adjacent (sorted) prefixes are
    replaced by their longest common prefix, longest first, until at most ``max_values``
    remain or nothing more shares a prefix. More than ``max_values`` prefixes are left
    only when the names share no prefix at all; the caller then makes several queries.
    """
    groups = _without_extensions(sorted(set(names)))
    while len(groups) > max_values:
        common = [_common_prefix_length(groups[position], groups[position + 1]) for position in range(len(groups) - 1)]
        longest = max(common)
        if longest == 0:
            break
        merged: List[str] = []
        for position, group in enumerate(groups):
            if position > 0 and common[position - 1] == longest:
                merged[-1] = merged[-1][:longest]
            else:
                merged.append(group)
        groups = _without_extensions(merged)
    return groups


def _common_prefix_length(left: str, right: str) -> int:
    limit, length = min(len(left), len(right)), 0
    while length < limit and left[length] == right[length]:
        length += 1
    return length


def _without_extensions(sorted_prefixes: Sequence[str]) -> List[str]:
    kept: List[str] = []
    for prefix in sorted_prefixes:
        if kept and prefix.startswith(kept[-1]):
            continue
        kept.append(prefix)
    return kept


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def list_secrets(client: Any, prefixes: Sequence[str]) -> List[Dict[str, Any]]:
    """Every secret (planned deletions included) whose name starts with one of ``prefixes``."""
    entries: Dict[str, Dict[str, Any]] = {}
    for values in chunks(list(prefixes), FILTER_VALUES_MAX):
        params: Dict[str, Any] = {"Filters": [{"Key": "name", "Values": list(values)}], "IncludePlannedDeletion": True, "MaxResults": LIST_PAGE_SIZE}
        for _page in range(MAX_PAGES):
            response = client.list_secrets(aws_retry=True, **params)
            for entry in response.get("SecretList", []):
                entries[entry["ARN"]] = entry
            token = response.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    return list(entries.values())


def read_current(client: Any, desired: Sequence[DesiredSecret], settings: Settings) -> Dict[str, CurrentSecret]:
    """Read what the plan needs to know about ``desired`` (and, with purge, about ``purge_prefix``)."""
    names = [secret.name for secret in desired]
    wanted = set(names)
    prefixes = list(names)
    if settings.purge and settings.purge_prefix:
        prefixes.append(settings.purge_prefix)
    current: Dict[str, CurrentSecret] = {}
    if prefixes:
        for entry in list_secrets(client, name_filter_prefixes(prefixes)):
            name = entry.get("Name", "")
            if name in wanted or (settings.purge and settings.purge_prefix and name.startswith(settings.purge_prefix)):
                current[name] = CurrentSecret.from_list_entry(entry)

    read_values(client, [current[secret.name] for secret in desired if _needs_value(secret, current.get(secret.name))])
    for secret in desired:
        existing = current.get(secret.name)
        if existing is None or existing.read_error:
            continue
        if (secret.state == "present" and secret.replica_regions is not None) or (secret.state == "absent" and _will_delete(secret.force_delete, existing)):
            read_replicas(client, existing)
        if secret.state == "present" and secret.resource_policy is not None and not existing.read_error:
            read_policy(client, existing)
    for candidate in purge_candidates(current, names, settings):
        if _will_delete(settings.force_delete, candidate):
            read_replicas(client, candidate)
    return current


def _needs_value(secret: DesiredSecret, existing: Optional[CurrentSecret]) -> bool:
    """Whether the stored value has to be read to decide if ``secret.value`` must be written."""
    return (
        secret.state == "present"
        and secret.value is not None
        and secret.overwrite
        and existing is not None
        and not existing.deleted  # a secret scheduled for deletion cannot be read; it is restored and written
        and existing.version_id is not None
    )


def _will_delete(force_delete: bool, existing: CurrentSecret) -> bool:
    return not existing.deleted or force_delete


def read_values(client: Any, secrets: Sequence[CurrentSecret]) -> None:
    """Fill ``stored`` of each secret with BatchGetSecretValue, 20 per call; per-id errors go to ``read_error``."""
    by_id = {secret.arn: secret for secret in secrets}
    for batch in chunks(list(by_id), BATCH_SIZE):
        found = set()
        params: Dict[str, Any] = {"SecretIdList": list(batch)}
        try:
            for _page in range(MAX_PAGES):
                response = client.batch_get_secret_value(aws_retry=True, **params)
                for item in response.get("SecretValues", []):
                    secret = by_id.get(item.get("ARN")) or _by_name(secrets, item.get("Name"))
                    if secret is not None:
                        secret.stored = StoredValue(string=item.get("SecretString"), binary=item.get("SecretBinary"))
                        found.add(secret.arn)
                for error in response.get("Errors", []):
                    secret = by_id.get(error.get("SecretId")) or _by_name(secrets, error.get("SecretId"))
                    if secret is not None:
                        secret.read_error = f"reading the value failed: {error.get('ErrorCode')}: {error.get('Message')}"
                        found.add(secret.arn)
                token = response.get("NextToken")
                if not token:
                    break
                params["NextToken"] = token
        except AWS_ERRORS as exc:
            for arn in batch:
                by_id[arn].read_error = f"reading the value failed: {error_summary(exc)}"
            continue
        for arn in batch:
            if arn not in found:
                by_id[arn].read_error = "reading the value failed: BatchGetSecretValue returned neither a value nor an error for it"


def _by_name(secrets: Sequence[CurrentSecret], name: Optional[str]) -> Optional[CurrentSecret]:
    return next((secret for secret in secrets if secret.name == name), None)


def read_replicas(client: Any, secret: CurrentSecret) -> None:
    try:
        response = client.describe_secret(aws_retry=True, SecretId=secret.arn)
    except AWS_ERRORS as exc:
        secret.read_error = f"reading its replica regions failed: {error_summary(exc)}"
        return
    secret.replicas = {
        item["Region"]: ReplicaState(region=item["Region"], kms_key_id=item.get("KmsKeyId"), status=item.get("Status"), message=item.get("StatusMessage"))
        for item in response.get("ReplicationStatus") or []
    }


def read_policy(client: Any, secret: CurrentSecret) -> None:
    try:
        response = client.get_resource_policy(aws_retry=True, SecretId=secret.arn)
    except AWS_ERRORS as exc:
        secret.read_error = f"reading its resource policy failed: {error_summary(exc)}"
        return
    document = response.get("ResourcePolicy")
    try:
        secret.resource_policy = json.loads(document) if document else None
    except ValueError:
        secret.resource_policy = {"unparseable": document}
