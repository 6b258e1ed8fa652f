"""A prompt: what it is for, its messages and variables, and using it (render, try in sandbox, fork, rate)."""

import streamlit as st

from catalog.models import DataClassification
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.errors import NotFound
from portal.ui import plain, plain_message, run_action
from portal.views import _links as links
from portal.views import _prompt_sections as sections
from portal.views._prompts import LIBRARY_PAGE, open_editor, open_prompt, sync_index
from portal.views._use_case_links import SHOWN, used_by
from portfolio.links import LinkKind, use_cases_using
from prompt_library.models import PromptStatus, ReviewKind
from prompt_library.card import card_for
from prompt_library.editing import fork_prompt
from prompt_library.reading import (
    can_delete,
    can_edit,
    messages_of,
    readable_version,
    variables_of,
    version_by_number,
    visible_prompt,
)
from prompt_library.review import labels_of, request_review, unpublish
from prompt_library.service import delete_prompt, is_favourite, rate_prompt, record_use, set_trusted, toggle_favourite
from prompt_library.templates import as_text, detect_variables, render


context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

slug = links.prompt.require()


def load():
    with session_scope(context.engine) as session:
        prompt = visible_prompt(session=session, actor=user, slug=slug)
        labels = labels_of(session=session, prompt_id=prompt.id)
        number = labels.get("production", readable_version(prompt, user))
        version = version_by_number(session=session, prompt_id=prompt.id, number=number)
        favourite = is_favourite(session=session, actor=user, prompt_id=prompt.id)
        card = card_for(session=session, actor=user, prompt=prompt)
        using = use_cases_using(session, user, LinkKind.PROMPT, prompt.slug, limit=SHOWN + 1)
    return prompt, labels, version, favourite, card, using


try:
    prompt, labels, version, favourite, card, using = load()
except NotFound as exc:
    st.error(plain_message(exc.message))  # it may name the value from the address bar
    st.page_link(LIBRARY_PAGE, label="Back to the library", icon=":material/library_books:")
    st.stop()
links.prompt.keep(prompt.slug)
editable = can_edit(prompt, user)


def header() -> None:
    """The card the user is shown: to its editors the latest saved, to everyone else the approved one."""
    st.title(plain(card.title), anchor=False)
    st.markdown(plain(card.description))
    label_text = ", ".join(f"{name} → v{n}" for name, n in labels.items()) or "none"
    st.caption(f"{plain(card.category)} · {plain(card.department)} · status: {PromptStatus(prompt.status).label} · "
               f"for {DataClassification(card.classification).label} data · used {prompt.usage_count}× · "
               f"★ {prompt.rating_average:.1f} ({prompt.rating_count} ratings) · labels: {plain(label_text)} · "
               f"showing v{version.number}" + (f" · tags: {plain(', '.join(card.tags))}" if card.tags else ""))
    st.caption("Recommended models: " + (plain(", ".join(card.recommended_models)) or "none named"))


def actions() -> None:
    edit_col, publish_col, fork_col, favourite_col, delete_col, _ = st.columns([1, 1, 1, 1, 1, 1])
    if editable and edit_col.button("Edit", key="prompt_edit", icon=":material/edit:"):
        open_editor(prompt.id)
    if editable and prompt.status == PromptStatus.DRAFT and publish_col.button(
            "Request publication", key="prompt_request_publish", icon=":material/publish:",
            help="A reviewer other than you approves it before everyone can see it."):
        run_action(lambda session: request_review(session=session, actor=user, prompt_id=prompt.id,
                                                  kind=ReviewKind.PUBLISH, version=prompt.latest_version,
                                                  capabilities=deps.capability_gate(context.settings)),
                   engine=context.engine, success="Publication requested; a reviewer will look at it.")
    if editable and prompt.status == PromptStatus.PUBLISHED and prompt.latest_version > prompt.approved_version:
        request_version_review()
    if editable and prompt.status == PromptStatus.PUBLISHED and publish_col.button(
            "Unpublish", key="prompt_unpublish", icon=":material/unpublished:",
            help="Take it out of the library; its history stays, and applications stop receiving it."):
        run_action(lambda session: unpublish(session=session, actor=user, prompt_id=prompt.id),
                   engine=context.engine, success="Unpublished: only you can see it now.",
                   then=lambda _: sync_index(context, [prompt.id]))
    if has_permission(user, Permission.CONTRIBUTE) and fork_col.button("Fork", key="prompt_fork",
                                                                       icon=":material/fork_right:"):
        run_action(lambda session: fork_prompt(session=session, actor=user, prompt_id=prompt.id),
                   engine=context.engine, success=None, then=lambda fork: open_prompt(fork.slug))
    if favourite_col.button("Unfavourite" if favourite else "Favourite", key="prompt_favourite",
                            icon=":material/star:"):
        with session_scope(context.engine) as session:
            toggle_favourite(session=session, actor=user, prompt_id=prompt.id)
        st.rerun()
    if can_delete(prompt, user):
        delete_popover(delete_col)


def request_version_review() -> None:
    """A save after approval waits for a reviewer before readers and applications get it."""
    st.info(f"Readers and applications get v{prompt.approved_version}, its messages and its card (title, "
            f"description, tags…); v{prompt.latest_version} is yours until a reviewer other than its author "
            "approves it.", icon=":material/rate_review:")
    if st.button(f"Request review of v{prompt.latest_version}", key="prompt_request_version_review",
                 icon=":material/rate_review:"):
        run_action(lambda session: request_review(session=session, actor=user, prompt_id=prompt.id,
                                                  kind=ReviewKind.PUBLISH, version=prompt.latest_version),
                   engine=context.engine, success=f"Review of v{prompt.latest_version} requested.")


def delete_popover(container) -> None:
    """Shown while the prompt is unpublished, to its owner and admins; afterwards the library says it is gone."""
    with container.popover("Delete", icon=":material/delete:"):
        st.markdown("Delete this prompt with its versions, labels, reviews, comments, ratings and tests? This "
                    "cannot be undone; forks of it stay, and usage records stay.")
        if not st.button("Yes, delete it", key="prompt_delete", type="primary"):
            return
        # The library says it is gone, once, on its next run.
        run_action(lambda session: delete_prompt(session=session, actor=user, prompt_id=prompt.id),
                   engine=context.engine, success=f"Deleted “{plain(card.title)}”.", then=lambda _: deleted())


def deleted() -> None:
    sync_index(context, [prompt.id])
    links.prompt.forget()
    st.switch_page(LIBRARY_PAGE)


def use_section() -> None:
    """A form generated from the variables: render the messages, copy them, or try them in the sandbox."""
    messages, variables = messages_of(version), {v.name: v for v in variables_of(version)}
    names = detect_variables(messages, version.template_format)
    with st.form("prompt_use_form"):
        values = {}
        for name in names:
            described = variables.get(name)
            values[name] = st.text_area(name, key=f"prompt_var_{name}", height=80,
                                        placeholder=(described.example if described else "") or "",
                                        help=(described.description if described else None) or None)
        render_col, sandbox_col = st.columns(2)
        show = render_col.form_submit_button("Show rendered text", icon=":material/content_copy:")
        try_it = sandbox_col.form_submit_button("Try in sandbox", icon=":material/chat:", type="primary")
    if not (show or try_it):
        return
    with deps.showing_errors():
        rendered = render(messages, version.template_format, values)
        with session_scope(context.engine) as session:
            record_use(session=session, actor=user, prompt_id=prompt.id)
        if try_it:
            open_in_sandbox(rendered)
        st.caption("Copy with the button at the top right of the box.")
        st.code(as_text(rendered), language=None, wrap_lines=True)


def open_in_sandbox(rendered: list[dict[str, str]]) -> None:
    system = "\n\n".join(m["content"] for m in rendered if m["role"] == "system")
    message = "\n\n".join(m["content"] for m in rendered if m["role"] != "system")
    # The sandbox fills these in and picks the first recommended model the user is offered.
    links.sandbox.open(links.SandboxStart(system_prompt=system, message=message,
                                          recommended_models=tuple(card.recommended_models)))


def rating_section() -> None:
    stars_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    stars = stars_col.select_slider("Your rating", options=[1, 2, 3, 4, 5], value=4, key="prompt_stars")
    if button_col.button("Rate", key="prompt_rate", icon=":material/star_rate:"):
        run_action(lambda session: rate_prompt(session=session, actor=user, prompt_id=prompt.id, stars=stars),
                   engine=context.engine, success=f"Thanks — rated {stars}/5.")


def admin_section() -> None:
    trusted = st.toggle("Trusted: may use jinja2 templates", value=prompt.trusted, key="prompt_trusted")
    if trusted != prompt.trusted:
        run_action(lambda session: set_trusted(session=session, actor=user, prompt_id=prompt.id, trusted=trusted),
                   engine=context.engine, success=None)


header()
actions()
use_tab, messages_tab, versions_tab, tests_tab = st.tabs(["Use", "Messages", "Versions and labels", "Tests"])
with use_tab:
    use_section()
    rating_section()
    used_by(using, what="prompt")
with messages_tab:
    sections.messages_section(version)
with versions_tab:
    sections.versions_section(context, user, prompt, labels, editable)
with tests_tab:
    sections.tests_section(context, user, prompt, version, editable)
if has_permission(user, Permission.MANAGE_PROMPTS):
    admin_section()
