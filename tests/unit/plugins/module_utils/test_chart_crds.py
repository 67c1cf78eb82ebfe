"""chart_crds: which documents of `helm template --include-crds` output are the CRDs of a chart's crds/ directories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ansible.errors import AnsibleError

from ansible_collections.eks_gitops.platform.plugins.filter.chart_crds import FilterModule
from ansible_collections.eks_gitops.platform.plugins.module_utils.chart_crds import ChartCrdsError, crd_documents, from_crds_dir, split_documents
from tests.support.tools import tool

CHARTS = Path(__file__).resolve().parents[3] / "charts"


def crd(name: str) -> str:
    group = name.split(".", 1)[1]
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata:\n  name: {name}\nspec:\n  group: {group}\n  scope: Namespaced\n"
        f"  names: {{plural: {name.split('.', maxsplit=1)[0]}, kind: K}}\n  versions: []\n"
    )


# The shape helm template prints: a crds/ file as it is (its later documents carry no Source comment), then
# every rendered template document with its own Source comment.
MANIFEST = f"""---
# Source: app/crds/widgets.yaml
# one file holding two CRDs, the second without a Source comment of its own
{crd("widgets.example.test")}---
{crd("gadgets.example.test")}
---
# Source: app/charts/sub/crds/sub.yaml
{crd("subs.example.test")}
---
# Source: app/crds/extra.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-crd
---
# Source: app/templates/crds/owned.yaml
{crd("owned.example.test")}
---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: values
---
# Source: app/templates/after.yaml
{crd("after.example.test")}
"""


def names(documents: list[dict]) -> list[str]:
    return [document["metadata"]["name"] for document in documents]


def test_only_the_crds_of_crds_directories_in_helm_order() -> None:
    assert names(crd_documents(MANIFEST)) == ["widgets.example.test", "gadgets.example.test", "subs.example.test"]


def test_a_document_without_source_belongs_to_the_file_before_it() -> None:
    sources = [source for source, document in split_documents(MANIFEST) if "gadgets" in document]
    assert sources == ["app/crds/widgets.yaml"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("app/crds/a.yaml", True),
        ("app/crds/nested/a.yaml", True),
        ("app/charts/sub/crds/a.yaml", True),
        ("app/charts/sub/charts/deeper/crds/a.yaml", True),
        ("app/templates/crds/a.yaml", False),
        ("app/charts/sub/templates/crds/a.yaml", False),
        ("crds/a.yaml", False),
    ],
)
def test_crds_directory(source: str, expected: bool) -> None:
    assert from_crds_dir(source) is expected


def test_no_crds() -> None:
    assert crd_documents("") == []
    assert crd_documents("---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n") == []


def test_bad_input_is_named() -> None:
    with pytest.raises(ChartCrdsError, match=r"from app/crds/bad.yaml\) is not valid YAML"):
        crd_documents("---\n# Source: app/crds/bad.yaml\nkind: [unclosed\n")
    with pytest.raises(ChartCrdsError, match=r"has no metadata.name"):
        crd_documents("---\n# Source: app/crds/x.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {}\n")
    with pytest.raises(ChartCrdsError, match="expected the text helm template printed"):
        crd_documents(["not", "text"])  # type: ignore[arg-type]


def test_filter() -> None:
    chart_crds = FilterModule().filters()["chart_crds"]
    assert names(chart_crds(MANIFEST))[0] == "widgets.example.test"
    assert chart_crds(None) == []
    with pytest.raises(AnsibleError, match=r"eks_gitops.platform.chart_crds: .* is not valid YAML"):
        chart_crds("---\n# Source: app/crds/bad.yaml\nkind: [unclosed\n")


# --- against what the pinned helm really prints ------------------------------------------------------------


def helm_template(chart: str, *extra: str) -> str:
    try:
        helm = tool("helm")
    except FileNotFoundError:
        pytest.skip("helm is not installed (make venv)")
    return subprocess.run([helm, "template", "t", str(CHARTS / chart), "--include-crds", *extra], capture_output=True, text=True, check=True, timeout=60).stdout


def test_helm_output_of_a_chart_with_crds_directory() -> None:
    """The Traefik test double keeps its ten CRDs in one crds/ file: all ten, nothing from templates/."""
    found = crd_documents(helm_template("traefik"))
    assert len(found) == 10
    assert {document["spec"]["group"] for document in found} == {"traefik.io"}
    assert "ingressroutes.traefik.io" in names(found)


def test_helm_output_of_a_chart_with_crds_in_templates() -> None:
    """The Argo CD test double renders its CRDs from templates/: they are the release's, none is returned."""
    rendered = helm_template("argo-cd")
    assert "kind: CustomResourceDefinition" in rendered
    assert crd_documents(rendered) == []
