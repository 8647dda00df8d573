"""WSGI entry point (`limbguard serve` runs it under gunicorn, one import per worker)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from limbguard.config import sqlite_wal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
application = get_wsgi_application()
# On SQLite, the log is checkpointed by a thread of this process, not inside requests.
sqlite_wal.start_beside_requests(settings.DATABASES["default"])
