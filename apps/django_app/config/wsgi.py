"""The WSGI application (gunicorn): Django, with ServeStatic in front for the collected static files."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from servestatic import ServeStatic

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps.django_app.config.settings")

# ServeStatic wraps the application rather than joining MIDDLEWARE: its Django middleware is
# async-only (WhiteNoise's is sync-only), and either kind would make Django switch between
# threads and an event loop on every request under one of the two servers.
application = ServeStatic(get_wsgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)
