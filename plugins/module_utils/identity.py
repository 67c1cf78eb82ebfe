# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workload identity modules share: AWS calls that raise one error type, paging, the account.

Clients are the retrying clients of :func:`aws.aws_client`; every call goes out with
``aws_retry=True``. A failed call raises :class:`IdentityError` (an amazon.aws
``AnsibleAWSError``) that says what was being done, and :func:`fail` turns it into the
module's failure, keeping ``changed`` honest when some writes had already happened.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Collection, Dict, List, Mapping, NoReturn, Optional, Tuple

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import AWS_ERRORS, error_code, retry_note

MAX_PAGES = 1000


class IdentityError(AnsibleAWSError):
    """An AWS call failed, or AWS holds something the input cannot be reconciled with."""


@dataclass(frozen=True)
class AccountInfo:
    """The caller's account and partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""

    account_id: str
    partition: str


def aws_call(method: Callable[..., Dict[str, Any]], action: str, **kwargs: Any) -> Dict[str, Any]:
    """Call ``method`` with retries; a failure raises :class:`IdentityError` naming ``action``."""
    try:
        return method(aws_retry=True, **kwargs)
    except AWS_ERRORS as exc:
        raise IdentityError(message=f"failed to {action}{retry_note(exc)}", exception=exc) from exc


def aws_get(method: Callable[..., Dict[str, Any]], missing: Collection[str], action: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
    """Like :func:`aws_call`, but ``None`` when AWS answers with one of the ``missing`` error codes."""
    try:
        return method(aws_retry=True, **kwargs)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) in missing:
            return None
        raise IdentityError(message=f"failed to {action}", exception=exc) from exc
    except AWS_ERRORS as exc:
        raise IdentityError(message=f"failed to {action}{retry_note(exc)}", exception=exc) from exc


# The answer of a create that finds the entity there: IAM's, and EKS's for associations.
ALREADY_EXISTS = ("EntityAlreadyExists", "ResourceInUseException")


def aws_create(method: Callable[..., Dict[str, Any]], action: str, adopt: Callable[[], Any], **kwargs: Any) -> Dict[str, Any]:
    """Create with retries. When AWS answers that the entity already exists, ``adopt()`` brings it to the desired state
    instead of failing: a create whose answer was lost is retried and finds what it created, and an entity made
    meanwhile by someone else is reconciled like any existing one."""
    try:
        return method(aws_retry=True, **kwargs)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) not in ALREADY_EXISTS:
            raise IdentityError(message=f"failed to {action}{retry_note(exc)}", exception=exc) from exc
    except AWS_ERRORS as exc:
        raise IdentityError(message=f"failed to {action}{retry_note(exc)}", exception=exc) from exc
    adopt()
    return {}


def paginate(method: Callable[..., Dict[str, Any]], action: str, result_key: str, token: str, **kwargs: Any) -> List[Any]:
    """Every item of a paged list call; ``token`` is the paging field (IAM ``Marker``, EKS ``nextToken``)."""
    items: List[Any] = []
    for _page in range(MAX_PAGES):
        response = aws_call(method, action, **kwargs)
        items.extend(response.get(result_key) or [])
        next_token = response.get(token)
        if not next_token:
            return items
        kwargs[token] = next_token
    raise IdentityError(message=f"failed to {action}: more than {MAX_PAGES} pages")


def string_tags(tags: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    """Tags as AWS stores them (string values, ``None`` as empty), or ``None`` when not given."""
    if tags is None:
        return None
    return {str(key): "" if value is None else str(value) for key, value in tags.items()}


def caller_account(sts: Any) -> AccountInfo:
    """The account and partition of the caller, from ``sts:GetCallerIdentity``."""
    identity = aws_call(sts.get_caller_identity, "find the AWS account (sts:GetCallerIdentity)")
    arn = str(identity.get("Arn") or "")
    parts = arn.split(":")
    if len(parts) < 5 or not identity.get("Account"):
        raise IdentityError(message=f"sts:GetCallerIdentity returned an unexpected caller ARN {arn!r}")
    return AccountInfo(account_id=str(identity["Account"]), partition=parts[1])


def json_diff(before: Dict[str, Any], after: Dict[str, Any], name: str) -> Dict[str, str]:
    """A ``diff`` whose two sides are indented JSON, whatever result format the callback uses."""

    def render(side: Dict[str, Any]) -> str:
        return json.dumps(side, indent=2, sort_keys=True) + "\n" if side else ""

    return {"before": render(before), "after": render(after), "before_header": f"{name} (before)", "after_header": f"{name} (after)"}


class Reconciler:
    """What the backends share: check mode, an honest ``changed``, warnings for the module to show."""

    def __init__(self, region: Optional[str], check_mode: bool) -> None:
        self.region = region
        self.check_mode = check_mode
        self.changed = False
        self.warnings: List[str] = []

    def ensure(self, spec: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """Make AWS match ``spec``; return ``(result, diff)`` with ``diff`` as ``{"before": ..., "after": ...}``."""
        raise NotImplementedError


def run_module(module: Any, reconciler: Reconciler, spec: Any, diff_name: str) -> NoReturn:
    """Reconcile, then exit the module with the result (and the diff as JSON with ``--diff``), or fail."""
    try:
        result, diff = reconciler.ensure(spec)
    except IdentityError as error:
        fail(module, error, changed=reconciler.changed)
    for warning in reconciler.warnings:
        module.warn(warning)
    if module._diff:
        result["diff"] = json_diff(diff["before"], diff["after"], diff_name)
    module.exit_json(changed=reconciler.changed, **result)


def fail(module: Any, error: IdentityError, **result: Any) -> NoReturn:
    """Fail the module with ``error``; ``result`` (``changed`` and what is known so far) goes along."""
    if error.exception is not None:
        module.fail_json_aws(error.exception, msg=error.message, **result)
    module.fail_json(msg=error.message, **result)
