"""Every module that defines tables, imported in one place: `metadata` then holds the whole schema.

Alembic's env.py and the tests' create_all use it; a feature with new tables adds its models module here.
"""

from sqlmodel import SQLModel

from catalog import models as catalog_models
from metering import models as metering_models
from portal.core import audit, users
from prompt_library import keyword_index
from prompt_library import models as prompt_models
from sandbox import models as sandbox_models
from sandbox.documents import models as document_models
from templates import models as template_models
from training import models as training_models

TABLE_MODULES = (audit, users, catalog_models, metering_models, sandbox_models, document_models, prompt_models, template_models,
                 training_models)
metadata = SQLModel.metadata
keyword_index.attach_to(prompt_models.Prompt.__table__)


def include_object(_object, name, type_, _reflected, _compare_to) -> bool:
    """What autogenerate compares: everything but search structures SQLAlchemy cannot describe."""
    return not (type_ in ("table", "index") and keyword_index.is_keyword_index_object(name))
