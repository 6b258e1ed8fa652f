"""Every module that defines tables, imported in one place: `metadata` then holds the whole schema.

Alembic's env.py and the tests' create_all use it; a feature with new tables adds its models module here.
"""

from sqlmodel import SQLModel

from catalog import models as catalog_models
from portal.core import audit, users
from sandbox import models as sandbox_models
from sandbox.documents import models as document_models
from templates import models as template_models
from training import models as training_models

TABLE_MODULES = (audit, users, catalog_models, sandbox_models, document_models, template_models, training_models)
metadata = SQLModel.metadata
