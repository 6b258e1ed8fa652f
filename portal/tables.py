"""Every module that defines tables, gathered from the installed features: `metadata` then holds the whole schema.

Alembic's env.py and the tests' create_all use it; a feature with new tables lists its models in its manifest.
"""

from sqlmodel import SQLModel

from portal.core.features import is_unmanaged, run_schema_hooks, table_modules
from portal.installed import INSTALLED_FEATURES

TABLE_MODULES = table_modules(INSTALLED_FEATURES)
metadata = SQLModel.metadata
run_schema_hooks(INSTALLED_FEATURES)


def include_object(_object, name, type_, _reflected, _compare_to) -> bool:
    """What autogenerate compares: everything but what a feature manages outside SQLAlchemy (search structures)."""
    return not is_unmanaged(INSTALLED_FEATURES, type_, name)
