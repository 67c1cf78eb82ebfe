# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory check of preflight: every variable an inventory sets, against one declared spec.

The spec (``playbooks/vars/inventory_spec.yml``) lists every ``platform_*`` variable in the format of a role's
``meta/argument_specs.yml`` options, with two more keys: ``format`` (a name of :data:`FORMATS`) and ``file`` (the
group_vars file that holds it). The roles' own variables an inventory sets are checked against their role's spec.

:func:`check` works on plain, already templated values and returns :class:`Problem` s, each naming the variable,
its file and what is wrong. Types, ``required`` and ``choices`` are Ansible's own argument spec validator (the one
behind ``ansible.builtin.validate_argument_spec``); formats and the rules across variables are here. No message
quotes the value of a variable marked ``no_log`` (the secrets).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.eks_gitops.platform.plugins.module_utils import validation
from ansible_collections.eks_gitops.platform.plugins.module_utils.linkerd_identity import parse_duration
from ansible_collections.eks_gitops.platform.plugins.module_utils.secretsmanager import spec as secrets_spec
from ansible_collections.eks_gitops.platform.plugins.module_utils.workload_identity import documents as iam_documents

SPEC_ONLY_KEYS = ("format", "file", "role_option")
HELM_RELEASE_NAME_MAX = 53
_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
_KUBERNETES_MINOR = re.compile(r"^1\.(0|[1-9]\d*)$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_AWS_ACCOUNT_ID = re.compile(r"^\d{12}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SCP_GIT_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$")
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one variable (``variable`` may name an item: ``platform_workloads[0].name``)."""

    variable: str
    message: str
    file: str = ""

    def __str__(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return f"{self.variable}{where}: {self.message}"


# --- formats: each takes a value and returns None or what is wrong (never quoting a secret) ---------------------


def _has_space(value: str) -> bool:
    return any(char.isspace() for char in value)


def domain_problem(value: Any) -> Optional[str]:
    """A DNS name of at least two labels (``example.com``), lower case, as hosts and certificates need; a host
    template's ``{workload}`` and ``{env}`` count as labels."""
    if not isinstance(value, str) or not value:
        return "must be a DNS domain such as example.com"
    if "{workload}" in value or "{env}" in value:
        problem = domain_problem(value.replace("{workload}", "workload").replace("{env}", "env"))
        return problem.replace("'workload", "'{workload}").replace(".env.", ".{env}.") if problem else None
    if _has_space(value):
        return f"{value!r} is not a DNS domain: it contains white space"
    if "." not in value.strip("."):
        return f"{value!r} is not a DNS domain: it needs at least two labels (example.com)"
    problem = validation.dns1123_subdomain_problem(value)
    if problem:
        return f"{value!r} is not a DNS domain (lower-case letters, digits and '-' in labels separated by single dots)"
    if any(len(label) > validation.DNS1123_LABEL_MAX for label in value.split(".")):
        return f"{value!r} is not a DNS domain: a label is longer than {validation.DNS1123_LABEL_MAX} characters"
    return None


def _url_problem(value: Any, schemes: Sequence[str], what: str, local_http: bool = True) -> Optional[str]:
    if not isinstance(value, str) or not value:
        return f"must be {what}"
    if _has_space(value):
        return f"{_redact_url(value)!r} is not {what}: it contains white space"
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as error:
        return f"{_redact_url(value)!r} is not {what}: {error}"
    if parts.scheme not in schemes and not (local_http and parts.scheme == "http"):
        return f"{_redact_url(value)!r} is not {what} (scheme {', '.join(s + '://' for s in schemes)})"
    if parts.scheme == "http" and "http" not in schemes and host not in LOCAL_HOSTS:
        return f"{_redact_url(value)!r}: plain http:// is only for this machine ({', '.join(LOCAL_HOSTS)}); use https://"
    if parts.scheme != "file" and not host:
        return f"{_redact_url(value)!r} is not {what}: it has no host"
    if parts.password is not None:
        return f"{_redact_url(value)!r} carries a password: credentials come from Secrets Manager, never from a URL"
    if host and host not in LOCAL_HOSTS and not _is_ip(host) and domain_problem(host):
        return f"{_redact_url(value)!r} is not {what}: {host!r} is not a host name"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _redact_url(value: str) -> str:
    """The URL without the password of its user part."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@", r"\1:***@", value)


def http_url_problem(value: Any) -> Optional[str]:
    return _url_problem(value, ("https",), "an https:// URL")


def https_url_problem(value: Any) -> Optional[str]:
    return _url_problem(value, ("https",), "an https:// URL", local_http=False)


def chart_repository_url_problem(value: Any) -> Optional[str]:
    return _url_problem(value, ("https", "oci"), "a chart repository URL")


def git_url_problem(value: Any) -> Optional[str]:
    """An https:// or ssh:// Git URL, ``git@host:path``, or http:// on this machine (the sandbox's Git server)."""
    if isinstance(value, str) and _SCP_GIT_URL.match(value):
        return None
    return _url_problem(value, ("https", "ssh"), "a Git URL (https://, ssh:// or git@host:path)")


def semver_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and _SEMVER.match(value):
        return None
    return f"{value!r} is not a version such as 1.2.3 (a pinned release, never a moving name like latest)"


def kubernetes_minor_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and _KUBERNETES_MINOR.match(value):
        return None
    return f"{value!r} is not a Kubernetes minor version such as 1.31 (quote it in YAML)"


def aws_region_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and _AWS_REGION.match(value):
        return None
    return f"{value!r} is not an AWS region such as eu-west-1"


def aws_account_id_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and _AWS_ACCOUNT_ID.match(value):
        return None
    return f"{value!r} is not an AWS account id (12 digits, quoted in YAML)"


def cidr_problem(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value:
        return "must be a CIDR range such as 10.0.0.0/8"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        return f"{value!r} is not a CIDR range ({error})"
    if "/" not in value:
        return f"{value!r} is not a CIDR range: give the prefix length ({value}/32 for one address)"
    return None


def duration_problem(value: Any) -> Optional[str]:
    return parse_duration(value)[1]


def positive_problem(value: Any) -> Optional[str]:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return None
    return f"must be a whole number above 0, got {value!r}"


def absolute_path_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and value.startswith("/"):
        return None
    return f"{value!r} is not an absolute path"


def image_tag_problem(value: Any) -> Optional[str]:
    if isinstance(value, str) and _IMAGE_TAG.match(value):
        return None
    return f"{value!r} is not an image tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')"


def helm_release_name_problem(value: Any) -> Optional[str]:
    problem = validation.dns1123_label_problem(value)
    if problem is None and len(value) > HELM_RELEASE_NAME_MAX:
        problem = f"must be at most {HELM_RELEASE_NAME_MAX} characters (a Helm release name), got {len(value)}"
    return problem


def acm_certificate_arn_problem(value: Any) -> Optional[str]:
    problem = validation.arn_problem(value, service="acm", resource_type="certificate")
    return f"{problem} (an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>)" if problem else None


def iam_policy_arn_problem(value: Any) -> Optional[str]:
    return validation.arn_problem(value, service="iam", resource_type="policy")


def secret_reference_problem(value: Any) -> Optional[str]:
    return iam_documents.secret_reference_problem(value) or iam_documents.wildcard_problem(value)


def _template_problem(check: Callable[[Any], Optional[str]], value: Any, fill: str) -> Optional[str]:
    """Check a name template (``{workload}-{env}``) by filling its placeholders."""
    if not isinstance(value, str):
        return check(value)
    return check(value.replace("{workload}", fill).replace("{env}", fill))


def pod_security_levels_problem(value: Any) -> Optional[str]:
    for namespace, level in (value or {}).items():
        problem = validation.dns1123_label_problem(namespace)
        if problem:
            return f"namespace {problem}"
        if level not in POD_SECURITY_LEVELS:
            return f"{namespace}: {level!r} is not a Pod Security Standard ({', '.join(POD_SECURITY_LEVELS)})"
    return None


def _qualified_name_problem(key: Any) -> Optional[str]:
    if not isinstance(key, str) or not key:
        return "keys must be non-empty strings"
    prefix, _sep, name = key.rpartition("/")
    if prefix and validation.dns1123_subdomain_problem(prefix):
        return f"{key!r}: the prefix before '/' must be a DNS subdomain"
    if len(name) > validation.DNS1123_LABEL_MAX or not _LABEL_NAME.match(name):
        return f"{key!r} is not a Kubernetes label or annotation key"
    return None


def kubernetes_labels_problem(value: Any) -> Optional[str]:
    for key, label in (value or {}).items():
        problem = _qualified_name_problem(key)
        if problem:
            return problem
        if not isinstance(label, str) or len(label) > validation.DNS1123_LABEL_MAX or not _LABEL_VALUE.match(label):
            return f"{key}: {label!r} is not a label value (at most 63 letters, digits, '-', '_' and '.'; quote it in YAML)"
    return None


def kubernetes_annotations_problem(value: Any) -> Optional[str]:
    for key, annotation in (value or {}).items():
        problem = _qualified_name_problem(key)
        if problem:
            return problem
        if not isinstance(annotation, str):
            return f"{key}: annotation values are strings (quote it in YAML)"
    return None


def aws_tags_problem(value: Any) -> Optional[str]:
    errors = validation.ValidationErrors()
    validation.check_aws_tags(errors, "tags", value or {})
    return "; ".join(errors.messages) or None


def recovery_window_problem(value: Any) -> Optional[str]:
    return secrets_spec.recovery_window_problem(value)


FORMATS: Dict[str, Callable[[Any], Optional[str]]] = {
    "absolute_path": absolute_path_problem,
    "acm_certificate_arn": acm_certificate_arn_problem,
    "aws_account_id": aws_account_id_problem,
    "aws_region": aws_region_problem,
    "aws_tags": aws_tags_problem,
    "chart_repository_url": chart_repository_url_problem,
    "cidr": cidr_problem,
    "dns_label": validation.dns1123_label_problem,
    "dns_subdomain": validation.dns1123_subdomain_problem,
    "domain": domain_problem,
    "duration": duration_problem,
    "eks_cluster_name": validation.eks_cluster_name_problem,
    "eks_cluster_name_template": lambda value: _template_problem(validation.eks_cluster_name_problem, value, "x"),
    "git_branch": iam_documents.git_branch_problem,
    "git_url": git_url_problem,
    "github_repository": iam_documents.github_repository_problem,
    "helm_release_name": helm_release_name_problem,
    "http_url": http_url_problem,
    "https_url": https_url_problem,
    "iam_path": validation.iam_path_problem,
    "iam_policy_arn": iam_policy_arn_problem,
    "iam_role_name": validation.iam_role_name_problem,
    "iam_role_name_template": lambda value: _template_problem(validation.iam_role_name_problem, value, "x"),
    "image_tag": image_tag_problem,
    "kms_key": validation.kms_key_id_problem,
    "kms_key_arn": iam_documents.kms_key_arn_problem,
    "kubernetes_annotations": kubernetes_annotations_problem,
    "kubernetes_labels": kubernetes_labels_problem,
    "kubernetes_minor": kubernetes_minor_problem,
    "pod_security_levels": pod_security_levels_problem,
    "positive": positive_problem,
    "recovery_window": recovery_window_problem,
    "secret_name": secrets_spec.secret_name_problem,
    "secret_name_template": lambda value: _template_problem(secrets_spec.secret_name_problem, value, "x"),
    "secret_reference": secret_reference_problem,
    "semver": semver_problem,
    # Whole-variable formats, checked by the functions below (they need more than one value).
    "secrets": lambda value: None,
    "spokes": lambda value: None,
    "workloads": lambda value: None,
}

# The add-ons a spoke may get (the argocd role's argocd_spoke_addons).
SPOKE_ADDONS = ("secrets_store_csi", "traefik", "linkerd", "reloader")


# --- the spec ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """The inventory spec file, and the options of every role's main entry point ({variable: option spec})."""

    variables: Mapping[str, Mapping[str, Any]]
    role_variable_formats: Mapping[str, str]
    role_options: Mapping[str, Mapping[str, Any]]
    role_prefixes: Sequence[str]

    @classmethod
    def build(cls, spec_file: Mapping[str, Any], role_specs: Mapping[str, Mapping[str, Any]]) -> Spec:
        """``spec_file``: the loaded inventory spec; ``role_specs``: {role name: its loaded meta/argument_specs.yml}."""
        role_options: Dict[str, Mapping[str, Any]] = {}
        for role_spec in role_specs.values():
            role_options.update(((role_spec.get("argument_specs") or {}).get("main") or {}).get("options") or {})
        variables: Dict[str, Mapping[str, Any]] = {}
        for name, declared in (spec_file.get("inventory_spec") or {}).items():
            reference = declared.get("role_option")
            if reference:
                role, _sep, role_option = reference.partition(".")
                base = ((role_specs[role]["argument_specs"]["main"]["options"]) or {})[role_option]
                declared = {**base, **{key: value for key, value in declared.items() if key != "description"}}  # noqa: PLW2901
            variables[name] = declared
        # Longest first, so that linkerd_identity_ wins over linkerd_.
        prefixes = sorted((role + "_" for role in role_specs), key=len, reverse=True)
        return cls(variables, dict(spec_file.get("role_variable_formats") or {}), role_options, prefixes)

    def role_of(self, variable: str) -> Optional[str]:
        return next((prefix[:-1] for prefix in self.role_prefixes if variable.startswith(prefix)), None)

    def role_format(self, variable: str) -> Optional[str]:
        return next((name for pattern, name in self.role_variable_formats.items() if re.search(pattern, variable)), None)


def validator_spec(options: Mapping[str, Mapping[str, Any]], keep_required: bool = True) -> Dict[str, Dict[str, Any]]:
    """The options as ArgumentSpecValidator takes them: without this spec's own keys and the descriptions."""
    result: Dict[str, Dict[str, Any]] = {}
    for name, option in options.items():
        clean = {
            key: copy.deepcopy(value)
            for key, value in option.items()
            if key not in SPEC_ONLY_KEYS and key not in ("description", "default", "version_added") and (keep_required or key != "required")
        }
        if isinstance(option.get("options"), Mapping):
            clean["options"] = validator_spec(option["options"])
        result[name] = clean
    return result


# --- the check -----------------------------------------------------------------------------------------------


def check(values: Mapping[str, Any], spec: Spec, unresolved: Mapping[str, str] | None = None) -> List[Problem]:
    """Every problem of the inventory's ``values`` ({variable: templated value}); ``unresolved`` holds the variables
    that could not be templated ({variable: why})."""
    problems: List[Problem] = [Problem(name, f"cannot be resolved: {why}", _file(spec, name)) for name, why in (unresolved or {}).items()]
    platform = {name: value for name, value in values.items() if name.startswith("platform_")}
    roles = {name: value for name, value in values.items() if spec.role_of(name)}

    for name in sorted(set(platform) - set(spec.variables)):
        problems.append(Problem(name, "is not a variable of the platform (see playbooks/vars/inventory_spec.yml): a typo?"))
    known = {name: value for name, value in platform.items() if name in spec.variables}
    typed = _validate(known, spec.variables, spec, keep_required=True)
    problems.extend(typed)
    problems.extend(_formats({name: value for name, value in known.items() if name not in _variables(typed)}, spec))

    for name in sorted(set(roles) - set(spec.role_options)):
        role = spec.role_of(name)
        problems.append(Problem(name, f"is not a variable of the {role} role (see roles/{role}/README.md): a typo?"))
    role_values = {name: value for name, value in roles.items() if name in spec.role_options}
    typed = _validate(role_values, {name: spec.role_options[name] for name in role_values}, spec, keep_required=False)
    problems.extend(typed)
    for name, value in sorted(role_values.items()):
        format_name = spec.role_format(name)
        if format_name and name not in _variables(typed):
            problems.extend(Problem(name, message) for message in _format_messages(FORMATS[format_name], value))

    if not problems:
        problems.extend(_across(values, spec))
    return _dedupe(problems)


def _variables(problems: Iterable[Problem]) -> set:
    """The variables (not their items) some problems are about."""
    return {re.split(r"[\[.]", problem.variable, maxsplit=1)[0] for problem in problems}


def _file(spec: Spec, name: str) -> str:
    return str((spec.variables.get(name) or {}).get("file") or "")


def _validate(values: Mapping[str, Any], options: Mapping[str, Mapping[str, Any]], spec: Spec, keep_required: bool) -> List[Problem]:
    """Types, required and choices, by Ansible's argument spec validator; messages without no_log values."""
    if not options:
        return []
    result = ArgumentSpecValidator(validator_spec(options, keep_required)).validate(dict(values), validate_role_argument_spec=True)
    secrets = sorted((str(v) for v in result._no_log_values if str(v)), key=len, reverse=True)  # pylint: disable=protected-access
    problems = []
    for error in result.error_messages:
        message = error
        for secret in secrets:
            message = message.replace(secret, "********")
        variable = _variable_of(message, options)
        problems.append(Problem(variable, message, _file(spec, variable)))
    for name, option in options.items():
        if keep_required and option.get("required") and name in values and values[name] in ("", [], {}):
            problems.append(Problem(name, "is required and must not be empty", _file(spec, name)))
    return problems


def _variable_of(message: str, options: Mapping[str, Any]) -> str:
    """The variable an argument spec validator message is about."""
    for name in sorted(options, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", message):
            return name
    return "inventory"


def _format_messages(check_one: Callable[[Any], Optional[str]], value: Any) -> List[str]:
    """The format's messages for a value: each element of a list, the whole of a dict for the formats of dicts, each
    value of any other dict; nothing for an empty value (required is the spec's business)."""
    if value is None or value == "" or isinstance(value, bool):
        return []
    if isinstance(value, list):
        return [f"[{index}] {problem}" for index, item in enumerate(value) for problem in [check_one(item)] if problem]
    if isinstance(value, Mapping) and check_one not in _DICT_FORMATS:
        return [f"[{key}] {problem}" for key, item in value.items() for problem in [check_one(item)] if problem]
    problem = check_one(value)
    return [problem] if problem else []


_DICT_FORMATS = (aws_tags_problem, pod_security_levels_problem, kubernetes_labels_problem, kubernetes_annotations_problem)


def _formats(values: Mapping[str, Any], spec: Spec) -> List[Problem]:
    problems: List[Problem] = []
    for name, value in sorted(values.items()):
        option = spec.variables[name]
        file = _file(spec, name)
        if option.get("format"):
            problems.extend(Problem(name, message, file) for message in _format_messages(FORMATS[option["format"]], value))
        for key, sub in (option.get("options") or {}).items():
            if not sub.get("format"):
                continue
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, Mapping) and item.get(key) not in (None, ""):
                    where = f"{name}[{index}].{key}" if isinstance(value, list) else f"{name}.{key}"
                    problems.extend(Problem(where, message, file) for message in _format_messages(FORMATS[sub["format"]], item[key]))
    if "platform_workloads" in values:
        problems.extend(_workload_problems(values["platform_workloads"], _file(spec, "platform_workloads")))
    if "platform_secrets" in values:
        problems.extend(_secret_problems(values, _file(spec, "platform_secrets")))
    if "platform_spokes" in values:
        problems.extend(_spoke_problems(values, _file(spec, "platform_spokes")))
    return problems


def _spoke_problems(values: Mapping[str, Any], file: str) -> List[Problem]:
    """Each spoke once, never the hub itself, with facts and add-ons the platform knows."""
    problems: List[Problem] = []
    hub = values.get("platform_cluster_name")
    seen: Dict[str, int] = {}
    checks = {
        "aws_account_id": aws_account_id_problem,
        "aws_region": aws_region_problem,
        "eks_cluster_name": validation.eks_cluster_name_problem,
        "kubeconfig": absolute_path_problem,
    }
    for index, spoke in enumerate(values.get("platform_spokes") or []):
        if not isinstance(spoke, Mapping):
            continue  # the argument spec reports it
        where = f"platform_spokes[{index}]"
        name = spoke.get("name")
        problem = validation.dns1123_label_problem(name)
        if problem:
            problems.append(Problem(f"{where}.name", problem, file))
        elif name in seen:
            problems.append(Problem(f"{where}.name", f"{name!r} is listed twice (first as [{seen[name]}]): cluster names must be unique", file))
        elif hub and hub in (name, spoke.get("eks_cluster_name")):
            problems.append(Problem(f"{where}.name", f"{name!r} is this inventory's own cluster (platform_cluster_name), the hub: not a spoke of itself", file))
        else:
            seen[name] = index
        for key in ("kubeconfig", "server"):
            if key in spoke and not spoke[key]:
                problems.append(Problem(f"{where}.{key}", "is empty: give the spoke's kubeconfig, or its server and config", file))
        for key, check_one in checks.items():
            if spoke.get(key) not in (None, ""):
                problems.extend(Problem(f"{where}.{key}", message, file) for message in _format_messages(check_one, spoke[key]))
        environment = spoke.get("environment")
        if environment and environment not in (values.get("platform_gitops_environments") or []):
            problems.append(
                Problem(f"{where}.environment", f"{environment!r} is not in platform_gitops_environments (the environments the repository has)", file)
            )
        for position, addon in enumerate(spoke.get("addons") or []):
            if addon not in SPOKE_ADDONS:
                problems.append(Problem(f"{where}.addons[{position}]", f"{addon!r} is not an add-on the platform has ({', '.join(SPOKE_ADDONS)})", file))
    return problems


def _workload_problems(workloads: Any, file: str) -> List[Problem]:
    problems: List[Problem] = []
    seen: Dict[str, int] = {}
    for index, workload in enumerate(workloads or []):
        name = workload.get("name")
        problem = helm_release_name_problem(name)
        if problem:
            problems.append(Problem(f"platform_workloads[{index}].name", problem, file))
        elif name in seen:
            problems.append(Problem(f"platform_workloads[{index}].name", f"{name!r} is listed twice (first as [{seen[name]}])", file))
        else:
            seen[name] = index
        namespace = workload.get("namespace")
        if namespace:
            problem = _template_problem(validation.dns1123_label_problem, namespace, "x")
            if problem:
                problems.append(Problem(f"platform_workloads[{index}].namespace", problem, file))
        port = workload.get("port")
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            problems.append(Problem(f"platform_workloads[{index}].port", f"{port!r} is not a port (1 to 65535)", file))
    return problems


def _secret_problems(values: Mapping[str, Any], file: str) -> List[Problem]:
    """The secrets as eks_gitops.platform.secretsmanager_secrets checks them (its messages never quote a value)."""
    params = {
        "secrets": values.get("platform_secrets") or [],
        "owner_tag": values.get("platform_secrets_owner_tag"),
        "purge": values.get("platform_secrets_purge", False),
        "purge_prefix": values.get("platform_secrets_purge_prefix"),
    }
    _settings, _desired, errors = secrets_spec.parse(params, region=values.get("platform_aws_region"))
    problems = []
    for message in errors.messages:
        field, _sep, text = message.partition(": ")
        option, rest = re.match(r"^([a-z_]+)(.*)$", field).groups()
        problems.append(Problem(_SECRETS_OPTIONS.get(option, "platform_secrets") + rest, text, file))
    return problems


_SECRETS_OPTIONS = {
    "secrets": "platform_secrets",
    "owner_tag": "platform_secrets_owner_tag",
    "purge": "platform_secrets_purge",
    "purge_prefix": "platform_secrets_purge_prefix",
}


# --- rules across variables ----------------------------------------------------------------------------------


def _across(values: Mapping[str, Any], spec: Spec) -> List[Problem]:
    problems: List[Problem] = []
    environment = values.get("platform_environment")
    environments = values.get("platform_gitops_environments") or []
    if environment and environment not in environments:
        problems.append(
            Problem(
                "platform_gitops_environments",
                f"must list platform_environment ({environment}), got {environments}",
                _file(spec, "platform_gitops_environments"),
            )
        )
    problems.extend(_mesh_admission_problems(values))
    problems.extend(_certificate_problems(values))
    if environment == "local":
        state = values.get("platform_local_state_dir", "")
        if not values.get("platform_chart_repository") and values.get("platform_sandbox_charts", "doubles") != "upstream":
            problems.append(
                Problem(
                    "platform_chart_repository",
                    f"the local chart repository is not running (no {state}/chart-repo.url): run make sandbox, or make chart-repo-up",
                )
            )
        if values.get("platform_aws_enabled", True) and not values.get("platform_aws_endpoint_url"):
            problems.append(
                Problem("platform_aws_endpoint_url", f"the local AWS (moto) is not running (no {state}/moto.url): run make sandbox, or make moto-up")
            )
    elif values.get("platform_aws_endpoint_url"):
        problems.append(Problem("platform_aws_endpoint_url", f"is for the sandbox only; {environment} talks to AWS itself (leave it empty)", "aws.yml"))
    return problems


def _mesh_admission_problems(values: Mapping[str, Any]) -> List[Problem]:
    """Linkerd without its CNI plugin injects linkerd-init (NET_ADMIN, NET_RAW), which the restricted Pod Security
    Standard refuses: every meshed pod of such a namespace would be rejected at admission."""
    labels = values.get("platform_workload_namespace_labels") or {}
    annotations = values.get("platform_workload_namespace_annotations") or {}
    meshed = annotations.get("linkerd.io/inject") == "enabled"
    if not meshed or values.get("linkerd_cni_enabled", True) or labels.get("pod-security.kubernetes.io/enforce") != "restricted":
        return []
    return [
        Problem(
            "platform_workload_namespace_labels",
            "meshed namespaces (linkerd.io/inject: enabled) enforce restricted, but linkerd_cni_enabled is false: linkerd-init"
            " needs NET_ADMIN and NET_RAW, which restricted refuses. Keep Linkerd's CNI plugin on, or set"
            " pod-security.kubernetes.io/enforce: baseline for clusters that cannot run it",
            "cluster.yml",
        )
    ]


def _certificate_problems(values: Mapping[str, Any]) -> List[Problem]:
    required = values.get("traefik_tls_require_certificate", values.get("platform_environment") == "production")
    if not required or values.get("traefik_tls_acm_certificate_arn") or values.get("traefik_tls_default_certificate_secret"):
        return []
    return [
        Problem(
            "traefik_tls_acm_certificate_arn",
            "production needs a real certificate: set traefik_tls_acm_certificate_arn (TLS at the NLB) or"
            " traefik_tls_default_certificate_secret (a kubernetes.io/tls Secret in the traefik namespace)",
            "traefik.yml",
        )
    ]


def _dedupe(problems: Iterable[Problem]) -> List[Problem]:
    seen: Dict[Tuple[str, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.variable, problem.message), problem)
    return list(seen.values())
