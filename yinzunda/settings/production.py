"""Production settings: refuse to start without real secrets or with DEBUG on."""
import os
import re

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEFAULT_SECRET_KEY, LOGGING, SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")
if not SECRET_KEY or SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")
for required in ("DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"Set {required} in production.")

# Trust a header saying "this came over https" only when a proxy in front sets it (and strips
# a client's own): YINZUNDA_TRUSTED_PROXY_SSL_HEADER=X-Forwarded-Proto. Unset, no header is trusted.
_proxy_ssl_header = os.environ.get("YINZUNDA_TRUSTED_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_ssl_header):
        raise ImproperlyConfigured("YINZUNDA_TRUSTED_PROXY_SSL_HEADER must be a header name, e.g. X-Forwarded-Proto.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CELERY_TASK_ALWAYS_EAGER = False
LOGGING["handlers"]["console"]["formatter"] = os.environ.get("LOG_FORMAT", "json")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "yinzunda.private_files.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
