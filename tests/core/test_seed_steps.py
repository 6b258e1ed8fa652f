"""`coe-portal seed` runs the seed steps the installed manifests declare, each after the steps it names."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import Session, func, select

from portal.cli import main
from portal.core.features import FeatureManifest, ManifestError, SeedStep, check_features, seed_order
from portal.core.principals import Principal
from portal.core.seed import DEMO_USERS
from portal.core.settings import Settings
from portal.core.users import User
from portal.installed import INSTALLED_FEATURES

SEEN: list[tuple[str, int]] = []


def _seed_use_cases(*, session: Session, actor: Principal, settings: Settings) -> str:
    users = session.exec(select(func.count()).select_from(User)).one()
    SEEN.append((actor.email, users))
    return f"use cases: {users} owner(s) found"


# Installed first, so only its `after` puts it behind the portal's demo users.
PORTFOLIO = FeatureManifest(name="use_case_portfolio",
                            seed_steps=(SeedStep("use cases", _seed_use_cases, after=("demo users",)),))


def test_the_installed_features_seed_in_dependency_order() -> None:
    assert [step.name for step in seed_order(INSTALLED_FEATURES)] == [
        "demo users", "catalog", "prompts", "prompt search index", "courses", "portfolio",
        "portfolio scores"]
    assert [step.name for step in seed_order((PORTFOLIO, *INSTALLED_FEATURES))][:2] == ["demo users", "use cases"]


def test_a_new_manifests_seed_step_runs_with_the_seed(isolated_portal, capsys) -> None:
    SEEN.clear()
    assert main(["seed"], features=(PORTFOLIO, *INSTALLED_FEATURES)) == 0
    users = len(DEMO_USERS)
    assert SEEN == [("system:seed", users)]  # after the demo users were committed, as the seed's principal
    out = capsys.readouterr().out.splitlines()[-1]
    assert out.startswith(f"Demo data: {users} user(s) created; use cases: {users} owner(s) found; catalog: ")
    assert "training: 4 new course(s)" in out


def test_without_its_manifest_a_feature_seeds_nothing(isolated_portal, capsys) -> None:
    SEEN.clear()
    # The portfolio builds on training (its seed links and takes the courses), so it leaves with it.
    without_training = tuple(f for f in INSTALLED_FEATURES if f.name not in ("training", "portfolio"))
    assert main(["seed"], features=without_training) == 0
    out = capsys.readouterr().out.splitlines()[-1]
    assert "user(s) created" in out and "training:" not in out and "portfolio:" not in out and SEEN == []


@pytest.mark.parametrize(("steps", "problem"), [
    ((SeedStep("use cases", _seed_use_cases, after=("owners",)),),
     "seed step 'use cases' runs after ['owners'], which no installed feature declares"),
    ((SeedStep("catalog", _seed_use_cases),), "two seed steps share a name: ['catalog']"),
    ((SeedStep("a", _seed_use_cases, after=("b",)), SeedStep("b", _seed_use_cases, after=("a",))),
     "seed steps wait on each other: ['a', 'b']"),
])
def test_contradicting_seed_steps_are_refused(steps, problem: str) -> None:
    with pytest.raises(ManifestError) as refused:
        check_features((*INSTALLED_FEATURES, replace(PORTFOLIO, seed_steps=steps)))
    assert str(refused.value) == problem
