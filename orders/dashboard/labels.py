"""Thermal waybill labels (76×130 mm, 100×180 mm) as PDF: Code 128 barcode, privacy layout, the 音尊达 mark."""
from __future__ import annotations

from dataclasses import dataclass

import barcode
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML

from waybills.models import Waybill
from yinzunda.masking import mask_name, mask_phone


@dataclass(frozen=True)
class LabelSize:
    key: str
    width_mm: int
    height_mm: int
    module_mm: float  # width of one Code 128 bar module: ≥ 0.33 mm keeps thermal prints scannable
    rows: dict  # height of each block in mm; they add up to the page less its 4 mm of padding
    fonts: dict  # font sizes in mm

    @property
    def barcode_mm(self) -> float:
        return self.rows["code"] - self.fonts["number"] - 5


LABEL_SIZES = {
    "76x130": LabelSize(
        "76x130", 76, 130, 0.38,
        rows={"head": 12, "mark": 14, "dest": 15, "code": 28, "party": 20, "meta": 19, "foot": 18},
        fonts={"carrier": 5.5, "mark": 7, "dest1": 6, "dest2": 4.6, "dest3": 3.6, "dest_pad": 2.5, "number": 4.2,
               "party": 3.4, "meta": 2.9},
    ),
    "100x180": LabelSize(
        "100x180", 100, 180, 0.5,
        rows={"head": 16, "mark": 19, "dest": 20, "code": 38, "party": 28, "meta": 26, "foot": 29},
        fonts={"carrier": 7, "mark": 9.5, "dest1": 8, "dest2": 6.2, "dest3": 4.8, "dest_pad": 3, "number": 5.5,
               "party": 4.4, "meta": 3.8},
    ),
}
DEFAULT_SIZE = "76x130"
QUIET_ZONE_MODULES = 10  # Code 128 needs ten modules of white on each side


def code128_svg(value: str, *, module_mm: float, height_mm: float) -> SafeString:
    """Code 128 of `value` as inline SVG: python-barcode encodes, each run of bars is one rect."""
    modules = barcode.get("code128", value).build()[0]
    rects, x = [], QUIET_ZONE_MODULES
    run_start = None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = i
        elif bit != "1" and run_start is not None:
            rects.append(f'<rect x="{x + run_start}" y="0" width="{i - run_start}" height="1"/>')
            run_start = None
    total = len(modules) + 2 * QUIET_ZONE_MODULES
    width = total * module_mm
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}mm" height="{height_mm:.2f}mm" '
        f'viewBox="0 0 {total} 1" preserveAspectRatio="none" shape-rendering="crispEdges">'
        f'<rect x="0" y="0" width="{total}" height="1" fill="#fff"/><g fill="#000">{"".join(rects)}</g></svg>'
    )
    return mark_safe(svg)  # noqa: S308 - built from our own numbers only


@dataclass(frozen=True)
class Label:
    number: str
    carrier: str
    barcode: SafeString
    destination: str
    name: str
    phone: str
    sender: str
    order_number: str
    has_tier: bool
    issued_at: object

    @property
    def destination_scale(self) -> int:
        """1 (largest) to 3: a long destination gets a smaller type so it fits its box in two lines at most."""
        length = len(self.destination)
        return 1 if length <= 10 else 2 if length <= 14 else 3


def label_for(waybill: Waybill, *, size: LabelSize) -> Label:
    order = waybill.order
    return Label(
        number=waybill.number,
        carrier=waybill.carrier.name,
        barcode=code128_svg(waybill.number, module_mm=size.module_mm, height_mm=size.barcode_mm),
        destination=" ".join(dict.fromkeys(p for p in (waybill.dest_province, waybill.dest_city, waybill.dest_district) if p)),
        name=mask_name(order.recipient_name),
        phone=mask_phone(order.recipient_phone),
        sender=order.merchant.name,
        order_number=order.order_number,
        has_tier=settings.YINZUNDA_SERVICE_CODE in waybill.service_codes,
        issued_at=timezone.localtime(waybill.created_at),
    )


def labels_html(waybills: list[Waybill], *, size_key: str = DEFAULT_SIZE) -> str:
    size = LABEL_SIZES[size_key]
    labels = [label_for(w, size=size) for w in waybills]
    return render_to_string("orders/dashboard/labels_pdf.html", {"labels": labels, "size": size})


def labels_pdf(waybills: list[Waybill], *, size_key: str = DEFAULT_SIZE) -> bytes:
    """One label a page; fonts are subset and embedded by WeasyPrint."""
    return HTML(string=labels_html(waybills, size_key=size_key)).write_pdf()
