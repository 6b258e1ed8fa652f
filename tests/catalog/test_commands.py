"""`coe-portal catalog ...` end to end: seed, sync and probe against a test gateway, export and import."""

from __future__ import annotations

import shutil

import pytest
from sqlmodel import Session, col, select

from catalog.models import CatalogModel, ProbeResult
from portal.cli import main
from portal.commands import _sync_catalog_on_start
from portal.core.audit import AuditEvent
from portal.core.db import make_engine
from portal.core.settings import load_settings
from tests.fake_gateway import FakeGateway
from training.course_files import COURSES_DIR


@pytest.fixture
def served_gateway(monkeypatch):
    """A gateway serving the seed's local model and one model the catalog does not know."""
    with FakeGateway(models=("smollm2-135m-instruct", "mystery-model")) as gateway:
        monkeypatch.setenv("PORTAL_GATEWAY_URL", gateway.url)
        yield gateway


def stored(isolated_portal) -> Session:
    return Session(make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}"))


def test_sync_then_probe(seeded, isolated_portal, served_gateway, capsys) -> None:
    assert main(["catalog", "sync"]) == 0
    out = capsys.readouterr().out
    assert "Served: smollm2-135m-instruct" in out
    assert "Unregistered (served, not in the catalog): mystery-model" in out
    assert "meta-llama/Llama-3.1-8B-Instruct" in out.split("Unavailable")[1]
    assert main(["catalog", "probe"]) == 0
    assert "smollm2-135m-instruct: ok in" in capsys.readouterr().out
    with stored(isolated_portal) as session:
        (probe,) = session.exec(select(ProbeResult)).all()
        assert probe.success and probe.time_to_first_token_s is not None


def test_probe_exits_nonzero_when_a_model_fails(seeded, isolated_portal, served_gateway, capsys) -> None:
    main(["catalog", "sync"])
    served_gateway.fail_always("500")
    assert main(["catalog", "probe"]) == 1
    assert "smollm2-135m-instruct: FAILED: The AI gateway" in capsys.readouterr().out


def test_sync_with_the_gateway_down_says_so(seeded, isolated_portal, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_URL", "http://127.0.0.1:9/v1")
    assert main(["catalog", "sync"]) == 2
    assert "No answer from the AI gateway at http://127.0.0.1:9/v1" in capsys.readouterr().err


def test_export_then_import_round_trips(seeded, isolated_portal, capsys) -> None:
    exported = isolated_portal / "catalog.yaml"
    assert main(["catalog", "export", str(exported)]) == 0
    assert main(["catalog", "import", str(exported)]) == 0
    assert "0 created, 0 updated, 13 unchanged" in capsys.readouterr().out


def test_a_bad_file_imports_nothing(seeded, isolated_portal, capsys) -> None:
    bad = isolated_portal / "bad.yaml"
    bad.write_text("models:\n  - name: new-model\n    display_name: New\n  - name: broken\n    risk_tier: 9\n")
    assert main(["catalog", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 5" in err and "'broken'" in err and "risk_tier" in err and "Nothing was imported" in err
    with stored(isolated_portal) as session:
        assert session.exec(select(CatalogModel).where(CatalogModel.name == "new-model")).first() is None


def actors_of(isolated_portal, action: str) -> set[tuple[str, int | None]]:
    with stored(isolated_portal) as session:
        return {(e.actor_email, e.actor_id) for e in session.exec(select(AuditEvent).where(AuditEvent.action == action))}


def test_the_commands_are_audited_under_their_system_principals(seeded, isolated_portal, served_gateway,
                                                                capsys) -> None:
    assert main(["catalog", "sync"]) == 0
    assert main(["catalog", "probe"]) == 0
    new_course = isolated_portal / "courses"
    shutil.copytree(COURSES_DIR / "responsible-ai", new_course / "responsible-ai-copy")
    assert main(["training", "sync", str(new_course)]) == 0

    for action in ("user.created", "catalog.imported", "catalog.model_transitioned", "prompt.imported"):
        assert actors_of(isolated_portal, action) == {("system:seed", None)}, action
    assert actors_of(isolated_portal, "catalog.synced") == {("system:cli", None)}
    assert actors_of(isolated_portal, "catalog.probed") == {("system:cli", None)}
    assert actors_of(isolated_portal, "training.synced") == {("system:seed", None), ("system:cli", None)}


def test_the_start_up_sync_is_audited_under_the_scheduler(seeded, isolated_portal, served_gateway,
                                                         capsys) -> None:
    _sync_catalog_on_start(load_settings())
    assert "Catalog synced with the gateway: 1 served" in capsys.readouterr().out
    assert actors_of(isolated_portal, "catalog.synced") == {("system:scheduler", None)}


def test_an_import_creates_proposed_cards_and_says_what_it_did_not_apply(seeded, isolated_portal,
                                                                        capsys) -> None:
    capsys.readouterr()
    changes = isolated_portal / "changes.yaml"
    changes.write_text("models:\n  - name: new-model\n    status: approved\n"
                       "  - name: smollm2-135m-instruct\n    status: retired\n")
    assert main(["catalog", "import", str(changes)]) == 0
    out = capsys.readouterr().out
    assert "1 created, 1 updated, 0 unchanged" in out
    assert "Not applied: 2 lifecycle value(s)" in out and "a reviewer does that on the model's card" in out
    assert "new-model: status approved in the file, proposed on the card" in out
    assert "smollm2-135m-instruct: status retired in the file, approved on the card" in out
    with stored(isolated_portal) as session:
        statuses = dict(session.exec(select(CatalogModel.name, CatalogModel.status).where(
            col(CatalogModel.name).in_(["new-model", "smollm2-135m-instruct"]))).all())
    assert statuses == {"new-model": "proposed", "smollm2-135m-instruct": "approved"}
    assert actors_of(isolated_portal, "catalog.imported") == {("system:seed", None), ("system:cli", None)}


def test_a_cli_probe_is_metered_and_paid_for_by_system_probe(seeded, isolated_portal, served_gateway,
                                                             capsys) -> None:
    from metering.models import UsageEvent

    main(["catalog", "sync"])
    assert main(["catalog", "probe"]) == 0
    with stored(isolated_portal) as session:
        (event,) = session.exec(select(UsageEvent)).all()
    assert (event.principal, event.user_id, event.source, event.status) == ("system:probe", None, "probe", "ok")
