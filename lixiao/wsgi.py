"""WSGI entry point for gunicorn."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    # A setting a person must fix: one line, not a traceback per worker. Exit status 3 is
    # gunicorn's "worker failed to boot", which stops the server instead of respawning forever.
    print(f"Lixiao configuration error: {exc}", file=sys.stderr)
    raise SystemExit(3) from None
