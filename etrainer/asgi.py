"""ASGI entry: HTTP goes to Django, WebSockets to the routes ``WEBSOCKET_URLPATTERNS`` names.

The REST API itself is served by granian's WSGI interface (etrainer/serve.py, etrainer/wsgi.py);
this application runs under uvicorn as its own service (docker-compose `asgi`, `make run-asgi`) for
`/ws/notifications`. uvicorn rather than granian's ASGI interface, by `make bench-ws` (bench/
RESULTS.md): granian relayed a 10,000-socket fan-out 15-50 % faster in two runs, but held about
three times the memory with the sockets open (1.9 GiB against 0.6 GiB) and has no WebSocket
ping/timeout, on which the consumer relies to find dead peers. The routes are a dotted path in the
settings, so the project package imports no app.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "etrainer.settings.production")

# Set up Django (the app registry) before importing consumers, which import models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from etrainer.websocket_origin import ExplainedOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ExplainedOriginValidator(
            URLRouter(import_string(settings.WEBSOCKET_URLPATTERNS))
        ),
    }
)
