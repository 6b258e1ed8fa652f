"""Feature manifests: the navigation, commands, schema and dependents come from the installed features alone."""

from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from portal.cli import main
from portal.core.auth import Permission, Role
from portal.core.features import (
    FeatureManifest,
    ManifestError,
    PageSpec,
    Section,
    check_features,
    model_dependents,
    page_for_view,
    pages_for,
    section_order,
    signed_out_pages,
    table_modules,
)
from portal.core.users import User
from portal.installed import INSTALLED_FEATURES
from portal.tables import TABLE_MODULES


def _register_portfolio_commands(commands: argparse._SubParsersAction) -> None:
    hello = commands.add_parser("hello", help="greet someone")
    hello.add_argument("name")
    hello.set_defaults(handler=lambda args, _settings: print(f"Hello, {args.name}!") or 0)


# A feature the portal has never heard of, declared here and nowhere in portal/.
PORTFOLIO = FeatureManifest(
    name="use_case_portfolio",
    sections=(Section("Use cases", order=150),),
    pages=(PageSpec("use_cases.py", title="Use-case portfolio", icon=":material/work:", section="Use cases",
                    help="Every AI use case, its owner and its stage."),
           PageSpec("use_case_review.py", title="Review use cases", icon=":material/gavel:", section="Use cases",
                    permission=Permission.REVIEW)),
    commands=(_register_portfolio_commands,),
)
WITH_PORTFOLIO = (*INSTALLED_FEATURES, PORTFOLIO)


def person(role: Role) -> User:
    return User(email=f"{role.value}@example.com", name=role.value, role=role.value)


def titles(navigation: dict[str, list[PageSpec]]) -> dict[str, list[str]]:
    return {section: [page.title for page in pages] for section, pages in navigation.items()}


def test_the_installed_features_give_each_role_the_navigation_it_had_before_manifests() -> None:
    viewer = titles(pages_for(INSTALLED_FEATURES, person(Role.VIEWER)))
    assert viewer == {
        "Portal": ["Home"],
        "Models": ["Model catalog", "Model card"],
        "Sandbox": ["Sandbox", "Compare models", "My usage"],
        "Prompts": ["Prompt library", "Prompt"],
        "Templates": ["Solution templates", "Template"],
        "Training": ["Courses", "Certificates", "Course", "Quiz", "Labs"],
        "Portfolio": ["Use-case portfolio", "Propose a use case", "Use case"],
    }
    admin = titles(pages_for(INSTALLED_FEATURES, person(Role.ADMIN)))
    assert admin == {
        "Portal": ["Home"],
        "Models": ["Model catalog", "Model card", "Request a model", "Catalog operations",
                   "Model evaluations"],
        "Sandbox": ["Sandbox", "Compare models", "My usage"],
        "Prompts": ["Prompt library", "Prompt", "Write a prompt", "Prompt reviews"],
        "Templates": ["Solution templates", "Template", "Manage templates"],
        "Training": ["Courses", "Certificates", "Course", "Quiz", "Labs", "Assignments", "Training dashboard"],
        "Portfolio": ["Use-case portfolio", "Propose a use case", "Use case"],
        "Administration": ["Admin"],
    }
    reviewer = titles(pages_for(INSTALLED_FEATURES, person(Role.REVIEWER)))
    assert "Administration" not in reviewer and reviewer["Training"][-2:] == ["Assignments", "Training dashboard"]
    assert [p.title for p in signed_out_pages(INSTALLED_FEATURES)] == ["Sign in"]


def test_hidden_pages_and_defaults_come_from_the_manifests() -> None:
    admin = pages_for(INSTALLED_FEATURES, person(Role.ADMIN))
    hidden = [page.title for pages in admin.values() for page in pages if page.visibility == "hidden"]
    assert hidden == ["Model card", "Prompt", "Template", "Course", "Quiz", "Labs", "Use case"]
    assert [page.title for pages in admin.values() for page in pages if page.default] == ["Home"]
    assert signed_out_pages(INSTALLED_FEATURES)[0].default


def test_a_new_manifest_adds_its_section_in_its_place_and_its_pages_to_the_roles_it_names() -> None:
    contributor = titles(pages_for(WITH_PORTFOLIO, person(Role.CONTRIBUTOR)))
    assert list(contributor)[:3] == ["Portal", "Models", "Use cases"]
    assert contributor["Use cases"] == ["Use-case portfolio"]
    reviewer = titles(pages_for(WITH_PORTFOLIO, person(Role.REVIEWER)))
    assert reviewer["Use cases"] == ["Use-case portfolio", "Review use cases"]
    assert section_order(WITH_PORTFOLIO) == ["Portal", "Models", "Use cases", "Sandbox", "Prompts", "Templates",
                                             "Training", "Portfolio", "Administration"]


def test_a_new_manifest_adds_a_cli_command_next_to_every_built_in_one(capsys) -> None:
    assert main(["hello", "Ada"], features=WITH_PORTFOLIO) == 0
    assert capsys.readouterr().out == "Hello, Ada!\n"
    with pytest.raises(SystemExit):
        main(["--help"], features=WITH_PORTFOLIO)
    listed = capsys.readouterr().out
    for command in ("run", "migrate", "seed", "model-server", "settings", "catalog", "prompts", "training", "portfolio",
                    "hello"):
        assert f"    {command} " in listed or f"    {command}\n" in listed, command


def test_without_its_manifest_a_feature_has_no_command(capsys) -> None:
    without_training = tuple(f for f in INSTALLED_FEATURES if f.name != "training")
    with pytest.raises(SystemExit):
        main(["training", "sync"], features=without_training)
    assert "invalid choice: 'training'" in capsys.readouterr().err


def test_tables_and_dependents_are_gathered_from_every_installed_feature() -> None:
    names = {module.__name__ for module in TABLE_MODULES}
    assert names == {"portal.core.audit", "portal.core.users", "catalog.models", "metering.models", "sandbox.models",
                     "sandbox.documents.models", "prompt_library.models", "templates.models", "training.models",
                     "portfolio.models", "portfolio.links", "portfolio.scoring_models", "portfolio.assessment_models"}
    assert table_modules(WITH_PORTFOLIO) == TABLE_MODULES
    assert [p.__name__ for p in model_dependents(INSTALLED_FEATURES)] == [
        "usage_dependents", "prompt_dependents", "template_dependents", "use_case_dependents"]


def test_a_page_script_finds_its_declaration() -> None:
    admin_page = page_for_view(INSTALLED_FEATURES, INSTALLED_FEATURES[0].pages[2].path)
    assert (admin_page.title, admin_page.permission) == ("Admin", Permission.MANAGE_USERS)
    with pytest.raises(ManifestError, match="is not a page of any installed feature's manifest"):
        page_for_view(INSTALLED_FEATURES, "/elsewhere/stray.py")


def _broken(**changes) -> FeatureManifest:
    return replace(PORTFOLIO, **changes)


@pytest.mark.parametrize("features, problem", [
    ((*INSTALLED_FEATURES, _broken(sections=())),
     "use_case_portfolio: page 'Use-case portfolio' names section 'Use cases', which no installed feature declares"),
    ((*INSTALLED_FEATURES, _broken(pages=(PageSpec("home.py", title="Home again", icon="", section="Use cases"),))),
     "use_case_portfolio: home.py is already declared by portal"),
    ((*INSTALLED_FEATURES, _broken(sections=(Section("Models", order=7),), pages=())),
     "use_case_portfolio: section 'Models' is declared with two orders"),
    ((*INSTALLED_FEATURES, _broken(pages=(PageSpec("x.py", title="X", icon="", section="Use cases", default=True),))),
     "exactly one signed in page must be the default, found ['Home', 'X']"),
    ((*INSTALLED_FEATURES, _broken(name="catalog")), "two installed features share a name: ['catalog']"),
    (tuple(f for f in INSTALLED_FEATURES if f.name != "portal"), "exactly one signed in page must be the default"),
])
def test_contradicting_manifests_are_refused_with_the_problem_named(features, problem) -> None:
    with pytest.raises(ManifestError) as refused:
        check_features(features)
    assert problem in str(refused.value)


def test_the_installed_features_agree() -> None:
    check_features(INSTALLED_FEATURES)
    check_features(WITH_PORTFOLIO)
