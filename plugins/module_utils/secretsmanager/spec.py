# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired state of ``secretsmanager_secrets``: typed, normalised and validated input.

:func:`parse` turns the module parameters into :class:`Settings` and one
:class:`DesiredSecret` per list entry. Every problem of every entry is collected in a
:class:`~..validation.ValidationErrors` under the field's name, ``secrets[3].name`` for an
entry without a usable name and ``secrets[name=app/db].recovery_window_days`` otherwise,
so that one run reports all bad input at once, before anything is read or written.

Secret values are held in :class:`SecretValue`, whose ``repr`` never shows the data, and
no message built here quotes a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import (
    ValidationErrors,
    arn_problem,
    check_aws_tags,
    kms_key_id_problem,
    tag_key_problem,
    tag_value_problem,
)

NAME_MAX = 512
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")
VALUE_MAX_BYTES = 65536
DESCRIPTION_MAX = 2048
RECOVERY_WINDOW_MIN = 7
RECOVERY_WINDOW_MAX = 30
DEFAULT_RECOVERY_WINDOW = 30
ROTATION_DAYS_MIN = 1
ROTATION_DAYS_MAX = 1000
PASSWORD_LENGTH_MIN = 1
PASSWORD_LENGTH_MAX = 4096
DEFAULT_PASSWORD_LENGTH = 32
DEFAULT_KMS_KEY = "alias/aws/secretsmanager"
_REGION = re.compile(r"^([a-z]+-)+\d+$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (hour|hours|day|days)\)|cron\([0-9A-Za-z#?*/, -]+\))$")
_DURATION = re.compile(r"^\d{1,2}h$")
VALUE_OPTIONS = ("value", "json", "binary")


def canonical_json(data: Any) -> str:
    """The one JSON form values are stored and compared in (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class SecretValue:
    """A secret value: ``string`` (SecretString), ``json`` (canonical SecretString) or ``binary`` (SecretBinary)."""

    kind: str
    data: Union[str, bytes]

    def __repr__(self) -> str:
        return f"SecretValue(kind={self.kind!r}, data=<hidden>)"

    def request_params(self) -> Dict[str, Any]:
        """The value as CreateSecret / PutSecretValue / UpdateSecret parameters."""
        if self.kind == "binary":
            return {"SecretBinary": self.data}
        return {"SecretString": self.data}

    def matches(self, stored: Optional[StoredValue]) -> bool:
        """Whether ``stored`` holds the same content (JSON compared in canonical form)."""
        if stored is None:
            return False
        if self.kind == "binary":
            return stored.binary is not None and stored.binary == self.data
        if stored.string is None:
            return False
        if self.kind == "json":
            try:
                return canonical_json(json.loads(stored.string)) == self.data
            except ValueError:
                return False
        return stored.string == self.data


@dataclass(frozen=True)
class StoredValue:
    """The AWSCURRENT value read from Secrets Manager (one of the two is set)."""

    string: Optional[str] = None
    binary: Optional[bytes] = None

    def __repr__(self) -> str:
        return "StoredValue(<hidden>)"


@dataclass(frozen=True)
class Generate:
    """GetRandomPassword settings for a value generated once, when the secret is created."""

    length: int = DEFAULT_PASSWORD_LENGTH
    exclude_characters: Optional[str] = None
    exclude_numbers: bool = False
    exclude_punctuation: bool = False
    exclude_uppercase: bool = False
    exclude_lowercase: bool = False
    include_space: bool = False
    require_each_included_type: bool = True

    def request_params(self) -> Dict[str, Any]:
        params: Dict[str, Any] = {
            "PasswordLength": self.length,
            "ExcludeNumbers": self.exclude_numbers,
            "ExcludePunctuation": self.exclude_punctuation,
            "ExcludeUppercase": self.exclude_uppercase,
            "ExcludeLowercase": self.exclude_lowercase,
            "IncludeSpace": self.include_space,
            "RequireEachIncludedType": self.require_each_included_type,
        }
        if self.exclude_characters:
            params["ExcludeCharacters"] = self.exclude_characters
        return params


@dataclass(frozen=True)
class Replica:
    region: str
    kms_key_id: Optional[str] = None

    def request_params(self) -> Dict[str, str]:
        params = {"Region": self.region}
        if self.kms_key_id:
            params["KmsKeyId"] = self.kms_key_id
        return params

    def view(self) -> Dict[str, Any]:
        return {"region": self.region, "kms_key_id": self.kms_key_id}


@dataclass(frozen=True)
class Rotation:
    """Rotation settings; ``enabled=False`` turns rotation off (CancelRotateSecret)."""

    enabled: bool = True
    lambda_arn: Optional[str] = None
    days: Optional[int] = None
    schedule_expression: Optional[str] = None
    duration: Optional[str] = None
    rotate_immediately: bool = False

    def rules(self) -> Dict[str, Any]:
        rules: Dict[str, Any] = {}
        if self.days is not None:
            rules["AutomaticallyAfterDays"] = self.days
        if self.schedule_expression is not None:
            rules["ScheduleExpression"] = self.schedule_expression
        if self.duration is not None:
            rules["Duration"] = self.duration
        return rules

    def view(self) -> Dict[str, Any]:
        if not self.enabled:
            return {"enabled": False}
        view: Dict[str, Any] = {"enabled": True, "lambda_arn": self.lambda_arn}
        view.update(
            {
                key: value
                for key, value in (("days", self.days), ("schedule_expression", self.schedule_expression), ("duration", self.duration))
                if value is not None
            }
        )
        return view


@dataclass(frozen=True)
class OwnerTag:
    key: str
    value: str


@dataclass(frozen=True)
class Settings:
    """Module-level options."""

    purge: bool = False
    purge_prefix: Optional[str] = None
    owner_tag: Optional[OwnerTag] = None
    purge_tags: bool = True
    recovery_window_days: int = DEFAULT_RECOVERY_WINDOW
    force_delete: bool = False
    validate_resource_policies: bool = True
    region: Optional[str] = None


@dataclass(frozen=True)
class DesiredSecret:
    """One entry of ``secrets``. ``None`` means "not managed": the current setting is kept."""

    name: str
    state: str = "present"
    value: Optional[SecretValue] = None
    generate: Optional[Generate] = None
    overwrite: bool = True
    description: Optional[str] = None
    kms_key_id: Optional[str] = None
    tags: Optional[Dict[str, str]] = None
    replica_regions: Optional[Tuple[Replica, ...]] = None
    resource_policy: Optional[Dict[str, Any]] = None
    block_public_policy: bool = True
    rotation: Optional[Rotation] = None
    recovery_window_days: int = DEFAULT_RECOVERY_WINDOW
    force_delete: bool = False

    @property
    def field(self) -> str:
        """How messages name this entry: ``secrets[name=app/db]``."""
        return f"secrets[name={self.name}]"

    def desired_tags(self, owner_tag: Optional[OwnerTag]) -> Optional[Dict[str, str]]:
        """The tags this secret must carry (its own plus the owner tag), or None if tags are not managed."""
        if self.tags is None and owner_tag is None:
            return None
        tags = dict(self.tags or {})
        if owner_tag is not None:
            tags[owner_tag.key] = owner_tag.value
        return tags


# --- single-field checks: each returns None or a sentence (never quoting a secret value) ---


def secret_name_problem(value: Any) -> Optional[str]:
    """Check a secret name as Secrets Manager accepts it: 1-512 of letters, digits and ``/_+=.@-``."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > NAME_MAX:
        return f"must be at most {NAME_MAX} characters, got {len(value)}"
    if not _NAME.match(value):
        bad = sorted({char for char in value if not _NAME.match(char)})
        return f"{value!r} contains characters Secrets Manager refuses ({''.join(bad)!r}); allowed are letters, digits and / _ + = . @ -"
    return None


def recovery_window_problem(value: Any) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer number of days"
    if not RECOVERY_WINDOW_MIN <= value <= RECOVERY_WINDOW_MAX:
        return f"must be between {RECOVERY_WINDOW_MIN} and {RECOVERY_WINDOW_MAX} days, got {value} (use force_delete for deletion without recovery)"
    return None


def tag_problems(tags: Any, field: str, errors: ValidationErrors) -> Optional[Dict[str, str]]:
    """Validate a tag mapping (validation.check_aws_tags); return it when every name and value is fine."""
    return dict(tags) if check_aws_tags(errors, field, tags) else None


# --- parsing ---------------------------------------------------------------------


def parse(params: Mapping[str, Any], region: Optional[str] = None) -> Tuple[Settings, List[DesiredSecret], ValidationErrors]:
    """Normalise and validate the module parameters. Nothing is returned for entries with problems."""
    errors = ValidationErrors()
    settings = _parse_settings(params, region, errors)
    desired: List[DesiredSecret] = []
    seen: Dict[str, int] = {}
    entries = params.get("secrets")
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        errors.add("secrets", "must be a list of secrets")
        return settings, desired, errors
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            errors.add(f"secrets[{index}]", f"must be a mapping, got {type(entry).__name__}")
            continue
        name = entry.get("name")
        name_problem = secret_name_problem(name)
        if name_problem:
            errors.add(f"secrets[{index}].name", name_problem)
            continue
        if name in seen:
            errors.add(f"secrets[{index}].name", f"{name!r} is listed twice (first as secrets[{seen[name]}])")
            continue
        seen[name] = index
        secret = _parse_secret(name, entry, settings, errors)
        if secret is not None:
            desired.append(secret)
    return settings, desired, errors


def _parse_settings(params: Mapping[str, Any], region: Optional[str], errors: ValidationErrors) -> Settings:
    owner_tag = None
    owner = params.get("owner_tag")
    if owner is not None:
        if not isinstance(owner, Mapping):
            errors.add("owner_tag", "must be a mapping with key and value")
        else:
            key, value = owner.get("key"), owner.get("value")
            key_problem, value_problem = tag_key_problem(key), tag_value_problem(value)
            errors.add("owner_tag.key", key_problem)
            errors.add("owner_tag.value", value_problem)
            if not key_problem and not value_problem:
                owner_tag = OwnerTag(key=key, value=value)
    purge = bool(params.get("purge"))
    purge_prefix = params.get("purge_prefix")
    if purge_prefix is not None:
        if not isinstance(purge_prefix, str) or not purge_prefix:
            errors.add("purge_prefix", "must be a non-empty name prefix")
            purge_prefix = None
        elif not _NAME.match(purge_prefix) or len(purge_prefix) > NAME_MAX:
            errors.add("purge_prefix", f"{purge_prefix!r} is not a possible secret name prefix (letters, digits and / _ + = . @ -)")
            purge_prefix = None
    if purge and (owner is None or params.get("purge_prefix") is None):
        missing = " and ".join(
            option for option, given in (("owner_tag", owner is not None), ("purge_prefix", params.get("purge_prefix") is not None)) if not given
        )
        errors.add("purge", f"needs {missing}: purge only deletes secrets that carry the owner tag under purge_prefix, it never deletes what it does not own")
    recovery = params.get("recovery_window_days")
    if recovery is None:
        recovery = DEFAULT_RECOVERY_WINDOW
    else:
        errors.add("recovery_window_days", recovery_window_problem(recovery))
    return Settings(
        purge=purge,
        purge_prefix=purge_prefix,
        owner_tag=owner_tag,
        purge_tags=bool(params.get("purge_tags", True)),
        recovery_window_days=recovery if isinstance(recovery, int) else DEFAULT_RECOVERY_WINDOW,
        force_delete=bool(params.get("force_delete")),
        validate_resource_policies=bool(params.get("validate_resource_policies", True)),
        region=region,
    )


def _parse_secret(name: str, entry: Mapping[str, Any], settings: Settings, errors: ValidationErrors) -> Optional[DesiredSecret]:
    field = f"secrets[name={name}]"
    before = len(errors)

    state = entry.get("state") or "present"
    if state not in ("present", "absent"):
        errors.add(f"{field}.state", f"must be present or absent, got {state!r}")

    given = [option for option in VALUE_OPTIONS if entry.get(option) is not None]
    generate_spec = entry.get("generate")
    if len(given) > 1:
        errors.add(field, f"give only one of value, json and binary (got {', '.join(given)})")
    if given and generate_spec is not None:
        errors.add(field, f"generate makes the value: do not give {given[0]} as well")
    value = _parse_value(entry, given[0], field, errors) if len(given) == 1 else None
    generate = _parse_generate(generate_spec, f"{field}.generate", errors) if generate_spec is not None else None

    description = entry.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > DESCRIPTION_MAX):
        errors.add(f"{field}.description", f"must be a string of at most {DESCRIPTION_MAX} characters")

    kms_key_id = entry.get("kms_key_id")
    if kms_key_id is not None:
        errors.add(f"{field}.kms_key_id", kms_key_id_problem(kms_key_id))

    tags = None
    if entry.get("tags") is not None:
        tags = tag_problems(entry["tags"], f"{field}.tags", errors)
        owner = settings.owner_tag
        if tags is not None and owner is not None and owner.key in tags and tags[owner.key] != owner.value:
            errors.add(f"{field}.tags.{owner.key}", f"is the owner tag; its value is set by owner_tag ({owner.value!r})")

    replicas = _parse_replicas(entry.get("replica_regions"), f"{field}.replica_regions", settings.region, errors)
    policy = _parse_policy(entry.get("resource_policy"), f"{field}.resource_policy", errors)
    rotation = _parse_rotation(entry.get("rotation"), f"{field}.rotation", errors)

    recovery = entry.get("recovery_window_days")
    force_delete = entry.get("force_delete")
    if recovery is not None:
        errors.add(f"{field}.recovery_window_days", recovery_window_problem(recovery))
        if force_delete:
            errors.add(f"{field}.force_delete", "deletes without recovery: do not give recovery_window_days as well")

    if len(errors) != before:
        return None
    return DesiredSecret(
        name=name,
        state=state,
        value=value,
        generate=generate,
        overwrite=entry.get("overwrite") is not False,
        description=description,
        kms_key_id=kms_key_id,
        tags=tags,
        replica_regions=replicas,
        resource_policy=policy,
        block_public_policy=entry.get("block_public_policy") is not False,
        rotation=rotation,
        recovery_window_days=recovery if recovery is not None else settings.recovery_window_days,
        force_delete=settings.force_delete if force_delete is None else bool(force_delete),
    )


def _parse_value(entry: Mapping[str, Any], option: str, field: str, errors: ValidationErrors) -> Optional[SecretValue]:
    raw = entry[option]
    if option == "json":
        if not isinstance(raw, (Mapping, list)):
            errors.add(f"{field}.json", f"must be a mapping or a list, got {type(raw).__name__} (use value for a plain string)")
            return None
        try:
            text = canonical_json(raw)
        except (TypeError, ValueError) as exc:
            errors.add(f"{field}.json", f"cannot be stored as JSON ({type(exc).__name__})")
            return None
        return _sized(SecretValue("json", text), len(text.encode("utf-8")), f"{field}.json", errors)
    if option == "binary":
        if not isinstance(raw, str) or not raw.strip():
            errors.add(f"{field}.binary", "must be a non-empty base64 string")
            return None
        try:
            data = base64.b64decode("".join(raw.split()), validate=True)
        except (binascii.Error, ValueError):
            errors.add(f"{field}.binary", "is not valid base64")
            return None
        if not data:
            errors.add(f"{field}.binary", "decodes to no bytes")
            return None
        return _sized(SecretValue("binary", data), len(data), f"{field}.binary", errors)
    if not isinstance(raw, str):
        errors.add(f"{field}.value", f"must be a string, got {type(raw).__name__} (use json for structured data)")
        return None
    if not raw:
        errors.add(f"{field}.value", "must not be empty (Secrets Manager stores at least one character)")
        return None
    return _sized(SecretValue("string", raw), len(raw.encode("utf-8")), f"{field}.value", errors)


def _sized(value: SecretValue, size: int, field: str, errors: ValidationErrors) -> Optional[SecretValue]:
    if size > VALUE_MAX_BYTES:
        errors.add(field, f"is {size} bytes; Secrets Manager stores at most {VALUE_MAX_BYTES}")
        return None
    return value


def _parse_generate(spec: Any, field: str, errors: ValidationErrors) -> Optional[Generate]:
    if not isinstance(spec, Mapping):
        errors.add(field, "must be a mapping of GetRandomPassword settings")
        return None
    length = spec.get("length")
    if length is None:
        length = DEFAULT_PASSWORD_LENGTH
    if isinstance(length, bool) or not isinstance(length, int) or not PASSWORD_LENGTH_MIN <= length <= PASSWORD_LENGTH_MAX:
        errors.add(f"{field}.length", f"must be an integer from {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX}")
        return None
    exclude = spec.get("exclude_characters")
    if exclude is not None and not isinstance(exclude, str):
        errors.add(f"{field}.exclude_characters", "must be a string of characters")
        return None
    flags = {
        key: bool(spec[key]) if spec.get(key) is not None else default
        for key, default in (
            ("exclude_numbers", False),
            ("exclude_punctuation", False),
            ("exclude_uppercase", False),
            ("exclude_lowercase", False),
            ("include_space", False),
            ("require_each_included_type", True),
        )
    }
    if flags["exclude_numbers"] and flags["exclude_punctuation"] and flags["exclude_uppercase"] and flags["exclude_lowercase"] and not flags["include_space"]:
        errors.add(field, "excludes every kind of character")
        return None
    return Generate(length=length, exclude_characters=exclude or None, **flags)


def _parse_replicas(spec: Any, field: str, region: Optional[str], errors: ValidationErrors) -> Optional[Tuple[Replica, ...]]:
    if spec is None:
        return None
    if not isinstance(spec, list):
        errors.add(field, "must be a list of {region, kms_key_id}")
        return None
    replicas: List[Replica] = []
    seen = set()
    for position, item in enumerate(spec):
        where = f"{field}[{position}]"
        if not isinstance(item, Mapping):
            errors.add(where, "must be a mapping with region and optional kms_key_id")
            continue
        replica_region = item.get("region")
        if not isinstance(replica_region, str) or not _REGION.match(replica_region):
            errors.add(f"{where}.region", f"{replica_region!r} is not an AWS region name (like eu-central-1)")
            continue
        if replica_region == region:
            errors.add(f"{where}.region", f"{replica_region} is the secret's own region")
        if replica_region in seen:
            errors.add(f"{where}.region", f"{replica_region} is listed twice")
        seen.add(replica_region)
        kms = item.get("kms_key_id")
        if kms is not None:
            errors.add(f"{where}.kms_key_id", kms_key_id_problem(kms))
        replicas.append(Replica(region=replica_region, kms_key_id=kms))
    return tuple(sorted(replicas, key=lambda replica: replica.region))


def _parse_policy(spec: Any, field: str, errors: ValidationErrors) -> Optional[Dict[str, Any]]:
    if spec is None:
        return None
    policy = spec
    if isinstance(spec, str):
        try:
            policy = json.loads(spec) if spec.strip() else {}
        except ValueError:
            errors.add(field, "is not valid JSON")
            return None
    if not isinstance(policy, Mapping):
        errors.add(field, f"must be a policy document (a mapping), got {type(policy).__name__}")
        return None
    if policy and not isinstance(policy.get("Statement"), (list, Mapping)):
        errors.add(f"{field}.Statement", "a policy document needs a Statement (use {} to remove the policy)")
        return None
    return dict(policy)


def _parse_rotation(spec: Any, field: str, errors: ValidationErrors) -> Optional[Rotation]:
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        errors.add(field, "must be a mapping")
        return None
    if spec.get("enabled") is False:
        return Rotation(enabled=False)
    before = len(errors)
    lambda_arn = spec.get("lambda_arn")
    if lambda_arn is None:
        errors.add(f"{field}.lambda_arn", "is required to turn rotation on (set enabled: false to turn it off)")
    else:
        errors.add(f"{field}.lambda_arn", arn_problem(lambda_arn, service="lambda", resource_type="function"))
    days, schedule, duration = spec.get("days"), spec.get("schedule_expression"), spec.get("duration")
    if (days is None) == (schedule is None):
        errors.add(field, "give exactly one of days and schedule_expression")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not ROTATION_DAYS_MIN <= days <= ROTATION_DAYS_MAX):
        errors.add(f"{field}.days", f"must be an integer from {ROTATION_DAYS_MIN} to {ROTATION_DAYS_MAX}")
    if schedule is not None and (not isinstance(schedule, str) or not _SCHEDULE.match(schedule)):
        errors.add(f"{field}.schedule_expression", f"{schedule!r} is not a rate(N days|hours) or cron(...) expression")
    if duration is not None and (not isinstance(duration, str) or not _DURATION.match(duration)):
        errors.add(f"{field}.duration", f"{duration!r} is not a window in hours like 3h")
    if len(errors) != before:
        return None
    return Rotation(
        enabled=True,
        lambda_arn=lambda_arn,
        days=days,
        schedule_expression=schedule,
        duration=duration,
        rotate_immediately=bool(spec.get("rotate_immediately")),
    )
