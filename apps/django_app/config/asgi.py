"""The ASGI application (uvicorn): Django, with ServeStatic in front for the collected static files."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from servestatic import ServeStaticASGI

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps.django_app.config.settings")
# Read by the settings (loaded lazily, below): persistent database connections are thread-local,
# and under ASGI each request runs its sync code in a new thread, so DATABASES disables them.
os.environ["DJANGO_SERVER_INTERFACE"] = "asgi"

# See config/wsgi.py for why ServeStatic wraps the application instead of being a middleware.
application = ServeStaticASGI(get_asgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)
