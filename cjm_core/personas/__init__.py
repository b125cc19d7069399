"""Personas from data: behavioural features per customer, k-means segments, persona cards,
and their match to the catalog's template archetypes.

:func:`customer_features` describes each customer (channels, digital share, frequency,
recency, value, support contacts, outcomes); :func:`find_personas` clusters them
(scikit-learn k-means, k chosen by silhouette, stability checked over seeds) into a
:class:`PersonaModel` whose :class:`PersonaCards` give each persona's size, defining traits,
typical paths, satisfaction and a plain name; :func:`match_archetypes` pairs the personas
with ``catalog.personas``. Any journey analysis runs per persona with
:func:`cjm_core.breakdown.by_group`.

Example::

    >>> import pandas as pd
    >>> f = pd.DataFrame({"digital_share": [0.9, 0.95, 0.9, 0.1, 0.2, 0.15]},
    ...                  index=pd.Index(list("abcdef"), name="customer_id"))
    >>> model = find_personas(f, k=2)
    >>> sorted(model.names.values())
    ['Digital', 'Typical']
"""

from __future__ import annotations

from .archetypes import ArchetypeMatch, archetype_profiles, match_archetypes
from .cards import PersonaCard, PersonaCards, Trait, persona_cards, persona_name
from .features import SUPPORT_WORDS, customer_features, support_touchpoints
from .segment import DEFAULT_COLUMNS, LOG_FEATURES, PersonaModel, Scaler, find_personas

__all__ = [
    "DEFAULT_COLUMNS",
    "LOG_FEATURES",
    "SUPPORT_WORDS",
    "ArchetypeMatch",
    "PersonaCard",
    "PersonaCards",
    "PersonaModel",
    "Scaler",
    "Trait",
    "archetype_profiles",
    "customer_features",
    "find_personas",
    "match_archetypes",
    "persona_cards",
    "persona_name",
    "support_touchpoints",
]
