"""Test settings: the real PostgreSQL and Redis every development and CI machine has.

Two checkouts on one machine never share a test database or Redis keys: both carry a short
hash of the checkout's path.
"""
import hashlib
import os
from pathlib import Path

CHECKOUT_ID = hashlib.sha1(str(Path(__file__).resolve().parent.parent.parent).encode(), usedforsecurity=False).hexdigest()[:8]

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yinzunda")
# Database 9 keeps test keys apart from anything else on the shared Redis.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR, CACHES, DATABASES, LOGGING  # noqa: E402

DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_yinzunda_{CHECKOUT_ID}"
CACHES["default"]["KEY_PREFIX"] = f"t{CHECKOUT_ID}"
if CACHES["default"]["BACKEND"] == "yinzunda.cache.ResilientRedisCache":
    CACHES["default"]["BACKEND"] = "tests.cache_backend.CheckoutRedisCache"  # clear() spares other checkouts

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / ".test-media"
PRIVATE_MEDIA_ROOT = BASE_DIR / ".test-media" / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "yinzunda.private_files.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "zh-hans"
LOGGING["loggers"]["yinzunda.request"]["level"] = "WARNING"  # no access line per test request
