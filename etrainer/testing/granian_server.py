"""The project's granian launcher (``python -m etrainer.serve``) on a free loopback port."""

import os
import subprocess
import sys

from etrainer.testing.gunicorn_server import ROOT, GunicornServer


class GranianServer(GunicornServer):
    """Same contract as GunicornServer: ``env`` on top of the test settings, output in
    ``log_path``, stopped by pid. The access log is on only when ``GRANIAN_ACCESS_LOG`` says so."""

    def start(self) -> "GranianServer":
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
        }
        env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
            "WEB_SERVER": "granian",
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(self.port),
            "GRANIAN_WORKERS": str(self.workers),
            "GRANIAN_ACCESS_LOG": "0",
            **self.env,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "etrainer.serve"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_serving()
        return self
