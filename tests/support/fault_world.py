"""Seed a database for a fault test run in another process: `python -m tests.support.fault_world N`.

Prints one JSON line: the carrier's raw API token and N waybill numbers. DATABASE_URL names
the (throwaway) database; its schema is already there.
"""
from __future__ import annotations

import json
import os
import sys


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinzunda.settings.base")
    django.setup()
    from carriers.services import carrier_token_create
    from tests.factories import CarrierFactory, WaybillFactory

    count = int(sys.argv[1])
    carrier = CarrierFactory(code="FLT", name="故障测试快递", waybill_prefix="FT")
    numbers = [WaybillFactory(carrier=carrier).number for _ in range(count)]
    _token, raw = carrier_token_create(carrier=carrier)
    print(json.dumps({"token": raw, "numbers": numbers}))


if __name__ == "__main__":
    main()
