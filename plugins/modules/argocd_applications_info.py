#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: argocd_applications_info
short_description: What Argo CD says about its Applications, waiting (bounded) until they are Synced and Healthy
version_added: 0.1.0
description:
  - Reads the Argo CD Applications of a namespace and reports, for each, its sync and health status, the revision
    it is synced to and Argo CD's own message when it is not fine (the failed sync operation, error conditions such
    as C(ComparisonError), the failed resources, the health message).
  - With O(wait), reads again until every Application is Synced and Healthy, or until the ones that are not have
    been failing for O(settle_seconds) (Argo CD retries a failed sync, so one failure is not yet final), or until
    O(wait_timeout). The result says which; the module never fails because an Application is unhealthy.
  - The Application's status is written by Argo CD and only read here, so what the module reports is what the
    running controller decided.
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  namespace:
    description: Namespace of the Applications (the Argo CD namespace).
    type: str
    default: argocd
  required:
    description:
      - Applications that must exist. Until they do, the wait goes on and RV(all_healthy) is false (an app-of-apps
        creates its children only after its own sync).
    type: list
    elements: str
    default: []
  wait:
    description: Wait until every Application is Synced and Healthy, or settled failing.
    type: bool
    default: false
  wait_timeout:
    description: Bound of the wait, in seconds.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two reads.
    type: int
    default: 2
  settle_seconds:
    description: An Application failing this long (across reads) counts as failed; the wait ends when nothing else is pending.
    type: int
    default: 60
  stable_seconds:
    description:
      - With O(wait), once every Application is Synced and Healthy, keep reading this long and end only when they stayed
        so (a workload can turn Degraded shortly after its first sync). Applications whose health last changed and
        whose last sync finished this long ago already (Argo CD's own timestamps) count as stable at once.
    type: int
    default: 0
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eks_gitops.platform.attributes.info_module
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait until Argo CD has synced every Application
  eks_gitops.platform.argocd_applications_info:
    namespace: argocd
    wait: true
    wait_timeout: 300
  register: apps

- name: Fail with Argo CD's own messages
  ansible.builtin.assert:
    that: apps.all_healthy
    fail_msg: "{{ apps.evidence }}"
"""

RETURN = r"""
applications:
  description: Every Application read, sorted by name.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Name of the Application.
      type: str
    sync:
      description: C(Synced), C(OutOfSync) or C(Unknown).
      type: str
    health:
      description: C(Healthy), C(Progressing), C(Degraded), C(Suspended), C(Missing) or C(Unknown).
      type: str
    revision:
      description: The revision it is synced to.
      type: str
    message:
      description: Argo CD's message when the Application is not Synced and Healthy (empty otherwise).
      type: str
    failing:
      description: Argo CD reports an error (a failed sync, an error condition).
      type: bool
all_healthy:
  description: There is at least one Application, every O(required) one exists, and every one is Synced and Healthy.
  type: bool
  returned: always
evidence:
  description: One line naming each Application with its sync and health status and, when not fine, Argo CD's message.
  type: str
  returned: always
waited:
  description: Seconds spent waiting.
  type: float
  returned: always
timed_out:
  description: The wait ended at O(wait_timeout) with Applications neither healthy nor settled failing.
  type: bool
  returned: always
"""

import copy
import time

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # AnsibleK8SModule reports the missing kubernetes package

    class ResourceNotFoundError(Exception):  # type: ignore[no-redef]
        """Stands in for the kubernetes client's exception when the package is missing."""


from ansible_collections.eks_gitops.platform.plugins.module_utils.argocd_status import Observation, all_healthy, evidence, statuses_of


def read(client, namespace):  # type: ignore[no-untyped-def]
    try:
        resource = client.resource("Application", "argoproj.io/v1alpha1")
    except ResourceNotFoundError:  # no Application kind on the cluster (yet): no Application
        return []
    return [item.to_dict() for item in client.get(resource, namespace=namespace).items]


def main() -> None:
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        namespace={"type": "str", "default": "argocd"},
        required={"type": "list", "elements": "str", "default": []},
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 300},
        wait_sleep={"type": "int", "default": 2},
        settle_seconds={"type": "int", "default": 60},
        stable_seconds={"type": "int", "default": 0},
    )
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    started = time.monotonic()
    observation = Observation()
    try:
        client = get_api_client(module)
        while True:
            statuses = statuses_of(read(client, params["namespace"]))
            now = time.monotonic()
            observation.update(statuses, now, params["required"])
            settled = observation.settled(statuses, now, params["settle_seconds"], params["required"])
            if settled and observation.healthy_since is not None:
                settled = observation.stable(now, params["stable_seconds"], statuses, time.time())
            if not params["wait"] or settled or now - started >= params["wait_timeout"]:
                break
            time.sleep(params["wait_sleep"])
    except CoreException as exc:
        module.fail_from_exception(exc)
    module.exit_json(
        changed=False,
        applications=[status.as_dict() for status in sorted(statuses, key=lambda item: item.name)],
        all_healthy=all_healthy(statuses, params["required"]),
        evidence=evidence(statuses, params["required"]),
        waited=round(time.monotonic() - started, 1),
        timed_out=bool(params["wait"]) and not settled,
    )


if __name__ == "__main__":
    main()
