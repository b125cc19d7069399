"""Pictures of the journey: the journey-map canvas (stages as columns, lanes as rows).

- :func:`journey_map_data`: the tidy frames per stage (touchpoints with reach, actions,
  emotion with its band, pain points, opportunities, moments of truth);
- :func:`journey_map`: the canvas as a matplotlib Figure; :func:`save_journey_map` writes it
  as PNG, SVG or PDF; :func:`journey_maps_by_persona`: one canvas per persona;
- :func:`control_chart`: a KPI (conversion, wait, CSAT, CES, NPS) per period against its
  control limits, with the Western Electric signals.

Example::

    >>> from cjm_core.viz import journey_map, save_journey_map
    >>> callable(journey_map) and callable(save_journey_map)
    True
"""

from .canvas import journey_map, journey_maps_by_persona, save_journey_map
from .canvas_data import JourneyMapData, journey_map_data
from .control import ControlChart, control_chart, control_chart_from_counts

__all__ = [
    "ControlChart",
    "JourneyMapData",
    "control_chart",
    "control_chart_from_counts",
    "journey_map",
    "journey_map_data",
    "journey_maps_by_persona",
    "save_journey_map",
]
