"""ASGI entry: HTTP goes to Django, WebSockets to the channels consumers (notifications).

The REST API itself is served by gunicorn (etrainer/wsgi.py); this application runs under uvicorn
as its own service (docker-compose `asgi`, `make run-asgi`) for `/ws/notifications`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "etrainer.settings.production")

# Set up Django (the app registry) before importing consumers, which import models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from etrainer.websocket_origin import ExplainedOriginValidator  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ExplainedOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
