"""Benchmark settings: production settings (DEBUG off) plus a bench-only URLconf with a bare view.

bench/access.py sets the environment (secret, hosts, DATABASE_URL, REDIS_URL) before this is read.
"""

from etrainer.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
