"""Settings by area, read from the environment; ``etrainer.settings.base`` imports them by name.

A component imports only ``etrainer.env``, the pure helpers beside the settings and other
components: no app, and nothing happens at import beyond reading the environment.
"""
