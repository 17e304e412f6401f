"""Browser-enforced hardening on every response (issue 9, reproduction 10): a strict
Content-Security-Policy, Referrer-Policy, Permissions-Policy and nosniff; no template relies
on inline script, inline event handlers or inline styles the policy would block."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from orders.dashboard.charts import hbar_chart
from tests.factories import MerchantUserFactory, UserFactory

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture
def pages(client):
    member = MerchantUserFactory()
    merchant = client.__class__()
    merchant.force_login(member.user)
    staff = client.__class__()
    staff.force_login(UserFactory(is_staff=True))
    return [
        (client, "/"), (client, reverse("login")), (client, reverse("buyer:complaint_start")),
        (client, "/api/docs/"), (client, "/api/v1/carrier/claims"),
        (merchant, reverse("dashboard:overview")), (merchant, reverse("dashboard:orders")),
        (staff, reverse("staff:claim_list")),
    ]


def test_every_page_carries_a_strict_policy_and_the_other_headers(pages):
    for client, url in pages:
        response = client.get(url)
        assert response.status_code in {200, 401}, url
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"][0] == "'self'" and "'unsafe-inline'" not in policy["script-src"], url
        assert "'unsafe-eval'" not in policy["script-src"] and "'unsafe-inline'" not in policy["style-src"], url
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"], url
        assert response["Referrer-Policy"] == "same-origin", url
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff", url


def test_an_inline_style_on_the_docs_page_carries_the_nonce_of_its_policy(client):
    response = client.get("/api/docs/")
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in _directives(response["Content-Security-Policy"])["style-src"]
    assert "<script>" not in response.content.decode()  # the init script is its own URL
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.rglob("*.html") if p.name != "evidence_pdf.html"))
def test_no_template_uses_inline_handlers_styles_or_scripts(template):
    """evidence_pdf.html is read by xhtml2pdf, never by a browser."""
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler: move it to static/js/site.js"
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute: use a class in site.css"
    assert not re.search(r"javascript:", text, re.IGNORECASE)
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
        assert "src=" in tag or "nonce=" in tag, tag


def test_charts_draw_no_inline_style():
    svg = str(hbar_chart(rows=[("中通快递", 0.93)], title="送货上门率"))
    assert "<svg" in svg and "style=" not in svg


def test_htmx_configuration_is_one_valid_object_on_every_page(client):
    """htmx reads only the first htmx-config meta: a page adds its settings to the base one."""
    import json

    member = MerchantUserFactory()
    client.force_login(member.user)
    for url in (reverse("dashboard:overview"), reverse("dashboard:orders")):
        html = client.get(url).content.decode()
        metas = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
        assert len(metas) == 1, url
        config = json.loads(metas[0])
        assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert "responseHandling" in config  # the order list swaps its 4xx form errors in
