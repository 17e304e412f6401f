"""The events endpoint's orjson parser reads what the json-module parser reads, the same way."""
from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from carriers.api.parsers import FastJSONParser, SafeJSONParser
from waybills.models import TrackingEvent

from .conftest import event

# JSON values as carriers could send them: any text (lone surrogates included, which json.dumps
# escapes and orjson refuses), integers within 64 bits, finite floats, nesting.
_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _parse(parser, raw: bytes, encoding: str = "utf-8"):
    try:
        return ("ok", parser.parse(io.BytesIO(raw), "application/json", {"encoding": encoding}))
    except ParseError:
        return ("refused", None)


@settings(max_examples=300, deadline=None)
@given(value=_values, ascii_only=st.booleans())
def test_documents_parse_alike(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _parse(FastJSONParser(), raw) == _parse(SafeJSONParser(), raw)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64) | st.text(alphabet='{}[]",:0123456789.eE+-truefalsnNIiy\\u \x00', max_size=40).map(str.encode))
def test_malformed_input_is_refused_alike(raw):
    assume(not re.search(rb"[0-9]{19,}", raw))  # integers past 64 bits: below
    assert _parse(FastJSONParser(), raw) == _parse(SafeJSONParser(), raw)


@pytest.mark.parametrize("raw", [b"[NaN]", b'{"a": Infinity}', b"1e999", b'"\\ud800"', b"\xef\xbb\xbf{}", b"[" * 2000 + b"]" * 2000])
def test_what_orjson_refuses_is_read_by_the_json_module(raw):
    """orjson refuses these; the answer is still the json-module parser's (a value or a 400)."""
    assert _parse(FastJSONParser(), raw) == _parse(SafeJSONParser(), raw)


@pytest.mark.django_db
def test_a_batch_in_another_charset_is_read_in_that_charset(client_a, waybill_a):
    body = json.dumps({"events": [event(waybill_a, location="杭州市西湖区文三路营业部")]}, ensure_ascii=False).encode("gbk")
    response = client_a.generic("POST", "/api/v1/carrier/events", body, content_type="application/json; charset=gbk")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert TrackingEvent.objects.get().location == "杭州市西湖区文三路营业部"


@pytest.mark.django_db
def test_integers_past_64_bits_become_floats_and_an_event_refuses_them_either_way(client_a, waybill_a):
    """The one difference, why the parser is the events endpoint's only: no event field is a number."""
    raw = b"20000000000000000001"
    assert _parse(FastJSONParser(), raw) == ("ok", 2e19)
    body = json.dumps({"events": [event(waybill_a, event_id="x")]}).replace('"x"', "20000000000000000001")
    response = client_a.generic("POST", "/api/v1/carrier/events", body, content_type="application/json")
    assert [(r["field"], r["code"]) for r in response.json()["rejected"]] == [("event_id", "invalid_type")]
