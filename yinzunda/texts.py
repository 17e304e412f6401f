"""Texts kept as a message (the catalogue's msgid and its values), rendered in the reader's language.

A decision reason or a history note is stored as `{"t": msgid, "p": {name: value}}`; a value that
is itself worded (a clock, a delivery method, a duration) is a nested message. Pages, exports and
the carrier API render it with the active language; the rendered platform-language text is kept
beside it for search and for readers of the raw row.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

Message = dict[str, Any]


def message(template: str, **params: Any) -> Message:
    """A message of `template` (a msgid, marked with gettext_noop) and its values."""
    return {"t": str(template), "p": params} if params else {"t": str(template)}


def label_message(label: Any) -> Message:
    """The message of a lazy label (a choice's label): its msgid, not today's translation."""
    with translation.override(None):
        return {"t": str(label)}


def render(value: Message | str | None, fallback: str = "") -> str:
    """`value` in the active language; `fallback` when it is empty or does not fit its template."""
    if not value:
        return fallback
    if not isinstance(value, dict):
        return str(value)
    try:
        template = gettext(value["t"])
        params = {name: render(v) if isinstance(v, dict) else v for name, v in (value.get("p") or {}).items()}
        return template % params if params else template
    except (KeyError, TypeError, ValueError):
        return fallback


def render_platform(value: Message | None) -> str:
    """`value` in the platform's language (the stored text beside the message)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render(value)
