"""Test-wide environment, set before Django reads its settings."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only-0123456789")
os.environ.setdefault("EMAIL_URL", "locmem:")
