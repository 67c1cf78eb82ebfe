"""The GitOps repository plan: which files, who owns each, what one render writes, removes or refuses."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from ansible_collections.eks_gitops.platform.plugins.plugin_utils import gitops_repo as repo

REPO_FILES = ["README.md", ".github/workflows/ci.yaml"]
CHART_FILES = ["Chart.yaml", "values.yaml"]
DEFAULTS = {"port": 8080, "secret_keys": [{"path": "password", "objectAlias": "DB_PASSWORD"}], "config": {}, "chart_values": {}, "environment_chart_values": {}}


def settings(**changes: object) -> repo.Settings:
    base = repo.Settings(
        environments=["dev", "staging", "production"],
        render_environments=["dev"],
        applications_path="applications/{env}",
        workloads=repo.complete_workloads([{"name": "shop"}], DEFAULTS),
        repo_url="https://github.com/example-org/platform-gitops.git",
        aws_account_id="111111111111",
        aws_region="eu-west-1",
        ecr_registry="111111111111.dkr.ecr.eu-west-1.amazonaws.com",
        ci_role_arn="arn:aws:iam::111111111111:role/ci",
        workload_role_arn="arn:aws:iam::111111111111:role/{workload}-{env}",
        secret_name="{env}/{workload}",
        host="{workload}.{env}.example.com",
        use_pod_identity=False,
        eks_cluster_name="eks-{env}",
        argocd_namespace="argocd",
        initial_image_tag="",
        service_monitor=False,
        environment_values={"production": {"replicaCount": 3}},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def render(config: repo.Settings, on_disk: dict[str, repo.OnDisk], manifest: dict[str, list[str]], **flags: bool) -> repo.SyncPlan:
    """decide() for ``config``, with every planned file's content its path (values and settings with their data)."""
    planned = repo.plan_files(config, REPO_FILES, CHART_FILES)
    desired = {}
    for entry in planned:
        if entry.kind == "values":
            workload = config.workloads[0]
            data = repo.environment_values(config, workload, entry.environment, None)
            desired[entry.path] = repo.Desired(repo.values_document(config, workload, entry.environment, data).encode(), data)
        elif entry.kind == "settings":
            text = repo.settings_document(config, entry.environment).encode()
            desired[entry.path] = repo.Desired(text, json.loads(text))
        else:
            desired[entry.path] = repo.Desired(entry.path.encode())
    owners = {entry.path: repo.owners_of(entry, config) for entry in planned}
    return repo.decide(desired, owners, on_disk, manifest, config, adopt_existing=flags.get("adopt", False), prune=flags.get("prune", True))


def applied(plan: repo.SyncPlan, config: repo.Settings, on_disk: dict[str, repo.OnDisk]) -> dict[str, repo.OnDisk]:
    """The disk after ``plan`` ran (contents as render() makes them)."""
    after = {path: found for path, found in on_disk.items() if path not in plan.remove}
    planned = {entry.path: entry for entry in repo.plan_files(config, REPO_FILES, CHART_FILES)}
    for path in plan.create + plan.update:
        entry = planned[path]
        if entry.kind == "values":
            data = repo.environment_values(config, config.workloads[0], entry.environment, None)
            after[path] = repo.OnDisk(repo.values_document(config, config.workloads[0], entry.environment, data).encode())
        elif entry.kind == "settings":
            after[path] = repo.OnDisk(repo.settings_document(config, entry.environment).encode())
        else:
            after[path] = repo.OnDisk(path.encode())
    return after


# --- the plan -------------------------------------------------------------------------------------------------


def test_workloads_get_every_key_from_defaults_and_their_name() -> None:
    (shop,) = repo.complete_workloads([{"name": "shop", "port": 9000, "namespace": None}], DEFAULTS)
    assert shop["port"] == 9000
    assert (shop["namespace"], shop["image_repository"], shop["build_context"], shop["dockerfile"]) == ("shop", "shop", "src/shop", "src/shop/Dockerfile")
    assert shop["secret_keys"] == DEFAULTS["secret_keys"]
    (custom,) = repo.complete_workloads([{"name": "api", "build_context": "services/api"}], DEFAULTS)
    assert custom["dockerfile"] == "services/api/Dockerfile"


def test_a_render_plans_the_shared_files_and_only_its_own_environments() -> None:
    paths = {entry.path: entry for entry in repo.plan_files(settings(), REPO_FILES, CHART_FILES)}
    assert set(paths) == {
        "README.md",
        ".github/workflows/ci.yaml",
        "charts/shop/Chart.yaml",
        "charts/shop/values.yaml",
        ".github/environments/dev.json",
        "charts/shop/ci/dev-values.yaml",
        "applications/dev/shop.yaml",
    }
    assert paths["applications/dev/shop.yaml"].source == "applications/application.yaml.j2"
    assert paths["charts/shop/values.yaml"].source == "chart/values.yaml.j2"
    assert repo.owners_of(paths["README.md"], settings(render_environments=["dev", "staging"])) == ["dev", "staging"]
    assert repo.owners_of(paths["applications/dev/shop.yaml"], settings()) == ["dev"]


def test_environment_values_are_generated_merged_and_keep_the_deployed_tag() -> None:
    config = settings(initial_image_tag="")
    (shop,) = config.workloads
    values = repo.environment_values(config, shop, "production", None)
    assert values["image"] == {"repository": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/shop", "tag": ""}
    assert values["serviceAccount"]["roleArn"] == "arn:aws:iam::111111111111:role/shop-production"
    assert values["secrets"]["objects"][0]["objectName"] == "production/shop"
    assert values["ingressRoute"]["host"] == "shop.production.example.com"
    assert values["replicaCount"] == 3
    assert values["serviceMonitor"] == {"enabled": False}
    kept = repo.environment_values(config, shop, "production", {"image": {"tag": "sha-1234"}})
    assert kept["image"]["tag"] == "sha-1234"
    assert repo.environment_values(config, shop, "production", {"image": {"tag": ""}})["image"]["tag"] == ""


def test_a_workload_without_secret_keys_mounts_no_secret() -> None:
    config = settings(workloads=repo.complete_workloads([{"name": "web", "secret_keys": []}], DEFAULTS))
    values = repo.environment_values(config, config.workloads[0], "dev", None)
    assert values["secrets"]["enabled"] is False
    assert values["secrets"]["objects"] == []


def test_settings_of_an_environment_come_from_its_own_inventory() -> None:
    data = repo.environment_settings(settings(), "staging")
    assert data["aws_account_id"] == "111111111111"
    assert data["eks_cluster_name"] == "eks-staging"
    assert data["workloads"] == {"shop": {"image_repository": "shop", "namespace": "shop"}}


def test_every_bad_setting_is_named() -> None:
    found = repo.problems(
        settings(
            repo_url="https://example.com/a repo.git",
            aws_account_id="1234",
            applications_path="applications",
            environments=["dev", "Prod", "dev"],
            render_environments=["qa"],
            workloads=[{"name": "Bad_Name"}, {"name": "Bad_Name"}],
        )
    )
    text = "; ".join(found)
    for expected in (
        "gitops_repo_repo_url",
        "gitops_repo_aws_account_id",
        "must contain {env}",
        "lists an environment twice",
        "Prod is not a DNS label",
        "qa is not one of gitops_repo_environments",
        "lists a workload name twice",
        "Bad_Name is not a valid Helm release name",
    ):
        assert expected in text
    assert repo.problems(settings()) == []
    assert repo.problems(settings(repo_url="http://127.0.0.1:8080/platform-gitops.git")) == []


# --- deciding -------------------------------------------------------------------------------------------------


def test_a_first_render_creates_everything_and_a_second_changes_nothing() -> None:
    config = settings()
    first = render(config, {}, {})
    assert sorted(first.create) == sorted(entry.path for entry in repo.plan_files(config, REPO_FILES, CHART_FILES))
    assert first.manifest["README.md"] == ["dev"]
    second = render(config, applied(first, config, {}), first.manifest)
    assert not second.changed


def test_two_environments_of_different_accounts_render_in_turn_without_touching_each_other() -> None:
    dev = settings(render_environments=["dev"])
    production = settings(
        render_environments=["production"],
        aws_account_id="222222222222",
        ecr_registry="222222222222.dkr.ecr.eu-west-1.amazonaws.com",
        ci_role_arn="arn:aws:iam::222222222222:role/ci",
        workload_role_arn="arn:aws:iam::222222222222:role/{workload}-{env}",
        host="{workload}.{env}.example.net",
    )
    disk: dict[str, repo.OnDisk] = {}
    first = render(dev, disk, {})
    disk = applied(first, dev, disk)
    second = render(production, disk, first.manifest)
    assert sorted(second.create) == [".github/environments/production.json", "applications/production/shop.yaml", "charts/shop/ci/production-values.yaml"]
    assert second.update == []
    assert second.remove == []
    disk = applied(second, production, disk)
    # Rendering dev again changes nothing: production's files and the shared ones stay.
    third = render(dev, disk, second.manifest)
    assert not third.changed
    assert second.manifest["README.md"] == ["dev", "production"]
    assert json.loads(disk[".github/environments/production.json"].content or b"")["aws_account_id"] == "222222222222"
    assert json.loads(disk[".github/environments/dev.json"].content or b"")["aws_account_id"] == "111111111111"


def test_a_dropped_workload_is_removed_only_when_no_environment_renders_it() -> None:
    both = settings(render_environments=["dev", "production"])
    disk = applied(render(both, {}, {}), both, {})
    manifest = render(both, {}, {}).manifest
    plan = render(settings(render_environments=["production"], workloads=[]), disk, manifest)
    # production dropped the workload: its own files go, the chart stays while dev still renders it.
    assert sorted(plan.remove) == ["applications/production/shop.yaml", "charts/shop/ci/production-values.yaml"]
    assert plan.manifest["charts/shop/Chart.yaml"] == ["dev"]
    disk = {path: found for path, found in disk.items() if path not in plan.remove}
    plan = render(settings(render_environments=["dev"], workloads=[]), disk, plan.manifest)
    assert "charts/shop/Chart.yaml" in plan.remove


def test_an_environment_dropped_from_the_repository_loses_its_files() -> None:
    everything = settings(render_environments=["dev", "staging", "production"])
    first = render(everything, {}, {})
    disk = applied(first, everything, {})
    plan = render(settings(environments=["dev", "production"], render_environments=["dev", "production"]), disk, first.manifest)
    assert sorted(plan.remove) == [".github/environments/staging.json", "applications/staging/shop.yaml", "charts/shop/ci/staging-values.yaml"]


def test_files_it_does_not_own_are_refused_unless_adopted() -> None:
    config = settings()
    disk = {"README.md": repo.OnDisk(b"# ours\n"), "charts/shop/values.yaml": repo.OnDisk(b"x: 1\n")}
    plan = render(config, disk, {})
    assert plan.conflicts == ["README.md", "charts/shop/values.yaml"]
    assert not plan.changed
    adopted = render(config, disk, {}, adopt=True)
    assert sorted(adopted.update) == ["README.md", "charts/shop/values.yaml"]


def test_a_data_file_with_the_right_data_is_left_alone_however_it_is_laid_out() -> None:
    config = settings()
    first = render(config, {}, {})
    disk = applied(first, config, {})
    path = "charts/shop/ci/dev-values.yaml"
    relaid = yaml.safe_dump(yaml.safe_load(disk[path].content or b""), sort_keys=True, indent=4).encode()
    disk[path] = repo.OnDisk(relaid)
    assert path not in render(config, disk, first.manifest).update
    disk[path] = repo.OnDisk(relaid, "0600")
    assert path in render(config, disk, first.manifest).update


def test_without_prune_dropped_files_stay_owned() -> None:
    config = settings()
    first = render(config, {}, {})
    disk = applied(first, config, {})
    plan = render(settings(workloads=[]), disk, first.manifest, prune=False)
    assert plan.remove == []
    assert plan.manifest["charts/shop/Chart.yaml"] == ["dev"]


def test_an_older_manifest_gives_environment_files_their_environment() -> None:
    legacy = json.dumps({"files": ["README.md", "applications/staging/shop.yaml", "charts/shop/ci/production-values.yaml"]})
    manifest = repo.read_manifest(legacy, settings())
    assert manifest == {
        "README.md": ["dev", "production", "staging"],
        "applications/staging/shop.yaml": ["staging"],
        "charts/shop/ci/production-values.yaml": ["production"],
    }
    with pytest.raises(repo.GitopsRepoError, match="not JSON"):
        repo.read_manifest("{", settings())
    assert json.loads(repo.manifest_document(manifest))["files"]["README.md"] == ["dev", "production", "staging"]
