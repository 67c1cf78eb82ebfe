# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way this collection's modules build AWS clients and describe AWS errors.

Clients come from amazon.aws's ``AnsibleAWSModule.client`` (so the standard connection
options, environment variables and profiles apply) wrapped with
``AWSRetry.jittered_backoff``. Calls made with ``aws_retry=True`` are retried with
jittered exponential backoff on throttling and on transient server errors, including
bare HTTP 5xx answers whose error code is only the status number, and answers botocore
cannot parse at all (a 5xx text or HTML page in front of IAM or STS, whose answers are XML). botocore's own
(standard mode) retry loop is limited to two attempts per call, so the number of
attempts of a call that keeps failing is bounded: ``retries * 2`` at most (AWSRetry's
``retries`` counts attempts, not re-tries). With the defaults a call that keeps failing
gives up after 6 attempts (12 HTTP requests) and about 8 seconds of backoff on average
(at most 15.5 s of AWSRetry sleeps), so a throttled task waits out a burst but an outage
fails the task within half a minute.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

try:
    import botocore.config
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    # Every exception an AWS call of this collection may raise: catch these, never a bare Exception.
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ResponseParserError)
except ImportError:  # AnsibleAWSModule reports a missing botocore

    class ResponseParserError(Exception):  # type: ignore[no-redef]
        """Stands in for botocore's parser error when botocore is missing."""

    AWS_ERRORS = (ResponseParserError,)  # type: ignore[assignment]


from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# The error code this collection gives an answer botocore could not parse: an HTTP 5xx whose body is a proxy's or
# load balancer's text or HTML page instead of the service's XML or JSON. botocore raises ResponseParserError for
# it (not a ClientError); IAM and STS (XML answers) hit it, and it is transient.
PARSE_ERROR_CODE = "ResponseParserError"

# Error codes retried on top of the ones AWSRetry knows (Throttling, RequestLimitExceeded,
# ServiceUnavailable, InternalFailure, InternalError, TooManyRequestsException, ...).
RETRYABLE_ERROR_CODES: Tuple[str, ...] = (
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "ServiceUnavailableException",
    "InternalServiceError",
    "InternalServiceErrorException",
    "ServerException",
    "500",
    "502",
    "503",
    "504",
    PARSE_ERROR_CODE,
)

DEFAULT_RETRIES = 6
DEFAULT_DELAY = 0.5
DEFAULT_MAX_DELAY = 8.0


class PlatformRetry(AWSRetry):
    """amazon.aws's AWSRetry, also retrying an answer botocore could not parse (see PARSE_ERROR_CODE)."""

    base_class = tuple(error for error in AWS_ERRORS if error.__name__ != "BotoCoreError") or type(None)

    @staticmethod
    def status_code_from_exception(error: BaseException) -> str:
        if isinstance(error, ResponseParserError):
            return PARSE_ERROR_CODE
        return str(AWSRetry.status_code_from_exception(error))


def retry_decorator(retries: int = DEFAULT_RETRIES, delay: float = DEFAULT_DELAY, max_delay: float = DEFAULT_MAX_DELAY) -> Callable:
    """The retry policy of every AWS call in this collection."""
    return PlatformRetry.jittered_backoff(retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=list(RETRYABLE_ERROR_CODES))


def botocore_config() -> Any:
    """botocore settings for our clients: at most two attempts per call; AWSRetry does the rest."""
    return botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 2})


def aws_client(module: Any, service: str, retries: int = DEFAULT_RETRIES, delay: float = DEFAULT_DELAY, max_delay: float = DEFAULT_MAX_DELAY) -> Any:
    """Return a retrying client for ``service`` built from the module's AWS connection options."""
    return module.client(service, retry_decorator=retry_decorator(retries, delay, max_delay), config=botocore_config())


def is_retryable(exception: BaseException) -> bool:
    """Whether the retry policy retries this error (throttling, transient server errors)."""
    return bool(AWSRetry.found(error_code(exception), list(RETRYABLE_ERROR_CODES)))


def retry_note(exception: BaseException, retries: int = DEFAULT_RETRIES) -> str:
    """`` (still failing after 6 attempts with jittered backoff)`` for a retried error, else ``""``: for failure messages."""
    return f" (still failing after {retries} attempts with jittered backoff)" if is_retryable(exception) else ""


def error_code(exception: BaseException) -> str:
    """The AWS error code of a botocore exception (``AccessDeniedException``, ``503``, ...), or its class name."""
    if isinstance(exception, ResponseParserError):
        return PARSE_ERROR_CODE
    response = getattr(exception, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exception).__name__


def error_summary(exception: BaseException) -> str:
    """A one-line description of an AWS error, for per-item failure reports: ``Code: message``."""
    response = getattr(exception, "response", None)
    message = ""
    if isinstance(response, dict):
        message = str(response.get("Error", {}).get("Message") or "")
    if not message:
        message = str(exception)
    return f"{error_code(exception)}: {message}"
