"""One error shape everywhere (DRF's own errors included), unknown paths, per-token throttling."""
from __future__ import annotations

import pytest

from carriers.services import carrier_token_create

from .conftest import CarrierClient, event

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_unknown_api_path_is_a_json_404(client_a):
    error = _assert_error_shape(client_a.get("/api/v1/carrier/nothing-here"), 404)
    assert error["code"] == "not_found"


def test_docs_without_trailing_slash_redirect(client):
    assert client.get("/api/docs")["Location"] == "/api/docs/"


def test_wrong_method_is_in_the_error_shape(client_a):
    error = _assert_error_shape(client_a.get("/api/v1/carrier/events"), 405)
    assert error["code"] == "method_not_allowed"


def test_non_json_body_is_415_in_the_error_shape(client_a):
    response = client_a.generic("POST", "/api/v1/carrier/events", "events=1", content_type="application/x-www-form-urlencoded")
    assert _assert_error_shape(response, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("body", ['{"events": [', "[1,2", "NaN", '{"events": [{"a": Infinity}]}', "\x00"])
def test_malformed_json_everywhere_is_400(client_a, claim_a, body):
    for path in ("/api/v1/carrier/events", f"/api/v1/carrier/claims/{claim_a.pk}/dispute"):
        response = client_a.generic("POST", path, body, content_type="application/json")
        error = _assert_error_shape(response, 400)
        assert error["code"] == "malformed_request" and error["message"].startswith("请求体不是合法的 JSON")


def test_json_nested_too_deep_is_400_not_a_crash(client_a, claim_a):
    body = "[" * 20_000 + "]" * 20_000  # 40 KB: under the size cap, far past the recursion limit
    for path in ("/api/v1/carrier/events", f"/api/v1/carrier/claims/{claim_a.pk}/dispute"):
        response = client_a.generic("POST", path, body, content_type="application/json")
        assert _assert_error_shape(response, 400)["code"] == "malformed_request"


def test_oversized_body_is_413_before_it_is_read(client_a, claim_a):
    huge = '{"reason": "' + "x" * (70 * 1024) + '", "evidence": [{"type": "photo"}]}'
    response = client_a.generic("POST", f"/api/v1/carrier/claims/{claim_a.pk}/dispute", huge, content_type="application/json")
    assert _assert_error_shape(response, 413)["code"] == "payload_too_large"
    claim_a.refresh_from_db()
    assert claim_a.status == "open"
    events = '{"events": [' + ",".join(['{"note": "' + "n" * 8000 + '"}'] * 1100) + "]}"  # > 8 MiB
    response = client_a.generic("POST", "/api/v1/carrier/events", events, content_type="application/json")
    assert _assert_error_shape(response, 413)["code"] == "payload_too_large"


def test_too_many_requests_per_token_is_429_with_retry_after(settings, carrier_a, waybill_a):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"carrier": "3/min"}}
    client = CarrierClient(carrier_a, carrier_token_create(carrier=carrier_a)[1])
    other = CarrierClient(carrier_a, carrier_token_create(carrier=carrier_a)[1])
    for _ in range(3):
        assert client.get("/api/v1/carrier/claims").status_code == 200

    response = client.push([event(waybill_a)])

    error = _assert_error_shape(response, 429)
    assert error["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1
    assert other.get("/api/v1/carrier/claims").status_code == 200  # the limit is per token


def test_schema_and_docs_are_public(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/carrier/events" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # served by us: no CDN needed


def test_schema_documents_every_status_the_api_answers(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    ops = {(path, method): op for path, item in schema["paths"].items() for method, op in item.items()}
    assert len(ops) >= 10 and ("/api/v1/carrier/webhook-events", "get") in ops
    # Creating sandbox waybills answers 201 and changes no claim or settlement: no Idempotency-Key.
    sandbox = ops.pop(("/api/v1/carrier/sandbox/waybills", "post"))
    assert {"201", "400", "401", "404", "413", "415", "429"} <= set(sandbox["responses"])
    # The signed photo URL is opened without a token (a browser or downloader follows it).
    photo = ops.pop(("/api/v1/carrier/photos/{token}", "get"))
    assert set(photo["responses"]) == {"200", "404"}
    assert set(photo["responses"]["200"]["content"]) == {"image/jpeg", "image/png"}
    for (path, method), op in ops.items():
        codes = set(op["responses"])
        assert {"200", "401", "429"} <= codes, path
        if "{" in path:
            assert "404" in codes, path
        if method == "post":
            assert {"400", "413", "415"} <= codes, path
        if method == "post" and path != "/api/v1/carrier/events":
            assert {"400", "409", "422"} <= codes, path
            assert any(p["name"] == "Idempotency-Key" for p in op["parameters"]), path
    assert schema["components"]["securitySchemes"]["carrierToken"]["scheme"] == "bearer"
