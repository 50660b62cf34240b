"""The one place that starts servers for the tests, the jobs smoke and the benchmarks.

Each launcher binds 127.0.0.1 on a free port, waits until its server answers, and stops it by pid.
"""

from testsupport.processes.celery import CeleryProcesses, wait_for
from testsupport.processes.granian import GranianServer
from testsupport.processes.gunicorn import GunicornServer, http_request
from testsupport.processes.mongo import MongoServer
from testsupport.processes.ports import free_port
from testsupport.processes.postgres import PostgresCluster
from testsupport.processes.redis import RedisServer

__all__ = [
    "CeleryProcesses",
    "GranianServer",
    "GunicornServer",
    "MongoServer",
    "PostgresCluster",
    "RedisServer",
    "free_port",
    "http_request",
    "wait_for",
]
