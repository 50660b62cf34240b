"""Test and benchmark machinery, outside the runtime packages (the Docker image leaves it out).

``testsupport.processes`` starts the real servers (redis, PostgreSQL, MongoDB, gunicorn, Celery,
Prometheus) on free loopback ports and stops them by pid; ``testsupport.plugin`` is the pytest
plugin that starts the run's own redis (and MongoDB) before Django reads its settings;
``testsupport.jobs_smoke`` is ``make jobs-smoke``.
"""
