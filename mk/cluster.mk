# Local Kubernetes for tests and the sandbox: a real v1.37 control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) built from pinned Go modules and run by kwokctl as local
# processes, nodes simulated by kwok; and a Helm repository of the test charts on 127.0.0.1.
# Included by the Makefile; everything here works from a fresh clone (Go is the one prerequisite).

CLUSTER_SCRIPT := scripts/local_cluster.sh
CHART_REPO_CLI := tests/support/chart_repo.py
MOTO_CLI := tests/support/moto.py
ARGOCD_CLI := tests/support/local_argocd.py
GIT_SERVER_CLI := tests/support/git_server.py

.PHONY: cluster-binaries
cluster-binaries: ## Build the pinned control-plane and Argo CD binaries into the user cache (a no-op when cached)
	bash $(CLUSTER_SCRIPT) binaries

.PHONY: cluster-up
cluster-up: venv ## Start the local cluster (or reuse it); kubeconfig in .local/kubeconfig
	bash $(CLUSTER_SCRIPT) up

.PHONY: cluster-down
cluster-down: ## Stop every process of the local cluster (and its Argo CD) and remove its state
	bash $(CLUSTER_SCRIPT) down

.PHONY: cluster-status
cluster-status: ## Tell whether the local cluster is running
	bash $(CLUSTER_SCRIPT) status

.PHONY: argocd-up
argocd-up: venv cluster-binaries ## Run the real Argo CD (controller, repo-server, server, appset controller, Redis) beside the local cluster
	$(BIN)/python $(ARGOCD_CLI) up --namespace $(or $(ARGOCD_NAMESPACE),argocd) >/dev/null

.PHONY: argocd-down
argocd-down: ## Stop the local Argo CD started by argocd-up
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) $(ARGOCD_CLI) down

.PHONY: git-server-up
git-server-up: venv ## Serve Git repositories on 127.0.0.1 (smart HTTP, push webhooks); URL in .local/git-server.url
	$(BIN)/python $(GIT_SERVER_CLI) up --repo platform-gitops >/dev/null

.PHONY: git-server-down
git-server-down: ## Stop the Git server and remove its repositories
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) $(GIT_SERVER_CLI) down

.PHONY: chart-repo-up
chart-repo-up: venv ## Serve the test charts on 127.0.0.1 (or reuse); URL in .local/chart-repo.url
	$(BIN)/python $(CHART_REPO_CLI) up

.PHONY: chart-repo-down
chart-repo-down: ## Stop the chart repository and remove its state
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) $(CHART_REPO_CLI) down

.PHONY: moto-up
moto-up: venv ## Start a moto server (local AWS) on 127.0.0.1 (or reuse; MOTO_PORT=n fixes the port); URL in .local/moto.url
	$(BIN)/python $(MOTO_CLI) up $(if $(MOTO_PORT),--port $(MOTO_PORT))

.PHONY: moto-down
moto-down: ## Stop the moto server started by moto-up
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) $(MOTO_CLI) down

.PHONY: molecule
molecule: venv ## molecule test -s local, then -s local-argocd (create = cluster-up + chart-repo-up + moto-up, destroy = down)
	$(BIN)/molecule test -s local
	$(BIN)/molecule test -s local-argocd

.PHONY: molecule-kind
molecule-kind: venv ## molecule test -s kind (needs Docker and kind; what GitHub Actions runs)
	$(BIN)/molecule test -s kind

# Build (or find cached) the control plane before the integration tests, so a cold build is not
# counted against a test's timeout.
integration: cluster-binaries
