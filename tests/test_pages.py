"""The public pages: Chinese first with a working language switch, and the admin's door."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_is_in_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "音尊达 · 送货上门保障" in html
    assert "商家登录" in html


def test_language_switch_sets_english_and_the_next_page_follows_it(client):
    # when the visitor picks English in the header's switch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    # then the choice is remembered and the home page is served in English
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/")
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in page.content.decode()
    # with the compiled English catalogue (make test compiles it), not just the lang attribute
    assert "Yinzunda · Door Delivery Guarantee" in page.content.decode()
    assert "音尊达 · 送货上门保障" not in page.content.decode()
    # and back to Chinese
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_language_switch_refuses_an_unknown_language(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_the_language_switch_is_on_every_page(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'value="en"' in html and 'value="zh-hans"' in html


def test_admin_login_page_loads_and_admin_asks_for_it(client):
    login = client.get("/admin/login/")
    assert login.status_code == 200
    assert 'name="username"' in login.content.decode()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_merchant_login_page_loads(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_operator_login_lands_on_disputed_claims(client, django_user_model):
    django_user_model.objects.create_user("ops", password="pass-word-123", is_staff=True)
    response = client.post(reverse("login"), {"username": "ops", "password": "pass-word-123"})
    assert response.status_code == 302
    assert response.url == reverse("staff:claim_list") + "?status=disputed"


def test_punctuation_between_values_follows_the_language():
    from django.template import Context, Template
    from django.utils import translation

    template = Template('{% load yinzunda %}A{% punct "（" %}B{% punct "）" %}{% punct "，" %}C{% punct "；" %}D{% colon %}E')
    with translation.override("zh-hans"):
        assert template.render(Context()) == "A（B），C；D：E"
    with translation.override("en"):
        assert template.render(Context()) == "A (B), C; D: E"
