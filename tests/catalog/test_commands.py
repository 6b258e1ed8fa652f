"""`coe-portal catalog ...` end to end: seed, sync and probe against a test gateway, export and import."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from catalog.models import CatalogModel, ProbeResult
from portal.cli import main
from portal.core.db import make_engine
from tests.fake_gateway import FakeGateway


@pytest.fixture
def served_gateway(monkeypatch):
    """A gateway serving the seed's local model and one model the catalog does not know."""
    with FakeGateway(models=("smollm2-135m-instruct", "mystery-model")) as gateway:
        monkeypatch.setenv("PORTAL_GATEWAY_URL", gateway.url)
        yield gateway


def stored(isolated_portal) -> Session:
    return Session(make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}"))


def test_sync_then_probe(isolated_portal, served_gateway, capsys) -> None:
    assert main(["seed"]) == 0
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


def test_probe_exits_nonzero_when_a_model_fails(isolated_portal, served_gateway, capsys) -> None:
    main(["seed"])
    main(["catalog", "sync"])
    served_gateway.fail_always("500")
    assert main(["catalog", "probe"]) == 1
    assert "smollm2-135m-instruct: FAILED: The AI gateway" in capsys.readouterr().out


def test_sync_with_the_gateway_down_says_so(isolated_portal, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_URL", "http://127.0.0.1:9/v1")
    main(["seed"])
    assert main(["catalog", "sync"]) == 2
    assert "No answer from the AI gateway at http://127.0.0.1:9/v1" in capsys.readouterr().err


def test_export_then_import_round_trips(isolated_portal, capsys) -> None:
    main(["seed"])
    exported = isolated_portal / "catalog.yaml"
    assert main(["catalog", "export", str(exported)]) == 0
    assert main(["catalog", "import", str(exported)]) == 0
    assert "0 created, 0 updated, 12 unchanged" in capsys.readouterr().out


def test_a_bad_file_imports_nothing(isolated_portal, capsys) -> None:
    main(["seed"])
    bad = isolated_portal / "bad.yaml"
    bad.write_text("models:\n  - name: new-model\n    display_name: New\n  - name: broken\n    risk_tier: 9\n")
    assert main(["catalog", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 5" in err and "'broken'" in err and "risk_tier" in err and "Nothing was imported" in err
    with stored(isolated_portal) as session:
        assert session.exec(select(CatalogModel).where(CatalogModel.name == "new-model")).first() is None
