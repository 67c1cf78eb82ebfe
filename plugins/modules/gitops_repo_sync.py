#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gitops_repo_sync
short_description: Render the GitOps repository of the gitops_repo role into a directory, commit and push it
version_added: 0.1.0
description:
  - The engine of the C(eks_gitops.platform.gitops_repo) role; use the role, which fills every option from its
    variables. It runs on the controller (an action plugin) and writes into O(dest) there.
  - Plans the files of one render (the shared ones, the workflows and the workload charts, and the files of the
    environments in O(render_environments)), reads what is on disk and in the manifest O(manifest_name), renders
    every template of the role, and writes only the files that differ (a data file whose data is right is left
    alone however it is laid out). It removes the files no environment renders any more and never writes a file it
    does not own (it fails first, naming them, unless O(adopt_existing)).
  - The manifest records, for each file, the environments whose renders write it, so inventories of different
    AWS accounts render their environments into one repository in turn without changing each other's files.
  - With O(git.commit) it commits the files it owns (nothing else of the checkout) when they changed, and with
    O(git.push) pushes the branch; before rendering it fetches the branch and fast-forwards to it (O(git.pull)).
author:
  - eks_gitops.platform contributors (@eks-gitops)
options:
  dest:
    description: Absolute path of the directory (a Git work tree with O(git.commit)) the repository is rendered into.
    type: path
    required: true
  repo_url:
    description: Git URL of the repository (the C(repoURL) of every Application, and the remote of a new work tree).
    type: str
    required: true
  environments:
    description: Every environment of the repository, in promotion order.
    type: list
    elements: str
    required: true
  render_environments:
    description: The environments this render writes; default O(environments).
    type: list
    elements: str
  applications_path:
    description: Directory of an environment's Applications, C({env}) replaced.
    type: str
    default: applications/{env}
  workloads:
    description: The workloads (see the role's C(gitops_repo_workloads)).
    type: list
    elements: dict
    required: true
  workload_defaults:
    description: Keys every workload gets unless it sets them.
    type: dict
    default: {}
  repo_files:
    description: Files at the root of the repository, rendered from the role's C(templates/repo/<file>.j2).
    type: list
    elements: str
    required: true
  chart_files:
    description: Files of each workload chart, rendered from the role's C(templates/chart/<file>.j2).
    type: list
    elements: str
    required: true
  aws_account_id:
    description: AWS account of the rendered environments.
    type: str
    required: true
  aws_region:
    description: AWS region of the rendered environments.
    type: str
    required: true
  ecr_registry:
    description: ECR registry of the rendered environments.
    type: str
    required: true
  ci_role_arn:
    description: IAM role the workflows assume for the rendered environments.
    type: str
    required: true
  workload_role_arn:
    description: IRSA role of a workload, C({workload}) and C({env}) replaced.
    type: str
    required: true
  secret_name:
    description: Secrets Manager secret of a workload, C({workload}) and C({env}) replaced.
    type: str
    required: true
  host:
    description: Host of a workload's route, C({workload}) and C({env}) replaced.
    type: str
    required: true
  use_pod_identity:
    description: EKS Pod Identity instead of IRSA in the SecretProviderClasses.
    type: bool
    default: false
  eks_cluster_name:
    description: EKS cluster of an environment, C({env}) replaced.
    type: str
    required: true
  argocd_namespace:
    description: Namespace of the Argo CD Applications.
    type: str
    default: argocd
  initial_image_tag:
    description: Image tag of a new values file (empty deploys no pods until a workflow sets one).
    type: str
    default: ""
  service_monitor:
    description: Turn the workloads' ServiceMonitors on in the rendered environments.
    type: bool
    default: false
  environment_values:
    description: Chart values per environment.
    type: dict
    default: {}
  manifest_name:
    description: Manifest of the files the role owns, at the root of O(dest).
    type: str
    default: .eks-gitops-scaffold.json
  adopt_existing:
    description: Take over existing files that are not in the manifest instead of failing.
    type: bool
    default: false
  prune:
    description: Remove owned files no environment renders any more.
    type: bool
    default: true
  git:
    description: Commit, push and pull.
    type: dict
    default: {}
    suboptions:
      commit:
        description: Commit the owned files that changed.
        type: bool
        default: false
      push:
        description: Push the branch after committing.
        type: bool
        default: false
      pull:
        description: Fetch and fast-forward before rendering.
        type: bool
        default: true
      remote:
        description: Remote name.
        type: str
        default: origin
      branch:
        description: Branch to commit on and push.
        type: str
        default: main
      commit_message:
        description: Commit message, C({environments}) replaced.
        type: str
        default: Render the GitOps repository ({environments})
      author_name:
        description: Author and committer name.
        type: str
        default: eks-gitops-platform
      author_email:
        description: Author and committer e-mail.
        type: str
        default: eks-gitops-platform@users.noreply.github.com
      username:
        description: User of HTTP basic auth for the remote.
        type: str
        default: ""
      password:
        description: Password or token of HTTP basic auth, passed to git in its environment only.
        type: str
        default: ""
attributes:
  check_mode:
    support: full
    description: Reports what would be written, removed, committed and pushed; fetches nothing and writes nothing.
  diff_mode:
    support: full
    description: Shows the before and after of every file written or removed.
  action:
    support: full
    description: Runs on the controller.
notes:
  - The role's C(README.md) explains the layout, ownership and the workflows.
"""

EXAMPLES = r"""
- name: Render the GitOps repository (use the role; it fills every option)
  ansible.builtin.include_role:
    name: eks_gitops.platform.gitops_repo
  vars:
    gitops_repo_dest: /srv/platform-gitops
    gitops_repo_repo_url: https://github.com/example-org/platform-gitops.git
    gitops_repo_aws_account_id: "123456789012"
    gitops_repo_render_environments: [production]
    gitops_repo_git_commit: true
"""

RETURN = r"""
dest:
  description: The directory rendered into.
  type: str
  returned: always
created:
  description: Files written that did not exist.
  type: list
  elements: str
  returned: always
updated:
  description: Files rewritten because their content (or data, or mode) differed.
  type: list
  elements: str
  returned: always
removed:
  description: Owned files removed because no environment renders them any more.
  type: list
  elements: str
  returned: always
render_environments:
  description: The environments this render wrote.
  type: list
  elements: str
  returned: always
commit:
  description: The commit made, empty when nothing changed (C((check mode)) when one would be made).
  type: str
  returned: always
pushed:
  description: Whether the branch was pushed.
  type: bool
  returned: always
pulled:
  description: Whether the work tree was fast-forwarded to the remote branch before rendering.
  type: bool
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eks_gitops.platform.plugins.module_utils.gitops_repo_spec import ARGUMENT_SPEC


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="eks_gitops.platform.gitops_repo_sync runs on the controller as an action plugin; it cannot run as a module")


if __name__ == "__main__":
    main()
