"""Drawing primitives of the journey-map canvas: the stage grid, wrapped text boxes, lane
slots and reach bars, in data units of a lane's axes (x: stages, y: 0..1)."""

from __future__ import annotations

import textwrap

INK, GRID = "#222222", "#f3f3f3"


def _column_grid(ax, n: int) -> None:
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    for i in range(n):
        if i % 2:
            ax.axvspan(i, i + 1, color=GRID, zorder=0, lw=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axhline(1, color="#bbbbbb", lw=0.8, zorder=1)


def _middle(ax) -> float:
    box = ax.get_position()
    return box.y0 + box.height / 2


def _size(fig, ax) -> tuple[float, float]:
    """Inches per data unit along x and y."""
    box = ax.get_position()
    w, h = fig.get_size_inches()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return box.width * w / (x1 - x0), box.height * h / (y1 - y0)


def _wrap(text: str, width_in: float, fontsize: float, bold: bool = False) -> list[str]:
    chars = max(int(width_in * 72 / (fontsize * (0.62 if bold else 0.55))), 4)
    return textwrap.wrap(text, chars, break_long_words=True) or [""]


def _box(fig, ax, x, y, w, h, title, body, *, face, edge, lw=1.0, fontsize=9.0, gid="",
         title_colour=INK, bottom_in=0.0):  # fmt: skip
    """A rounded box (x, y = lower left, data units) with a bold title and body text, wrapped
    and cut (with "...") to fit."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.02",
                                facecolor=face, edgecolor=edge, lw=lw, zorder=2,
                                gid=f"box:{gid}", mutation_aspect=0.3))  # fmt: skip
    ux, uy = _size(fig, ax)
    pad_x, pad_y = 0.06 / ux, 0.03 / uy
    inner = w * ux - 0.12
    line = fontsize * 1.16 / 72 / uy
    room = max(int((h - 2 * pad_y - bottom_in / uy) / line + 0.05), 1)
    heads = _wrap(title, inner, fontsize, bold=True)[:room]
    lines = _wrap(body, inner, fontsize - 0.5) if body else []
    keep = room - len(heads)
    if len(lines) > keep:
        lines = lines[:keep]
        if lines:
            lines[-1] = lines[-1][: max(len(lines[-1]) - 3, 1)].rstrip() + "..."
    top = y + h - pad_y
    ax.text(x + pad_x, top, "\n".join(heads), fontsize=fontsize, fontweight="bold", va="top",
            ha="left", color=title_colour, zorder=3, gid=gid, linespacing=1.1)  # fmt: skip
    if lines:
        ax.text(x + pad_x, top - len(heads) * line, "\n".join(lines), fontsize=fontsize - 0.5,
                va="top", ha="left", color=INK, zorder=3, gid=f"{gid}:body",
                linespacing=1.1)  # fmt: skip


def _slot(fig, ax, k: int, slots: int, gap_in: float = 0.06) -> tuple[float, float]:
    """(y0, height) of the k-th box from the top of a lane split into ``slots``, boxes
    ``gap_in`` inches apart."""
    gap = gap_in / _size(fig, ax)[1]
    h = (1 - gap) / slots
    return 1 - (k + 1) * h, h - gap


def _bar(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), max(w, 0.004), h, facecolor=colour, lw=0, zorder=3)
