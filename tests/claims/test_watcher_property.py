"""The watcher against the rule table, over random scan sequences and consent records.

For any histories: a claim is open iff the rule table (waybills.promises, the readable Python
statement of DESIGN §3a) says the promise is broken and the tariff pays for it; exactly one per
(waybill, promise); and running the watcher again (on the parcels or as the sweep) changes nothing.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers.choices import RULE_COMPLAINT_TYPE, BreachRule
from claims.models import Claim
from claims.services.watcher import promises_watch
from orders.selectors.promises import waybill_promises
from tests.claims.promise_world import T0, consent, parcel, scan
from waybills.models import EventCode
from waybills.promises import breaches_by_promise

pytestmark = pytest.mark.django_db

METHODS = ["door", "locker", "station", "reception", "self_pickup"]
minutes = st.integers(min_value=0, max_value=150 * 60)
scans = st.lists(
    st.tuples(st.sampled_from(EventCode.values), minutes, st.sampled_from(METHODS)), max_size=8
)
consents = st.lists(
    st.tuples(
        st.sampled_from(["grant", "withdraw"]), st.sampled_from(["locker", "station", "reception"]),
        st.sampled_from(["buyer", "buyer", "carrier"]), minutes, st.one_of(st.none(), minutes),
    ),
    max_size=3,
)
histories = st.lists(st.tuples(scans, consents, st.booleans()), min_size=1, max_size=3)


class _Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories=histories, now_minutes=st.integers(min_value=0, max_value=200 * 60))
def test_a_claim_is_open_iff_the_rule_table_says_breach(histories, now_minutes):
    try:
        with transaction.atomic():
            _check(histories, T0 + timedelta(minutes=now_minutes))
            raise _Rollback
    except _Rollback:
        pass


def _build(histories) -> list:
    waybills = []
    for events, records, pays_transit in histories:
        payouts = dict.fromkeys(set(RULE_COMPLAINT_TYPE.values()), "5.00")
        if not pays_transit:
            payouts.pop(RULE_COMPLAINT_TYPE[BreachRule.TRANSIT])
        waybill = parcel(payouts=payouts)
        for code, offset, method in events:
            scan(waybill, code, T0 + timedelta(minutes=offset), method if code == "DELIVERED" else "")
        for kind, method, source, offset, until in records:
            if source == "carrier" and kind == "withdraw":
                kind = "grant"
            consent(
                waybill, at=T0 + timedelta(minutes=offset), method=method, kind=kind, source=source,
                valid_until=T0 + timedelta(minutes=until) if until is not None and kind == "grant" else None,
            )
        waybills.append(waybill)
    return waybills


def _expected(waybills, now) -> set:
    expected = set()
    for waybill in waybills:
        states = waybill_promises(waybill=waybill, now=now, covered_only=True)
        paid = [s.rule for s in states]
        for promise, state in breaches_by_promise(states, covered_rules=paid).items():
            expected.add((waybill.pk, promise, state.rule, state.source_event_id))
    return expected


def _found(ids) -> set:
    claims = list(Claim.objects.filter(waybill_id__in=ids))
    assert len(claims) == len({(c.waybill_id, c.promise) for c in claims})
    return {(c.waybill_id, c.promise, c.breach["rule"], c.source_event_id) for c in claims}


def _check(histories, now):
    waybills = _build(histories)
    ids = [w.pk for w in waybills]

    promises_watch(waybill_ids=ids, now=now)

    expected = _expected(waybills, now)
    claims = list(Claim.objects.filter(waybill_id__in=ids))
    assert _found(ids) == expected
    assert all(c.status == Claim.Status.OPEN and c.trigger == Claim.Trigger.TRACKING for c in claims)

    assert promises_watch(waybill_ids=ids, now=now) == []
    before = sorted(Claim.objects.filter(waybill_id__in=ids).values_list("pk", "promise", "breach"))
    promises_watch(waybill_ids=None, now=now)
    assert sorted(Claim.objects.filter(waybill_id__in=ids).values_list("pk", "promise", "breach")) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories=histories, later=st.integers(min_value=0, max_value=200 * 60), middle=st.floats(0, 1))
def test_the_sweep_alone_finds_every_clock_that_ran_out_after_ingest(histories, later, middle):
    """The scans are judged once on ingest (when the last of them arrived); from then on only the
    sweep looks, reading just the parcels whose next clock ran out (Waybill.promise_due_at). Swept
    at any times after, the claims are exactly what the rule table says at the last sweep."""
    try:
        with transaction.atomic():
            waybills = _build(histories)
            ids = [w.pk for w in waybills]
            ingested = max((T0 + timedelta(minutes=o) for events, _c, _p in histories for _e, o, _m in events), default=T0)
            now = ingested + timedelta(minutes=later)
            promises_watch(waybill_ids=ids, now=ingested)
            promises_watch(waybill_ids=None, now=ingested + (now - ingested) * middle)
            promises_watch(waybill_ids=None, now=now)
            assert _found(ids) == _expected(waybills, now)
            raise _Rollback
    except _Rollback:
        pass
