"""For applications: `get_prompt(slug, label="production")` returns the LangChain template the library holds, its
`metadata` naming the prompt, the version served and that version's title, data classification and recommended
models.

    from prompt_library.client import get_prompt
    chain = get_prompt("ticket-summary") | llm

An in-process cache serves each template for `ttl_s`; after that the cached template is still served at once
while one background refresh fetches the new one (stale-while-refreshing), for up to `max_stale_s`. When the
database cannot be reached, a cached template keeps being served until `max_stale_s` runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.prompts import ChatPromptTemplate
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from catalog.models import DataClassification
from portal.core.errors import NotFound
from prompt_library.models import Prompt, PromptLabel, PromptStatus, PromptVersion
from prompt_library.reading import messages_of
from prompt_library.templates import build_template

log = logging.getLogger(__name__)
LATEST = "latest"  # not a stored label: the newest approved version


@dataclass
class _Entry:
    template: ChatPromptTemplate
    version: int
    fetched_at: float
    refreshing: bool = False


class PromptClient:
    """Reads published prompts from the portal's database, with a time-to-live cache."""

    def __init__(self, *, engine: Engine, ttl_s: float = 60.0, max_stale_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.ttl_s, self.max_stale_s, self.clock = engine, ttl_s, max_stale_s, clock
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.fetches = 0  # database reads, for tests and metrics

    def get_prompt(self, slug: str, label: str = "production") -> ChatPromptTemplate:
        """The template `label` points at; cached, refreshed in the background once stale."""
        key = (slug, label)
        with self._lock:
            entry = self._cache.get(key)
            age = self.clock() - entry.fetched_at if entry else None
            if entry is not None and age < self.ttl_s:
                return entry.template
            if entry is not None and age < self.ttl_s + self.max_stale_s:
                if not entry.refreshing:
                    entry.refreshing = True
                    self._start_refresh(key)
                return entry.template
        return self._fetch_into_cache(key).template

    def version_of(self, slug: str, label: str = "production") -> int | None:
        """The version number the cache holds for a slug and label (None when not cached)."""
        entry = self._cache.get((slug, label))
        return entry.version if entry else None

    def wait_for_refreshes(self, timeout_s: float = 5.0) -> None:
        for thread in list(self._threads):
            thread.join(timeout_s)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _start_refresh(self, key: tuple[str, str]) -> None:
        thread = threading.Thread(target=self._refresh, args=(key,), daemon=True, name=f"prompt-refresh-{key[0]}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _refresh(self, key: tuple[str, str]) -> None:
        try:
            self._fetch_into_cache(key)
        except (SQLAlchemyError, NotFound) as error:  # keep serving the cached template
            log.warning("refreshing prompt %s@%s failed: %s", key[0], key[1], error)
            with self._lock:
                if key in self._cache:
                    self._cache[key].refreshing = False

    def _fetch_into_cache(self, key: tuple[str, str]) -> _Entry:
        template, number = self._fetch(*key)
        entry = _Entry(template=template, version=number, fetched_at=self.clock())
        with self._lock:
            self._cache[key] = entry
        return entry

    def _fetch(self, slug: str, label: str) -> tuple[ChatPromptTemplate, int]:
        self.fetches += 1
        with Session(self.engine) as session:
            prompt = session.exec(select(Prompt).where(Prompt.slug == slug,
                                                       Prompt.status == PromptStatus.PUBLISHED.value)).first()
            if prompt is None:
                raise NotFound(f"No published prompt '{slug}'.")
            version = _labelled_version(session, prompt, label)
            template = build_template(messages_of(version), version.template_format)
            # Traces name what was served: the prompt, its version and that version's (reviewed) card.
            template.metadata = {"prompt": slug, "version": version.number, "title": version.title,
                                 "classification": DataClassification(version.classification).label,
                                 "recommended_models": list(version.recommended_models)}
            return template, version.number


def _labelled_version(session: Session, prompt: Prompt, label: str) -> PromptVersion:
    if label == LATEST:
        query = select(PromptVersion).where(PromptVersion.prompt_id == prompt.id,
                                            # The newest a reviewer approved, never an unreviewed save.
                                            PromptVersion.number == (prompt.approved_version
                                                                     or prompt.latest_version))
    else:
        query = (select(PromptVersion).join(PromptLabel, PromptLabel.version_id == PromptVersion.id)
                 .where(PromptLabel.prompt_id == prompt.id, PromptLabel.name == label))
    version = session.exec(query).first()
    if version is None:
        raise NotFound(f"Prompt '{prompt.slug}' has no '{label}' label.")
    return version


_default: PromptClient | None = None
_default_lock = threading.Lock()


def default_client() -> PromptClient:
    """One client per process, on the database the PORTAL_* settings name."""
    global _default
    with _default_lock:
        if _default is None:
            from portal.core.db import make_engine
            from portal.core.settings import load_settings

            settings = load_settings()
            _default = PromptClient(engine=make_engine(settings.database_url), ttl_s=settings.prompt_cache_ttl_s)
        return _default


def get_prompt(slug: str, label: str = "production") -> ChatPromptTemplate:
    """The LangChain template of a published prompt at a label (default production), cached in-process."""
    return default_client().get_prompt(slug, label)
