"""The portal's own manifest: the shell's pages (sign-in, home, admin), its commands and its tables."""

from __future__ import annotations

from portal import commands
from portal.core import audit, seed, users
from portal.core.auth import Permission
from portal.core.features import Audience, FeatureManifest, PageSpec, SeedStep, Section
from portal.core.user_events import USER_EVENTS


MANIFEST = FeatureManifest(
    name="portal",
    sections=(Section("Portal", order=0), Section("Administration", order=1000)),
    pages=(
        PageSpec("sign_in.py", title="Sign in", icon=":material/login:", default=True, audience=Audience.SIGNED_OUT),
        PageSpec("home.py", title="Home", icon=":material/home:", section="Portal", default=True),
        PageSpec("admin.py", title="Admin", icon=":material/admin_panel_settings:", section="Administration",
                 permission=Permission.MANAGE_USERS),
    ),
    commands=(commands.register, commands.register_catalog),
    table_modules=(audit, users),
    audit_events=USER_EVENTS,
    seed_steps=(SeedStep("demo users", seed.seed_step),),
)
