# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_gitops.platform.plugins.module_utils.chart_crds import ChartCrdsError, crd_documents

DOCUMENTATION = r"""
name: chart_crds
short_description: The CustomResourceDefinitions of a chart's crds/ directories, from helm template output
version_added: 0.1.0
author:
  - eks_gitops.platform maintainers
description:
  - Takes what C(helm template --include-crds) printed (the C(stdout) of M(kubernetes.core.helm_template) with
    O(kubernetes.core.helm_template#module:include_crds=true)) and returns the C(CustomResourceDefinition)
    documents that come from the C(crds/) directory of the chart or of one of its subcharts.
  - Helm installs those only on the first install of a release and never upgrades them; the C(chart_release)
    role applies them server-side before a chart is installed or its version changes. CRDs rendered from C(templates/) belong to
    the Helm release and are left out, as are documents of other kinds.
options:
  _input:
    description: The output of C(helm template --include-crds).
    type: string
    required: true
seealso:
  - module: kubernetes.core.helm_template
"""

EXAMPLES = r"""
- name: Render the chart with its CRDs
  kubernetes.core.helm_template:
    chart_ref: traefik
    chart_repo_url: https://traefik.github.io/charts
    chart_version: 41.3.0
    include_crds: true
  check_mode: false
  changed_when: false
  register: rendered

- name: Apply the chart's CRDs server-side
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: eks-gitops-platform
      force_conflicts: true
    definition: "{{ rendered.stdout | eks_gitops.platform.chart_crds }}"
"""

RETURN = r"""
_value:
  description: The CustomResourceDefinitions of the chart's C(crds/) directories, in the order Helm printed them.
  type: list
  elements: dictionary
"""


def chart_crds(manifest: Any) -> list[dict[str, Any]]:
    try:
        return crd_documents(str(manifest) if manifest is not None else "")
    except ChartCrdsError as exc:
        raise AnsibleFilterError(f"eks_gitops.platform.chart_crds: {exc}") from None


class FilterModule:
    """The CRDs a Helm chart ships in crds/."""

    def filters(self) -> dict[str, Callable]:
        return {"chart_crds": chart_crds}
