"""`coe-portal prompts ...`: export, import (YAML folder and a LangChain JSON template), reindex."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.cli import main
from portal.core.db import make_engine
from prompt_library.models import Prompt, PromptVersion


def test_export_import_langchain_json_and_reindex(seeded, isolated_portal, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_EMBEDDING_SOURCE", "local")
    folder = isolated_portal / "out"
    assert main(["prompts", "export", str(folder)]) == 0
    assert "Exported 33 prompt(s)" in capsys.readouterr().out
    copy = isolated_portal / "Ticket Copy.json"
    copy.write_text((folder / "langchain" / "ticket-summary.json").read_text())
    assert main(["prompts", "import", str(copy)]) == 0
    assert "Imported 1 prompt(s)" in capsys.readouterr().out
    assert main(["prompts", "import", str(folder)]) == 0  # everything already there
    assert "Imported 0 prompt(s); 33 already there" in capsys.readouterr().out
    with Session(make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")) as session:
        imported = session.exec(select(Prompt).where(Prompt.slug == "ticket-copy")).one()
        version = session.exec(select(PromptVersion).where(PromptVersion.prompt_id == imported.id)).one()
    assert imported.status == "draft" and [m["role"] for m in version.messages] == ["system", "user"]
    assert version.messages[1]["template"] == "Ticket thread:\n{ticket}"
    assert main(["prompts", "reindex"]) == 0
    assert "Prompt index rebuilt: 33 prompt(s) embedded." in capsys.readouterr().out


def test_a_broken_langchain_file_is_refused(seeded, isolated_portal, capsys) -> None:
    bad = isolated_portal / "bad.json"
    bad.write_text('{"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {}}')
    assert main(["prompts", "import", str(bad)]) == 2
    assert "not a LangChain-serialised template" in capsys.readouterr().err
