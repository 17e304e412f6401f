"""gunicorn settings for production: `gunicorn -c python:yinzunda.gunicorn yinzunda.wsgi`
(the Dockerfile and docker-compose use it).

Threaded workers (gthread): a long download — a million-row CSV export takes about two
minutes — runs in a request thread while the worker process keeps telling the arbiter it is
alive, so `timeout` no longer kills it mid-stream (sync workers were killed after 30 s and the
file was cut off). Every export also ends with a line saying it is whole.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a silent worker process is restarted; request threads do not count
graceful_timeout = 30
accesslog = "-"
