"""Server-side SVG charts for the dashboard: no JavaScript, no CDN, printable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from yinzunda.templatetags.yinzunda import yuan


def _n(value: float) -> str:
    return f"{value:.1f}"


def bar_chart_daily(
    *, days: Sequence[tuple[date, Decimal, Decimal]], title: str, series_labels: tuple[str, str]
) -> SafeString:
    """Paired daily bars: compensation credited (brand colour) and fees paid (grey)."""
    width, height, left, bottom, top = 720, 220, 56, 28, 16
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([max(c, f) for _, c, f in days] + [Decimal("1")])
    slot = plot_w / max(len(days), 1)
    bar = max(slot / 2 - 1, 1)
    parts = []
    for i, (day, comp, fee) in enumerate(days):
        x = left + i * slot
        for j, (value, css) in enumerate(((comp, "#c8102e"), (fee, "#8c959f"))):
            h = float(value / peak) * plot_h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>',
                    _n(x + j * bar),
                    _n(top + plot_h - h),
                    _n(bar),
                    _n(h),
                    css,
                    day.isoformat(),
                    series_labels[j],
                    yuan(value),
                )
            )
        if i % 7 == 0 or (i == len(days) - 1 and i % 7 >= 3):
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" fill="#656d76">{}</text>',
                    _n(x),
                    height - 8,
                    f"{day:%m-%d}",
                )
            )
    axis = format_html(
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#d0d7de"/>'
        '<text x="4" y="{t}" font-size="10" fill="#656d76">{peak}</text>'
        '<text x="4" y="{b}" font-size="10" fill="#656d76">¥0</text>',
        l=left,
        r=width - 8,
        b=top + plot_h,
        t=top + 8,
        peak=yuan(peak),
    )
    legend = format_html(
        '<rect x="{x1}" y="2" width="10" height="10" fill="#c8102e"/><text x="{x1t}" y="11" font-size="11">{a}</text>'
        '<rect x="{x2}" y="2" width="10" height="10" fill="#8c959f"/><text x="{x2t}" y="11" font-size="11">{b}</text>',
        x1=left,
        x1t=left + 14,
        a=series_labels[0],
        x2=left + 140,
        x2t=left + 154,
        b=series_labels[1],
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}{}{}</svg>",
        title,
        width,
        height,
        title,
        axis,
        legend,
        mark_safe("".join(parts)),  # noqa: S308 - parts are format_html output
    )


def hbar_chart(
    *, rows: Sequence[tuple[str, Decimal | None]], title: str, suffix: str = "%"
) -> SafeString:
    """Horizontal bars of a percentage per label (e.g. door-delivery rate per carrier)."""
    row_h, left, width = 26, 110, 520
    height = row_h * max(len(rows), 1) + 8
    bar_w = width - left - 70
    items = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = float(min(max(value or 0, 0), 100)) / 100 * bar_w
        shown = "—" if value is None else f"{value}{suffix}"
        items.append((label, y + 15, left, y + 3, w, left + w + 6, shown))
    body = format_html_join(
        "",
        '<text x="4" y="{}" font-size="12">{}</text><rect x="{}" y="{}" width="{}" height="16" fill="#1a7f37"/>'
        '<text x="{}" y="{}" font-size="12">{}</text>',
        ((y1, label, x, y, _n(w), _n(tx), y1, shown) for label, y1, x, y, w, tx, shown in items),
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" style="max-width:100%" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        title,
        width,
        height,
        width,
        title,
        body,
    )
