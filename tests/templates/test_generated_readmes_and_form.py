"""Generated READMEs a new user can follow to the letter, and a fork form that starts from the portal's gateway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from catalog.models import Mode, ModelStatus
from catalog.service import get_model
from templates.forks import portal_answers, questions_of
from templates.questions import InvalidAnswers, check_answers
from templates.registry import BUILTIN_DIR, get_template
from templates.source import read_template
from tests.templates.conftest import CHAT_MODEL, EMBEDDING_MODEL
from tests.templates.test_builtin_projects import BUILTINS, VARIED, render

GATEWAY = "http://127.0.0.1:8081/v1"
SERVER_PORTS = {"extraction-service": "port", "streamlit-tool": "port"}  # the rest are command-line tools


def settings_read_by(project: Path) -> set[str]:
    """Every environment variable the project's own code reads."""
    code = "\n".join(p.read_text() for p in project.rglob("*.py") if "tests" not in p.relative_to(project).parts)
    return set(re.findall(r"os\.environ\.get\(\s*\"([A-Z_]+)\"", code))


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("answers", ["defaults", "varied"])
def test_the_readme_starts_with_a_venv_says_the_port_and_lists_every_setting(name, answers, tmp_path) -> None:
    project = render(name, {**({} if answers == "defaults" else VARIED[name]), "gateway_url": GATEWAY}, tmp_path / "p")
    readme = (project / "README.md").read_text()

    sections = re.findall(r"^## (.+)$", readme, flags=re.M)
    assert sections[0] == "Set up", sections
    assert readme.index("python3 -m venv .venv") < readme.index("pip install -e .")
    read = settings_read_by(project)
    assert {"GATEWAY_URL", "GATEWAY_API_KEY", "GATEWAY_MODEL"} <= read
    assert [s for s in sorted(read) if f"| `{s}` |" not in readme] == []
    assert f"export GATEWAY_URL={GATEWAY} " in readme
    if name in SERVER_PORTS:
        port = yaml.safe_load((project / ".copier-answers.yml").read_text())[SERVER_PORTS[name]]
        assert port != 8501 and f"listens on port {port}" in readme
        assert f"--port {port}" in readme or f"--server.port {port}" in readme
        assert "8501:" not in readme and "port 8501" not in readme
    else:
        assert "it opens no port" in readme


def test_the_streamlit_tools_port_may_not_be_the_portals() -> None:
    questions = read_template(BUILTIN_DIR / "streamlit-tool").questions
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(questions, {"port": 8501})
    assert "8501" in caught.value.errors["port"]


def test_the_rag_readme_indexes_before_it_asks_in_docker(tmp_path) -> None:
    readme = (render("rag-chatbot", {}, tmp_path / "p") / "README.md").read_text()
    docker = readme[readme.index("## Docker"):]
    assert docker.index("policy-assistant index docs/") < docker.index("policy-assistant ask ")
    assert docker.count('-v "$PWD/var:/app/var"') == 2  # the index outlives the container that built it


def test_the_form_starts_from_the_portals_gateway_and_the_models_it_serves(session, builtins, make_user,
                                                                            make_model) -> None:
    make_model(ModelStatus.APPROVED, name="smollm2-135m-instruct", served=True)
    make_model(ModelStatus.APPROVED, name="all-minilm-l6-v2", mode=Mode.EMBEDDING.value, served=True)
    questions = questions_of(get_template(session=session, name="rag-chatbot"))

    answers = portal_answers(session=session, user=make_user("contributor"), questions=questions, gateway_url=GATEWAY)

    # The template's defaults (CHAT_MODEL, EMBEDDING_MODEL) are approved but not served by this gateway.
    assert answers == {"gateway_url": GATEWAY, "model": "smollm2-135m-instruct", "embedding_model": "all-minilm-l6-v2"}
    assert not any("key" in name for name in answers)


def test_the_form_keeps_a_template_default_the_gateway_serves(session, builtins, make_user, make_model) -> None:
    for card_name in (CHAT_MODEL, EMBEDDING_MODEL):  # as the catalog's sync with the gateway marks them
        get_model(session=session, name=card_name).served = True
    make_model(ModelStatus.APPROVED, name="aaa-served-chat", served=True)
    session.commit()
    questions = questions_of(get_template(session=session, name="rag-chatbot"))

    answers = portal_answers(session=session, user=make_user("contributor"), questions=questions, gateway_url="")

    assert answers == {}  # served defaults stay (not the first served name), and no URL known means none filled
