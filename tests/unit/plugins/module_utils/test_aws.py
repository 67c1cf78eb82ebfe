from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.eks_gitops.platform.plugins.module_utils import aws


def client_error(code: str, message: str = "boom", status: int = 400) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "ListSecrets")


class Flaky:
    """Raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.mark.parametrize("code", ["ThrottlingException", "Throttling", "503", "500", "InternalServiceError", "ServiceUnavailable"])
def test_retry_decorator_retries_transient_errors(code: str) -> None:
    flaky = Flaky(client_error(code), client_error(code))
    wrapped = aws.retry_decorator(retries=3, delay=0.001, max_delay=0.001)(flaky)
    assert wrapped() == "ok"
    assert flaky.calls == 3


def test_retry_decorator_does_not_retry_access_denied() -> None:
    flaky = Flaky(client_error("AccessDeniedException"))
    wrapped = aws.retry_decorator(retries=3, delay=0.001, max_delay=0.001)(flaky)
    with pytest.raises(botocore.exceptions.ClientError):
        wrapped()
    assert flaky.calls == 1


def test_retry_decorator_gives_up_after_the_bound() -> None:
    """AWSRetry's ``retries`` is the total number of attempts."""
    flaky = Flaky(*[client_error("503")] * 10)
    wrapped = aws.retry_decorator(retries=4, delay=0.001, max_delay=0.001)(flaky)
    with pytest.raises(botocore.exceptions.ClientError):
        wrapped()
    assert flaky.calls == 4


def test_error_summary_names_code_and_message() -> None:
    assert aws.error_code(client_error("AccessDeniedException")) == "AccessDeniedException"
    assert aws.error_summary(client_error("AccessDeniedException", "not allowed")) == "AccessDeniedException: not allowed"
    assert aws.error_summary(ValueError("plain")) == "ValueError: plain"


def test_botocore_config_bounds_attempts() -> None:
    config = aws.botocore_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_default_policy_gives_up_within_half_a_minute() -> None:
    """6 attempts; the AWSRetry sleeps between them are at most 0.5 + 1 + 2 + 4 + 8 s."""
    assert aws.DEFAULT_RETRIES == 6
    worst_case = sum(min(aws.DEFAULT_DELAY * 2**attempt, aws.DEFAULT_MAX_DELAY) for attempt in range(aws.DEFAULT_RETRIES - 1))
    assert worst_case == 15.5


@pytest.mark.parametrize(
    ("code", "retried"),
    [("ThrottlingException", True), ("503", True), ("Throttling", True), ("AccessDeniedException", False), ("ResourceNotFoundException", False)],
)
def test_retry_note_only_for_retried_errors(code: str, retried: bool) -> None:
    assert aws.is_retryable(client_error(code)) is retried
    note = aws.retry_note(client_error(code))
    assert (note == f" (still failing after {aws.DEFAULT_RETRIES} attempts with jittered backoff)") is retried
    assert retried or note == ""


def parse_error() -> BaseException:
    from botocore.parsers import ResponseParserError

    return ResponseParserError("Unable to parse response (syntax error: line 1, column 0), invalid XML received. Further retries may succeed")


def test_an_answer_botocore_cannot_parse_is_retried_and_named() -> None:
    """A 5xx text page in front of IAM or STS: botocore raises ResponseParserError, not a ClientError."""
    flaky = Flaky(parse_error(), parse_error())
    wrapped = aws.retry_decorator(retries=3, delay=0.001, max_delay=0.001)(flaky)
    assert wrapped() == "ok"
    assert flaky.calls == 3
    assert aws.error_code(parse_error()) == "ResponseParserError"
    assert aws.is_retryable(parse_error())
    assert isinstance(parse_error(), aws.AWS_ERRORS)
