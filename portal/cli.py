"""`coe-portal`: the command line — every installed feature's commands (the portal's own are in
portal/commands.py), read from their manifests."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from portal.commands import STREAMLIT_OPTIONS
from portal.core.errors import PortalError
from portal.core.features import FeatureManifest, register_commands
from portal.core.logs import configure_logging
from portal.core.settings import load_settings
from portal.installed import INSTALLED_FEATURES


def main(argv: Sequence[str] | None = None, features: Sequence[FeatureManifest] = INSTALLED_FEATURES) -> int:
    """Entry point of the `coe-portal` console script: the installed features' commands (or the given ones')."""
    parser = _parser(features)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(level=settings.log_level, log_file=settings.log_file,
                          secrets=settings.secret_values)
        return args.handler(args, settings)
    except PortalError as exc:
        print(f"coe-portal: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser(features: Sequence[FeatureManifest]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coe-portal", description=__doc__)
    parser.set_defaults(features=tuple(features))  # `coe-portal seed` runs the seed steps these declare
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_commands(features, commands)
    return parser


def apply_streamlit_options(**overrides: str) -> None:
    """Apply STREAMLIT_OPTIONS in this process as `streamlit run` flags would (AppTests, benchmarks)."""
    from streamlit import config

    for name, value in {**STREAMLIT_OPTIONS, **overrides}.items():
        typed = {"true": True, "false": False}.get(value, value)
        config.set_option(name, typed, where_defined="command-line argument")


if __name__ == "__main__":
    sys.exit(main())
