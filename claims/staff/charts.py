"""Server-side SVG line chart for the scorecard's trend: one line per carrier, no JavaScript."""
from __future__ import annotations

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#c8102e", "#1f6feb", "#2da44e", "#bf8700", "#8250df", "#57606a")


def trend_chart(*, series: dict[str, list[tuple[date, float | None]]], title: str, unit: str) -> SafeString:
    """Weekly values per series (None = no parcels that week: a gap, not a zero)."""
    weeks = sorted({week for points in series.values() for week, _ in points})
    if not weeks:
        return mark_safe("")  # noqa: S308 - a constant
    width, height, left, bottom, top, right = 560, 240, 44, 32, 16, 110
    plot_w, plot_h = width - left - right, height - bottom - top
    peak = max([v for points in series.values() for _, v in points if v is not None] + [1.0])
    step = plot_w / max(len(weeks) - 1, 1)
    x_of = {week: left + i * step for i, week in enumerate(weeks)}

    def y(value: float) -> float:
        return top + plot_h - value / peak * plot_h

    parts = [
        format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>', left, top + plot_h, left + plot_w, top + plot_h),
        format_html('<text x="{}" y="{}" class="label">{}</text>', 4, top + 10, f"{peak:.1f}"),
        format_html('<text x="{}" y="{}" class="label">0</text>', 4, top + plot_h),
    ]
    parts += [
        format_html('<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>', f"{x_of[w]:.1f}", height - 10, w.strftime("%m-%d"))
        for w in weeks
    ]
    for i, (name, points) in enumerate(sorted(series.items())):
        colour = PALETTE[i % len(PALETTE)]
        segments, current = [], []
        for week, value in points:
            if value is None:
                segments, current = ([*segments, current] if current else segments), []
            else:
                current.append(f"{x_of[week]:.1f},{y(value):.1f}")
        if current:
            segments.append(current)
        parts += [
            format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', " ".join(seg), colour)
            for seg in segments
        ]
        parts += [
            format_html('<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}{}</title></circle>',
                        f"{x_of[w]:.1f}", f"{y(v):.1f}", colour, name, w.strftime("%m-%d"), v, unit)
            for w, v in points if v is not None
        ]
        parts.append(format_html(
            '<text x="{}" y="{}" class="label" fill="{}">{}</text>', left + plot_w + 8, top + 14 + i * 16, colour, name
        ))
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}</svg>',
        width, height, title, title, body,
    )
