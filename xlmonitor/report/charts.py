"""The trend charts of the report as PNG pictures: per charted indicator the cumulative
realised figure per quarter (bars) against the expected-to-date target (line), as on the
Dashboard. Sized for A4 at print resolution; the same figures give the same bytes."""

from __future__ import annotations

import io

from xlmonitor.master.styles import BLUE, NAVY, SLATE
from xlmonitor.report.text import number

#: Width and height in centimetres (the document places them at this size) and resolution.
WIDTH_CM, HEIGHT_CM, DPI = 16.0, 5.6, 200


def trend_chart(trend, label: str, peilperiode: str) -> bytes:
    """PNG of one indicator's trend (``trend``: :attr:`ReportFigures.trend`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    quarters = [str(q) for q in trend["Kwartaal"]]
    realised = [v if v is not None and v == v else 0 for v in trend[(label, "gerealiseerd")]]
    reported = [v is not None and v == v for v in trend[(label, "gerealiseerd")]]
    expected = [v if v is not None and v == v else float("nan")
                for v in trend[(label, "verwacht")]]
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8.5,
                                "svg.hashsalt": "xlmonitor", "axes.edgecolor": "#BFBFBF"}):
        figure = Figure(figsize=(WIDTH_CM / 2.54, HEIGHT_CM / 2.54), dpi=DPI)
        axes = figure.add_subplot()
        positions = range(len(quarters))
        colours = [NAVY if q == peilperiode else BLUE for q in quarters]
        bars = axes.bar([p for p, r in zip(positions, reported, strict=True) if r],
                        [v for v, r in zip(realised, reported, strict=True) if r],
                        color=[c for c, r in zip(colours, reported, strict=True) if r],
                        width=0.65, label="gerealiseerd (cumulatief)", zorder=2)
        top = max([*realised, *[e for e in expected if e == e], 1]) * 1.15
        for bar in bars:
            # Inside the bar (white) where it is tall enough, so the line never covers it.
            inside = bar.get_height() > top * 0.12
            axes.annotate(number(bar.get_height()), (bar.get_x() + bar.get_width() / 2,
                                                     bar.get_height()),
                          ha="center", va="top" if inside else "bottom", fontsize=7,
                          color="#FFFFFF" if inside else "#404040",
                          xytext=(0, -2 if inside else 1.5), textcoords="offset points",
                          zorder=5)  # over the expected line
        axes.plot(list(positions), expected, color=SLATE, linestyle="--", linewidth=1.4,
                  marker="o", markersize=2.5, label="verwacht tot dan", zorder=3)
        # "Q3" over "2020": fourteen quarters fit side by side on A4.
        ticks = ["\n".join(reversed(q.split("-", 1))) for q in quarters]
        axes.set_xticks(list(positions), ticks, fontsize=7)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v)))
        axes.grid(axis="y", color="#E0E0E0", linewidth=0.6, zorder=0)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title(f"{label}: gerealiseerd tegen verwacht", loc="left", fontsize=9.5,
                       color=NAVY, fontweight="bold")
        axes.legend(loc="upper left", frameon=False, fontsize=7.5)
        axes.set_ylim(bottom=0, top=top)
        figure.tight_layout(pad=0.4)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
