#!/usr/bin/env bash
# Local Kubernetes for tests: a real v1.37 control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) run as plain processes by kwokctl, with
# kwok simulating the nodes. No container runtime or image registry is needed.
#
#   scripts/local_cluster.sh binaries   build the pinned binaries (control plane and Argo CD) into the user cache
#                                       (no-op when cached)
#   scripts/local_cluster.sh up         start the cluster, or reuse the running one
#   scripts/local_cluster.sh down       stop every process the cluster started and remove its state
#   scripts/local_cluster.sh status     exit 0 when the cluster answers, 1 otherwise
#   scripts/local_cluster.sh env        print the export lines for the binaries and the kubeconfig
#
# Environment knobs (all optional):
#   EKS_GITOPS_CACHE_DIR     cache root     (default ${XDG_CACHE_HOME:-$HOME/.cache}/eks-gitops-platform)
#   LOCAL_CLUSTER_STATE_DIR  state root     (default <repo>/.local)
#   LOCAL_CLUSTER_NAME       kwok cluster   (default eks-gitops-local)
#   LOCAL_CLUSTER_NODES      simulated nodes (default 2)
#   KUBECTL                  kubectl binary (default .venv/bin/kubectl, then the one on PATH)
#   GO                       go binary      (default go on PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR="$ROOT/tools/localcluster"
CACHE_ROOT=${EKS_GITOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/eks-gitops-platform}
BIN_ROOT="$CACHE_ROOT/bin"
STATE_DIR=${LOCAL_CLUSTER_STATE_DIR:-$ROOT/.local}
CLUSTER_NAME=${LOCAL_CLUSTER_NAME:-eks-gitops-local}
NODES=${LOCAL_CLUSTER_NODES:-2}
KWOK_WORKDIR="$STATE_DIR/kwok"
KUBECONFIG_PATH="$STATE_DIR/kubeconfig"
GO=${GO:-go}
GO_BUILD_FLAGS=(-trimpath)
GO_LDFLAGS_BASE="-s -w"

log() { printf '%s\n' "local-cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Version of a required module, read from the pinned go.mod.
mod_version() { awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$TOOLS_DIR/$1/go.mod"; }

mod_version_of() {
  case $1 in
    kube) printf '%s\n' "$KUBE_VERSION" ;;
    etcd) printf '%s\n' "$ETCD_VERSION" ;;
    kwok) printf '%s\n' "$KWOK_VERSION" ;;
    argocd) printf '%s\n' "$ARGOCD_VERSION" ;;
  esac
}

# The toolchain a module's go.mod asks for (its toolchain line, else local): Argo CD needs a newer Go than the
# one installed, and the go command fetches that toolchain from the module proxy.
toolchain_of() { awk '$1 == "toolchain" { print $2; found = 1; exit } END { if (!found) print "local" }' "$TOOLS_DIR/$1/go.mod"; }

KUBE_VERSION=$(mod_version kube k8s.io/kubernetes)
ETCD_VERSION=$(mod_version etcd go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(mod_version kwok sigs.k8s.io/kwok)
ARGOCD_VERSION=$(mod_version argocd github.com/argoproj/argo-cd/v3)
[[ -n "$KUBE_VERSION" && -n "$ETCD_VERSION" && -n "$KWOK_VERSION" && -n "$ARGOCD_VERSION" ]] ||
  die "cannot read pinned versions from $TOOLS_DIR/*/go.mod"

KUBE_BIN_DIR="$BIN_ROOT/kubernetes-$KUBE_VERSION"
ETCD_BIN_DIR="$BIN_ROOT/etcd-$ETCD_VERSION"
KWOK_BIN_DIR="$BIN_ROOT/kwok-$KWOK_VERSION"
ARGOCD_BIN_DIR="$BIN_ROOT/argocd-$ARGOCD_VERSION"

export KWOK_KUBE_APISERVER_BINARY="$KUBE_BIN_DIR/kube-apiserver"
export KWOK_KUBE_CONTROLLER_MANAGER_BINARY="$KUBE_BIN_DIR/kube-controller-manager"
export KWOK_KUBE_SCHEDULER_BINARY="$KUBE_BIN_DIR/kube-scheduler"
export KWOK_ETCD_BINARY="$ETCD_BIN_DIR/etcd"
export KWOK_CONTROLLER_BINARY="$KWOK_BIN_DIR/kwok"
KWOKCTL="$KWOK_BIN_DIR/kwokctl"

# kwokctl forks the cluster's processes: they must not inherit (and so hold) our lock files.
kwokctl() { "$KWOKCTL" "$@" 8>&- 9>&-; }

pick_kubectl() {
  if [[ -n "${KUBECTL:-}" ]]; then
    printf '%s\n' "$KUBECTL"
  elif [[ -x "$ROOT/.venv/bin/kubectl" ]]; then
    printf '%s\n' "$ROOT/.venv/bin/kubectl"
  elif command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
  else
    printf '%s\n' ""
  fi
}

# --------------------------------------------------------------------------- build

require_go() {
  if ! command -v "$GO" >/dev/null 2>&1; then
    die "no Go toolchain found ('$GO' is not on PATH). The local cluster builds its control plane from Go modules:
  install Go >= $(awk '$1 == "go" { print $2; exit }' "$TOOLS_DIR/kube/go.mod") (for example from your OS packages, or the official tarball into /usr/local/go
  with /usr/local/go/bin on PATH), or set GO=/path/to/go. Then run 'make cluster-binaries' again."
  fi
}

# Fingerprint of everything that decides the binaries of one component.
stamp_of() {
  local component=$1 ldflags=$2
  {
    cat "$TOOLS_DIR/$component/go.mod" "$TOOLS_DIR/$component/go.sum"
    printf '%s\n' "${GO_BUILD_FLAGS[*]}" "$ldflags" "$(uname -sm)"
  } | sha256sum | cut -d' ' -f1
}

# Minutes a cold build of each binary took on a 2-core machine (Go build cache empty, modules downloaded),
# shown while building so that a long build does not look like a hang.
build_minutes() {
  case $1 in
    etcd) echo 2 ;;
    kwok | kwokctl) echo 2 ;;
    kube-apiserver) echo 6 ;;
    kube-controller-manager) echo 4 ;;
    kube-scheduler) echo 2 ;;
    argocd) echo 9 ;;
    *) echo 1 ;;
  esac
}

BUILD_TOTAL=0
BUILD_DONE=0

# component_cached <component> <bin dir> <ldflags> <name>=<package>...: exit 0 when the cache is current.
component_cached() {
  local component=$1 bin_dir=$2 ldflags=$3 have="" spec
  shift 3
  [[ -f "$bin_dir/.stamp" ]] && have=$(<"$bin_dir/.stamp")
  [[ "$have" == "$(stamp_of "$component" "$ldflags")" ]] || return 1
  for spec in "$@"; do
    [[ -x "$bin_dir/${spec%%=*}" ]] || return 1
  done
}

# build_component <component dir> <bin dir> <ldflags> <name>=<package>...
build_component() {
  local component=$1 bin_dir=$2 ldflags=$3
  shift 3
  if component_cached "$component" "$bin_dir" "$ldflags" "$@"; then
    log "$component: cached in $bin_dir"
    return 0
  fi
  require_go
  local tmp="$bin_dir.tmp.$$" start end spec name toolchain
  toolchain=$(toolchain_of "$component")
  # Leftovers of an interrupted build (the lock is ours, so no other build is writing them).
  rm -rf "$bin_dir".tmp.*
  mkdir -p "$tmp"
  start=$(date +%s)
  log "$component $(mod_version_of "$component"): building (Go toolchain: $toolchain)"
  for spec in "$@"; do
    name=${spec%%=*}
    BUILD_DONE=$((BUILD_DONE + 1))
    log "  building $name ($BUILD_DONE of $BUILD_TOTAL), about $(build_minutes "$name") min on 2 cores with a cold Go build cache"
    (
      cd "$TOOLS_DIR/$component"
      GOTOOLCHAIN=$toolchain CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        "$GO" build "${GO_BUILD_FLAGS[@]}" -ldflags="$ldflags" -o "$tmp/$name" "${spec#*=}"
    ) || { rm -rf "$tmp"; die "$component: go build of ${spec#*=} failed (see above)"; }
  done
  if [[ "$component" == argocd ]]; then
    # The repo-server runs this script of Argo CD's module (GPG verification of revisions): taken from the
    # module cache at build time, never committed here.
    local module_dir
    module_dir=$(cd "$TOOLS_DIR/argocd" && GOTOOLCHAIN=$toolchain GOFLAGS=-mod=readonly "$GO" list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
    install -m 0755 "$module_dir/hack/git-verify-wrapper.sh" "$tmp/git-verify-wrapper.sh"
  fi
  stamp_of "$component" "$ldflags" >"$tmp/.stamp"
  rm -rf "$bin_dir"
  mv "$tmp" "$bin_dir"
  end=$(date +%s)
  log "$component: built in $((end - start)) s into $bin_dir"
}

kube_ldflags() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local flags="$GO_LDFLAGS_BASE" pkg key val
  # Same version stamping as kubernetes' hack/lib/version.sh, so the server reports its real version.
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    for key in gitVersion gitMajor gitMinor gitTreeState buildDate; do
      case $key in
        gitVersion) val=$KUBE_VERSION ;;
        gitMajor) val=1 ;;
        gitMinor) val=$minor ;;
        gitTreeState) val=clean ;;
        buildDate) val=1970-01-01T00:00:00Z ;;
      esac
      flags+=" -X $pkg.$key=$val"
    done
  done
  printf '%s\n' "$flags"
}

argocd_ldflags() {
  local pkg=github.com/argoproj/argo-cd/v3/common
  printf '%s\n' "$GO_LDFLAGS_BASE -X $pkg.version=${ARGOCD_VERSION#v} -X $pkg.buildDate=1970-01-01T00:00:00Z -X $pkg.gitTag=$ARGOCD_VERSION -X $pkg.gitTreeState=clean"
}

# Every component: <component> <bin dir> <ldflags> <name>=<package>...
components() {
  printf '%s\n' \
    "etcd|$ETCD_BIN_DIR|$GO_LDFLAGS_BASE|etcd=go.etcd.io/etcd/server/v3" \
    "kwok|$KWOK_BIN_DIR|$GO_LDFLAGS_BASE -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}|kwok=sigs.k8s.io/kwok/cmd/kwok kwokctl=sigs.k8s.io/kwok/cmd/kwokctl" \
    "kube|$KUBE_BIN_DIR|$(kube_ldflags)|kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler" \
    "argocd|$ARGOCD_BIN_DIR|$(argocd_ldflags)|argocd=github.com/argoproj/argo-cd/v3/cmd"
}

cmd_binaries() {
  mkdir -p "$BIN_ROOT"
  # One build at a time, also across make and pytest running side by side.
  exec 9>"$BIN_ROOT/.build.lock"
  flock -w 3600 9 || die "timed out waiting for another build to finish ($BIN_ROOT/.build.lock)"
  local component bin_dir ldflags specs minutes=0 spec
  # First count what must be built, for the "n of N, about m min" progress lines.
  while IFS='|' read -r component bin_dir ldflags specs; do
    # shellcheck disable=SC2086 # specs is a list of words
    if ! component_cached "$component" "$bin_dir" "$ldflags" $specs; then
      for spec in $specs; do
        BUILD_TOTAL=$((BUILD_TOTAL + 1))
        minutes=$((minutes + $(build_minutes "${spec%%=*}")))
      done
    fi
  done < <(components)
  if ((BUILD_TOTAL > 0)); then
    log "building $BUILD_TOTAL binaries from pinned Go modules: about $minutes min on 2 cores with a cold Go build cache, seconds when only relinking"
  fi
  while IFS='|' read -r component bin_dir ldflags specs; do
    # shellcheck disable=SC2086
    build_component "$component" "$bin_dir" "$ldflags" $specs
  done < <(components)
  flock -u 9
  log "binaries: $(du -sh "$BIN_ROOT" | cut -f1) in $BIN_ROOT"
}

# --------------------------------------------------------------------------- cluster

export KWOK_WORKDIR
CLUSTER_DIR="$KWOK_WORKDIR/clusters/$CLUSTER_NAME"
KWOKCTL_CONFIG="$TOOLS_DIR/kwokctl.yaml"

kctl() {
  local kubectl
  kubectl=$(pick_kubectl)
  [[ -n "$kubectl" ]] || die "kubectl not found: run 'make venv' (it installs kubectl into .venv/bin) or set KUBECTL"
  "$kubectl" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=10s "$@"
}

cluster_answers() {
  [[ -s "$KUBECONFIG_PATH" ]] && kctl get --raw=/readyz >/dev/null 2>&1
}

ready_nodes() {
  kctl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c '^True$' || true
}

# wait_for <seconds> <description> <command...>
wait_for() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what (logs: $CLUSTER_DIR/logs)"
    sleep 1
  done
}

enough_nodes() { (($(ready_nodes) >= NODES)); }
default_sa() { kctl get serviceaccount default -n default >/dev/null 2>&1; }

print_env() {
  log "cluster '$CLUSTER_NAME' is up (kube-apiserver $KUBE_VERSION, $NODES simulated nodes)"
  log "kubeconfig: $KUBECONFIG_PATH"
  printf 'export KUBECONFIG=%s\n' "$KUBECONFIG_PATH"
}

write_kubeconfig() {
  local tmp="$KUBECONFIG_PATH.tmp.$$"
  kwokctl get kubeconfig --name "$CLUSTER_NAME" >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$KUBECONFIG_PATH"
}

# Processes of this cluster: the pids kwokctl recorded, and any process still running a binary
# from this cluster's own bin/ directory (a pid file is rewritten when a component restarts).
cluster_pids() {
  local f proc argv0
  {
    for f in "$CLUSTER_DIR"/pids/*.pid; do
      [[ -f "$f" ]] && tr -dc '0-9\n' <"$f" && echo
    done
    for proc in /proc/[0-9]*; do
      argv0=$(tr '\0' '\n' <"$proc/cmdline" 2>/dev/null | head -n 1) || continue
      [[ "$argv0" == "$CLUSTER_DIR/bin/"* ]] && printf '%s\n' "${proc#/proc/}"
    done
  } | grep -E '^[0-9]+$' | sort -un || true
}

finish_up() {
  local have
  have=$(kctl get nodes -o name 2>/dev/null | wc -l)
  if ((have < NODES)); then
    kwokctl scale node --name "$CLUSTER_NAME" --replicas "$NODES" >&2
  fi
  wait_for 180 "$NODES Ready nodes" enough_nodes
  wait_for 180 "the default ServiceAccount" default_sa
  print_env
}

cmd_up() {
  local start=$SECONDS
  cmd_binaries
  mkdir -p "$STATE_DIR"
  exec 8>"$STATE_DIR/.local-cluster.lock"
  flock -w 300 8 || die "timed out waiting for another 'up' or 'down' of the cluster"
  if [[ -d "$CLUSTER_DIR" ]]; then
    if cluster_answers; then
      log "reusing the running cluster '$CLUSTER_NAME'"
      finish_up
      return 0
    fi
    # Stopped (a reboot, a killed process) or broken: test state is cheap, so start afresh.
    log "cluster '$CLUSTER_NAME' exists but does not answer: recreating it"
    cmd_down_locked
  fi
  rm -f "$KUBECONFIG_PATH"
  log "creating cluster '$CLUSTER_NAME' (kwokctl --runtime binary, state in $KWOK_WORKDIR)"
  if ! kwokctl create cluster \
    --name "$CLUSTER_NAME" \
    --runtime binary \
    --config "$KWOKCTL_CONFIG" \
    --kube-apiserver-binary "$KWOK_KUBE_APISERVER_BINARY" \
    --kube-controller-manager-binary "$KWOK_KUBE_CONTROLLER_MANAGER_BINARY" \
    --kube-scheduler-binary "$KWOK_KUBE_SCHEDULER_BINARY" \
    --kwok-controller-binary "$KWOK_CONTROLLER_BINARY" \
    --etcd-binary "$KWOK_ETCD_BINARY" \
    --kube-authorization \
    --kube-admission \
    --wait 2m \
    --timeout 5m >&2; then
    log "kwokctl create cluster failed; logs are in $CLUSTER_DIR/logs"
    tail -n 20 "$CLUSTER_DIR"/logs/*.log >&2 2>/dev/null || true
    cmd_down_locked
    die "the local cluster did not come up"
  fi
  write_kubeconfig
  wait_for 60 "the API server" cluster_answers
  finish_up
  log "ready in $((SECONDS - start)) s"
}

# The real Argo CD beside this cluster (tests/support/local_argocd.py), if one runs: stopped first.
stop_argocd() {
  local python=$ROOT/.venv/bin/python
  [[ -x "$python" ]] || python=python3
  if [[ -f "$STATE_DIR/argocd/supervisor.pid" ]]; then
    "$python" "$ROOT/tests/support/local_argocd.py" down --state "$STATE_DIR/argocd" >&2 || log "stopping the local Argo CD failed"
  fi
}

cmd_down_locked() {
  local pids pid deadline
  stop_argocd
  pids=$(cluster_pids)
  if [[ -d "$CLUSTER_DIR" && -x "$KWOKCTL" ]]; then
    kwokctl delete cluster --name "$CLUSTER_NAME" >&2 || log "kwokctl delete cluster failed; stopping the processes by pid"
  fi
  # Whatever kwokctl left behind: stop it by the pids kwokctl recorded.
  for pid in $pids; do
    kill -0 "$pid" 2>/dev/null || continue
    log "stopping leftover process $pid"
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + 15))
  for pid in $pids; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$KWOK_WORKDIR" "$KUBECONFIG_PATH"
}

cmd_down() {
  mkdir -p "$STATE_DIR"
  exec 8>"$STATE_DIR/.local-cluster.lock"
  flock -w 300 8 || die "timed out waiting for another 'up' or 'down' of the cluster"
  cmd_down_locked
  log "cluster '$CLUSTER_NAME' is down and its state removed"
}

cmd_status() {
  if [[ -d "$CLUSTER_DIR" ]] && cluster_answers; then
    log "cluster '$CLUSTER_NAME' is running; $(ready_nodes) Ready nodes"
    printf 'export KUBECONFIG=%s\n' "$KUBECONFIG_PATH"
    return 0
  fi
  log "cluster '$CLUSTER_NAME' is not running"
  return 1
}

cmd_env() {
  printf 'export %s=%s\n' \
    KWOK_WORKDIR "$KWOK_WORKDIR" \
    KWOK_KUBE_APISERVER_BINARY "$KWOK_KUBE_APISERVER_BINARY" \
    KWOK_KUBE_CONTROLLER_MANAGER_BINARY "$KWOK_KUBE_CONTROLLER_MANAGER_BINARY" \
    KWOK_KUBE_SCHEDULER_BINARY "$KWOK_KUBE_SCHEDULER_BINARY" \
    KWOK_ETCD_BINARY "$KWOK_ETCD_BINARY" \
    KWOK_CONTROLLER_BINARY "$KWOK_CONTROLLER_BINARY" \
    KWOKCTL "$KWOKCTL" \
    ARGOCD_BIN_DIR "$ARGOCD_BIN_DIR" \
    KUBECONFIG "$KUBECONFIG_PATH"
}

case "${1:-}" in
  binaries) cmd_binaries ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
