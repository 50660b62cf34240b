"""MongoDB settings without a server: used to generate and check the ``mongo_migrations`` sets.

`makemigrations` under the real MongoDB engine needs a live server (its history check), so the
Mongo migration set is generated with the same apps and auto field but the dummy engine.
"""

import os

os.environ["DATABASE_URL"] = "mongodb://127.0.0.1:27017/etrainer"

from etrainer.settings.local import *  # noqa: F403

if not IS_MONGODB:  # noqa: F405
    raise RuntimeError("mongo_offline settings need a mongodb:// DATABASE_URL")
DATABASES["default"]["ENGINE"] = "django.db.backends.dummy"  # noqa: F405
