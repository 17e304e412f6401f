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
    *, days: Sequence[tuple[date, Decimal, Decimal]], title: str, series_labels: tuple[str, str],
    width: int = 720, font: int = 10,
) -> SafeString:
    """Paired daily bars: compensation credited (brand colour) and fees paid (grey).

    A phone gets a narrower drawing (width 360) with bigger type, so its labels stay legible
    once the drawing is scaled to the screen."""
    height, left, bottom, top = 220 + 2 * font, 8 + 5 * font, 12 + font + 6, 16 + font
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
                    '<text x="{}" y="{}" font-size="{}" fill="#57606a">{}</text>',
                    _n(x),
                    height - 8,
                    font,
                    f"{day:%m-%d}",
                )
            )
    axis = format_html(
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#d0d7de"/>'
        '<text x="4" y="{t}" font-size="{f}" fill="#57606a">{peak}</text>'
        '<text x="4" y="{b}" font-size="{f}" fill="#57606a">¥0</text>',
        f=font,
        l=left,
        r=width - 8,
        b=top + plot_h,
        t=top + font,
        peak=yuan(peak),
    )
    legend = format_html(
        '<rect x="{x1}" y="2" width="{f}" height="{f}" fill="#c8102e"/><text x="{x1t}" y="{ty}" font-size="{f}">{a}</text>'
        '<rect x="{x2}" y="2" width="{f}" height="{f}" fill="#8c959f"/><text x="{x2t}" y="{ty}" font-size="{f}">{b}</text>',
        f=font + 1,
        ty=font + 2,
        x1=left,
        x1t=left + font + 5,
        a=series_labels[0],
        x2=left + 12 * font,
        x2t=left + 13 * font + 5,
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
    *, rows: Sequence[tuple[str, Decimal | None]], title: str, suffix: str = "%", width: int = 520,
    font: int = 12,
) -> SafeString:
    """Horizontal bars of a percentage per label (e.g. door-delivery rate per carrier)."""
    row_h, left = 2 * font + 2, 9 * font
    height = row_h * max(len(rows), 1) + 8
    bar_w = width - left - 6 * font
    items = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = float(min(max(value or 0, 0), 100)) / 100 * bar_w
        shown = "—" if value is None else f"{value}{suffix}"
        items.append((label, y + font + 3, left, y + 3, w, left + w + 6, shown))
    body = format_html_join(
        "",
        '<text x="4" y="{}" font-size="{}">{}</text><rect x="{}" y="{}" width="{}" height="{}" fill="#1a7f37"/>'
        '<text x="{}" y="{}" font-size="{}">{}</text>',
        (
            (y1, font, label, x, y, _n(w), font + 4, _n(tx), y1, font, shown)
            for label, y1, x, y, w, tx, shown in items
        ),
    )
    return format_html(
        '<svg class="chart hbar" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        title,
        width,
        height,
        width,
        title,
        body,
    )
