"""Usage sources: every source a feature's gateway calls are made for is declared by exactly one manifest."""

from __future__ import annotations

import ast
import importlib
from dataclasses import replace

import pytest

from portal.core.features import (
    FeatureManifest,
    ManifestError,
    UsageSource,
    check_features,
    usage_source_labels,
    usage_sources,
)
from portal.installed import INSTALLED_FEATURES
from tests.conftest import REPO_ROOT
from tests.test_architecture import PACKAGES  # every top-level package of the portal, as the contract lists them


def defined_sources() -> list[UsageSource]:
    """Every UsageSource the code defines: module-level `NAME = UsageSource(...)` in the portal's packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if "builtin" in path.parts:  # the templates' own projects are not portal code
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "UsageSource"):
                    found.append((path, node))
    sources = []
    for path, call in found:
        module = importlib.import_module(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts))
        named = [value for value in vars(module).values()
                 if isinstance(value, UsageSource) and value == _literal(call)]
        assert named, f"{path}: a UsageSource must be a module-level constant a manifest can declare"
        sources.append(named[0])
    return sources


def _literal(call: ast.Call) -> UsageSource:
    return UsageSource(*(ast.literal_eval(arg) for arg in call.args))


def test_every_usage_source_used_is_declared_exactly_once() -> None:
    declared = usage_sources(INSTALLED_FEATURES)
    assert len({source.value for source in declared}) == len(declared)
    assert sorted(declared, key=str) == sorted(defined_sources(), key=str)


def test_the_stored_values_and_their_labels_come_from_the_manifests() -> None:
    # The values are what usage_event.source already holds: changing one would orphan the stored rows.
    assert usage_source_labels(INSTALLED_FEATURES) == {
        "probe": "Catalog health probes", "sandbox chat": "Sandbox chat", "sandbox compare": "Model comparison",
        "sandbox documents": "Chat with documents", "prompt test": "Prompt tests", "training lab": "Training labs"}
    owners = {source.value: feature.name for feature in INSTALLED_FEATURES for source in feature.usage_sources}
    assert owners == {"probe": "metering", "sandbox chat": "sandbox", "sandbox compare": "sandbox",
                      "sandbox documents": "sandbox", "prompt test": "prompt_library", "training lab": "training"}


PORTFOLIO = FeatureManifest(name="use_case_portfolio")


@pytest.mark.parametrize(("features", "problem"), [
    ((*INSTALLED_FEATURES, replace(PORTFOLIO, usage_sources=(UsageSource("sandbox chat", "Portfolio chat"),))),
     "use_case_portfolio: usage source 'sandbox chat' is already declared by sandbox"),
    ((*INSTALLED_FEATURES, replace(PORTFOLIO, usage_sources=(UsageSource("x" * 41, "Too long"),))),
     f"use_case_portfolio: usage source {'x' * 41!r} is longer than 40 characters"),
])
def test_a_manifest_reusing_a_usage_source_is_refused(features, problem: str) -> None:
    with pytest.raises(ManifestError) as refused:
        check_features(features)
    assert str(refused.value) == problem


def test_a_new_feature_declares_its_own_source_and_the_reports_label_it() -> None:
    assessment = UsageSource("portfolio assessment", "Use-case assessments")
    features = (*INSTALLED_FEATURES, replace(PORTFOLIO, usage_sources=(assessment,)))
    check_features(features)
    assert usage_source_labels(features)["portfolio assessment"] == "Use-case assessments"
