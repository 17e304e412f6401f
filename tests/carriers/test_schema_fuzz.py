"""Schemathesis over /api/schema/: generated requests never get a 5xx nor an undocumented status."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from carriers.services import carrier_token_create


@pytest.fixture
def api_schema(db):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from yinzunda.wsgi import application

    # As Django's test client does: the WSGI app must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def fuzz_token(carrier_a, claim_a, waybill_a, settings):
    # claims and a settlement exist, so some generated ids (1, 2, ...) may hit real objects
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"carrier": "100000/min"}}
    return carrier_token_create(carrier=carrier_a)[1]


@schema.parametrize()
@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
def test_no_server_error_and_no_undocumented_status(case, fuzz_token):
    response = case.call_wsgi(headers={"Authorization": f"Bearer {fuzz_token}"})
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance))
