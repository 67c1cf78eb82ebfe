"""The roles' documentation is generated from, and agrees with, their argument specs and defaults.

Runs for every role under roles/ (each has meta/argument_specs.yml): the README variable tables and the
pinned-charts table of roles/README.md are what scripts/role_docs.py generates, every knob in defaults is in
the argument specs (and the other way round), and every pinned chart exists as a test double at that version.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import role_docs

REPO_ROOT = Path(__file__).resolve().parents[2]
ROLES = role_docs.role_dirs()
ROLE_IDS = [role.name for role in ROLES]


def test_there_are_roles() -> None:
    assert "chart_release" in ROLE_IDS


def test_generated_readmes_are_up_to_date() -> None:
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "role_docs.py"), "--check"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"READMEs out of date (run 'make role-docs'):\n{completed.stdout}{completed.stderr}"


def _options(role: Path) -> dict[str, dict[str, dict]]:
    return {entry: (spec.get("options") or {}) for entry, spec in role_docs.argument_specs(role).items()}


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_every_default_is_specified_and_prefixed(role: Path) -> None:
    defaults = role_docs.defaults(role)
    main = _options(role).get("main", {})
    assert set(defaults) - set(main) == set(), "defaults/main.yml has knobs that meta/argument_specs.yml (main) does not describe"
    assert [name for name in defaults if not name.startswith(f"{role.name}_")] == []


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_every_specified_option_is_required_or_defaulted(role: Path) -> None:
    defaults = role_docs.defaults(role)
    for entry, options in _options(role).items():
        missing = [name for name, spec in options.items() if not (spec or {}).get("required") and name not in defaults]
        assert missing == [], f"entry point {entry!r}: optional options without a default in defaults/main.yml"
        required_with_default = [name for name, spec in options.items() if (spec or {}).get("required") and name in defaults]
        assert required_with_default == [], f"entry point {entry!r}: required options must not have a default"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_every_option_has_a_type_and_a_description(role: Path) -> None:
    def walk(options: dict[str, dict], parent: str = "") -> list[str]:
        bad = []
        for name, raw_spec in options.items():
            spec = raw_spec or {}
            if not spec.get("description") or not spec.get("type"):
                bad.append(parent + name)
            bad += walk(spec.get("options") or {}, f"{parent}{name}.")
        return bad

    for entry, options in _options(role).items():
        assert walk(options) == [], f"entry point {entry!r}: options without type or description"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_readme_has_an_example(role: Path) -> None:
    readme = (role / "README.md").read_text(encoding="utf-8")
    assert "```yaml" in readme, "the README needs a minimal example"


def test_meta_main_names_the_role() -> None:
    for role in ROLES:
        info = yaml.safe_load((role / "meta" / "main.yml").read_text())["galaxy_info"]
        assert (info["namespace"], info["role_name"]) == ("eks_gitops", role.name)


PINS = role_docs.chart_pins()


@pytest.mark.parametrize("pin", PINS, ids=[f"{p.role}:{p.name}" for p in PINS])
def test_pinned_chart_has_its_test_double_at_the_same_version(pin: role_docs.ChartPin) -> None:
    chart = REPO_ROOT / "tests" / "charts" / pin.name / "Chart.yaml"
    assert chart.is_file(), f"no test double tests/charts/{pin.name} for the chart pinned by {pin.role}"
    assert str(yaml.safe_load(chart.read_text())["version"]) == pin.version


@pytest.mark.parametrize("pin", PINS, ids=[f"{p.role}:{p.name}" for p in PINS])
def test_pinned_chart_is_stated_in_the_docs(pin: role_docs.ChartPin) -> None:
    index = (REPO_ROOT / "roles" / "README.md").read_text(encoding="utf-8")
    assert f"| `{pin.role}` | `{pin.name}` | {pin.version} | {pin.repo} |" in index
    readme = (REPO_ROOT / "roles" / pin.role / "README.md").read_text(encoding="utf-8")
    assert f"| `{pin.prefix}_chart_version` | str |  | `{pin.version}` |" in readme
    assert pin.repo.startswith(("https://", "oci://")), f"{pin.prefix}_chart_repo must default to the upstream repository"


def test_generator_reports_a_stale_table(tmp_path: Path) -> None:
    roles_dir = tmp_path / "roles"
    role = roles_dir / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    options:\n      demo_size:\n        type: int\n        description: How big.\n"
    )
    (role / "defaults" / "main.yml").write_text("demo_size: 1\n")
    (role / "README.md").write_text(f"# demo\n\n{role_docs.VARIABLES_BEGIN}\n{role_docs.VARIABLES_END}\n")
    (roles_dir / "README.md").write_text(f"{role_docs.CHARTS_BEGIN}\n{role_docs.CHARTS_END}\n")
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1
    assert role_docs.main(["--roles-dir", str(roles_dir)]) == 0
    assert "| `demo_size` | int |  | `1` | How big. |" in (role / "README.md").read_text()
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 0
    (role / "defaults" / "main.yml").write_text("demo_size: 2\n")
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1


def test_the_platform_project_allows_every_pinned_chart_repository() -> None:
    allowed = role_docs.defaults(REPO_ROOT / "roles" / "argocd")["argocd_platform_upstream_chart_repos"]
    missing = sorted({pin.repo for pin in PINS} - set(allowed))
    assert missing == [], "add these to argocd_platform_upstream_chart_repos (AppProject platform, sourceRepos)"
