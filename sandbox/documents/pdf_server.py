"""The PDF reading server: `python -m sandbox.documents.pdf_server SOCKET`, started by sandbox.documents.pdf_text.

A portal.core.child_jobs server with pypdf imported once, so each confined child that reads an upload starts warm.
"""

from __future__ import annotations

import sys

from portal.core.child_jobs import serve


def serve_pdf_reading(socket_path: str) -> None:
    """Import pypdf and the reading job for every child to inherit, then serve."""
    import pypdf  # noqa: F401 - imported for the children
    import pypdf.filters  # noqa: F401

    import sandbox.documents.pdf_text  # noqa: F401 - the job lives here

    serve(socket_path)


if __name__ == "__main__":
    serve_pdf_reading(sys.argv[1])
