"""The project's granian launcher (``python -m etrainer.serve``) on a free loopback port."""

import sys

from testsupport.processes.gunicorn import GunicornServer


class GranianServer(GunicornServer):
    """Same contract as GunicornServer: ``env`` on top of the test settings, output in
    ``log_path``, stopped by pid. The access log is on only when ``GRANIAN_ACCESS_LOG`` says so."""

    name = "granian"

    def environment(self) -> dict[str, str]:
        env = super().environment()
        workers = {"GRANIAN_WORKERS": str(self.worker_count)} if self.worker_count else {}
        return {
            **env,
            "WEB_SERVER": "granian",
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(self.port),
            "GRANIAN_ACCESS_LOG": "0",
            **workers,
            **self.env,
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "etrainer.serve"]
