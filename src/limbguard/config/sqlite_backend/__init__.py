"""Django's SQLite backend with a writers' file lock (see `base`)."""
