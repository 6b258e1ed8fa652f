"""The Jinja filters an untrusted template gets: the Ansible filters copier loads, minus those that read the host.

Copier builds its own sandboxed Jinja environment and always adds
`jinja2_ansible_filters.AnsibleCoreFiltersExtension`, whose `expandvars`, `fileglob`, `realpath` and co. read the
server's environment and files; copier offers no setting to leave it out. So the portal renders in a child process
(templates.sandbox) where that import name resolves to this module, whose extension registers only the filters on
an allow-list: pure functions of their arguments. A filter the Ansible package adds in a later version stays out
until someone reads it and lists it here.
"""

from __future__ import annotations

import sys
from types import ModuleType

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2_ansible_filters.core_filters import FilterModule

ANSIBLE_MODULE = "jinja2_ansible_filters"

# Pure functions of their arguments: text, data formats, hashes, regular expressions, path *strings*.
SAFE_FILTERS = frozenset({
    "b64decode", "b64encode", "to_uuid", "to_json", "to_nice_json", "from_json", "to_yaml", "to_nice_yaml",
    "from_yaml", "from_yaml_all", "basename", "dirname", "splitext", "win_basename", "win_dirname",
    "win_splitdrive", "bool", "to_datetime", "strftime", "quote", "md5", "sha1", "checksum", "hash",
    "regex_replace", "regex_escape", "regex_search", "regex_findall", "ternary", "ans_random", "shuffle",
    "mandatory", "comment", "type_debug", "combine", "extract", "flatten", "subelements", "random_mac",
    "ans_groupby",
})

# Why each of the others is left out (the README lists these).
REFUSED_FILTERS = {
    "expandvars": "reads the server's environment variables (API keys, database URLs)",
    "expanduser": "reads the server's home directory from its environment and user database",
    "fileglob": "lists files on the server",
    "realpath": "resolves paths against the server's file system, following its links",
    "relpath": "reveals the server's working directory",
}


def filter_hint(message: str) -> str:
    """Why a filter that reads the server is missing, when a Jinja error is about one."""
    refused = [name for name in REFUSED_FILTERS if f"'{name}'" in message]
    return f" (the portal leaves out '{refused[0]}': it {REFUSED_FILTERS[refused[0]]})" if refused else ""


def safe_filters() -> dict:
    """The Ansible filters on the allow-list, by name."""
    return {name: function for name, function in FilterModule().filters().items() if name in SAFE_FILTERS}


class AnsibleCoreFiltersExtension(Extension):
    """The allow-listed Ansible filters, registered as the Ansible package does (a clash becomes ans_<name>)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        for name, function in safe_filters().items():
            environment.filters[f"ans_{name}" if name in environment.filters else name] = function


def take_place_of_ansible_filters() -> None:
    """Make copier's `jinja2_ansible_filters.AnsibleCoreFiltersExtension` this module's; in the child process only."""
    stand_in = ModuleType(ANSIBLE_MODULE, "The portal's allow-listed Ansible filters.")
    stand_in.AnsibleCoreFiltersExtension = AnsibleCoreFiltersExtension
    sys.modules[ANSIBLE_MODULE] = stand_in
