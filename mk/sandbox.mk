# The sandbox: the whole platform on the local cluster, a local AWS (moto) and the local chart repository,
# on a machine with no AWS account and no cluster. Included by the Makefile; scripts/sandbox.py does the work.
#
#   make sandbox           start the three (or reuse them), run playbooks/bootstrap.yml with inventories/local,
#                          print the validate table, the kubeconfig and the generated GitOps repository
#   make sandbox-down      take the platform off a cluster that stays up, stop what make sandbox started
#   make sandbox-env       export lines to run the playbooks by hand: eval "$(make -s sandbox-env)"
#   make bench-bootstrap   bootstrap twice on a fresh cluster and moto of its own: wall times, ratio, changed count
#   make bench-gitops      commit -> Deployment rolled out on the sandbox, with the webhook and with Argo CD's polling

SANDBOX_CLI := scripts/sandbox.py

.PHONY: sandbox
sandbox: venv cluster-binaries ## Bring the whole platform up on a local cluster and a local AWS (moto); a re-run changes nothing
	$(BIN)/python $(SANDBOX_CLI) bootstrap

.PHONY: sandbox-down
sandbox-down: ## Stop everything make sandbox started
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) $(SANDBOX_CLI) down

.PHONY: sandbox-env
sandbox-env: ## Print the export lines for running the playbooks against the sandbox by hand
	@$(BIN)/python $(SANDBOX_CLI) env

.PHONY: bench-bootstrap
bench-bootstrap: venv cluster-binaries ## Bootstrap twice on a fresh local cluster: both wall times, their ratio, the second run's changed count
	$(BIN)/python $(SANDBOX_CLI) bench

.PHONY: bench-gitops
bench-gitops: venv cluster-binaries ## Time commit -> Deployment rolled out on the sandbox: webhook vs Argo CD polling (BENCH_GITOPS_COMMITS, BENCH_GITOPS_POLLING_COMMITS)
	$(BIN)/python $(SANDBOX_CLI) bench-gitops
