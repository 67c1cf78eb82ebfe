# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``eks_access_entry`` backend: an IAM principal's access to an EKS cluster's Kubernetes API.

An access entry maps an IAM role (or user) to a Kubernetes identity: its groups and user name, and the EKS access
policies associated with it, each with a scope (the whole cluster, or some namespaces). A hub's Argo CD reaches a
spoke with ``awsAuthConfig`` through such an entry on the spoke.

:func:`parse_access_entry_params` checks every input before any AWS call; :meth:`AccessEntry.plan` reads the cluster
(``DescribeCluster``), the entry (``DescribeAccessEntry``), all its associated policies in one paged list, and, only
when policies are to be associated, the catalogue of access policies (``ListAccessPolicies``, so an unknown policy is
refused before any write). It plans the writes; :func:`~.plan.execute` carries them out.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import (
    ValidationErrors,
    arn_problem,
    check_aws_tags,
    eks_cluster_name_problem,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import (
    IdentityError,
    call,
    create,
    get,
    list_all,
    string_tags,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Plan

STANDARD = "STANDARD"
TYPES = (STANDARD, "EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX")
SCOPE_CLUSTER = "cluster"
SCOPE_NAMESPACE = "namespace"
# Prefixes EKS keeps for itself: a group or user name of an access entry must not start with one.
RESERVED_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
# A namespace of a scope: a DNS-1123 label, optionally ending in * (EKS matches it as a prefix).
_SCOPE_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$|^[a-z0-9][-a-z0-9]{0,61}\*$|^\*$")


@dataclass(frozen=True)
class PolicyAssociation:
    """An access policy with its scope; ``namespaces`` is sorted, empty for the cluster scope."""

    policy_arn: str
    scope: str = SCOPE_CLUSTER
    namespaces: Tuple[str, ...] = ()

    def request(self) -> Dict[str, Any]:
        scope: Dict[str, Any] = {"type": self.scope}
        if self.scope == SCOPE_NAMESPACE:
            scope["namespaces"] = list(self.namespaces)
        return scope

    def view(self) -> Dict[str, Any]:
        return {"policy_arn": self.policy_arn, "access_scope": {"type": self.scope, "namespaces": list(self.namespaces)}}

    @classmethod
    def from_aws(cls, associated: Mapping[str, Any]) -> PolicyAssociation:
        scope = associated.get("accessScope") or {}
        return cls(str(associated.get("policyArn")), str(scope.get("type") or SCOPE_CLUSTER), tuple(sorted(scope.get("namespaces") or [])))


@dataclass
class AccessEntrySpec:
    """The checked input of ``eks_access_entry``."""

    cluster_name: str
    principal_arn: str
    state: str = "present"
    type: Optional[str] = None
    kubernetes_groups: Optional[List[str]] = None
    username: Optional[str] = None
    access_policies: Optional[List[PolicyAssociation]] = None
    purge_access_policies: bool = True
    tags: Optional[Dict[str, str]] = None
    purge_tags: bool = True


def principal_arn_problem(value: Any) -> Optional[str]:
    """An IAM role or user ARN; not an STS session (EKS maps the role, not one session of it)."""
    problem = arn_problem(value, service="iam")
    if problem:
        details = parse_aws_arn(value) if isinstance(value, str) else None
        if details and details.get("service") == "sts":
            return f"{value!r} is an STS session; give the ARN of the IAM role it assumed (arn:<partition>:iam::<account>:role/<name>)"
        return problem
    resource = str((parse_aws_arn(value) or {}).get("resource") or "")
    if not resource.startswith(("role/", "user/")):
        return f"{value!r} is not the ARN of an IAM role or user"
    return None


def kubernetes_name_problem(value: Any, what: str) -> Optional[str]:
    if not isinstance(value, str) or not value.strip():
        return f"{what} must be a non-empty string"
    if value.startswith(RESERVED_PREFIXES):
        return f"{what} {value!r} starts with a prefix EKS keeps for itself ({', '.join(RESERVED_PREFIXES)})"
    return None


def _parse_policies(raw: Any, errors: ValidationErrors) -> Optional[List[PolicyAssociation]]:
    if raw is None:
        return None
    policies: List[PolicyAssociation] = []
    seen: Dict[str, int] = {}
    for index, entry in enumerate(raw):
        where = f"access_policies[{index}]"
        arn = entry.get("policy_arn")
        if not isinstance(arn, str) or not _POLICY_ARN.match(arn):
            errors.add(f"{where}.policy_arn", f"{arn!r} is not an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/<name>)")
            continue
        if arn in seen:
            errors.add(f"{where}.policy_arn", f"{arn} is listed twice (also at access_policies[{seen[arn]}]); give it one scope")
            continue
        seen[arn] = index
        scope = entry.get("access_scope") or {}
        kind = scope.get("type") or SCOPE_CLUSTER
        namespaces = list(scope.get("namespaces") or [])
        if kind == SCOPE_NAMESPACE and not namespaces:
            errors.add(f"{where}.access_scope.namespaces", "a namespace scope needs at least one namespace")
        if kind == SCOPE_CLUSTER and namespaces:
            errors.add(f"{where}.access_scope.namespaces", "a cluster scope takes no namespaces (use type: namespace)")
        for position, namespace in enumerate(namespaces):
            if not isinstance(namespace, str) or not _SCOPE_NAMESPACE.match(namespace):
                errors.add(f"{where}.access_scope.namespaces[{position}]", f"{namespace!r} is not a namespace name (a DNS-1123 label, or a prefix ending in *)")
        policies.append(PolicyAssociation(arn, kind, tuple(sorted(set(namespaces)))))
    return policies


def parse_access_entry_params(params: Mapping[str, Any]) -> Tuple[AccessEntrySpec, ValidationErrors]:
    """Check the module's parameters; return the spec and every problem found (each naming its field)."""
    errors = ValidationErrors()
    errors.add("cluster_name", eks_cluster_name_problem(params.get("cluster_name")))
    errors.add("principal_arn", principal_arn_problem(params.get("principal_arn")))
    state = params.get("state") or "present"
    entry_type = params.get("type")
    standard = entry_type in (None, STANDARD)
    groups = params.get("kubernetes_groups")
    if groups is not None:
        if not standard:
            errors.add("kubernetes_groups", f"only an entry of type {STANDARD} takes groups; EKS gives type {entry_type} its own")
        for index, group in enumerate(groups):
            errors.add(f"kubernetes_groups[{index}]", kubernetes_name_problem(group, "a group"))
    username = params.get("username")
    if username is not None:
        if not standard:
            errors.add("username", f"only an entry of type {STANDARD} takes a username; EKS names type {entry_type} itself")
        errors.add("username", kubernetes_name_problem(username, "the username"))
    policies = _parse_policies(params.get("access_policies"), errors)
    if policies and not standard:
        errors.add("access_policies", f"only an entry of type {STANDARD} takes access policies")
    tags = params.get("tags")
    if tags is not None:
        check_aws_tags(errors, "tags", tags, scalars=True)
    spec = AccessEntrySpec(
        cluster_name=str(params.get("cluster_name") or ""),
        principal_arn=str(params.get("principal_arn") or ""),
        state=state,
        type=entry_type,
        kubernetes_groups=None if groups is None else sorted(set(groups)),
        username=username,
        access_policies=policies,
        purge_access_policies=bool(params.get("purge_access_policies", True)),
        tags=string_tags(tags),
        purge_tags=bool(params.get("purge_tags", True)),
    )
    return spec, errors


@dataclass
class EntryState:
    """An access entry as EKS holds it (or as the plan leaves it)."""

    type: str
    kubernetes_groups: List[str]
    username: Optional[str]
    policies: Dict[str, PolicyAssociation]
    tags: Dict[str, str]
    arn: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def view(self) -> Dict[str, Any]:
        return {
            "type": self.type,
            "kubernetes_groups": sorted(self.kubernetes_groups),
            "username": self.username,
            "access_policies": [self.policies[arn].view() for arn in sorted(self.policies)],
            "tags": dict(sorted(self.tags.items())),
        }


class AccessEntry:
    """Plans one access entry of one cluster to match an :class:`AccessEntrySpec`."""

    def __init__(self, eks: Any, region: Optional[str]) -> None:
        self.eks = eks
        self.region = region
        self.token = str(uuid.uuid4())  # one create per run: its retries are the same request to EKS

    # --- reading --------------------------------------------------------------------------
    def _where(self, spec: AccessEntrySpec) -> str:
        return f"EKS cluster {spec.cluster_name!r} in region {self.region!r}"

    def _entry_call(self, spec: AccessEntrySpec, method: Any, action: str, **kwargs: Any) -> Dict[str, Any]:
        """A call about the spec's entry: the cluster and the principal are its key, named in the failure."""
        return call(method, f"{action} on {self._where(spec)}", clusterName=spec.cluster_name, principalArn=spec.principal_arn, **kwargs)

    def read_cluster(self, spec: AccessEntrySpec) -> Dict[str, Any]:
        response = get(self.eks.describe_cluster, f"describe {self._where(spec)}", name=spec.cluster_name)
        if response is None:
            raise IdentityError(message=f"cluster_name: {self._where(spec)} was not found")
        cluster = dict(response.get("cluster") or {})
        mode = (cluster.get("accessConfig") or {}).get("authenticationMode")
        if mode == "CONFIG_MAP":
            raise IdentityError(
                message=f"cluster_name: {self._where(spec)} authenticates with the aws-auth ConfigMap only (authenticationMode CONFIG_MAP); "
                "access entries need API or API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP)"
            )
        return cluster

    def read_entry(self, spec: AccessEntrySpec) -> Optional[EntryState]:
        where = self._where(spec)
        response = get(
            self.eks.describe_access_entry,
            f"describe the access entry of {spec.principal_arn} on {where}",
            clusterName=spec.cluster_name,
            principalArn=spec.principal_arn,
        )
        if response is None:
            return None
        entry = response["accessEntry"]
        associated = list_all(
            self.eks,
            "list_associated_access_policies",
            "associatedAccessPolicies",
            f"list the access policies of {spec.principal_arn} on {where}",
            clusterName=spec.cluster_name,
            principalArn=spec.principal_arn,
        )
        policies = {str(item["policyArn"]): PolicyAssociation.from_aws(item) for item in associated}
        return EntryState(
            type=str(entry.get("type") or STANDARD),
            kubernetes_groups=sorted(entry.get("kubernetesGroups") or []),
            username=entry.get("username"),
            policies=policies,
            tags=dict(entry.get("tags") or {}),
            arn=entry.get("accessEntryArn"),
            extra={"created_at": _text(entry.get("createdAt")), "modified_at": _text(entry.get("modifiedAt"))},
        )

    def require_policies(self, policies: Sequence[PolicyAssociation]) -> None:
        """Refuse an access policy EKS does not have, before anything is written."""
        known = {str(item.get("arn")) for item in list_all(self.eks, "list_access_policies", "accessPolicies", "list the EKS access policies")}
        for index, policy in enumerate(policies):
            if policy.policy_arn not in known:
                raise IdentityError(message=f"access_policies[{index}].policy_arn: EKS has no access policy {policy.policy_arn}")

    # --- the plan -------------------------------------------------------------------------
    def plan(self, spec: AccessEntrySpec) -> Plan:
        plan = Plan(result={})
        self.read_cluster(spec)
        current = self.read_entry(spec)
        if spec.state == "absent":
            if current is not None:
                plan.add(
                    f"delete the access entry of {spec.principal_arn}",
                    lambda: self._entry_call(spec, self.eks.delete_access_entry, f"delete the access entry of {spec.principal_arn}"),
                )
            self._describe(plan, spec, current, None)
            return plan
        if spec.access_policies:
            wanted = [policy for policy in spec.access_policies if current is None or current.policies.get(policy.policy_arn) != policy]
            if wanted:
                self.require_policies(spec.access_policies)
        after = self._plan_create(plan, spec) if current is None else self._plan_update(plan, spec, current)
        self._plan_policies(plan, spec, current, after)
        self._describe(plan, spec, current, after)
        if current is None:
            plan.refresh = lambda result: self._read_back(spec, result)
        return plan

    def _plan_create(self, plan: Plan, spec: AccessEntrySpec) -> EntryState:
        kwargs: Dict[str, Any] = {
            "clusterName": spec.cluster_name,
            "principalArn": spec.principal_arn,
            "type": spec.type or STANDARD,
            "clientRequestToken": self.token,
        }
        if spec.kubernetes_groups:
            kwargs["kubernetesGroups"] = spec.kubernetes_groups
        if spec.username:
            kwargs["username"] = spec.username
        if spec.tags:
            kwargs["tags"] = spec.tags
        plan.add(
            f"create the access entry of {spec.principal_arn}",
            lambda: create(
                self.eks.create_access_entry,
                f"create the access entry of {spec.principal_arn} on {self._where(spec)}",
                lambda: self._adopt(spec),
                **kwargs,
            ),
        )
        return EntryState(
            type=spec.type or STANDARD,
            kubernetes_groups=list(spec.kubernetes_groups or []),
            username=spec.username,
            policies={},
            tags=dict(spec.tags or {}),
        )

    def _adopt(self, spec: AccessEntrySpec) -> None:
        """The create found the entry there (its answer was lost, or someone made it meanwhile): bring the entry to the
        spec right away; the policy steps planned after the create follow as planned."""
        current = self.read_entry(spec)
        if current is None:
            raise IdentityError(message=f"EKS says the access entry of {spec.principal_arn} exists, but it cannot be read back")
        adoption = Plan(result={})
        self._plan_update(adoption, spec, current)
        for step in adoption.steps:
            step.run()

    def _plan_update(self, plan: Plan, spec: AccessEntrySpec, current: EntryState) -> EntryState:
        if spec.type is not None and spec.type != current.type:
            raise IdentityError(
                message=f"type: the access entry of {spec.principal_arn} exists with type {current.type}; EKS cannot change the type "
                "(delete the entry first, or leave type out)"
            )
        after = EntryState(current.type, list(current.kubernetes_groups), current.username, dict(current.policies), dict(current.tags), current.arn)
        update: Dict[str, Any] = {}
        if spec.kubernetes_groups is not None and sorted(spec.kubernetes_groups) != sorted(current.kubernetes_groups):
            update["kubernetesGroups"] = after.kubernetes_groups = list(spec.kubernetes_groups)
        if spec.username is not None and spec.username != current.username:
            update["username"] = after.username = spec.username
        if update:
            plan.add(
                f"update the {' and '.join(sorted(update))} of the access entry of {spec.principal_arn}",
                lambda: self._entry_call(spec, self.eks.update_access_entry, f"update the access entry of {spec.principal_arn}", **update),
            )
        if spec.tags is not None:
            to_set, to_unset = compare_aws_tags(current.tags, spec.tags, purge_tags=spec.purge_tags)
            arn = current.arn
            if to_unset:
                plan.add(
                    "remove tags",
                    lambda: call(self.eks.untag_resource, f"untag the access entry of {spec.principal_arn}", resourceArn=arn, tagKeys=sorted(to_unset)),
                )
            if to_set:
                plan.add("set tags", lambda: call(self.eks.tag_resource, f"tag the access entry of {spec.principal_arn}", resourceArn=arn, tags=to_set))
            after.tags = {key: value for key, value in current.tags.items() if key not in to_unset}
            after.tags.update(to_set)
        return after

    def _plan_policies(self, plan: Plan, spec: AccessEntrySpec, current: Optional[EntryState], after: EntryState) -> None:
        if spec.access_policies is None:
            return
        existing = dict(current.policies) if current else {}
        for policy in spec.access_policies:
            if existing.get(policy.policy_arn) == policy:
                continue
            scope = "the cluster" if policy.scope == SCOPE_CLUSTER else "namespaces " + ", ".join(policy.namespaces)
            plan.add(
                f"associate {policy.policy_arn} on {scope}",
                lambda policy=policy: self._entry_call(
                    spec,
                    self.eks.associate_access_policy,
                    f"associate {policy.policy_arn} with {spec.principal_arn}",
                    policyArn=policy.policy_arn,
                    accessScope=policy.request(),
                ),
            )
            after.policies[policy.policy_arn] = policy
        if not spec.purge_access_policies:
            return
        desired = {policy.policy_arn for policy in spec.access_policies}
        for arn in sorted(set(existing) - desired):
            plan.add(
                f"disassociate {arn}",
                lambda arn=arn: self._entry_call(spec, self.eks.disassociate_access_policy, f"disassociate {arn} from {spec.principal_arn}", policyArn=arn),
            )
            del after.policies[arn]

    def _describe(self, plan: Plan, spec: AccessEntrySpec, before: Optional[EntryState], after: Optional[EntryState]) -> None:
        plan.before = before.view() if before else {}
        plan.after = after.view() if after else {}
        plan.result = {"access_entry": self._result(spec, after)}

    def _result(self, spec: AccessEntrySpec, state: Optional[EntryState]) -> Optional[Dict[str, Any]]:
        if state is None:
            return None
        return {"cluster_name": spec.cluster_name, "principal_arn": spec.principal_arn, "access_entry_arn": state.arn, **state.view(), **state.extra}

    def _read_back(self, spec: AccessEntrySpec, result: Dict[str, Any]) -> Dict[str, Any]:
        """The result of a created entry with what only EKS knows (its ARN, times, the username it chose)."""
        created = self.read_entry(spec)
        return {"access_entry": self._result(spec, created)} if created is not None else result


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
