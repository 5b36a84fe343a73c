#!/usr/bin/env python
"""Django's command-line utility for the django app, e.g. `python apps/django_app/manage.py setup_db`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The repository root is the import root (`apps.django_app...`), wherever this is started from.
REPO_ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """Run the management command named on the command line."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps.django_app.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
