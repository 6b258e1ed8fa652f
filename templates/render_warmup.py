"""Imported by the render server only: one small copier render, so every child it forks starts warm.

Copier imports and builds much of what it needs on its first render (validators, Jinja, git helpers); done once
here, before any child is forked, each child inherits it instead of paying it again (about 100 ms a fork on the
build machines). The template is the portal's own, rendered with no answers from anyone.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import copier

from templates.render import pinned_copier_settings

log = logging.getLogger(__name__)

COPIER_YML = """\
_answers_file: .copier-answers.yml
_templates_suffix: .jinja
name:
  type: str
  default: "{{ 'warm' | lower }}"
  validator: "{% if name | regex_search('^x') %}no{% endif %}"
"""
FILES = {"{{ name }}.txt.jinja": "{{ name | to_nice_yaml }}", "{{ _copier_conf.answers_file }}.jinja":
         "{{ _copier_answers | to_nice_yaml -}}\n"}


def warm_up() -> None:
    """Render the small template into a folder that is removed straight after."""
    folder = Path(tempfile.mkdtemp(prefix="portal-render-warmup-"))
    try:
        source = folder / "template"
        source.mkdir()
        (source / "copier.yml").write_text(COPIER_YML, encoding="utf-8")
        for name, text in FILES.items():
            (source / name).write_text(text, encoding="utf-8")
        copier.run_copy(str(source), folder / "project", defaults=True, quiet=True, settings=pinned_copier_settings())
    except Exception:  # a cold start is slower, not broken: the render server must come up regardless
        log.exception("warming copier up for template renders failed")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


warm_up()
