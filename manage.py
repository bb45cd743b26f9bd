#!/usr/bin/env python
"""Lixiao's management commands (migrate, seed_demo, runserver …)."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A setting a person must fix: one line that says what, not a traceback.
        sys.exit(f"Lixiao configuration error: {exc}")
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        sys.exit(
            f"Lixiao cannot use the database ({first}). Check DATABASE_URL and that the server is running."
        )


if __name__ == "__main__":
    main()
