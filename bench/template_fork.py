"""Template fork cost: a whole fork (answers checked, copier render, output checks, zip, the fork recorded and
audited in SQLite) of each built-in template, against copier's render alone of the same version, same run.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import alternate, verdict  # noqa: E402

ROUNDS = 15
GOAL = 1.2
ABSOLUTE_GOAL_S = 1.0


def _setup(workdir: Path):
    """A migrated SQLite database with a contributor and the approved models, and the built-ins registered."""
    from sqlmodel import Session

    from catalog.models import CatalogModel
    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User
    from templates.registry import TemplateStore, sync_builtin_templates

    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
    upgrade_to_head(engine)
    store = TemplateStore(sources_dir=workdir / "sources", repos_dir=workdir / "repos")
    with Session(engine, expire_on_commit=False) as session:
        user = User(email="dev@example.com", name="Dev", role="contributor", team="Claims", department="Ops")
        session.add_all([user, CatalogModel(name="meta-llama/Llama-3.1-8B-Instruct", display_name="8B",
                                            status="approved"),
                         CatalogModel(name="BAAI/bge-m3", display_name="BGE", status="approved", mode="embedding")])
        sync_builtin_templates(session=session, store=store)
        session.commit()
    return engine, store, user


def _fork_timer(engine, store, user, name: str):
    from sqlmodel import Session

    from templates.forks import fork_template
    from templates.models import ForkDestination

    def measure() -> tuple[float, float]:
        started = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            fork_template(session=session, actor=user, store=store, template_name=name, answers={},
                          destination=ForkDestination.ZIP)
            session.commit()
        elapsed = time.perf_counter() - started
        return elapsed, elapsed

    return measure


def _render_timer(engine, store, name: str):
    """copier.run_copy of the same mirror tag with the same (default) answers into a scratch folder."""
    import copier
    from sqlmodel import Session

    from templates.forks import questions_of
    from templates.questions import default_answers
    from templates.registry import get_template

    with Session(engine) as session:
        entry = get_template(session=session, name=name)
        answers = default_answers(questions_of(entry))

    def baseline() -> tuple[float, float]:
        target = Path(tempfile.mkdtemp(dir=store.repos_dir))
        started = time.perf_counter()
        copier.run_copy(str(store.mirror(name)), target / "project", data=answers, vcs_ref=entry.mirror_ref,
                        defaults=True, unsafe=False, quiet=True, settings=copier.Settings())
        elapsed = time.perf_counter() - started
        shutil.rmtree(target)
        return elapsed, elapsed

    return baseline


def run() -> dict[str, float]:
    """Median per-pair ratio of fork time to render time for each built-in; prints and returns them."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-template-fork-"))
    engine, store, user = _setup(workdir)
    store.repos_dir.mkdir(parents=True, exist_ok=True)
    ratios = {}
    for name in sorted(p.name for p in (REPO_ROOT / "templates" / "builtin").iterdir() if p.is_dir()):
        pairs = alternate(_fork_timer(engine, store, user, name), _render_timer(engine, store, name), ROUNDS)
        fork_s = statistics.median(m[0] for m, _ in pairs)
        render_s = statistics.median(b[0] for _, b in pairs)
        ratios[name] = statistics.median(m[0] / b[0] for m, b in pairs)
        absolute = "ok" if fork_s < ABSOLUTE_GOAL_S else "ABOVE GOAL"
        print(f"template fork: {name} fork (render + zip + record) {fork_s * 1000:.1f} ms vs copier render alone "
              f"{render_s * 1000:.1f} ms over {ROUNDS} pairs -> median {verdict(ratios[name], GOAL)}; "
              f"under {ABSOLUTE_GOAL_S:.0f} s {absolute}")
    shutil.rmtree(workdir, ignore_errors=True)
    return ratios


if __name__ == "__main__":
    run()
