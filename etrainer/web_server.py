"""What a web server's master (granian: etrainer/serve.py, gunicorn: gunicorn.conf.py) tells the
workers it starts, and how a worker reads its siblings."""

import os

import psutil

SERVER_VARIABLE = "ETRAINER_WEB_SERVER"
MASTER_PID_VARIABLE = "ETRAINER_WEB_SERVER_MASTER_PID"


def mark_master(server_name: str) -> None:
    """Workers inherit these: the cluster view finds its master without guessing by name."""
    os.environ[SERVER_VARIABLE] = server_name
    os.environ[MASTER_PID_VARIABLE] = str(os.getpid())


def server_name() -> str | None:
    return os.environ.get(SERVER_VARIABLE)


def server_master(process: psutil.Process) -> psutil.Process | None:
    """The master that named itself and that ``process`` runs under, or None under another one."""
    named = os.environ.get(MASTER_PID_VARIABLE, "")
    try:
        parent = process.parent()
    except psutil.Error:
        return None
    if parent is None or not named.isdigit() or parent.pid != int(named):
        return None
    return parent


def is_running(process: psutil.Process) -> bool:
    """A killed worker stays a zombie child until its master joins it: that counts as gone."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
