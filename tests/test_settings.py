"""Settings come from the environment: an embedded default for newcomers, a strict production module.

Each case runs Django in a fresh subprocess with exactly the environment under test, so
nothing of the test run's own settings leaks in.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "k3J9-production-secret-for-tests-only-Qw7xZp2Lm8Rt5Vb1Nc4Hd6Fg0Js"
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "yinzunda.settings.production",
    "SECRET_KEY": GOOD_SECRET,
    "DATABASE_URL": "postgres://yinzunda:secret@db.internal:5432/yinzunda",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "yinzunda.example",
}
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'language': s.LANGUAGE_CODE, 'tz': s.TIME_ZONE, "
    "'cache': s.CACHES['default']['BACKEND']}))"
)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def settings_under(env: dict[str, str]) -> dict:
    result = run(["-c", SHOW], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_on_sqlite_with_eager_tasks():
    shown = settings_under({"DJANGO_SETTINGS_MODULE": "yinzunda.settings.base"})
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["eager"] is True
    assert shown["broker"] == "memory://"
    assert shown["debug"] is True
    assert (shown["language"], shown["tz"]) == ("zh-hans", "Asia/Shanghai")


def test_with_database_and_redis_urls_it_runs_on_postgresql_and_a_real_broker():
    shown = settings_under({
        "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
        "DATABASE_URL": "postgres://u:p@db:5432/yz",
        "REDIS_URL": "redis://redis:6379/0",
    })
    # django-postgres-extra's backend (the partitioned tracking events), PostgreSQL underneath
    assert shown["engine"] == "psqlextra.backend"
    assert shown["eager"] is False
    assert shown["broker"] == "redis://redis:6379/0"
    assert shown["cache"] == "yinzunda.cache.ResilientRedisCache"


def test_production_settings_load_with_a_proper_environment():
    shown = settings_under(PRODUCTION_ENV)
    assert shown["debug"] is False
    assert shown["eager"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-yinzunda-secret-key-change-me-0123456789"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-secret"}, "SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_real_settings(change, message):
    env = {**PRODUCTION_ENV, **{k: v for k, v in change.items() if v is not None}}
    for key in [k for k, v in change.items() if v is None]:
        env.pop(key)
    result = run(["-c", SHOW], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]


def test_check_deploy_gives_no_warnings_under_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_compose_file_runs_web_worker_and_beat_on_production_settings():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker-urgent", "worker", "beat"}
    for name in ("web", "worker-urgent", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "yinzunda.settings.production"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without one
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
    web = " ".join(services["web"]["command"])
    assert web.index("migrate") < web.index("compilemessages") < web.index("collectstatic") < web.index("gunicorn")
    assert services["worker"]["command"][:4] == ["celery", "-A", "yinzunda", "worker"]
    # queues by urgency: every queue a task is routed to has a worker serving it
    from django.conf import settings

    served = {services[name]["command"][services[name]["command"].index("-Q") + 1] for name in ("worker-urgent", "worker")}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed <= served
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]
    assert services["postgres"]["image"] == "postgres:16" and "healthcheck" in services["postgres"]
    # the database settings docs/SCALING.md asks for ship with the compose file
    postgres = services["postgres"]["command"]
    assert postgres[0] == "postgres" and all(flag == "-c" for flag in postgres[1::2])
    settings_given = dict(item.split("=", 1) for item in postgres[2::2])
    for name in ("shared_buffers", "max_wal_size", "autovacuum_naptime", "autovacuum_vacuum_cost_limit",
                 "shared_preload_libraries"):
        assert name in settings_given
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in dockerfile and "gettext" in dockerfile
    assert "\nUSER " in dockerfile  # the processes do not run as root


PROXY = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'proxy': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
    "'csp': 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE, 'private': str(s.PRIVATE_MEDIA_ROOT)}))"
)


def test_production_trusts_no_forwarded_proto_unless_told_a_proxy_sets_it():
    """A client's own X-Forwarded-Proto: https must not make plain HTTP count as secure."""
    shown = json.loads(run(["-c", PROXY], PRODUCTION_ENV).stdout.strip().splitlines()[-1])
    assert shown["proxy"] is None and shown["csp"] is True
    told = {**PRODUCTION_ENV, "YINZUNDA_TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    shown = json.loads(run(["-c", PROXY], told).stdout.strip().splitlines()[-1])
    assert shown["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    bad = run(["-c", PROXY], {**PRODUCTION_ENV, "YINZUNDA_TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"})
    assert bad.returncode != 0 and "YINZUNDA_TRUSTED_PROXY_SSL_HEADER" in bad.stderr


def test_check_deploy_is_clean_behind_a_declared_proxy_too():
    env = {**PRODUCTION_ENV, "YINZUNDA_TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto", "PRIVATE_MEDIA_ROOT": "/srv/yz-private"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(run(["-c", PROXY], env).stdout.strip().splitlines()[-1])
    assert shown["private"] == "/srv/yz-private"
