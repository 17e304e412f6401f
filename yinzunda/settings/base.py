"""Base settings, driven by environment variables with safe embedded defaults for a first run.

With nothing set the portal runs on a SQLite file with Celery tasks run eagerly, so a
newcomer needs no services. With DATABASE_URL and REDIS_URL it runs on PostgreSQL and
Redis with a real worker and beat.
"""
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

from .contact import YINZUNDA_SUPPORT_CONTACT, YINZUNDA_SUPPORT_HOURS, YINZUNDA_SUPPORT_PHONE  # noqa: F401  (per language)
from .tracking_partitions import *  # noqa: F403  (events partitions, retention, dedup horizon)
from .tracking_partitions import EVENTS_PARTITIONS_BEAT, POSTGRES_ENGINES

BASE_DIR = Path(__file__).resolve().parent.parent.parent

def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEFAULT_SECRET_KEY = "dev-insecure-yinzunda-secret-key-change-me-0123456789"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "simple_history",
    "yinzunda",
    "carriers",
    "orders",
    "waybills",
    "claims",
]

MIDDLEWARE = [
    "yinzunda.requestid.RequestIdMiddleware",  # first: every answer carries X-Request-ID
    "yinzunda.degraded.DatabaseUnavailableMiddleware",  # the database away: 503 + Retry-After, not 500
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "yinzunda.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yinzunda.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yinzunda.middleware.DomainErrorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # config history records who changed it
    # Axes last: it locks out repeated login failures (merchant dashboard).
    "axes.middleware.AxesMiddleware",
]

# Browser-enforced limits on every page (issue 9): scripts and styles only from this site (a
# nonce for any inline one; no inline handlers, no eval), no plugins, no framing, no <base>
# rewriting, forms post only here. Behaviour lives in static/js/site.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_REFERRER_POLICY = "same-origin"  # no path or query of ours (order numbers, filters) leaves the site
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True

ROOT_URLCONF = "yinzunda.urls"
WSGI_APPLICATION = "yinzunda.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yinzunda.context_processors.portal",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Health-checked persistent connections: after a database restart the next request reconnects.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DATABASES["default"]["ENGINE"] = POSTGRES_ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
INSTALLED_APPS += ["psqlextra"] if DATABASES["default"]["ENGINE"] == "psqlextra.backend" else []  # pgpartition
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "home"

# Chinese first, with English; times shown in Asia/Shanghai, stored in UTC.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Complaint photos: outside any publicly served folder, read only through views that check
# who asks (the order's merchant, staff, the claim's carrier with a signed URL).
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))
YINZUNDA_PHOTO_URL_MAX_AGE = int(os.environ.get("YINZUNDA_PHOTO_URL_MAX_AGE", "900"))  # carriers' signed URLs, seconds
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "yinzunda.private_files.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    # Degrades: while Redis is away reads are misses and writes no-ops (yinzunda/cache.py); the
    # rate limits count in the database meanwhile (yinzunda/ratelimit.py).
    CACHES = {
        "default": {
            "BACKEND": "yinzunda.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database, never in Redis: a Redis outage logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The client address (buyer lookup limits): from this header only when the socket peer is one
# of YINZUNDA_TRUSTED_PROXIES (IPs or CIDRs), else the socket address.
YINZUNDA_CLIENT_IP_HEADER = os.environ.get("YINZUNDA_CLIENT_IP_HEADER", "X-Forwarded-For")
YINZUNDA_TRUSTED_PROXIES = env_list("YINZUNDA_TRUSTED_PROXIES", "")

# Celery: eager (in-process) when no broker is configured, so `make run` needs no services.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged only after it ran: a killed worker's task is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_DB_REUSE_MAX = 1000  # Celery would reconnect per task; Django's CONN_MAX_AGE rules instead (yinzunda/celery.py)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues by urgency: routing and claim evaluation never wait behind webhooks or e-mails.
# `make run` and docker-compose start one worker for "urgent" and one for "celery" (the rest).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "claims.tasks.complaint_route": {"queue": "urgent"}, "claims.tasks.promises_watch": {"queue": "urgent"},
    "claims.tasks.claim_auto_accept": {"queue": "urgent"},
    "claims.tasks.complaints_sweep_unrouted": {"queue": "urgent"},
    "claims.tasks.claims_auto_accept_overdue": {"queue": "urgent"},
    "yinzunda.tasks.outbox_sweep": {"queue": "urgent"},
}
# Transactional outbox (yinzunda.outbox): publish after commit, sweep what is left.
YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT = env_bool("YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT", True)
YINZUNDA_OUTBOX_REPUBLISH_SECONDS = 20  # published but not done this long: publish again
YINZUNDA_OUTBOX_LEASE_SECONDS = int(os.environ.get("YINZUNDA_OUTBOX_LEASE_SECONDS", "300"))  # a run outside a transaction (webhook, e-mail) owns its row this long
YINZUNDA_BROKER_RETRY_SECONDS = 5
# /readyz and /metrics: domain checks and gauges, loaded by name (the kernel imports no domain app).
YINZUNDA_READINESS_CHECKS = ["claims.selectors.ops.readiness_checks"]
YINZUNDA_METRICS_FIGURES = ["claims.selectors.ops.metric_figures"]
YINZUNDA_METRICS_TOKEN = os.environ.get("YINZUNDA_METRICS_TOKEN", "")  # empty: /metrics from loopback only  # after a failed publish, requests leave rows to the sweep this long
CELERY_BEAT_SCHEDULE = {
    "yinzunda-outbox-sweep": {
        "task": "yinzunda.tasks.outbox_sweep",
        "schedule": timedelta(seconds=10),
    },
    "yinzunda-outbox-purge": {
        "task": "yinzunda.tasks.outbox_purge",
        "schedule": timedelta(hours=1),
    },
    "claims-route-stale-complaints": {"task": "claims.tasks.complaints_sweep_unrouted", "schedule": timedelta(minutes=1)},
    "claims-auto-accept-overdue": {"task": "claims.tasks.claims_auto_accept_overdue", "schedule": timedelta(minutes=1)},
    "claims-rollups-compact": {"task": "claims.tasks.rollups_compact", "schedule": timedelta(minutes=5)},
    "claims-ledger-balance-check": {
        "task": "claims.tasks.ledger_balance_check",
        "schedule": timedelta(hours=1),
    },
    "claims-watch-promises": {"task": "claims.tasks.promises_sweep", "schedule": timedelta(minutes=5)},
    "claims-issue-daily-settlements": {
        "task": "claims.tasks.settlements_issue_daily",
        "schedule": crontab(hour=2, minute=0),
    },
    "claims-scorecard-refresh": {
        "task": "claims.tasks.scorecard_refresh",
        "schedule": timedelta(minutes=int(os.environ.get("YINZUNDA_SCORECARD_REFRESH_MINUTES", "10"))),
    },
    "carriers-retry-webhooks": {"task": "carriers.tasks.webhooks_sweep_pending", "schedule": timedelta(minutes=1)},
    **EVENTS_PARTITIONS_BEAT,
    "claims-inbox-daily-digest": {
        "task": "claims.tasks.notification_digests_send",
        "schedule": crontab(hour=8, minute=0),
    },
    "carriers-purge-webhook-events": {
        "task": "carriers.tasks.webhook_events_purge",
        "schedule": crontab(hour=3, minute=30),
    },
    "carriers-purge-idempotency-records": {
        "task": "carriers.tasks.idempotency_records_purge",
        "schedule": timedelta(hours=1),
    },
}

REST_FRAMEWORK = {
    # The only DRF API is the carrier API: Bearer tokens of carriers, never sessions.
    "DEFAULT_AUTHENTICATION_CLASSES": ["carriers.api.authentication.CarrierTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["carriers.api.authentication.IsCarrier"],
    "DEFAULT_THROTTLE_CLASSES": ["carriers.api.throttling.CarrierTokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["carriers.api.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"carrier": os.environ.get("CARRIER_THROTTLE_RATE", "600/min")},
    "EXCEPTION_HANDLER": "carriers.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yinzunda carrier API",
    "DESCRIPTION": (
        "音尊达 carrier partner API (v1): tracking events, platform waybills, claims and settlements.\n\n"
        "认证：`Authorization: Bearer <令牌>`，令牌由平台运营用 `python manage.py carrier_token <CODE>` 生成。"
        "每个令牌只能看到、操作本快递公司的面单、索赔和结算单，其他一律 404。\n\n"
        "错误统一为 `{\"error\": {\"code\", \"message\", \"fields\": {...}}}`；"
        "改变状态的请求支持 `Idempotency-Key` 头；每个令牌有请求频率上限，超出返回 429 与 `Retry-After`。\n\n"
        "回调（webhook）：`claim.opened`、`claim.auto_accepted`、`claim.resolved`、`settlement.issued`、"
        "`waybill.issued`、`waybill.service_added`、`waybill.service_removed`、`consent.recorded`，POST JSON "
        "`{\"event_id\", \"type\", \"sequence\", \"created_at\", \"data\"}` 到登记的 https 地址；"
        "`event_id` 在重试间不变（请按它去重），`sequence` 按快递公司严格递增，时间为 +08:00。"
        "签名头 `X-Yinzunda-Signature: t=<unix>,v1=<hex>`，其中 hex = HMAC-SHA256(密钥, \"<t>.\" + 原始请求体)"
        "（Stripe 的方案，`stripe.WebhookSignature.verify_header` 可验证）；同时带 Standard Webhooks 头 "
        "`webhook-id`、`webhook-timestamp`、`webhook-signature`（`standardwebhooks` 库可验证）。"
        "密钥轮换后 24 小时内新旧密钥同时签名。请用常数时间比较并拒绝 5 分钟以外的时间戳。"
        "非 2xx 应答按 30 秒起、逐次加倍（最长 6 小时，±20% 抖动）的间隔重试 3 天；"
        "漏收的事件可用 `GET /api/v1/carrier/webhook-events` 补收（保留 31 天）。"
    ),
    "VERSION": "1.2.1",  # docs/API_CHANGELOG.md
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVERS": [{"url": os.environ.get("YINZUNDA_API_SERVER_URL", "/"), "description": "this deployment"}], "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "carriers.api.contract.postprocess"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1/carrier",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": True},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": ["open", "accepted", "auto_accepted", "disputed", "upheld", "dismissed", "settled"],
        "SettlementStatusEnum": ["issued", "paid"],
        # Vocabularies as their values (the API shows values, never the Chinese labels); lists in carriers/api/contract.py.
        **{name: f"carriers.api.contract.{name}_VALUES" for name in ("WaybillStatusEnum", "EventCodeEnum", "ServiceCodeEnum", "ErrorCodeEnum", "RejectionCodeEnum", "ComplaintTypeEnum", "ClaimTriggerEnum", "TransitionActorEnum", "PromiseEnum", "BreachRuleEnum", "PromiseStateEnum", "ConsentKindEnum", "ConsentSourceEnum", "ConsentChannelEnum", "ConsentMethodEnum")},
    },
}

# Login lockout (django-axes): 5 failures lock the username+IP pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "音尊达 Yinzunda <noreply@yinzunda.example>")

# Product rules (DESIGN §3): the defaults a platform operator may override per deployment.
YINZUNDA_SERVICE_CODE = "SVC-WBHOMEDELIVERY"
YINZUNDA_COMPLAINT_WINDOW_DAYS = int(os.environ.get("YINZUNDA_COMPLAINT_WINDOW_DAYS", "7"))
YINZUNDA_AUTO_CLAIM_ON_TRACKING = env_bool("YINZUNDA_AUTO_CLAIM_ON_TRACKING", True)
YINZUNDA_DEFAULT_RESPONSE_HOURS = 48
# The carrier scorecard's rollup is recomputed this often (the page says when it last was).
YINZUNDA_SCORECARD_REFRESH_MINUTES = CELERY_BEAT_SCHEDULE["claims-scorecard-refresh"]["schedule"].total_seconds() // 60
# The console's alerts include the ledger balance check (it reads every ledger entry; cached 10 min).
YINZUNDA_CONSOLE_LEDGER_CHECK = env_bool("YINZUNDA_CONSOLE_LEDGER_CHECK", True)
YINZUNDA_ARBITRATION_TARGET_HOURS = int(os.environ.get("YINZUNDA_ARBITRATION_TARGET_HOURS", "48"))  # queue's ruling target
YINZUNDA_QUOTA_PERCENT = Decimal(os.environ.get("YINZUNDA_QUOTA_PERCENT", "3"))
YINZUNDA_QUOTA_MODE = os.environ.get("YINZUNDA_QUOTA_MODE", "warn")  # "warn" or "enforce"
YINZUNDA_IDEMPOTENCY_TTL = timedelta(hours=24)
# Merchant experience: the after-sales answer target, links in e-mails (the buyer-facing contact: .contact).
YINZUNDA_AFTERSALES_TARGET_HOURS = int(os.environ.get("YINZUNDA_AFTERSALES_TARGET_HOURS", "48"))
YINZUNDA_SITE_URL = os.environ.get("YINZUNDA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhooks (DESIGN §6): one hard deadline for connect + TLS + send + read of a delivery.
YINZUNDA_WEBHOOK_DEADLINE_SECONDS = float(os.environ.get("YINZUNDA_WEBHOOK_DEADLINE_SECONDS", "10"))
YINZUNDA_WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
YINZUNDA_WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("YINZUNDA_WEBHOOK_BACKOFF_SECONDS", "30"))  # first retry; doubles to 6 h, ±20 %
YINZUNDA_WEBHOOK_RETRY_WINDOW = timedelta(days=3)  # retries go on at least this long after the event
YINZUNDA_WEBHOOK_CONCURRENCY_PER_CARRIER = int(os.environ.get("YINZUNDA_WEBHOOK_CONCURRENCY_PER_CARRIER", "4"))
YINZUNDA_WEBHOOK_FAILING_AFTER = 5  # failures in a row that mark an endpoint failing and tell the operators
YINZUNDA_WEBHOOK_EVENT_RETENTION = timedelta(days=31)  # GET /api/v1/carrier/webhook-events keeps ≥ 30 days
YINZUNDA_WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)  # after a rotation the old secret signs beside the new
# Outbound safety (DESIGN §5.9): https to public addresses only. These two exist for the test
# suite's local receivers (settings/test.py); no deployment sets them.
YINZUNDA_WEBHOOK_ALLOW_HTTP = False
YINZUNDA_WEBHOOK_ALLOWED_NETWORKS: list[str] = []
YINZUNDA_WEBHOOK_CA_BUNDLE = os.environ.get("YINZUNDA_WEBHOOK_CA_BUNDLE") or None  # default: certifi's
ADMINS = [("Yinzunda operators", a.strip()) for a in os.environ.get("ADMINS", "").split(",") if a.strip()]
# Carrier API body limits (bytes; 413 above, unread; a full 1000-event batch is ≈5.1 MiB); Django's cap follows them.
YINZUNDA_API_BODY_LIMITS = {"default": 64 * 1024, "events": 8 * 1024 * 1024}
DATA_UPLOAD_MAX_MEMORY_SIZE = max(YINZUNDA_API_BODY_LIMITS.values())
# Scan integrity (DESIGN §3a): a scan may predate its waybill's issue by this much carrier clock
# skew, no more; a DELIVERED scan received this long after it happened is stored, flagged late.
YINZUNDA_SCAN_CLOCK_SKEW = timedelta(minutes=int(os.environ.get("YINZUNDA_SCAN_CLOCK_SKEW_MINUTES", "15")))
YINZUNDA_SCAN_LATE_AFTER = timedelta(hours=int(os.environ.get("YINZUNDA_SCAN_LATE_AFTER_HOURS", "24")))
# The carrier's answer clock on a complaint: 《快递暂行条例》 Art. 28 says 7 days ("calendar");
# "working" counts working days of the official holiday calendar (make-up days included).
YINZUNDA_ANSWER_CLOCK = os.environ.get("YINZUNDA_ANSWER_CLOCK", "calendar")  # "calendar" or "working"
YINZUNDA_ANSWER_DAYS = int(os.environ.get("YINZUNDA_ANSWER_DAYS", "7"))
# Where a buyer escalates when the carrier misses that clock: the postal administration's channel.
YINZUNDA_ESCALATION_CHANNEL = os.environ.get("YINZUNDA_ESCALATION_CHANNEL", "国家邮政局邮政业用户申诉")
YINZUNDA_ESCALATION_URL = os.environ.get("YINZUNDA_ESCALATION_URL", "https://sswz.spb.gov.cn/")

# Logs carry the request id (X-Request-ID); LOG_FORMAT=json (the production default) writes
# one JSON object per line.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "yinzunda.requestid.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "yinzunda.requestid.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every request line a second time via root.
        "django": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The access line per request (method, path, status, duration, request id).
        "yinzunda.request": {"level": os.environ.get("ACCESS_LOG_LEVEL", "INFO")},
        # WeasyPrint (evidence PDF) logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
    },
}
AXES_VERBOSE = False
