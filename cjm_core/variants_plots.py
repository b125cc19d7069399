"""Drawing :class:`~cjm_core.variants.PathVariants`: a plotly Sankey, a matplotlib bar chart."""

from __future__ import annotations

from typing import Any

from .variants import OTHER_VARIANTS


def sankey(result: Any, **kwargs: Any):
    import plotly.graph_objects as go

    top = result.table[result.table["variant"] != OTHER_VARIANTS]
    nodes: dict[tuple, int] = {}
    links: dict[tuple[int, int], int] = {}

    def node(key: tuple) -> int:
        return nodes.setdefault(key, len(nodes))

    for steps, journeys, conversions in zip(
        top["steps"], top["journeys"], top["conversions"], strict=True
    ):
        chain = [node((i, s)) for i, s in enumerate(steps)]
        for a, b in zip(chain, chain[1:], strict=False):
            links[(a, b)] = links.get((a, b), 0) + journeys
        if chain:
            for outcome, n in (
                ("(conversion)", conversions),
                ("(drop-off)", journeys - conversions),
            ):
                if n:
                    end = node((-1, outcome))
                    links[(chain[-1], end)] = links.get((chain[-1], end), 0) + n
    labels = [label for (_, label) in nodes]
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12},
            link={
                "source": [a for a, _ in links],
                "target": [b for _, b in links],
                "value": list(links.values()),
            },
        )
    )
    fig.update_layout(title_text=kwargs.get("title", result._heading()))
    return fig


def bar(result: Any, **kwargs: Any):
    import matplotlib.pyplot as plt

    t = result.table.iloc[::-1]
    fig, ax = plt.subplots(figsize=kwargs.get("figsize", (8, 0.35 * len(t) + 1.2)))
    ax.barh(t["variant"], t["share"])
    ax.set_xlabel("share of journeys")
    ax.set_title(result._heading())
    fig.tight_layout()
    return fig
