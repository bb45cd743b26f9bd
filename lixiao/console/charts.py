"""The follow-up page's charts, drawn on the server as inline SVG (no CDN, no JS library):
completions per day, and a burn-down with its forecast."""

from datetime import date, timedelta

from django.utils.html import escape
from django.utils.translation import gettext as _

from lixiao.clearance import forecast

GREEN, BLUE, RED, GREY, AXIS = "#198754", "#0d6efd", "#dc3545", "#6c757d", "#adb5bd"
MAX_DAYS = 60  # the daily chart's last days; older ones would be slivers


def daily_chart(daily: list[tuple[date, int]], width: int = 720, height: int = 200) -> str:
    """Net completions per day as a bar chart. A day with more reopened than completed shows
    no bar; its title says the number."""
    if not daily:
        return ""
    days = dict(daily)
    first, last = min(days), max(days)
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)][-MAX_DAYS:]
    top = max(days.get(d, 0) for d in span)
    top = top if top > 0 else 1
    pad_left, pad_bottom, pad_top = 40, 24, 10
    slot = (width - pad_left) / len(span)
    bar = max(slot * 0.7, 1)
    label = escape(_("每日办结人数"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="w-100 svg-chart" aria-label="{label}">',
        f'<text x="{pad_left - 6}" y="{pad_top + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{pad_left - 6}" y="{height - pad_bottom}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width}" y2="{height - pad_bottom}" '
        f'stroke="{AXIS}"/>',
    ]
    plot = height - pad_bottom - pad_top
    bar_title = _("%(day)s：%(n)s 人")
    for i, day in enumerate(span):
        n = days.get(day, 0)
        h = plot * max(n, 0) / top
        x = pad_left + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad_bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{GREEN}"><title>{escape(bar_title % {"day": day.isoformat(), "n": n})}</title></rect>'
        )
        if i == 0 or i == len(span) - 1 or (len(span) > 2 and i == len(span) // 2):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="11">'
                f"{escape(day.strftime('%m-%d'))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def burndown_chart(
    series: list[tuple[date, int]],
    projection: forecast.Projection,
    today: date,
    target_label: str,
    width: int = 720,
    height: int = 240,
) -> str:
    """Remaining per day (solid), the forecast from today to the finish day (dashed), the pace
    that would make the target (dotted), and the target day (a red line).

    The time axis runs from the first day to the later of the target and the finish, but
    not past MAX_DAYS after today: a finish further away leaves its line at the edge.
    """
    if not series:
        return ""
    first = series[0][0]
    remaining = projection.remaining
    end = max(d for d in (today, projection.target, projection.finish) if d is not None)
    end = min(end, today + timedelta(days=MAX_DAYS))
    span_days = max((end - first).days, 1)
    top = max([n for _d, n in series] + [remaining, 1])
    pad_left, pad_right, pad_bottom, pad_top = 48, 12, 26, 14
    plot_w, plot_h = width - pad_left - pad_right, height - pad_bottom - pad_top

    def x(day: date) -> float:
        return pad_left + plot_w * max(0, min((day - first).days, span_days)) / span_days

    def y(n: float) -> float:
        return pad_top + plot_h * (1 - max(n, 0) / top)

    label = escape(_("燃尽图：每天结束时的剩余人数与按当前速度的预测"))
    base = height - pad_bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="w-100 svg-chart" aria-label="{label}">',
        f'<text x="{pad_left - 6}" y="{pad_top + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{pad_left - 6}" y="{base}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{pad_left}" y1="{base}" x2="{width - pad_right}" y2="{base}" stroke="{AXIS}"/>',
    ]
    for day in sorted({first, today, end}):
        parts.append(
            f'<text x="{x(day):.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
            f"{escape(day.strftime('%m-%d'))}</text>"
        )
    if projection.target is not None and projection.target <= end:
        tx = x(projection.target)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{pad_top}" x2="{tx:.1f}" y2="{base}" stroke="{RED}" '
            f'stroke-dasharray="2 3"><title>{escape(target_label)}</title></line>'
            f'<text x="{tx - 4:.1f}" y="{pad_top + 10}" text-anchor="end" font-size="11" '
            f'fill="{RED}">{escape(target_label)}</text>'
        )
    points = " ".join(f"{x(d):.1f},{y(n):.1f}" for d, n in series)
    actual_title = escape(_("实际剩余"))
    parts.append(
        f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2">'
        f"<title>{actual_title}</title></polyline>"
    )
    if remaining > 0 and projection.target is not None and projection.target >= today:
        parts.append(
            f'<line x1="{x(today):.1f}" y1="{y(remaining):.1f}" x2="{x(projection.target):.1f}" '
            f'y2="{y(0):.1f}" stroke="{GREY}" stroke-dasharray="1 3" stroke-width="2">'
            f"<title>{escape(_('按期完成所需速度'))}</title></line>"
        )
    if remaining > 0 and projection.pace is not None:
        if projection.finish is not None and projection.finish <= end:
            fx, fy = x(projection.finish), y(0)
        else:  # beyond the axis, or never: the forecast's line at the right edge
            days = (end - today).days
            left = remaining - float(projection.pace) * days
            fx, fy = x(end), y(left if projection.pace > 0 else remaining)
        colour = RED if projection.flagged else GREEN
        parts.append(
            f'<line x1="{x(today):.1f}" y1="{y(remaining):.1f}" x2="{fx:.1f}" y2="{fy:.1f}" '
            f'stroke="{colour}" stroke-dasharray="6 4" stroke-width="2">'
            f"<title>{escape(_('按当前速度预测'))}</title></line>"
        )
    parts.append("</svg>")
    return "".join(parts)
