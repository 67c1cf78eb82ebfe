# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a :class:`~.planner.Plan`, one secret at a time, capturing each secret's failure.

A failing call stops the remaining calls of that secret only; every other secret is still
reconciled, and the caller fails the task at the end with :func:`failure_summary`. A
second run plans again from what is there, so it completes the rest.

Writes that create a version carry a ``ClientRequestToken`` made once per call, so a
retry of a request whose answer was lost does not create a second version. Generated
values exist only inside :func:`_run_call`: they are sent to AWS and forgotten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import AWS_ERRORS, error_summary
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager.planner import Call, Plan, SecretPlan, changes_of
from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import ValidationErrors

VERSION_WRITES = ("create_secret", "put_secret_value", "update_secret")


@dataclass
class Outcome:
    """What happened to one secret (or, in check mode, what would)."""

    name: str
    state: str
    arn: Optional[str]
    version_id: Optional[str]
    changes: List[str] = field(default_factory=list)
    purged: bool = False
    error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def as_dict(self) -> Dict[str, Any]:
        result: Dict[str, Any] = {
            "name": self.name,
            "state": self.state,
            "arn": self.arn,
            "version_id": self.version_id,
            "changed": self.changed,
            "changes": list(self.changes),
        }
        if self.purged:
            result["purged"] = True
        if self.error:
            result["error"] = self.error
        return result


def validate_policies(client: Any, the_plan: Plan) -> ValidationErrors:
    """Check every resource policy the plan would write with ValidateResourcePolicy, before anything is written."""
    problems = ValidationErrors()
    for secret in the_plan.secrets:
        for call in secret.calls:
            if call.operation != "put_resource_policy":
                continue
            params = {"ResourcePolicy": call.params["ResourcePolicy"]}
            if secret.arn:
                params["SecretId"] = secret.arn
            field_name = f"secrets[name={secret.name}].resource_policy"
            try:
                response = client.validate_resource_policy(aws_retry=True, **params)
            except AWS_ERRORS as exc:
                problems.add(field_name, f"could not be validated: {error_summary(exc)}")
                continue
            if not response.get("PolicyValidationPassed", False):
                reasons = (
                    "; ".join(f"{item.get('CheckName')}: {item.get('ErrorMessage')}" for item in response.get("ValidationErrors", [])) or "no reason given"
                )
                problems.add(field_name, f"failed ValidateResourcePolicy ({reasons})")
    return problems


def execute(client: Any, the_plan: Plan, check_mode: bool = False) -> List[Outcome]:
    """Run the plan (or, in check mode, report it) and return one outcome per secret."""
    return [_execute_secret(client, secret, check_mode) for secret in the_plan.secrets]


def _execute_secret(client: Any, secret: SecretPlan, check_mode: bool) -> Outcome:
    outcome = Outcome(name=secret.name, state=secret.state, arn=secret.arn, version_id=secret.version_id, purged=secret.purged, error=secret.error)
    if secret.error:
        return outcome
    if check_mode:
        outcome.changes = secret.changes
        return outcome
    done: List[Call] = []
    for call in secret.calls:
        try:
            response = _run_call(client, call)
        except AWS_ERRORS as exc:
            outcome.error = f"{_api_name(call.operation)} failed: {error_summary(exc)}"
            if call.operation in ("create_secret", "delete_secret"):
                outcome.state = "absent" if call.operation == "create_secret" else "present"
            break
        done.append(call)
        outcome.arn = response.get("ARN") or outcome.arn
        if call.operation in VERSION_WRITES and response.get("VersionId"):
            outcome.version_id = response["VersionId"]
        if call.operation == "delete_secret":
            outcome.version_id = None
    outcome.changes = changes_of(done)
    return outcome


def _run_call(client: Any, call: Call) -> Dict[str, Any]:
    params = dict(call.params)
    if call.operation in VERSION_WRITES:
        params["ClientRequestToken"] = str(uuid.uuid4())
    if call.generate is not None:
        params["SecretString"] = client.get_random_password(aws_retry=True, **call.generate.request_params())["RandomPassword"]
    return getattr(client, call.operation)(aws_retry=True, **params)


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def failure_summary(outcomes: Sequence[Outcome]) -> Optional[str]:
    """One message naming every secret that failed, or None."""
    failed = [outcome for outcome in outcomes if outcome.error]
    if not failed:
        return None
    reconciled = len(outcomes) - len(failed)
    details = "; ".join(f"{outcome.name}: {outcome.error}" for outcome in failed)
    noun = "secret" if len(outcomes) == 1 else "secrets"
    return (
        f"{len(failed)} of {len(outcomes)} {noun} could not be reconciled ({reconciled} reconciled; "
        f"run again to complete the rest once the cause is fixed): {details}"
    )
