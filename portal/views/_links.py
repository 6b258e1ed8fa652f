"""Typed links between pages: for each page that takes a parameter, the one object that builds links to it and
that the page reads its parameter from, so the two sides cannot drift apart.

A page about one thing takes it from the address bar (`?model=gpt-4o`, so a link can be shared) and falls back to
the one opened last in this session (so its sidebar entry reopens it). The value is whatever the address bar held:
pages look it up and show a miss with `portal.ui.plain_message`, never as Markdown.

    links.model_card("gpt-4o").open()                   # switch to the card (a button's action)
    links.model_card("gpt-4o").show("Open its card")    # a link on the page
    name = links.model_card.read()                      # on the card page: ?model=, or the card opened last
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Link:
    """A link to a page with its query parameters."""

    page: str
    query: tuple[tuple[str, str], ...] = ()

    def open(self) -> None:
        """Switch to the page now (ends this run)."""
        st.switch_page(self.page, query_params=dict(self.query))

    def show(self, label: str, *, icon: str | None = None, help: str | None = None, container=None) -> None:
        """The link on the page (label and help are Markdown: make user-supplied parts plain)."""
        (container or st).page_link(self.page, label=label, icon=icon, help=help, query_params=dict(self.query))


@dataclass(frozen=True)
class PickFrom:
    """Where a person picks the thing a page is about, when they arrive with none."""

    page: str
    label: str
    icon: str
    hint: str


@dataclass(frozen=True)
class PageAbout:
    """A page about one thing named in the address bar as `?{param}=`, remembered for the session in `remember`."""

    page: str
    param: str
    remember: str | None = None
    pick_from: PickFrom | None = None

    def __call__(self, value: str) -> Link:
        return Link(self.page, ((self.param, value),))

    def read(self) -> str | None:
        """The value this page is about: the address bar's, or the one opened last in this session; None for none."""
        value = st.query_params.get(self.param)
        if not value and self.remember is not None:
            value = st.session_state.get(self.remember)
        return value or None

    def require(self, *, title: str | None = None) -> str:
        """The value this page is about, or stop the page (under `title`) with a pointer to where one is picked."""
        value = self.read()
        if value:
            return value
        if title:
            st.title(title)
        if self.pick_from is not None:
            st.info(self.pick_from.hint)
            st.page_link(self.pick_from.page, label=self.pick_from.label, icon=self.pick_from.icon)
        st.stop()
        raise AssertionError("st.stop() ends the run")  # for the type checker: never reached

    def keep(self, value: str) -> None:
        """Remember the value the page showed, for the next visit from the sidebar."""
        if self.remember is not None:
            st.session_state[self.remember] = value

    def kept(self) -> str | None:
        """The value remembered from the last visit, whatever the address bar says now."""
        return st.session_state.get(self.remember) if self.remember is not None else None

    def forget(self) -> None:
        if self.remember is not None:
            st.session_state.pop(self.remember, None)


model_card = PageAbout("views/model_card.py", "model", remember="model_card_name",
                       pick_from=PickFrom("views/catalog.py", "Model catalog", ":material/menu_book:",
                                          "Pick a model in the catalog to see its card."))
model_evaluations = PageAbout("views/model_evaluations.py", "model")
prompt = PageAbout("views/prompt.py", "prompt", remember="prompt_open_slug",
                   pick_from=PickFrom("views/prompts.py", "Prompt library", ":material/library_books:",
                                      "Pick a prompt in the library first."))
template = PageAbout("views/template.py", "template", remember="tpl_current",
                     pick_from=PickFrom("views/templates.py", "Solution templates", ":material/view_quilt:",
                                        "Pick a template from the list first."))
# The course, its quiz and its labs share the course opened last.
course = PageAbout("views/training_course.py", "course", remember="training_course_slug")
quiz = PageAbout("views/training_quiz.py", "course", remember="training_course_slug")
lab = PageAbout("views/training_lab.py", "course", remember="training_course_slug")
certificate = PageAbout("views/training_certificates.py", "code")
# A use case by its number; the propose form takes the same number to continue a draft or edit the answers.
use_case = PageAbout("views/use_case.py", "use_case", remember="uc_open_id",
                     pick_from=PickFrom("views/portfolio.py", "Use-case portfolio", ":material/view_kanban:",
                                        "Open a use case from the portfolio."))
use_case_form = PageAbout("views/portfolio_propose.py", "use_case")


# --- links that hand over more than a name: kept in the session for the target page to take once -----------------

@dataclass(frozen=True)
class PromptEditor:
    """The prompt editor, on an existing prompt (by id) or on a new one."""

    page: str = "views/prompt_editor.py"
    key: str = "prompt_edit_id"

    def open(self, prompt_id: int | None) -> None:
        """Switch to the editor on this prompt; None starts a new one."""
        if prompt_id is None:
            st.session_state.pop(self.key, None)
        else:
            st.session_state[self.key] = prompt_id
        Link(self.page).open()

    def read(self) -> int | None:
        """The prompt being edited; None for a new one."""
        return st.session_state.get(self.key)

    def new_prompt(self) -> None:
        """Switch the editor (on this run) to a new prompt."""
        st.session_state.pop(self.key, None)


@dataclass(frozen=True)
class SandboxStart:
    """What the sandbox starts a new conversation with: a model (from a card) and/or a prompt's text."""

    model: str | None = None
    system_prompt: str = ""
    message: str = ""
    recommended_models: tuple[str, ...] = ()  # the first one this user is offered is chosen


@dataclass(frozen=True)
class Sandbox:
    """The sandbox, opened on a new conversation with a model chosen or a prompt filled in."""

    page: str = "views/sandbox.py"
    key: str = "sandbox_start"

    def open(self, start: SandboxStart) -> None:
        st.session_state[self.key] = start
        Link(self.page).open()

    def take(self) -> SandboxStart | None:
        """What the page that sent us here asked for, once."""
        return st.session_state.pop(self.key, None)


prompt_editor = PromptEditor()
sandbox = Sandbox()
