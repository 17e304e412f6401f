"""Browser fixtures shared by the Playwright tests: Debian chromium, a desktop and a phone page."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.support import DESKTOP, PHONE, launch

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield browser
        browser.close()


def _page(chromium, **options):
    context = chromium.new_context(locale="zh-CN", accept_downloads=True, **options)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def desk_page(chromium):
    context, page = _page(chromium, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone_page(chromium):
    context, page = _page(chromium, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# The desktop-and-phone walkthroughs (buyer, merchant, labels): each test runs at both sizes.
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(params=sorted(SIZES))
def size(request):
    return request.param


@pytest.fixture
def page(browser, size):
    context = browser.new_context(locale="zh-CN", accept_downloads=True, viewport=SIZES[size])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
