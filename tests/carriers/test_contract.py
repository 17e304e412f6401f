"""The contract an integrator relies on: body limits, strict money, rate-limit headers, every code
declared, and real answers valid against the published schema under a strict validator."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from carriers.api.contract import ERROR_CODES, REJECTION_CODES
from carriers.api.exceptions import _DRF_CODES
from carriers.api.idempotency import IdempotencyKeyReused, IdempotencyRequestInFlight
from carriers.api.parsers import PayloadTooLarge
from claims import errors as claim_errors
from tests.factories import WaybillFactory

from .conftest import event

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema(client) -> dict:
    return json.loads(client.get("/api/schema/?format=json").content)


def schema_problems(schema: dict, path: str, method: str, status: int, headers, body) -> list[str]:
    """What in this answer (status, headers, JSON body) the schema does not allow for the operation."""
    operation = schema["paths"][path][method]
    declared = operation["responses"].get(str(status))
    if declared is None:
        return [f"{method} {path} answered an undeclared {status}"]
    problems = [
        f"{name} not declared on {status}"
        for name in ("RateLimit-Policy", "RateLimit", "Retry-After", "Idempotent-Replayed", "X-Request-ID")
        if name in headers and name not in declared.get("headers", {})
    ]
    body_schema = declared["content"]["application/json"]["schema"]
    validator = OAS30Validator({**body_schema, "components": schema["components"]})
    return problems + [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


def assert_valid(schema: dict, path: str, method: str, response) -> None:
    """The answer's status, headers and body are what the schema says for this operation."""
    problems = schema_problems(schema, path, method, response.status_code, response.headers, response.json())
    assert problems == [], problems[:5]


def test_the_schema_is_a_valid_openapi_document_with_a_server(schema):
    validate_spec(schema)
    assert schema["servers"] and schema["servers"][0]["url"]
    assert "Luhn" in schema["info"]["description"]


def test_a_full_batch_over_djangos_default_cap_is_answered_not_a_500(client_a, carrier_a, settings):
    # given 1000 events, every field near its documented maximum: ≈5 MiB once CJK text is escaped
    waybill = WaybillFactory(carrier=carrier_a)
    events = [
        event(waybill, event_id=f"big-{i:04d}-" + "x" * 50, location="杭" * 200, note="备" * 500,
              proof_url="https://proof.example/" + "p" * 470)
        for i in range(1000)
    ]
    body = json.dumps({"events": events})
    assert len(body) > 2.5 * 1024 * 1024
    response = client_a.generic("POST", "/api/v1/carrier/events", body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["accepted"] == 1000


def test_a_body_over_the_limit_is_a_413(client_a, settings):
    settings.YINZUNDA_API_BODY_LIMITS = {**settings.YINZUNDA_API_BODY_LIMITS, "events": 1024}
    response = client_a.post_json("/api/v1/carrier/events", {"events": [{"note": "x" * 2000}]})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_confirm_payment_amount_as_a_json_number_is_refused(client_a, settlement_a):
    response = client_a.post_json(
        f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment", {"payment_reference": "P1", "amount": 5.0}
    )
    assert response.status_code == 400 and "amount" in response.json()["error"]["fields"]


def test_every_answer_carries_a_request_id_declared_in_the_schema(client_a, client, schema):
    for response in (client_a.get("/api/v1/carrier/claims"), client.get("/api/v1/carrier/claims"),
                     client_a.get("/api/v1/carrier/claims", HTTP_X_REQUEST_ID="trace-42")):
        assert response["X-Request-ID"]
    assert client_a.get("/api/v1/carrier/claims", HTTP_X_REQUEST_ID="trace-42")["X-Request-ID"] == "trace-42"
    for item in schema["paths"].values():
        for operation in item.values():
            assert all("X-Request-ID" in r["headers"] for r in operation["responses"].values())


def test_every_answer_carries_the_rate_limit_and_429_says_when(client_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"carrier": "2/min"}}
    first = client_a.get("/api/v1/carrier/claims")
    assert first["RateLimit-Policy"] == '"carrier";q=2;w=60'
    assert re.fullmatch(r'"carrier";r=1;t=\d+', first["RateLimit"])
    client_a.get("/api/v1/carrier/claims")
    refused = client_a.get("/api/v1/carrier/claims")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert re.fullmatch(r'"carrier";r=0;t=\d+', refused["RateLimit"])


def test_real_answers_validate_strictly(client_a, client_b, schema, claim_a, waybill_a, settlement_a):
    # a claim without complaint (complaint: null), lists, a waybill, errors, an idempotent replay
    claim = f"/api/v1/carrier/claims/{claim_a.pk}"
    assert_valid(schema, "/api/v1/carrier/claims/{claim_id}", "get", client_a.get(claim))
    assert_valid(schema, "/api/v1/carrier/claims", "get", client_a.get("/api/v1/carrier/claims"))
    assert_valid(schema, "/api/v1/carrier/claims", "get", client_a.get("/api/v1/carrier/claims?status=lost"))
    assert_valid(schema, "/api/v1/carrier/settlements", "get", client_a.get("/api/v1/carrier/settlements"))
    assert_valid(schema, "/api/v1/carrier/waybills", "get", client_a.get("/api/v1/carrier/waybills"))
    assert_valid(schema, "/api/v1/carrier/waybills/{number}", "get",
                 client_a.get(f"/api/v1/carrier/waybills/{waybill_a.number}"))
    assert_valid(schema, "/api/v1/carrier/claims/{claim_id}", "get", client_b.get(claim))
    pushed = client_a.push([event(waybill_a), {"event_id": "bad"}])
    assert_valid(schema, "/api/v1/carrier/events", "post", pushed)
    accept = f"/api/v1/carrier/claims/{claim_a.pk}/accept"
    first = client_a.post_json(accept, {}, HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client_a.post_json(accept, {}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay["Idempotent-Replayed"] == "true"
    for response in (first, replay, client_a.post_json(accept, {})):
        assert_valid(schema, "/api/v1/carrier/claims/{claim_id}/accept", "post", response)


def test_every_error_code_the_api_can_answer_is_declared():
    api_facing = {
        *_DRF_CODES.values(), "server_error", PayloadTooLarge.default_code, IdempotencyKeyReused.code,
        IdempotencyRequestInFlight.code, claim_errors.ClaimTransitionNotAllowed.code,
        claim_errors.SettlementAlreadyPaid.code, claim_errors.PaymentAmountMismatch.code, "not_found",
    }
    assert api_facing <= set(ERROR_CODES)


def test_every_rejection_code_is_declared():
    """Codes raised by event validation (literals in its source) and by the parsers it calls."""
    sources = ["waybills/services/tracking_validation.py", "waybills/services/tracking.py",
               "yinzunda/timestamps.py", "waybills/numbers.py"]
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse((ROOT / source).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("EventInvalid", "EventRejection", "TimestampInvalid"):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant) and re.fullmatch(r"[a-z_]+", str(a.value))}
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
    found -= {"occurred_at", "waybill_number", "delivery_method", "proof_type", "proof_url", "event_id", "code", "consent_evidence"}
    assert found and found <= set(REJECTION_CODES), found - set(REJECTION_CODES)
