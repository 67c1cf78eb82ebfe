# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload identity: the IAM roles and EKS links that let pods (and CI workflows) reach AWS, and IAM principals
reach a cluster.

- ``aws``: AWS calls, lists and the caller's account, over amazon.aws's error handler and paginator;
- ``plan``: the one backend shape, read → :class:`~.plan.Plan` → :func:`~.plan.execute`, and ``run_module``;
- ``documents``: IAM trust and permission documents, ARNs, and the checks of their inputs (pure);
- ``irsa``: the ``irsa_role`` backend (IRSA, Pod Identity and GitHub Actions trust);
- ``pod_identity``: the ``pod_identity_association`` backend;
- ``eks_cluster``: the ``eks_cluster_info`` backend;
- ``access_entry``: the ``eks_access_entry`` backend (an IAM principal's access to a cluster's Kubernetes API).
"""
