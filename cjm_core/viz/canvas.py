"""The journey-map canvas: stages as columns, lanes as rows, print-ready.

Lanes, top to bottom: the stage headers (customers reached, answers); **Touchpoints** (one
box per touchpoint, coloured by channel, with its reach as a number and a bar; a gold star
marks a moment of truth); **Actions** (what customers do, with the share doing it);
**Emotion** (the -1..+1 score per stage with its 95% band, a zero line); **Pain points**
(red boxes, the overall #1 with a thick border); **Opportunities** (green). The numbers come
from :func:`cjm_core.viz.canvas_data.journey_map_data`; the rules are stated there.

The figure is a plain :class:`matplotlib.figure.Figure` (not registered with pyplot, so
many maps do not pile up); A3 landscape by default; text is wrapped and cut to fit its box.
:func:`save_journey_map` writes PNG (300 dpi), SVG (text kept as text) or PDF (fonts
embedded).

Example::

    >>> from cjm_banking.generator import generate, catalog
    >>> d = generate(customers=300, seed=3)
    >>> fig = journey_map(d.tables["events"], d.tables["feedback"], catalog=catalog())
    >>> [t.get_text() for t in fig.texts if (t.get_gid() or "").startswith("stage:")][:2]
    ['Awareness', 'Consideration']
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import CjmError
from .canvas_data import JourneyMapData, journey_map_data
from .canvas_draw import INK, _bar, _box, _column_grid, _middle, _size, _slot, _wrap

A3 = (16.54, 11.69)
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
RED, RED_FILL, GREEN, GREEN_FILL = "#b2182b", "#fbe3e3", "#1b7837", "#e3f4e3"
LANES = ("Touchpoints", "Actions", "Emotion", "Pain points", "Opportunities")
HINTS = {"Touchpoints": "reach: customers", "Actions": "% of customers", "Emotion":
         "-1 .. +1, 95% band", "Pain points": "rank: impact"}  # fmt: skip


def journey_map(
    data_or_events: Any,
    feedback: pd.DataFrame | None = None,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = A3,
    dpi: float = 100,
    **options: Any,
):
    """Draw the journey-map canvas; returns a matplotlib Figure.

    :param data_or_events: a :class:`JourneyMapData`, or canonical events (then ``feedback``
        and ``options`` go to :func:`journey_map_data`: ``catalog=`` is required,
        ``persona=``/``customers=``, ``pains=``, ``moments=``, ``top_pains=`` ...).
    :param figsize: inches; A3 landscape by default (A4 landscape: ``(11.69, 8.27)``).
    :param dpi: the figure's dpi (on screen); :func:`save_journey_map` sets that of the file.
    """
    from matplotlib.figure import Figure

    data = _as_data(data_or_events, feedback, options)
    stages = data.stages
    n = len(stages)
    fig = Figure(figsize=figsize, dpi=dpi)
    fig.patch.set_facecolor("white")
    slots = {
        "tp": max(data.touchpoints.groupby("stage").size().max(), 1),
        "act": max(data.actions.groupby("stage").size().max() if len(data.actions) else 1, 1),
        "pain": max(
            data.pain_points.groupby("stage").size().max() if len(data.pain_points) else 1, 1
        ),  # fmt: skip
        "opp": min(
            data.opportunities.groupby("stage").size().max() if len(data.opportunities) else 1, 4
        ),  # fmt: skip
    }
    # lane heights in inches: headers, two-line touchpoint boxes, one-line actions, four-line
    # pain and three-line opportunity boxes; the emotion plot takes what is left (>= 1.5 in)
    top, bottom, hspace = 0.925, 0.075, 0.05
    room = figsize[1] * (top - bottom) * 6 / (6 + 5 * hspace)
    ratios = [0.45, 0.52 * slots["tp"] + 0.04, 0.21 * slots["act"] + 0.08, 0.0,
              0.9 * slots["pain"] + 0.04, 0.6 * slots["opp"] + 0.04]  # fmt: skip
    ratios[3] = max(room - sum(ratios), 1.5)
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=hspace,
                            left=0.085, right=0.935, top=top, bottom=bottom)  # fmt: skip
    axes = [fig.add_subplot(grid[i]) for i in range(len(ratios))]
    for ax in axes:
        _column_grid(ax, n)
    _headers(fig, axes[0], data)
    _touchpoints(fig, axes[1], data, slots["tp"])
    _actions(fig, axes[2], data, slots["act"])
    _emotion(axes[3], data)
    _pains(fig, axes[4], data, slots["pain"])
    _opportunities(fig, axes[5], data, slots["opp"])
    for ax, name in zip(axes[1:], LANES, strict=True):
        fig.text(0.012, _middle(ax), name, fontsize=13, fontweight="bold", color=INK,
                 va="center", ha="left", gid=f"lane:{name}")  # fmt: skip
        if name in HINTS:
            fig.text(0.012, _middle(ax) - 0.018, HINTS[name], fontsize=8.5, color="#555555",
                     va="center", ha="left", linespacing=1.1)  # fmt: skip
    _titles(fig, data, title)
    _legend(fig, data)
    return fig


def save_journey_map(fig_or_data: Any, path: str | Path, *, dpi: float | None = None,
                     **options: Any) -> Path:  # fmt: skip
    """Write the canvas to ``path``; the format follows the suffix (.png, .svg, .pdf).

    :param fig_or_data: a Figure from :func:`journey_map` or a :class:`JourneyMapData`
        (drawn with ``options``).
    :param dpi: dots per inch of a PNG (300 by default: print quality).
    :returns: the path written.
    """
    import matplotlib

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CjmError(f"Cannot save a journey map as {path.name!r}: the suffix must be one of "
                       f"{', '.join(FORMATS)} (PNG, SVG or PDF).")  # fmt: skip
    fig = journey_map(fig_or_data, **options) if isinstance(fig_or_data, JourneyMapData) \
        else fig_or_data  # fmt: skip
    if not hasattr(fig, "savefig"):
        raise CjmError(f"save_journey_map needs a Figure or JourneyMapData; got "
                       f"{type(fig_or_data).__name__}.")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        fig.savefig(path, format=fmt, dpi=dpi or (300 if fmt == "png" else fig.dpi),
                    facecolor="white")  # fmt: skip
    return path


def journey_maps_by_persona(
    events: pd.DataFrame,
    feedback: pd.DataFrame | None = None,
    *,
    catalog: Any,
    customers: pd.DataFrame,
    personas: list[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """One canvas per persona (the catalog's order, then any others in ``customers``).

    :returns: ``{persona: Figure}``; pain points and moments are computed per persona.
    """
    if customers is None or "persona" not in customers.columns:
        raise CjmError("journey_maps_by_persona needs customers= with a 'persona' column.")
    present = set(customers["persona"].dropna().astype(str))
    ordered = [p.id for p in catalog.personas if p.id in present]
    ordered += sorted(present - set(ordered))
    return {p: journey_map(events, feedback, catalog=catalog, customers=customers, persona=p,
                           **options) for p in (personas or ordered)}  # fmt: skip


# -- pieces ----------------------------------------------------------------------------------


def _as_data(obj: Any, feedback, options) -> JourneyMapData:
    if isinstance(obj, JourneyMapData):
        return obj
    if "catalog" not in options:
        raise CjmError("journey_map(events, ...) needs catalog=<the JourneyCatalog>, or pass "
                       "the JourneyMapData from journey_map_data().")  # fmt: skip
    return journey_map_data(obj, feedback, **options)


def _headers(fig, ax, data: JourneyMapData) -> None:
    from matplotlib.patches import FancyBboxPatch

    for i, s in data.stages.reset_index(drop=True).iterrows():
        ax.add_patch(FancyBboxPatch((i + 0.02, 0.1), 0.96, 0.85, facecolor="#2b3a55", lw=0,
                                    boxstyle="round,pad=0,rounding_size=0.03",
                                    mutation_aspect=0.3, zorder=2))  # fmt: skip
        x, y = ax.transData.transform((i + 0.5, 0.66))
        fx, fy = fig.transFigure.inverted().transform((x, y))
        fig.text(fx, fy, s["name"], fontsize=14, fontweight="bold", color="white", ha="center",
                 va="center", gid=f"stage:{s['stage']}", zorder=3)  # fmt: skip
        ax.text(i + 0.5, 0.28, f"{s['customers']:,} customers · {s['answers']:,} answers",
                fontsize=9.5, color="#dde3ee", ha="center", va="center", zorder=3)  # fmt: skip


def _channel_colours(data: JourneyMapData) -> dict[str, Any]:
    from matplotlib import colormaps

    ids = data.catalog.channel_ids
    cmap = colormaps["tab10" if len(ids) <= 10 else "tab20"]
    return {c: cmap(i % cmap.N) for i, c in enumerate(ids)}


def _touchpoints(fig, ax, data: JourneyMapData, slots: int) -> None:
    from matplotlib.colors import to_rgba

    colours = _channel_colours(data)
    order = {s: i for i, s in enumerate(data.stages["stage"])}
    for stage, part in data.touchpoints.groupby("stage", sort=False):
        i = order[stage]
        for k, (_, t) in enumerate(part.iterrows()):
            y, h = _slot(fig, ax, k, slots)
            colour = colours[t["channel"]]
            body = f"{t['customers']:,} customers ({t['share']:.0%}) · {t['channel_name']}"
            _box(fig, ax, i + 0.04, y, 0.92, h, t["name"], body, face=to_rgba(colour, 0.16),
                 edge=colour, lw=1.3, fontsize=9.5, gid=f"touchpoint:{t['touchpoint']}",
                 bottom_in=0.03)  # fmt: skip
            ax.add_patch(_bar(i + 0.04, y, 0.92 * t["share"], 0.04 / _size(fig, ax)[1], colour))
            if t["moment_of_truth"]:
                ax.plot([i + 0.925], [y + h * 0.72], marker="*", ms=17, color="#f2b701",
                        mec="#7a5c00", mew=0.8, zorder=4,
                        gid=f"moment:{t['touchpoint']}")  # fmt: skip


def _actions(fig, ax, data: JourneyMapData, slots: int) -> None:
    order = {s: i for i, s in enumerate(data.stages["stage"])}
    ux, _ = _size(fig, ax)
    for stage, part in data.actions.groupby("stage", sort=False):
        i = order[stage]
        for k, (_, a) in enumerate(part.iterrows()):
            y, h = _slot(fig, ax, k, slots, gap_in=0.0)
            share = f" — {a['share']:.0%}"
            text = _wrap(a["action"], 0.92 * ux - 0.1 - len(share) * 9 * 0.55 / 72, 9)[0]
            if text != a["action"]:
                text = text[:-3].rstrip() + "..."
            ax.text(i + 0.05, y + h / 2, f"• {text}{share}", fontsize=9, va="center",
                    ha="left", color=INK, gid=f"action:{stage}:{k + 1}")  # fmt: skip


def _emotion(ax, data: JourneyMapData) -> None:
    n = len(data.stages)
    ax.set_ylim(-1.12, 1.68)  # room above +1 for the labels
    ax.axhline(0, color="#777777", lw=0.9, ls="--", zorder=1)
    for level in (-1, 1):
        ax.axhline(level, color="#dddddd", lw=0.6, zorder=1)
    ax.yaxis.tick_right()
    ax.set_yticks([-1, 0, 1], ["-1 negative", "0 neutral", "+1 positive"], fontsize=9)
    ax.tick_params(axis="y", length=0, pad=4)
    e = data.emotion.set_index("stage")
    xs = [i + 0.5 for i, s in enumerate(data.stages["stage"]) if s in e.index]
    rows = [e.loc[s] for s in data.stages["stage"] if s in e.index]
    if xs:
        low = [r["low"] for r in rows]
        high = [r["high"] for r in rows]
        score = [r["score"] for r in rows]
        for part in _runs(xs):  # the band and a solid line only between adjacent stages
            if len(part) > 1:
                ax.fill_between([xs[j] for j in part], [low[j] for j in part],
                                [high[j] for j in part], color="#4575b4", alpha=0.18, lw=0,
                                zorder=2, gid="emotion_band")  # fmt: skip
                ax.plot([xs[j] for j in part], [score[j] for j in part], color="#2c5aa0",
                        lw=2.4, zorder=3)  # fmt: skip
        ax.plot(xs, score, color="#2c5aa0", lw=1.0, ls=":", marker="o", ms=8, zorder=3,
                gid="emotion")  # fmt: skip
        ax.vlines(xs, low, high, color="#2c5aa0", lw=1.6, zorder=3, gid="emotion_interval")
        for x, r in zip(xs, rows, strict=True):
            ax.text(x, r["high"] + 0.06, f"{r['score']:+.2f}  [{r['low']:+.2f}, "
                    f"{r['high']:+.2f}]\n{r['answers']} answers: {r['sources']}", fontsize=8.5,
                    ha="center", va="bottom", color="#1f3f73", zorder=4,
                    bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1},
                    gid="emotion_label")  # fmt: skip
    for i, s in enumerate(data.stages["stage"]):
        if s not in e.index:
            ax.text(i + 0.5, 0.12, "no answers", fontsize=9, ha="center", color="#888888",
                    style="italic")  # fmt: skip
    ax.set_xlim(0, n)


def _runs(xs: list[float]) -> list[list[int]]:
    """Indices of runs of adjacent stage centres (1 apart)."""
    runs: list[list[int]] = []
    for j, x in enumerate(xs):
        if runs and abs(x - xs[runs[-1][-1]] - 1) < 1e-9:
            runs[-1].append(j)
        else:
            runs.append([j])
    return runs


def _pains(fig, ax, data: JourneyMapData, slots: int) -> None:
    order = {s: i for i, s in enumerate(data.stages["stage"])}
    for stage, part in data.pain_points.groupby("stage", sort=False):
        i = order[stage]
        for k, (_, p) in enumerate(part.iterrows()):
            y, h = _slot(fig, ax, k, slots)
            title = f"#{p['rank']} {p['name']}: {p['signal']}"
            body = f"{p['evidence']} (impact {p['impact_score']:.0f})"
            top = bool(p["top"])
            _box(fig, ax, i + 0.04, y, 0.92, h, title, body,
                 face="#f6b8b8" if top else RED_FILL, edge=RED, lw=3.2 if top else 1.0,
                 fontsize=9, gid=("top_pain:" if top else "pain:") + str(p["touchpoint"]),
                 title_colour=RED)  # fmt: skip


def _opportunities(fig, ax, data: JourneyMapData, slots: int) -> None:
    order = {s: i for i, s in enumerate(data.stages["stage"])}
    for stage, part in data.opportunities.groupby("stage", sort=False):
        i = order[stage]
        for k, (_, o) in enumerate(part.head(slots).iterrows()):
            y, h = _slot(fig, ax, k, slots)
            head, _, rest = str(o["text"]).partition(": ")
            gid = f"opportunity:{o['touchpoint']}:{str(o['kind']).replace(' ', '_')}"
            _box(fig, ax, i + 0.04, y, 0.92, h, head, rest, face=GREEN_FILL, edge=GREEN,
                 fontsize=9, gid=gid, title_colour=GREEN)  # fmt: skip


def _titles(fig, data: JourneyMapData, title: str | None) -> None:
    if title is None:
        who = f" — persona: {_persona_name(data)}" if data.persona else ""
        title = f"Customer journey map: {data.catalog.name or 'journey'}{who}"
    fig.text(0.012, 0.978, title, fontsize=19, fontweight="bold", color=INK, va="center",
             gid="title")  # fmt: skip
    fig.text(0.012, 0.952, f"{data.customers:,} customers. Emotion: CSAT, CES and comment "
             "sentiment on -1..+1, combined by inverse-variance weights, with a 95% band. "
             "Pain points ranked by customers affected (#1 outlined); ★ moment of truth.",
             fontsize=10.5, color="#444444", va="center")  # fmt: skip


def _persona_name(data: JourneyMapData) -> str:
    for p in data.catalog.personas:
        if p.id == data.persona:
            return p.name
    return str(data.persona)


def _legend(fig, data: JourneyMapData) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = _channel_colours(data)
    used = list(dict.fromkeys(data.touchpoints["channel"]))
    names = {c.id: c.name for c in data.catalog.channels}
    handles = [Patch(facecolor=colours[c], label=names[c]) for c in used]
    handles.append(Line2D([], [], marker="*", ms=13, color="#f2b701", mec="#7a5c00", lw=0,
                          label="moment of truth"))  # fmt: skip
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.08, 0.022),
               ncol=min(len(handles), 11), fontsize=9, frameon=False,
               title="Channels (bar under each touchpoint: share of customers reached)",
               title_fontsize=9, alignment="left")  # fmt: skip
    if data.notes:
        text = "Notes: " + " | ".join(data.notes)
        fig.text(0.012, 0.012, textwrap.shorten(text, 260), fontsize=8, color="#666666")


__all__ = ["journey_map", "journey_maps_by_persona", "save_journey_map"]
