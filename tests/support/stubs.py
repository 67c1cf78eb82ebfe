"""botocore Stubber clients for the AWS APIs the moto server lacks or gets wrong.

``stubbed_client(service)`` returns a client wrapped like the modules' clients (so calls
with ``aws_retry=True`` work) and its activated ``Stubber``: every request is checked
against the real API model, every canned response too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import retry_decorator

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"


def stubbed_client(service: str, region: str = REGION) -> tuple[Any, Stubber]:
    """A retry-wrapped client of ``service`` and its (activated) Stubber."""
    client = boto3.client(service, region_name=region, aws_access_key_id="stub-access-key", aws_secret_access_key="stub-secret-key")
    stubber = Stubber(client)
    stubber.activate()
    return RetryingBotoClientWrapper(client, retry_decorator(retries=1, delay=0.001, max_delay=0.001)), stubber


@contextmanager
def all_responses_used(*stubbers: Stubber) -> Iterator[None]:
    """Fail the test if a stubbed call was expected but not made."""
    yield
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
