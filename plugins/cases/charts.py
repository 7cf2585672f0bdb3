"""Server-rendered SVG charts for the dashboard: no script, nothing fetched, readable by a
screen reader (a title per chart and per bar) and each bar a link to the cases behind it."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH = 640
BAR = 22
GAP = 10
LABEL = 150


def hbars(title, items, maximum=None, text=str):
    """Horizontal bars: ``items`` is [(label, value or None, url)], ``text`` formats a value."""
    values = [value for _label, value, _url in items if value is not None]
    maximum = maximum or max(values, default=0) or 1
    room = WIDTH - LABEL - 70
    height = len(items) * (BAR + GAP) + GAP
    bars = []
    for n, (label, value, url) in enumerate(items):
        y = GAP + n * (BAR + GAP)
        width = 0 if value is None else max(room * value / maximum, 1)
        shown = "—" if value is None else text(value)
        bar = format_html(
            '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"><title>{}：{}</title></rect>'
            '<text x="{}" y="{}" class="chart-value">{}</text>',
            LABEL - 8, _n(y + BAR * 0.7), label, LABEL, y, _n(width), BAR, label, shown,
            _n(LABEL + width + 6), _n(y + BAR * 0.7), shown,
        )
        bars.append(format_html('<a href="{}">{}</a>', url, bar) if url else bar)
    return _svg(title, height, mark_safe("".join(bars)))


def columns(title, points, series):
    """Grouped columns per point: ``points`` is [(label, [value per series], [url per series])],
    ``series`` the names of the series (a legend under the chart)."""
    count = max(len(points), 1)
    top, bottom, left = 16, 40, 36
    height = 220
    plot = height - top - bottom
    slot = (WIDTH - left) / count
    bar = max(min(slot / (len(series) + 1), 24), 2)
    maximum = max((value for _label, values, _urls in points for value in values), default=0) or 1
    parts = [format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"/>',
                         left, top + plot, WIDTH, top + plot),
             format_html('<text x="{}" y="{}" text-anchor="end" class="chart-value">{}</text>',
                         left - 4, top + 10, maximum)]
    for n, (label, values, urls) in enumerate(points):
        x0 = left + n * slot + (slot - bar * len(series)) / 2
        for m, (value, url) in enumerate(zip(values, urls)):
            h = plot * value / maximum
            rect = format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar chart-series-{}">'
                '<title>{} {}：{}</title></rect>',
                _n(x0 + m * bar), _n(top + plot - h), _n(bar - 1), _n(h), m, label, series[m], value,
            )
            parts.append(format_html('<a href="{}">{}</a>', url, rect) if url else rect)
        parts.append(format_html('<text x="{}" y="{}" text-anchor="middle" class="chart-label">{}</text>',
                                 _n(left + n * slot + slot / 2), top + plot + 16, label))
    legend = format_html_join(
        "", '<rect x="{}" y="{}" width="10" height="10" class="chart-bar chart-series-{}"/>'
            '<text x="{}" y="{}" class="chart-label">{}</text>',
        ((left + m * 110, height - 14, m, left + m * 110 + 14, height - 5, name) for m, name in enumerate(series)),
    )
    parts.append(legend)
    return _svg(title, height, mark_safe("".join(parts)))


def _n(number):
    """A coordinate as text: format_html escapes its arguments before formatting them."""
    return f"{number:.1f}"


def _svg(title, height, body):
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        WIDTH, height, title, title, body,
    )
