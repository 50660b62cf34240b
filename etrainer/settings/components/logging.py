"""Logging: readable lines by default, JSON lines with ``DJANGO_LOG_FORMAT=json`` (production)."""

from etrainer.env import env
from etrainer.logging import logging_config

LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="text")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
