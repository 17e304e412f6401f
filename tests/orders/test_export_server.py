"""A large export through the production server (gunicorn with yinzunda/gunicorn.py) finishes
even when it takes longer than the worker timeout, and says it is whole (issue 14, item 9)."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from orders.models import Order
from tests.factories import MerchantUserFactory
from tests.support.processes import database_url, free_port, port_open, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def test_an_export_slower_than_the_worker_timeout_streams_to_its_end(client):
    member = MerchantUserFactory()
    Order.objects.bulk_create([
        Order(merchant=member.merchant, order_number=f"EXP{n:08d}", recipient_name="张三", recipient_phone=f"138{n:08d}",
              recipient_address="浙江省杭州市西湖区文三路 100 号", amount=Decimal("99.00"))
        for n in range(20_000)
    ])
    client.force_login(member.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_TIMEOUT": "2", "WEB_CONCURRENCY": "1", "DEBUG": "false",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:yinzunda.gunicorn", "yinzunda.wsgi"],  # noqa: S603
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: port_open(port), 30, "gunicorn")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/dashboard/exports/orders.csv", headers={"Cookie": cookie})
        started, body = time.monotonic(), b""
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own server
            assert response.status == 200
            while chunk := response.read(32 * 1024):  # a slow client: the download outlasts the 2 s timeout
                body += chunk
                time.sleep(0.05)
        took = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
    *rows, end = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert took > 2, took  # longer than the worker timeout
    assert len(rows) == 20_001 and end[0] == "#END" and "20000" in end[1]
