# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS calls of the workload identity backends, over amazon.aws's error handler and paginator.

Every call goes out through the retrying clients of :func:`module_utils.aws.aws_client` with ``aws_retry=True``, and
every list through amazon.aws's ``paginated_query_with_retries`` with the collection's retry policy. A failure raises
:class:`IdentityError` (an amazon.aws ``AnsibleAWSError``) naming what was being done.

Two places depart from amazon.aws on purpose, both for answers botocore cannot parse (a plain-text or HTML 5xx page in
front of IAM or STS): botocore raises ``ResponseParserError`` for them, which is neither a ``ClientError`` nor a
``BotoCoreError``, so

- :class:`IdentityErrorHandler` is amazon.aws's ``AWSErrorHandler`` whose common handler also catches it (and says
  when a transient error outlasted the retries);
- :func:`caller_account` reads ``sts:GetCallerIdentity`` through the collection's retrying client instead of
  amazon.aws's ``get_aws_account_info``, which retries only AWSRetry's own codes and lets that error escape.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code, paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import AWS_ERRORS, error_code, retry_decorator, retry_note

# The answers that mean "not there": IAM's, and EKS's.
MISSING = ("NoSuchEntity", "ResourceNotFoundException")
# The answers of a create that finds the entity there: IAM's, and EKS's.
ALREADY_EXISTS = ("EntityAlreadyExists", "ResourceInUseException")


class IdentityError(AnsibleAWSError):
    """An AWS call failed, or AWS holds something the input cannot be reconciled with."""


class IdentityErrorHandler(AWSErrorHandler):
    """amazon.aws's error handler, raising :class:`IdentityError`; ``list_error_handler`` answers ``None`` for a
    missing entity."""

    _CUSTOM_EXCEPTION = IdentityError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(list(MISSING))

    @classmethod
    def common_error_handler(cls, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """amazon.aws's common handler, also for an answer botocore cannot parse, with a note on retries."""

        def wrapper(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def handler(*args: Any, **kwargs: Any) -> Any:
                try:
                    return func(*args, **kwargs)
                except AWS_ERRORS as exc:
                    raise cls._CUSTOM_EXCEPTION(message=f"failed to {description}{retry_note(exc)}", exception=exc) from exc

            return handler

        return wrapper


def call(method: Callable[..., Dict[str, Any]], action: str, **kwargs: Any) -> Dict[str, Any]:
    """Call ``method`` with retries; a failure raises :class:`IdentityError` naming ``action``."""
    return IdentityErrorHandler.common_error_handler(action)(method)(aws_retry=True, **kwargs)


def get(method: Callable[..., Dict[str, Any]], action: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
    """Like :func:`call`, but ``None`` when AWS answers that the entity does not exist."""
    return IdentityErrorHandler.list_error_handler(action)(method)(aws_retry=True, **kwargs)


def list_all(client: Any, operation: str, result_key: str, action: str, **params: Any) -> List[Any]:
    """Every item of the paged ``operation`` (amazon.aws's paginator, retried as a whole)."""
    query = IdentityErrorHandler.common_error_handler(action)(paginated_query_with_retries)
    return list(query(client, operation, retry_decorator=retry_decorator(), **params).get(result_key) or [])


def create(method: Callable[..., Dict[str, Any]], action: str, adopt: Callable[[], Any], **kwargs: Any) -> Dict[str, Any]:
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


def string_tags(tags: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    """Tags as AWS stores them (string values, ``None`` as empty), or ``None`` when not given."""
    if tags is None:
        return None
    return {str(key): "" if value is None else str(value) for key, value in tags.items()}


@dataclass(frozen=True)
class AccountInfo:
    """The caller's account and partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""

    account_id: str
    partition: str


def caller_account(sts: Any) -> AccountInfo:
    """The account and partition of the caller, from ``sts:GetCallerIdentity``."""
    identity = call(sts.get_caller_identity, "find the AWS account (sts:GetCallerIdentity)")
    arn = str(identity.get("Arn") or "")
    parts = arn.split(":")
    if len(parts) < 5 or not identity.get("Account"):
        raise IdentityError(message=f"sts:GetCallerIdentity returned an unexpected caller ARN {arn!r}")
    return AccountInfo(account_id=str(identity["Account"]), partition=parts[1])
