"""The installed features: the one list the shell, the CLI, the schema and the tests read.

Adding a feature package means adding its manifest here; nothing else in portal/ changes.
"""

from __future__ import annotations

from catalog.manifest import MANIFEST as catalog
from guardrails.manifest import MANIFEST as guardrails
from metering.manifest import MANIFEST as metering
from portal.core.features import FeatureManifest, check_features
from portal.manifest import MANIFEST as portal
from portfolio.manifest import MANIFEST as portfolio
from prompt_library.manifest import MANIFEST as prompt_library
from sandbox.manifest import MANIFEST as sandbox
from templates.manifest import MANIFEST as templates
from training.manifest import MANIFEST as training

INSTALLED_FEATURES: tuple[FeatureManifest, ...] = (portal, catalog, guardrails, metering, sandbox, prompt_library,
                                                     templates, training, portfolio)
check_features(INSTALLED_FEATURES)
