"""Write or edit a prompt: every save is a new version; a stale base is a conflict that keeps both texts."""

import streamlit as st

from catalog.models import USABLE_STATUSES, DataClassification, Mode
from catalog.service import CatalogFilter, browse_catalog
from portal import deps
from portal.core.db import session_scope
from portal.core.errors import PortalError
from portal.ui import plain, run_action
from portal.views import _links as links
from portal.views import _prompt_sections as sections
from portal.views._prompts import open_prompt, sync_index
from prompt_library.models import TemplateFormat
from prompt_library.editing import EditConflict, PromptDraft, create_prompt, draft_text, save_version
from prompt_library.reading import diff_texts, editable_prompt, version_by_number, version_text
from prompt_library.templates import Message, Variable, detect_variables

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
state = st.session_state
LOADED, BASE = "editor_loaded", "editor_base_version"
ROLES = ("system", "user")


def load_existing():
    """The prompt being edited and its latest version, or (None, None) for a new prompt."""
    prompt_id = links.prompt_editor.read()
    if prompt_id is None:
        return None, None
    with session_scope(context.engine) as session:
        prompt = editable_prompt(session=session, actor=user, prompt_id=prompt_id)
        return prompt, version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version)


def fill_widgets(prompt, latest) -> None:
    """Put the prompt into the widgets once per prompt opened, so a draft survives reruns and errors."""
    marker = prompt.id if prompt else "new"
    if state.get(LOADED) == marker:
        return
    state[LOADED] = marker
    state[BASE] = latest.number if latest else 0
    messages = {m["role"]: m["template"] for m in latest.messages} if latest else {}
    # The latest version's card: after approval, readers keep the approved one until this is approved too.
    state.update({"editor_title": latest.title if latest else "", "editor_description": latest.description if latest
                  else "", "editor_category": latest.category if latest else "",
                  "editor_department": latest.department if latest else user.department,
                  "editor_tags": ", ".join(latest.tags) if latest else "",
                  "editor_classification": DataClassification(latest.classification if latest else 2),
                  "editor_models": list(latest.recommended_models) if latest else [],
                  "editor_format": latest.template_format if latest else TemplateFormat.F_STRING.value,
                  "editor_system": messages.get("system", ""), "editor_user": messages.get("user", ""),
                  "editor_note": ""})
    for variable in latest.variables if latest else []:
        state[f"editor_var_desc_{variable['name']}"] = variable.get("description", "")
        state[f"editor_var_example_{variable['name']}"] = variable.get("example", "")


def chat_models() -> list[str]:
    with session_scope(context.engine) as session:
        chat = CatalogFilter(mode=Mode.CHAT, statuses=USABLE_STATUSES)
        page = browse_catalog(session=session, actor=user, filters=chat, limit=200)
    return [m.name for m in page.models]


def card_fields(trusted: bool) -> None:
    st.text_input("Title", key="editor_title", max_chars=200)
    st.text_area("Description", key="editor_description", height=80)
    category_col, department_col, tags_col = st.columns(3)
    category_col.text_input("Category", key="editor_category", placeholder="e.g. Customer support")
    department_col.text_input("Department", key="editor_department")
    tags_col.text_input("Tags (comma-separated)", key="editor_tags")
    class_col, models_col, format_col = st.columns([1, 2, 1])
    class_col.selectbox("For data up to", list(DataClassification), key="editor_classification",
                        format_func=lambda c: c.label)
    models = sorted(set(chat_models()) | set(state.get("editor_models", [])))
    models_col.multiselect("Recommended models", models, key="editor_models")
    formats = [f.value for f in TemplateFormat if trusted or f is not TemplateFormat.JINJA2]
    format_col.selectbox("Template syntax", formats, key="editor_format",
                         help="f-string: {name}; mustache: {{name}}. jinja2 only for prompts an admin trusts.")


def messages_and_variables() -> list[Variable]:
    """The two message boxes, then one description and example per variable the messages use."""
    st.text_area("System message", key="editor_system", height=140)
    st.text_area("User message", key="editor_user", height=140)
    try:
        names = detect_variables(current_messages(), state["editor_format"])
    except PortalError as exc:
        st.warning(f"Variables cannot be read yet: {exc.message}")
        return []
    if names:
        st.caption("Variables found in the messages — describe them for the people who will fill them in:")
    variables = []
    for name in names:
        desc_col, example_col = st.columns(2)
        description = desc_col.text_input(f"{name}: description", key=f"editor_var_desc_{name}")
        example = example_col.text_input(f"{name}: example", key=f"editor_var_example_{name}")
        variables.append(Variable(name=name, description=description, example=example))
    return variables


def current_messages() -> list[Message]:
    return [Message(role, state.get(f"editor_{role}", "")) for role in ROLES if state.get(f"editor_{role}", "").strip()]


def current_draft(variables: list[Variable]) -> PromptDraft:
    return PromptDraft(title=state["editor_title"], messages=current_messages(), template_format=state["editor_format"],
                       variables=variables, description=state["editor_description"],
                       category=state["editor_category"], department=state["editor_department"],
                       tags=[t for t in state["editor_tags"].split(",") if t.strip()],
                       classification=int(state["editor_classification"]),
                       recommended_models=list(state["editor_models"]), change_note=state["editor_note"])


def save(prompt, draft: PromptDraft) -> None:
    """Save; a conflict is shown with the diff and the draft stays in the widgets."""
    def store(session) -> tuple[str, int]:
        if prompt is None:
            saved = create_prompt(session=session, actor=user, draft=draft)
            return saved.slug, saved.id
        save_version(session=session, actor=user, prompt_id=prompt.id, draft=draft, base_version=state[BASE])
        return prompt.slug, prompt.id

    refused = run_action(store, engine=context.engine, success=None, then=lambda saved: open_saved(*saved))
    if isinstance(refused, EditConflict):
        show_conflict(refused)


def open_saved(slug: str, prompt_id: int) -> None:
    sync_index(context, [prompt_id])
    state.pop(LOADED, None)
    open_prompt(slug)


def show_conflict(conflict: EditConflict) -> None:
    """Under the conflict's message: the diff and their text, and a way to save on top of theirs."""
    st.code(conflict.diff, language="diff", wrap_lines=True)
    theirs, _ = st.columns(2)
    theirs.caption(f"Version {conflict.latest_number} as saved (your draft is still in the boxes above):")
    theirs.code(conflict.latest_text, language=None, wrap_lines=True)
    state["editor_conflict_latest"] = conflict.latest_number


prompt, latest = None, None
with deps.showing_errors():
    prompt, latest = load_existing()
fill_widgets(prompt, latest)
st.title(f"Edit: {plain(latest.title)}" if prompt else "New prompt", anchor=False)
if prompt and st.button("Start a new prompt instead", key="editor_new", icon=":material/add:"):
    links.prompt_editor.new_prompt()
    st.rerun()
if prompt:
    st.caption(f"You are editing on top of version {state[BASE]}. Saving makes version {state[BASE] + 1}; "
               "the earlier versions never change." + (
                   f" Readers keep v{prompt.approved_version}'s card and messages until a reviewer other than "
                   "its author approves a later version." if prompt.approved_version else ""))
card_fields(trusted=bool(prompt and prompt.trusted))
variables = messages_and_variables()
st.text_input("Change note", key="editor_note", max_chars=500, placeholder="What changed and why")
draft = current_draft(variables)
if latest is not None:
    with st.expander("Your draft compared with the latest saved version"):
        st.code(diff_texts(version_text(latest), draft_text(draft), f"v{latest.number}", "draft") or "No change.",
                language="diff", wrap_lines=True)
save_col, rebase_col = st.columns([1, 3])
if save_col.button("Save new version" if prompt else "Create prompt", key="editor_save", type="primary",
                   icon=":material/save:"):
    save(prompt, draft)
if state.get("editor_conflict_latest") and rebase_col.button(
        "Keep my draft and save on top of the latest", key="editor_rebase",
        help="Your text replaces theirs in the next version; theirs stays in the history."):
    state[BASE] = state.pop("editor_conflict_latest")
    st.rerun()
if prompt is not None and latest.number > 1:
    st.subheader("Compare any two versions", anchor=False)
    sections.diff_section(context, user, prompt, list(range(latest.number, 0, -1)))
