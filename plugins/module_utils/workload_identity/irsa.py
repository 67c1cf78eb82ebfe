# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``irsa_role`` backend: an IAM role that Kubernetes service accounts (or GitHub Actions workflows) assume.

:func:`parse_irsa_role_params` checks every input and collects the problems; :meth:`IrsaRole.plan` reads what IAM
(and EKS, for the issuer) holds and returns the :class:`~.plan.Plan` of writes, whose ``diff`` compares the role as
read with the role as the plan leaves it; :func:`~.plan.execute` carries it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.eks_gitops.platform.plugins.module_utils.validation import (
    ValidationErrors,
    arn_problem,
    check_aws_tags,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    eks_cluster_name_problem,
    iam_path_problem,
    iam_role_name_problem,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.aws import (
    AccountInfo,
    IdentityError,
    call,
    create,
    get,
    list_all,
    string_tags,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.documents import (
    GITHUB_ACTIONS_ISSUER,
    STS_AUDIENCE,
    GitHubRef,
    ServiceAccount,
    documents_differ,
    git_branch_problem,
    github_actions_trust_policy,
    github_environment_problem,
    github_repository_problem,
    irsa_trust_policy,
    issuer_url_problem,
    kms_key_arn_problem,
    kms_region_problem,
    normalize_issuer_url,
    oidc_provider_arn,
    parse_policy_document,
    pod_identity_trust_policy,
    policy_name_problem,
    role_arn,
    secret_reference_problem,
    secrets_read_policy,
    service_account_annotations,
    wildcard_problem,
)
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity.plan import Plan

TRUST_IRSA = "irsa"
TRUST_POD_IDENTITY = "pod_identity"
TRUST_GITHUB_ACTIONS = "github_actions"
TRUSTS_WITH_PROVIDER = (TRUST_IRSA, TRUST_GITHUB_ACTIONS)
MIN_SESSION_DURATION = 3600
MAX_SESSION_DURATION = 43200
DESCRIPTION_MAX = 1000
DEFAULT_SECRETS_READ_POLICY_NAME = "secrets-read"


@dataclass
class IrsaRoleSpec:
    """The checked input of ``irsa_role``."""

    role_name: str
    state: str = "present"
    trust: str = TRUST_IRSA
    path: str = "/"
    description: Optional[str] = None
    max_session_duration: Optional[int] = None
    permissions_boundary: Optional[str] = None
    tags: Optional[Dict[str, str]] = None
    purge_tags: bool = True
    cluster_name: Optional[str] = None
    oidc_issuer_url: Optional[str] = None
    create_oidc_provider: bool = True
    service_accounts: List[ServiceAccount] = field(default_factory=list)
    github_refs: List[GitHubRef] = field(default_factory=list)
    managed_policy_arns: Optional[List[str]] = None
    purge_policies: bool = True
    inline_policies: Optional[Dict[str, Dict[str, Any]]] = None
    purge_inline_policies: bool = True
    secrets_read: Optional[List[str]] = None
    kms_key_arns: List[str] = field(default_factory=list)
    secrets_read_policy_name: str = DEFAULT_SECRETS_READ_POLICY_NAME


def _service_account_name_problem(name: Any) -> Optional[str]:
    """A service account name is a DNS-1123 subdomain; ``*`` and ``?`` wildcards are allowed in it."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    problem = dns1123_subdomain_problem(name.replace("*", "a").replace("?", "a"))
    if problem:
        return f"{name!r} is not a valid service account name (a DNS-1123 subdomain; wildcards * and ? are allowed)"
    return None


def _description_problem(value: str) -> Optional[str]:
    if len(value) > DESCRIPTION_MAX:
        return f"must be at most {DESCRIPTION_MAX} characters, got {len(value)}"
    if any(not (char in "\t\n\r" or " " <= char <= "~" or "\xa1" <= char <= "\xff") for char in value):
        return "may hold only printable Latin-1 characters, tabs and line breaks"
    return None


def _check_list(errors: ValidationErrors, name: str, values: Optional[List[Any]], check: Callable[[Any], Optional[str]]) -> None:
    for index, value in enumerate(values or []):
        errors.add(f"{name}[{index}]", check(value))


def parse_irsa_role_params(params: Mapping[str, Any], region: Optional[str]) -> Tuple[IrsaRoleSpec, ValidationErrors]:
    """Check the module's parameters; return the spec and every problem found (each naming its field)."""
    errors = ValidationErrors()
    present = params.get("state", "present") == "present"
    trust = params.get("trust") or TRUST_IRSA
    errors.add("role_name", iam_role_name_problem(params.get("role_name")))
    path = params.get("path") or "/"
    errors.add("path", iam_path_problem(path))
    if params.get("description") is not None:
        errors.add("description", _description_problem(params["description"]))
    duration = params.get("max_session_duration")
    if duration is not None and not MIN_SESSION_DURATION <= duration <= MAX_SESSION_DURATION:
        errors.add("max_session_duration", f"must be between {MIN_SESSION_DURATION} and {MAX_SESSION_DURATION} seconds, got {duration}")
    boundary = params.get("permissions_boundary")
    if boundary:
        errors.add("permissions_boundary", arn_problem(boundary, service="iam", resource_type="policy"))
    tags = params.get("tags")
    if tags is not None:
        check_aws_tags(errors, "tags", tags, scalars=True)

    service_accounts: List[ServiceAccount] = []
    for index, entry in enumerate(params.get("service_accounts") or []):
        errors.add(f"service_accounts[{index}].namespace", dns1123_label_problem(entry.get("namespace")))
        errors.add(f"service_accounts[{index}].name", _service_account_name_problem(entry.get("name")))
        service_accounts.append(ServiceAccount(namespace=str(entry.get("namespace")), name=str(entry.get("name"))))
    if params.get("cluster_name") is not None:
        errors.add("cluster_name", eks_cluster_name_problem(params["cluster_name"]))
    if params.get("oidc_issuer_url") is not None:
        errors.add("oidc_issuer_url", issuer_url_problem(params["oidc_issuer_url"]))
    if trust == TRUST_IRSA and present:
        if not params.get("cluster_name") and not params.get("oidc_issuer_url"):
            errors.add("cluster_name", "one of cluster_name and oidc_issuer_url is required with trust=irsa")
        if not service_accounts:
            errors.add("service_accounts", "at least one service account is required with trust=irsa")
    if trust == TRUST_POD_IDENTITY:
        for name in ("cluster_name", "oidc_issuer_url", "service_accounts"):
            if params.get(name):
                errors.add(name, "is only used with trust=irsa (EKS Pod Identity associations are made with pod_identity_association)")
    github_refs: List[GitHubRef] = []
    for index, entry in enumerate(params.get("github_repositories") or []):
        where = f"github_repositories[{index}]"
        errors.add(f"{where}.repository", github_repository_problem(entry.get("repository")))
        branch, environment = entry.get("branch"), entry.get("environment")
        if (branch is None) == (environment is None):
            errors.add(where, "needs exactly one of branch and environment")
        elif branch is not None:
            errors.add(f"{where}.branch", git_branch_problem(branch))
        else:
            errors.add(f"{where}.environment", github_environment_problem(environment))
        github_refs.append(GitHubRef(repository=str(entry.get("repository")), branch=branch, environment=environment))
    if trust == TRUST_GITHUB_ACTIONS:
        for name in ("cluster_name", "service_accounts"):
            if params.get(name):
                errors.add(name, "is not used with trust=github_actions (the role trusts GitHub's OIDC issuer, see github_repositories)")
        if present and not github_refs:
            errors.add("github_repositories", "at least one repository and branch is required with trust=github_actions")
    elif params.get("github_repositories"):
        errors.add("github_repositories", "is only used with trust=github_actions")

    _check_list(errors, "managed_policy_arns", params.get("managed_policy_arns"), lambda v: arn_problem(v, service="iam", resource_type="policy"))
    inline: Optional[Dict[str, Dict[str, Any]]] = None
    if params.get("inline_policies") is not None:
        inline = {}
        for name, value in params["inline_policies"].items():
            errors.add(f"inline_policies.{name}", policy_name_problem(name))
            document, problem = parse_policy_document(value)
            errors.add(f"inline_policies.{name}", problem)
            if document is not None:
                inline[name] = document
    policy_name = params.get("secrets_read_policy_name") or DEFAULT_SECRETS_READ_POLICY_NAME
    errors.add("secrets_read_policy_name", policy_name_problem(policy_name))
    secrets = params.get("secrets_read")
    _check_list(errors, "secrets_read", secrets, secret_reference_problem)
    if not params.get("allow_wildcards"):
        _check_list(errors, "secrets_read", secrets, wildcard_problem)
    if secrets is not None and not secrets:
        errors.add("secrets_read", "must name at least one secret (omit it to manage no secrets policy)")
    if secrets and inline and policy_name in inline:
        errors.add(f"inline_policies.{policy_name}", "is the name of the secrets_read policy; choose another name or set secrets_read_policy_name")
    if secrets and not region and any(not str(secret).startswith("arn:") for secret in secrets):
        errors.add("region", "is required to turn secrets_read names into ARNs")
    kms_keys = params.get("kms_key_arns") or []
    _check_list(errors, "kms_key_arns", kms_keys, kms_key_arn_problem)
    if secrets and not params.get("allow_cross_region_kms"):
        secret_regions = [str(secret).split(":")[3] if str(secret).startswith("arn:") else (region or "") for secret in secrets]
        _check_list(errors, "kms_key_arns", kms_keys, lambda arn: kms_region_problem(arn, [r for r in secret_regions if r]))
    if kms_keys and not secrets:
        errors.add("kms_key_arns", "only adds kms:Decrypt for the secrets of secrets_read, which is empty")
    if params.get("cluster_name") and not region and present and trust == TRUST_IRSA:
        errors.add("region", "is required to look up cluster_name")

    spec = IrsaRoleSpec(
        role_name=params.get("role_name") or "",
        state=params.get("state") or "present",
        trust=trust,
        path=path,
        description=params.get("description"),
        max_session_duration=duration,
        permissions_boundary=boundary,
        tags=string_tags(tags),
        purge_tags=bool(params.get("purge_tags", True)),
        cluster_name=params.get("cluster_name"),
        oidc_issuer_url=params.get("oidc_issuer_url"),
        create_oidc_provider=bool(params.get("create_oidc_provider", True)),
        service_accounts=service_accounts,
        github_refs=github_refs,
        managed_policy_arns=None if params.get("managed_policy_arns") is None else list(dict.fromkeys(params["managed_policy_arns"])),
        purge_policies=bool(params.get("purge_policies", True)),
        inline_policies=inline,
        purge_inline_policies=bool(params.get("purge_inline_policies", True)),
        secrets_read=None if secrets is None else list(secrets),
        kms_key_arns=list(kms_keys),
        secrets_read_policy_name=policy_name,
    )
    return spec, errors


@dataclass
class RoleState:
    """A role as IAM holds it (or as a plan leaves it)."""

    arn: str
    role_id: Optional[str]
    path: str
    description: str
    max_session_duration: int
    permissions_boundary: Optional[str]
    trust_policy: Dict[str, Any]
    managed_policy_arns: List[str]
    inline_policies: Dict[str, Dict[str, Any]]
    tags: Dict[str, str]

    def view(self) -> Dict[str, Any]:
        """The role for ``diff`` and return values."""
        return {
            "path": self.path,
            "description": self.description,
            "max_session_duration": self.max_session_duration,
            "permissions_boundary": self.permissions_boundary,
            "trust_policy": self.trust_policy,
            "managed_policy_arns": sorted(self.managed_policy_arns),
            "inline_policies": dict(sorted(self.inline_policies.items())),
            "tags": dict(sorted(self.tags.items())),
        }


def _dump(document: Dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


class IrsaRole:
    """Plans one IAM role (and the OIDC provider its trust needs) to match an :class:`IrsaRoleSpec`."""

    def __init__(self, iam: Any, eks: Any, account: AccountInfo, region: Optional[str]) -> None:
        self.iam = iam
        self.eks = eks
        self.account = account
        self.region = region
        self.steps = Plan(result={})  # the plan being built

    # --- reading --------------------------------------------------------------------------
    def cluster_issuer(self, cluster_name: str) -> str:
        """The OIDC issuer URL of an EKS cluster (``eks:DescribeCluster``)."""
        response = get(
            self.eks.describe_cluster,
            f"describe EKS cluster {cluster_name!r} in region {self.region!r}",
            name=cluster_name,
        )
        if response is None:
            raise IdentityError(message=f"cluster_name: EKS cluster {cluster_name!r} was not found in region {self.region!r}")
        issuer = ((response.get("cluster") or {}).get("identity") or {}).get("oidc", {}).get("issuer")
        if not issuer:
            raise IdentityError(message=f"cluster_name: EKS cluster {cluster_name!r} in region {self.region!r} has no OIDC issuer")
        return str(issuer)

    def read_provider(self, arn: str) -> Optional[List[str]]:
        """The client ids of the OIDC provider ``arn``, or ``None`` when it does not exist."""
        response = get(self.iam.get_open_id_connect_provider, f"read OIDC provider {arn}", OpenIDConnectProviderArn=arn)
        return None if response is None else list(response.get("ClientIDList") or [])

    def read_role(self, name: str) -> Optional[RoleState]:
        response = get(self.iam.get_role, f"read IAM role {name!r}", RoleName=name)
        if response is None:
            return None
        role = response["Role"]
        attached = list_all(self.iam, "list_attached_role_policies", "AttachedPolicies", f"list the managed policies of role {name!r}", RoleName=name)
        names = list_all(self.iam, "list_role_policies", "PolicyNames", f"list the inline policies of role {name!r}", RoleName=name)
        inline = {}
        for policy_name in names:
            document = call(self.iam.get_role_policy, f"read inline policy {policy_name!r} of role {name!r}", RoleName=name, PolicyName=policy_name)
            inline[policy_name] = document.get("PolicyDocument") or {}
        tags = list_all(self.iam, "list_role_tags", "Tags", f"list the tags of role {name!r}", RoleName=name)
        return RoleState(
            arn=role["Arn"],
            role_id=role.get("RoleId"),
            path=role.get("Path") or "/",
            description=role.get("Description") or "",
            max_session_duration=int(role.get("MaxSessionDuration") or MIN_SESSION_DURATION),
            permissions_boundary=(role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            trust_policy=role.get("AssumeRolePolicyDocument") or {},
            managed_policy_arns=[policy["PolicyArn"] for policy in attached],
            inline_policies=inline,
            tags=boto3_tag_list_to_ansible_dict(tags),
        )

    def _require_policy(self, field_name: str, arn: str) -> None:
        if get(self.iam.get_policy, f"read managed policy {arn}", PolicyArn=arn) is None:
            raise IdentityError(message=f"{field_name}: managed policy {arn} does not exist")

    # --- planning -------------------------------------------------------------------------
    def _plan(self, description: str, run: Callable[[], Any]) -> None:
        self.steps.add(description, run)

    def desired_inline(self, spec: IrsaRoleSpec) -> Optional[Dict[str, Dict[str, Any]]]:
        """The inline policies the role must have, or ``None`` when the input leaves them alone."""
        if spec.inline_policies is None and spec.secrets_read is None:
            return None
        desired = dict(spec.inline_policies or {})
        if spec.secrets_read:
            desired[spec.secrets_read_policy_name] = secrets_read_policy(
                self.account.partition, self.region or "", self.account.account_id, spec.secrets_read, spec.kms_key_arns
            )
        return desired

    def _plan_provider(self, spec: IrsaRoleSpec, provider_arn: str, issuer: str) -> Dict[str, Any]:
        """Plan the OIDC provider; return its diff entries ``(before, after)``."""
        client_ids = self.read_provider(provider_arn)
        before = None if client_ids is None else {"arn": provider_arn, "client_ids": sorted(client_ids)}
        if client_ids is None:
            if not spec.create_oidc_provider:
                raise IdentityError(
                    message=f"create_oidc_provider: the IAM OIDC provider {provider_arn} does not exist; create it or set create_oidc_provider: true"
                )
            self._plan(
                f"create OIDC provider {provider_arn}",
                lambda: create(
                    self.iam.create_open_id_connect_provider,
                    f"create OIDC provider for {issuer}",
                    lambda: self._adopt_provider(provider_arn),
                    Url=issuer,
                    ClientIDList=[STS_AUDIENCE],
                ),
            )
            client_ids = [STS_AUDIENCE]
        elif STS_AUDIENCE not in client_ids and spec.create_oidc_provider:
            self._plan(
                f"add client id {STS_AUDIENCE} to OIDC provider {provider_arn}",
                lambda: call(
                    self.iam.add_client_id_to_open_id_connect_provider,
                    f"add client id {STS_AUDIENCE} to OIDC provider {provider_arn}",
                    OpenIDConnectProviderArn=provider_arn,
                    ClientID=STS_AUDIENCE,
                ),
            )
            client_ids = [*client_ids, STS_AUDIENCE]
        return {"before": before, "after": {"arn": provider_arn, "client_ids": sorted(client_ids)}}

    def _plan_create(self, spec: IrsaRoleSpec, trust: Dict[str, Any]) -> RoleState:
        name = spec.role_name
        kwargs: Dict[str, Any] = {"RoleName": name, "Path": spec.path, "AssumeRolePolicyDocument": _dump(trust)}
        if spec.description:
            kwargs["Description"] = spec.description
        if spec.max_session_duration:
            kwargs["MaxSessionDuration"] = spec.max_session_duration
        if spec.permissions_boundary:
            self._require_policy("permissions_boundary", spec.permissions_boundary)
            kwargs["PermissionsBoundary"] = spec.permissions_boundary
        if spec.tags:
            kwargs["Tags"] = ansible_dict_to_boto3_tag_list(spec.tags)
        self._plan(
            f"create role {name}",
            lambda: create(self.iam.create_role, f"create IAM role {name!r}", lambda: self._adopt_role(spec, trust), **kwargs),
        )
        return RoleState(
            arn=role_arn(self.account.partition, self.account.account_id, name, spec.path),
            role_id=None,
            path=spec.path,
            description=spec.description or "",
            max_session_duration=spec.max_session_duration or MIN_SESSION_DURATION,
            permissions_boundary=spec.permissions_boundary or None,
            trust_policy=trust,
            managed_policy_arns=[],
            inline_policies={},
            tags=dict(spec.tags or {}),
        )

    # --- a create that finds the entity there (its answer was lost, or someone made it meanwhile) --------
    def _adopt_provider(self, provider_arn: str) -> None:
        """Make the existing provider trust the STS audience, as a created one would."""
        client_ids = self.read_provider(provider_arn)
        if client_ids is not None and STS_AUDIENCE not in client_ids:
            call(
                self.iam.add_client_id_to_open_id_connect_provider,
                f"add client id {STS_AUDIENCE} to OIDC provider {provider_arn}",
                OpenIDConnectProviderArn=provider_arn,
                ClientID=STS_AUDIENCE,
            )

    def _adopt_role(self, spec: IrsaRoleSpec, trust: Dict[str, Any]) -> None:
        """Bring the existing role to the spec (trust, description, session, boundary, tags) right away; the policy
        steps planned after the create follow as planned."""
        current = self.read_role(spec.role_name)
        if current is None:
            raise IdentityError(message=f"IAM says role {spec.role_name!r} exists, but it cannot be read back")
        planned, self.steps = self.steps, Plan(result={})
        try:
            self._plan_role_update(spec, current, trust)
            adoption = self.steps.steps
        finally:
            self.steps = planned
        for step in adoption:
            step.run()

    def _plan_role_update(self, spec: IrsaRoleSpec, current: RoleState, trust: Dict[str, Any]) -> RoleState:
        name = spec.role_name
        after = replace(current, managed_policy_arns=list(current.managed_policy_arns), inline_policies=dict(current.inline_policies))
        if current.path != spec.path:
            raise IdentityError(
                message=f"path: role {name!r} exists with path {current.path!r}; IAM cannot move a role to {spec.path!r} (delete it first, or keep the path)"
            )
        if documents_differ(current.trust_policy, trust):
            after.trust_policy = trust
            self._plan(
                "update the trust policy",
                lambda: call(self.iam.update_assume_role_policy, f"update the trust policy of role {name!r}", RoleName=name, PolicyDocument=_dump(trust)),
            )
        update: Dict[str, Any] = {}
        if spec.description is not None and spec.description != current.description:
            update["Description"] = after.description = spec.description
        if spec.max_session_duration is not None and spec.max_session_duration != current.max_session_duration:
            update["MaxSessionDuration"] = after.max_session_duration = spec.max_session_duration
        if update:
            self._plan("update description / session duration", lambda: call(self.iam.update_role, f"update IAM role {name!r}", RoleName=name, **update))
        boundary = spec.permissions_boundary
        if boundary is not None and (boundary or None) != current.permissions_boundary:
            after.permissions_boundary = boundary or None
            if boundary:
                self._require_policy("permissions_boundary", boundary)
                self._plan(
                    "set the permissions boundary",
                    lambda: call(
                        self.iam.put_role_permissions_boundary, f"set the permissions boundary of role {name!r}", RoleName=name, PermissionsBoundary=boundary
                    ),
                )
            else:
                self._plan(
                    "remove the permissions boundary",
                    lambda: call(self.iam.delete_role_permissions_boundary, f"remove the permissions boundary of role {name!r}", RoleName=name),
                )
        if spec.tags is not None:
            to_set, to_unset = compare_aws_tags(current.tags, spec.tags, purge_tags=spec.purge_tags)
            if to_unset:
                self._plan("remove tags", lambda: call(self.iam.untag_role, f"remove tags from role {name!r}", RoleName=name, TagKeys=sorted(to_unset)))
            if to_set:
                tag_list = ansible_dict_to_boto3_tag_list(to_set)
                self._plan("set tags", lambda: call(self.iam.tag_role, f"tag role {name!r}", RoleName=name, Tags=tag_list))
            after.tags = {k: v for k, v in current.tags.items() if k not in to_unset}
            after.tags.update(to_set)
        return after

    def _plan_policies(self, spec: IrsaRoleSpec, after: RoleState, desired_inline: Optional[Dict[str, Dict[str, Any]]]) -> None:
        name = spec.role_name
        if spec.managed_policy_arns is not None:
            current = list(after.managed_policy_arns)
            for arn in spec.managed_policy_arns:
                if arn not in current:
                    self._require_policy("managed_policy_arns", arn)
                    self._plan(
                        f"attach {arn}",
                        lambda arn=arn: call(self.iam.attach_role_policy, f"attach {arn} to role {name!r}", RoleName=name, PolicyArn=arn),
                    )
                    after.managed_policy_arns.append(arn)
            if spec.purge_policies:
                for arn in current:
                    if arn not in spec.managed_policy_arns:
                        self._plan(
                            f"detach {arn}",
                            lambda arn=arn: call(self.iam.detach_role_policy, f"detach {arn} from role {name!r}", RoleName=name, PolicyArn=arn),
                        )
                        after.managed_policy_arns.remove(arn)
        if desired_inline is None:
            return
        current_inline = dict(after.inline_policies)
        for policy_name, document in desired_inline.items():
            if documents_differ(current_inline.get(policy_name), document):
                self._plan(
                    f"put inline policy {policy_name}",
                    lambda policy_name=policy_name, document=document: call(
                        self.iam.put_role_policy,
                        f"put inline policy {policy_name!r} on role {name!r}",
                        RoleName=name,
                        PolicyName=policy_name,
                        PolicyDocument=_dump(document),
                    ),
                )
                after.inline_policies[policy_name] = document
        if spec.purge_inline_policies:
            for policy_name in current_inline:
                if policy_name not in desired_inline:
                    self._plan_delete_inline(name, policy_name)
                    del after.inline_policies[policy_name]

    def _plan_delete_inline(self, role_name: str, policy_name: str) -> None:
        self._plan(
            f"delete inline policy {policy_name}",
            lambda: call(
                self.iam.delete_role_policy, f"delete inline policy {policy_name!r} of role {role_name!r}", RoleName=role_name, PolicyName=policy_name
            ),
        )

    # --- the plan -------------------------------------------------------------------------
    def plan(self, spec: IrsaRoleSpec) -> Plan:
        """Read what IAM holds and plan the writes that make it match ``spec``."""
        self.steps = Plan(result={})
        if spec.state == "present":
            self._plan_present(spec)
        else:
            self._plan_absent(spec)
        return self.steps

    def _plan_present(self, spec: IrsaRoleSpec) -> None:
        provider_arn = None
        plan = self.steps
        if spec.trust in TRUSTS_WITH_PROVIDER:
            if spec.trust == TRUST_GITHUB_ACTIONS:
                issuer = normalize_issuer_url(spec.oidc_issuer_url or GITHUB_ACTIONS_ISSUER)
            else:
                issuer = normalize_issuer_url(spec.oidc_issuer_url or self.cluster_issuer(spec.cluster_name or ""))
            provider_arn = oidc_provider_arn(self.account.partition, self.account.account_id, issuer)
            provider = self._plan_provider(spec, provider_arn, issuer)
            if provider["before"] is not None:
                plan.before["oidc_provider"] = provider["before"]
            plan.after["oidc_provider"] = provider["after"]
            if spec.trust == TRUST_GITHUB_ACTIONS:
                trust = github_actions_trust_policy(provider_arn, issuer, spec.github_refs)
            else:
                trust = irsa_trust_policy(provider_arn, issuer, spec.service_accounts)
        else:
            trust = pod_identity_trust_policy()
        desired_inline = self.desired_inline(spec)
        current = self.read_role(spec.role_name)
        after = self._plan_create(spec, trust) if current is None else self._plan_role_update(spec, current, trust)
        self._plan_policies(spec, after, desired_inline)
        if current is not None:
            plan.before["role"] = current.view()
        plan.after["role"] = after.view()
        plan.result = {
            "role_name": spec.role_name,
            "role_arn": after.arn,
            "role_id": after.role_id,
            "oidc_provider_arn": provider_arn,
            "service_account_annotations": service_account_annotations(after.arn) if spec.trust == TRUST_IRSA else {},
            "role": after.view(),
        }
        if current is None:
            plan.refresh = lambda result: self._with_role_id(result, spec.role_name)

    def _with_role_id(self, result: Dict[str, Any], name: str) -> Dict[str, Any]:
        """The result of a created role with the id IAM gave it."""
        created = get(self.iam.get_role, f"read IAM role {name!r}", RoleName=name)
        return dict(result, role_id=created["Role"].get("RoleId")) if created is not None else result

    def _plan_absent(self, spec: IrsaRoleSpec) -> None:
        """Delete the role: detach managed policies, delete inline ones, then the role. OIDC providers stay."""
        name = spec.role_name
        current = self.read_role(name)
        if current is not None:
            for arn in current.managed_policy_arns:
                self._plan(
                    f"detach {arn}",
                    lambda arn=arn: call(self.iam.detach_role_policy, f"detach {arn} from role {name!r}", RoleName=name, PolicyArn=arn),
                )
            for policy_name in current.inline_policies:
                self._plan_delete_inline(name, policy_name)
            self._plan(f"delete role {name}", lambda: call(self.iam.delete_role, f"delete IAM role {name!r}", RoleName=name))
            self.steps.before = {"role": current.view()}
        self.steps.result = {"role_name": name, "role_arn": None, "role_id": None, "oidc_provider_arn": None, "service_account_annotations": {}, "role": None}
