import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# --- cdk-django: Channels routing ---
from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()  # first: it sets Django up before consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from web.consumers import EchoConsumer  # noqa: E402  (your consumers)

application = ProtocolTypeRouter({
    "http": django_asgi,
    "websocket": URLRouter([path("ws/echo/", EchoConsumer.as_asgi())]),
})
# --- end cdk-django: Channels routing ---
