# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``pod_identity_association`` backend: the EKS Pod Identity link of a service account to a role.

An EKS cluster holds at most one association per namespace and service account, so the
pair identifies it. :meth:`PodIdentityAssociation.plan` finds it with
``ListPodIdentityAssociations`` and plans its creation, update (role, tags) or deletion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_gitops.platform.plugins.module_utils.aws import error_code
from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import (
    ValidationErrors,
    arn_problem,
    check_aws_tags,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    eks_cluster_name_problem,
    iam_role_name_problem,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import (
    AccountInfo,
    IdentityError,
    call,
    get,
    list_all,
    string_tags,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.documents import role_arn as build_role_arn
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Plan


@dataclass
class PodIdentitySpec:
    """The checked input of ``pod_identity_association``."""

    cluster_name: str
    namespace: str
    service_account: str
    state: str = "present"
    role_arn: Optional[str] = None
    role_name: Optional[str] = None
    tags: Optional[Dict[str, str]] = None
    purge_tags: bool = True


def parse_pod_identity_params(params: Mapping[str, Any]) -> Tuple[PodIdentitySpec, ValidationErrors]:
    """Check the module's parameters; return the spec and every problem found (each naming its field)."""
    errors = ValidationErrors()
    errors.add("cluster_name", eks_cluster_name_problem(params.get("cluster_name")))
    errors.add("namespace", dns1123_label_problem(params.get("namespace")))
    errors.add("service_account", dns1123_subdomain_problem(params.get("service_account")))
    state = params.get("state") or "present"
    if params.get("role_arn") is not None:
        errors.add("role_arn", arn_problem(params["role_arn"], service="iam", resource_type="role"))
    if params.get("role_name") is not None:
        errors.add("role_name", iam_role_name_problem(params["role_name"]))
    if state == "present" and not params.get("role_arn") and not params.get("role_name"):
        errors.add("role_arn", "one of role_arn and role_name is required with state=present")
    tags = params.get("tags")
    if tags is not None:
        check_aws_tags(errors, "tags", tags, scalars=True)
    spec = PodIdentitySpec(
        cluster_name=str(params.get("cluster_name") or ""),
        namespace=str(params.get("namespace") or ""),
        service_account=str(params.get("service_account") or ""),
        state=state,
        role_arn=params.get("role_arn"),
        role_name=params.get("role_name"),
        tags=string_tags(tags),
        purge_tags=bool(params.get("purge_tags", True)),
    )
    return spec, errors


def association_view(association: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """An association as the module returns it (snake_case), or ``None``."""
    if not association:
        return None
    return {
        "association_id": association.get("associationId"),
        "association_arn": association.get("associationArn"),
        "cluster_name": association.get("clusterName"),
        "namespace": association.get("namespace"),
        "service_account": association.get("serviceAccount"),
        "role_arn": association.get("roleArn"),
        "owner_arn": association.get("ownerArn"),
        "tags": dict(sorted((association.get("tags") or {}).items())),
    }


def _diff_side(association: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    view = association_view(association)
    if view is None:
        return {}
    return {key: view[key] for key in ("cluster_name", "namespace", "service_account", "role_arn", "tags")}


class PodIdentityAssociation:
    """Plans the Pod Identity association of one service account to match a :class:`PodIdentitySpec`.

    ``check_mode`` says whether the plan only reports: then a role given by name that does not exist yet (an earlier
    task of the same check run would create it) is assumed at the ARN it will have, with a warning."""

    def __init__(self, eks: Any, iam: Any, region: Optional[str], check_mode: bool = False, account: Optional[Callable[[], AccountInfo]] = None) -> None:
        self.eks = eks
        self.iam = iam
        self.region = region
        self.check_mode = check_mode
        self.account = account

    def resolve_role_arn(self, spec: PodIdentitySpec, plan: Plan) -> str:
        """``role_arn`` as given, or the ARN of ``role_name`` (``iam:GetRole``)."""
        if spec.role_arn:
            return spec.role_arn
        name = spec.role_name or ""
        response = get(self.iam.get_role, f"read IAM role {name!r}", RoleName=name)
        if response is not None:
            return str(response["Role"]["Arn"])
        if self.check_mode and self.account is not None:
            account = self.account()
            assumed = build_role_arn(account.partition, account.account_id, name)
            plan.warnings.append(f"IAM role {name!r} does not exist (yet); check mode assumes {assumed}")
            return assumed
        raise IdentityError(message=f"role_name: IAM role {name!r} does not exist")

    def find(self, spec: PodIdentitySpec) -> Optional[Dict[str, Any]]:
        """The association of the spec's service account, described in full, or ``None``."""
        where = f"EKS cluster {spec.cluster_name!r} in region {self.region!r}"
        try:
            summaries = list_all(
                self.eks,
                "list_pod_identity_associations",
                "associations",
                f"list the Pod Identity associations of {where}",
                clusterName=spec.cluster_name,
                namespace=spec.namespace,
                serviceAccount=spec.service_account,
            )
        except IdentityError as error:
            if error.exception is not None and error_code(error.exception) == "ResourceNotFoundException":
                raise IdentityError(message=f"cluster_name: EKS cluster {spec.cluster_name!r} was not found in region {self.region!r}") from error
            raise
        for summary in summaries:
            if summary.get("namespace") == spec.namespace and summary.get("serviceAccount") == spec.service_account:
                response = call(
                    self.eks.describe_pod_identity_association,
                    f"describe Pod Identity association {summary['associationId']} of {where}",
                    clusterName=spec.cluster_name,
                    associationId=summary["associationId"],
                )
                return dict(response["association"])
        return None

    def plan(self, spec: PodIdentitySpec) -> Plan:
        """Read the association and plan the writes that make it match ``spec``."""
        plan = Plan(result={})
        if spec.state == "present":
            self._plan_present(spec, plan)
        else:
            self._plan_absent(spec, plan)
        return plan

    def _plan_present(self, spec: PodIdentitySpec, plan: Plan) -> None:
        role_arn = self.resolve_role_arn(spec, plan)
        current = self.find(spec)
        subject = f"{spec.namespace}/{spec.service_account}"
        if current is None:
            after: Dict[str, Any] = {
                "clusterName": spec.cluster_name,
                "namespace": spec.namespace,
                "serviceAccount": spec.service_account,
                "roleArn": role_arn,
                "tags": dict(spec.tags or {}),
            }
            kwargs: Dict[str, Any] = {
                "clusterName": spec.cluster_name,
                "namespace": spec.namespace,
                "serviceAccount": spec.service_account,
                "roleArn": role_arn,
            }
            if spec.tags:
                kwargs["tags"] = spec.tags
            created: Dict[str, Any] = {}
            plan.add(
                f"create the Pod Identity association of {subject}",
                lambda: created.update(call(self.eks.create_pod_identity_association, f"create the Pod Identity association of {subject}", **kwargs)),
            )
            plan.refresh = lambda result: {"association": association_view(created.get("association") or after)}
            self._describe(plan, current, after)
            return

        after = dict(current, tags=dict(current.get("tags") or {}))
        association_id = current["associationId"]
        role_changes = current.get("roleArn") != role_arn
        after["roleArn"] = role_arn
        to_set: Dict[str, str] = {}
        to_unset: List[str] = []
        if spec.tags is not None:
            to_set, to_unset = compare_aws_tags(after["tags"], spec.tags, purge_tags=spec.purge_tags)
            for key in to_unset:
                after["tags"].pop(key, None)
            after["tags"].update(to_set)
        if (role_changes or to_set or to_unset) and current.get("ownerArn"):
            raise IdentityError(message=f"the Pod Identity association of {subject} is managed by {current['ownerArn']}; change it there, not with this module")
        if role_changes:
            plan.add(
                f"update the role of the Pod Identity association of {subject}",
                lambda: call(
                    self.eks.update_pod_identity_association,
                    f"update the role of the Pod Identity association of {subject}",
                    clusterName=spec.cluster_name,
                    associationId=association_id,
                    roleArn=role_arn,
                ),
            )
        arn = current.get("associationArn")
        if to_unset:
            plan.add(
                f"untag the Pod Identity association of {subject}",
                lambda: call(self.eks.untag_resource, f"untag the Pod Identity association of {subject}", resourceArn=arn, tagKeys=sorted(to_unset)),
            )
        if to_set:
            plan.add(
                f"tag the Pod Identity association of {subject}",
                lambda: call(self.eks.tag_resource, f"tag the Pod Identity association of {subject}", resourceArn=arn, tags=to_set),
            )
        self._describe(plan, current, after)

    def _plan_absent(self, spec: PodIdentitySpec, plan: Plan) -> None:
        current = self.find(spec)
        if current is not None:
            subject = f"{spec.namespace}/{spec.service_account}"
            plan.add(
                f"delete the Pod Identity association of {subject}",
                lambda: call(
                    self.eks.delete_pod_identity_association,
                    f"delete the Pod Identity association of {subject}",
                    clusterName=spec.cluster_name,
                    associationId=current["associationId"],
                ),
            )
        self._describe(plan, current, None)

    @staticmethod
    def _describe(plan: Plan, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> None:
        plan.result = {"association": association_view(after)}
        plan.before, plan.after = _diff_side(before), _diff_side(after)
