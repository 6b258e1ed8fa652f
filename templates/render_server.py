"""The template render server: `python -m templates.render_server SOCKET`, started by templates.sandbox.

A portal.core.child_jobs server: it starts with none of the portal's environment variables, imports copier and
renders a small template once, then forks one child per render. Each child confines itself as every child job
does, tells git to read no configuration of the host, and resolves copier's Ansible filters to the allow-list
before it renders anything.
"""

from __future__ import annotations

import os
import sys

from portal.core.child_jobs import confine as confine_child
from portal.core.child_jobs import serve


def serve_renders(socket_path: str) -> None:
    """Import (and warm up) copier once for every child to inherit, then serve renders."""
    # The jobs live in these modules; imported here, each forked child starts with them loaded.
    import templates.questions
    import templates.render_warmup
    import templates.updates  # noqa: F401 - imported for the children, not used here

    serve(socket_path, prepare=for_untrusted_templates)


def for_untrusted_templates() -> None:
    """In the confined child, before the render: no git configuration of the host, only the allowed filters."""
    from templates.safe_jinja import take_place_of_ansible_filters

    os.environ.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    take_place_of_ansible_filters()


def confine(limits, scratch: str) -> None:
    """What a render child does before its job: confined within the render's limits, made safe for templates."""
    from templates.sandbox import child_limits

    confine_child(child_limits(limits), scratch)
    for_untrusted_templates()


if __name__ == "__main__":
    serve_renders(sys.argv[1])
