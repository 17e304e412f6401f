"""The platform's customer-service contact, per language (kept apart: base.py is at its size limit).

By default the line is worded by a translated template from a phone number and opening hours
(`YINZUNDA_SUPPORT_PHONE`, `YINZUNDA_SUPPORT_HOURS`); a deployment may instead give a whole line
per language: `YINZUNDA_SUPPORT_CONTACT` (简体中文) and `YINZUNDA_SUPPORT_CONTACT_EN` (English).
"""
from __future__ import annotations

import os

YINZUNDA_SUPPORT_PHONE = os.environ.get("YINZUNDA_SUPPORT_PHONE", "400-000-0000")
YINZUNDA_SUPPORT_HOURS = os.environ.get("YINZUNDA_SUPPORT_HOURS", "9:00–21:00")
YINZUNDA_SUPPORT_CONTACT: dict[str, str] = {
    "zh-hans": os.environ.get("YINZUNDA_SUPPORT_CONTACT", ""),
    "en": os.environ.get("YINZUNDA_SUPPORT_CONTACT_EN", ""),
}
