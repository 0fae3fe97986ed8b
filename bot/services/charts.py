"""Bar charts as PNG bytes (matplotlib, Agg backend), for survey results and statistics.

No pyplot: each chart is its own `Figure` on its own Agg canvas, so nothing global is
touched and charts can be drawn from a worker thread (`asyncio.to_thread(bar_chart, ...)`).
Drawing takes tens of milliseconds; keep it off the event loop.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BAR_COLOR = "#2b6cb0"
# Matplotlib's font cache and text layout are not documented as thread-safe.
_LOCK = threading.Lock()


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or text


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    annotations: Sequence[str] | None = None,
    axis_label: str = "",
) -> bytes:
    """A horizontal bar chart, first label on top; returns PNG bytes.

    `annotations` (one per bar, e.g. "3 (25%)") are written at the end of each bar;
    by default the values themselves are.
    """
    if len(labels) != len(values):
        raise ValueError("bar_chart needs one value per label")
    if annotations is not None and len(annotations) != len(values):
        raise ValueError("bar_chart needs one annotation per bar")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    shown = list(annotations) if annotations is not None else [_number(v) for v in values]
    count = max(len(labels), 1)
    with _LOCK:
        figure = Figure(figsize=(7.0, 1.2 + 0.45 * count), dpi=110)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        axes.barh(positions, list(values), color=_BAR_COLOR, height=0.6)
        axes.set_yticks(positions, [_wrap(label, 28) for label in labels])
        axes.invert_yaxis()
        peak = max([float(v) for v in values] + [0.0])
        axes.set_xlim(0, peak * 1.25 if peak > 0 else 1)
        if all(float(v).is_integer() for v in values):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        for position, value, text in zip(positions, values, shown, strict=True):
            axes.text(
                float(value) + (peak or 1) * 0.02,
                position,
                text,
                va="center",
                fontsize=9,
            )
        axes.set_title(_wrap(title, 60), fontsize=11, loc="left")
        if axis_label:
            axes.set_xlabel(axis_label)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
