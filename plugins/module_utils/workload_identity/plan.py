# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one shape of the workload identity backends: read, plan, then execute.

A backend's ``plan(spec)`` reads what AWS holds and returns a :class:`Plan`: the writes to make (each a :class:`Step`
that says what it does), the diff sides, and the module's result as the plan leaves AWS. :func:`execute` carries the
steps out (none in check mode), so ``changed`` is exactly "the plan has steps", check mode reports what a real run
does, and a failure half-way reports ``changed`` for the steps already done. :func:`run_module` is the whole of a
module's ``main`` after its input checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, NoReturn, Optional, Protocol

from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import IdentityError


@dataclass
class Step:
    """One write: what it does, in words, and the call that does it."""

    description: str
    run: Callable[[], Any]


@dataclass
class Plan:
    """What a backend will do, and what AWS holds before and after."""

    result: Dict[str, Any]
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    steps: List[Step] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    # Called after the steps ran (never in check mode) to complete the result with what only AWS knows (ids).
    refresh: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None

    def add(self, description: str, run: Callable[[], Any]) -> None:
        self.steps.append(Step(description, run))

    @property
    def changes(self) -> List[str]:
        return [step.description for step in self.steps]


class Backend(Protocol):
    def plan(self, spec: Any) -> Plan: ...


@dataclass
class Outcome:
    changed: bool
    result: Dict[str, Any]
    error: Optional[IdentityError] = None


def execute(plan: Plan, check_mode: bool) -> Outcome:
    """Run the plan's steps in order (none in check mode); stop at the first failure."""
    if check_mode or not plan.steps:
        return Outcome(changed=bool(plan.steps), result=plan.result)
    done = 0
    try:
        for step in plan.steps:
            step.run()
            done += 1
    except IdentityError as error:
        return Outcome(changed=done > 0, result=plan.result, error=error)
    try:
        result = plan.refresh(plan.result) if plan.refresh else plan.result
    except IdentityError as error:
        return Outcome(changed=True, result=plan.result, error=error)
    return Outcome(changed=True, result=result)


def json_diff(before: Dict[str, Any], after: Dict[str, Any], name: str) -> Dict[str, str]:
    """A ``diff`` whose two sides are indented JSON, whatever result format the callback uses."""

    def render(side: Dict[str, Any]) -> str:
        return json.dumps(side, indent=2, sort_keys=True) + "\n" if side else ""

    return {"before": render(before), "after": render(after), "before_header": f"{name} (before)", "after_header": f"{name} (after)"}


def run_module(module: Any, backend: Backend, spec: Any, diff_name: str) -> NoReturn:
    """Plan, execute unless in check mode, and exit the module with the result (and the diff as JSON with ``--diff``),
    or fail with ``changed`` saying whether some writes were done."""
    try:
        plan = backend.plan(spec)
    except IdentityError as error:
        fail(module, error, changed=False)
    for warning in plan.warnings:
        module.warn(warning)
    outcome = execute(plan, module.check_mode)
    if outcome.error is not None:
        fail(module, outcome.error, changed=outcome.changed)
    result = dict(outcome.result)
    if module._diff:
        result["diff"] = json_diff(plan.before, plan.after, diff_name)
    module.exit_json(changed=outcome.changed, **result)


def fail(module: Any, error: IdentityError, **result: Any) -> NoReturn:
    """Fail the module with ``error``; ``result`` (``changed`` and what is known so far) goes along."""
    if error.exception is not None:
        module.fail_json_aws(error.exception, msg=error.message, **result)
    module.fail_json(msg=error.message, **result)
