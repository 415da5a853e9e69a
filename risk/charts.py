"""Server-rendered SVG charts for the exposure dashboard: no JavaScript, no external assets.

Amounts stay Decimals; only pixel positions are rounded numbers.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from fusionprime.money import format_amount

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 96, 170, 28, 36


@dataclass
class Series:
    label: str
    points: list[tuple[datetime, Decimal]]
    limit: Decimal | None = None
    color: str = field(default="")


def _px(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'))}"


def line_chart(*, title: str, series: list[Series], decimals: int, css_class: str = "exposure-chart") -> SafeString:
    """A line chart with a dot per point, a dashed line per limit, axes and a legend."""
    points = [p for s in series for p in s.points]
    if not points:
        return mark_safe("")  # noqa: S308 - constant empty string
    for index, s in enumerate(series):
        s.color = s.color or PALETTE[index % len(PALETTE)]
    values = [v for _, v in points] + [s.limit for s in series if s.limit is not None]
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if high == low:
        high = low + 1
    times = [t for t, _ in points]
    t0, t1 = min(times), max(times)
    span = Decimal(str(max((t1 - t0).total_seconds(), 1)))
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)

    def x(moment: datetime) -> Decimal:
        if t1 == t0:
            return LEFT + plot_w / 2
        return LEFT + plot_w * Decimal(str((moment - t0).total_seconds())) / span

    def y(value: Decimal) -> Decimal:
        return TOP + plot_h - plot_h * (value - low) / (high - low)

    fmt = lambda value: format_amount(value, decimals=decimals)  # noqa: E731
    parts = [
        format_html('<text class="chart-title" x="{}" y="18" font-weight="bold">{}</text>', LEFT, title),
        format_html(
            '<line class="axis" x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#888"/>'
            '<line class="axis" x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#888"/>',
            LEFT,
            TOP,
            HEIGHT - BOTTOM,
            WIDTH - RIGHT,
        ),
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            format_html(
                '<text class="y-label" x="{}" y="{}" text-anchor="end" font-size="11">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#eee"/>',
                LEFT - 6,
                _px(y(tick) + 4),
                fmt(tick),
                LEFT,
                _px(y(tick)),
                WIDTH - RIGHT,
                _px(y(tick)),
            )
        )
    for moment, anchor in ((t0, "start"), (t1, "end")):
        parts.append(
            format_html(
                '<text class="x-label" x="{}" y="{}" text-anchor="{}" font-size="11">{} UTC</text>',
                _px(x(moment)),
                HEIGHT - BOTTOM + 16,
                anchor,
                moment.strftime("%H:%M"),
            )
        )
    for index, s in enumerate(series):
        if s.limit is not None:
            parts.append(
                format_html(
                    '<line class="limit" data-series="{}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                    'stroke-dasharray="6 4"><title>{} limit {}</title></line>',
                    s.label,
                    LEFT,
                    _px(y(s.limit)),
                    WIDTH - RIGHT,
                    _px(y(s.limit)),
                    s.color,
                    s.label,
                    fmt(s.limit),
                )
            )
        coords = " ".join(f"{_px(x(t))},{_px(y(v))}" for t, v in s.points)
        parts.append(
            format_html(
                '<polyline class="series" data-series="{}" points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                s.label,
                coords,
                s.color,
            )
        )
        parts.append(
            format_html_join(
                "",
                '<circle class="point" data-series="{}" data-value="{}" data-time="{}" cx="{}" cy="{}" r="3.5" '
                'fill="{}"><title>{} at {}: {}</title></circle>',
                (
                    (
                        s.label,
                        fmt(v),
                        t.isoformat(),
                        _px(x(t)),
                        _px(y(v)),
                        s.color,
                        s.label,
                        t.strftime("%H:%M"),
                        fmt(v),
                    )
                    for t, v in s.points
                ),
            )
        )
        legend_y = TOP + 16 * index
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text class="legend" x="{}" y="{}" font-size="12">{}</text>',
                WIDTH - RIGHT + 12,
                legend_y,
                s.color,
                WIDTH - RIGHT + 28,
                legend_y + 9,
                s.label,
            )
        )
    return format_html(
        '<svg class="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">{}</svg>',
        css_class,
        title,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        mark_safe("".join(parts)),  # noqa: S308 - parts escaped above
    )


def utilisation_bar(*, percent: Decimal | None, over: bool) -> SafeString:
    """A horizontal bar: how much of the limit is used (red when over)."""
    if percent is None:
        return mark_safe('<span class="no-limit">no limit</span>')  # noqa: S308 - constant
    shown = min(percent, Decimal(100))
    color = "#dc2626" if over else ("#ea580c" if percent >= 80 else "#16a34a")
    return format_html(
        '<svg class="utilisation" width="160" height="14" role="img" aria-label="{}% of limit">'
        '<rect width="160" height="14" fill="#eee"/><rect class="used" width="{}" height="14" fill="{}"/></svg> {}%',
        percent.quantize(Decimal("0.1")),
        _px(shown * Decimal("1.6")),
        color,
        percent.quantize(Decimal("0.1")),
    )
