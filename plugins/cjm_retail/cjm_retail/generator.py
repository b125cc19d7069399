"""The retail template's simulated world and its planted intervention.

On 2024-03-18 the shop launches a redesigned one-page checkout: the median time in checkout
falls from 7 minutes to 3. From then on, journeys whose first checkout visit is on or after
the date end in a purchase 10 points more often (the same additive lift for every persona)
and CSAT at the checkout moves from ``CSAT_BEFORE`` to ``CSAT_AFTER`` (mean 3.24 -> 3.81).
Nothing else changes. The engine is :func:`cjm_core.synth.simulate`; only these settings
are retail's.

Example::

    >>> from cjm_retail.generator import generate
    >>> data = generate(customers=300, seed=1)
    >>> data.truth["effects"]["conversion"]["difference"]
    0.1
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from cjm_core.extensions import SyntheticData
from cjm_core.model import JourneyCatalog
from cjm_core.synth import simulate
from cjm_core.synth_settings import (
    FollowUp,
    Intervention,
    PhraseBank,
    SimulationSettings,
    SurveyRule,
)

INTERVENTION_DATE = "2024-03-18"
CSAT_BEFORE = (0.10, 0.16, 0.30, 0.28, 0.16)
CSAT_AFTER = (0.04, 0.07, 0.22, 0.38, 0.29)

INTERVENTION = Intervention(
    touchpoint="checkout",
    date=INTERVENTION_DATE,
    description=(
        "Redesigned one-page checkout with saved cards and express pay: median time in "
        "checkout cut from 7 to 3 minutes."
    ),
    conversion_lift=0.10,
    csat_before=CSAT_BEFORE,
    csat_after=CSAT_AFTER,
    duration_label="checkout_time_s",
    duration_before_s=420.0,
    duration_after_s=180.0,
    duration_sigma=0.5,
    csat_rate=0.15,
    extra_monthly_cost=15_000.0,
)

START = {"ads": 3.0, "social": 3.0, "search": 3.0, "email": 2.5, "website": 1.5, "app": 2.0,
         "store": 1.5}  # fmt: skip

TRANSITIONS = {
    "ads": {"website": 3.0, "app": 0.5, "end": 5.0},
    "social": {"website": 2.5, "app": 1.0, "social": 0.5, "end": 4.0},
    "search": {"website": 4.0, "store": 0.5, "end": 2.0},
    "email": {"website": 2.5, "app": 2.0, "end": 3.0},
    "website": {"website": 3.0, "checkout": 1.8, "app": 0.4, "store": 0.6, "support": 0.4,
                "search": 0.4, "end": 3.0},
    "app": {"app": 3.0, "checkout": 1.8, "website": 0.4, "store": 0.4, "support": 0.3,
            "end": 3.0},
    "store": {"store": 0.3, "website": 0.6, "app": 0.4, "support": 0.2, "end": 3.0},
    "support": {"website": 1.0, "checkout": 0.5, "app": 0.5, "store": 0.3, "end": 2.0},
    "checkout": {"website": 1.0, "app": 0.3, "support": 0.5, "checkout": 0.4, "end": 3.0},
}  # fmt: skip

FOLLOW_UPS = {
    "checkout": (
        FollowUp("email", 0.9, 120),
        FollowUp("delivery", 0.97, 2.5 * 86_400),
        FollowUp("support", 0.10, 3 * 86_400),
        FollowUp("returns", 0.09, 6 * 86_400),
        FollowUp("reviews", 0.18, 9 * 86_400),
    ),
    "store": (
        FollowUp("email", 0.3, 60),
        FollowUp("returns", 0.05, 5 * 86_400),
        FollowUp("support", 0.04, 3 * 86_400),
        FollowUp("reviews", 0.08, 7 * 86_400),
    ),
}

DURATIONS = {  # median seconds, log-sigma (support: the wait; others: session/handling)
    "ads": (5, 0.6), "social": (20, 0.8), "search": (8, 0.5), "email": (35, 0.8),
    "website": (200, 0.9), "app": (160, 0.8), "store": (1500, 0.6), "checkout": (420, 0.5),
    "delivery": (120, 0.5), "returns": (600, 0.6), "support": (360, 0.7),
    "reviews": (180, 0.6),
}  # fmt: skip

SURVEYS = (
    SurveyRule("csat", ("delivery",), 0.10, (0.08, 0.08, 0.17, 0.35, 0.32)),
    SurveyRule("csat", ("store",), 0.06, (0.04, 0.06, 0.18, 0.40, 0.32)),
    SurveyRule("csat", ("support",), 0.25, (0.15, 0.15, 0.25, 0.25, 0.20)),
    SurveyRule("csat", ("website", "app"), 0.01, (0.06, 0.09, 0.20, 0.38, 0.27)),
    SurveyRule("ces", ("support", "returns"), 0.12, (0.08, 0.10, 0.12, 0.16, 0.22, 0.18,
                                                     0.14)),
    SurveyRule("rating", ("reviews",), 0.92, (0.08, 0.06, 0.12, 0.26, 0.48), comment_rate=1.6),
    SurveyRule("nps", (), 0.05,
               (0.05, 0.03, 0.04, 0.05, 0.06, 0.09, 0.10, 0.16, 0.18, 0.12, 0.12),
               converted_scores=(0.02, 0.02, 0.02, 0.03, 0.04, 0.07, 0.08, 0.14, 0.20, 0.19,
                                 0.19)),
)  # fmt: skip

PHRASES = PhraseBank(
    details={
        "checkout": {
            "negative": ("the checkout kept asking for my address again",
                         "payment failed twice at checkout", "the checkout took forever",
                         "the discount code would not apply", "I gave up on the basket "
                         "halfway through"),
            "neutral": ("checkout worked but too many steps", "paid in the end",
                        "the checkout was ok"),
            "positive": ("checkout took a minute", "paying was super quick",
                         "express pay made it painless", "love the one-page checkout"),
        },
        "delivery": {
            "negative": ("the parcel arrived three days late", "the driver left it in the "
                         "rain", "tracking said delivered but nothing came"),
            "neutral": ("delivery was on the last day of the window", "parcel arrived, "
                        "box a bit battered"),
            "positive": ("delivered the next morning", "the courier was friendly and on "
                         "time"),
        },
        "store": {
            "negative": ("the store was a mess and nobody to ask", "queues at the tills "
                         "were huge"),
            "neutral": ("the store had most sizes", "staff were busy but ok"),
            "positive": ("staff in the store were really helpful", "found everything I "
                         "wanted in store"),
        },
        "support": {
            "negative": ("support took days to reply", "the agent read from a script and "
                         "did not help"),
            "neutral": ("support answered eventually", "the chat agent was polite"),
            "positive": ("support fixed it in minutes", "the agent refunded me straight "
                         "away"),
        },
        "returns": {
            "negative": ("the refund took weeks", "the return label never arrived"),
            "neutral": ("the return was a bit fiddly",),
            "positive": ("returns were painless", "refund arrived the next day"),
        },
        "reviews": {
            "negative": ("the product broke after a week", "looks nothing like the photos",
                         "cheap material, sent it back"),
            "neutral": ("the product is fine for the price", "does the job, nothing more"),
            "positive": ("great quality, fits perfectly", "exactly as described, would "
                         "buy again", "my new favourite"),
        },
        "_overall": {
            "negative": ("this shop has gone downhill", "prices up, service down"),
            "neutral": ("a shop like any other", "decent prices, average service"),
            "positive": ("my go-to shop", "always a good experience with this shop"),
        },
    },
    names={
        "en": {"_overall": "shop"},
        "pt": {"checkout": "o checkout", "delivery": "a entrega", "store": "a loja",
               "support": "o suporte", "returns": "a devolução", "reviews": "o produto",
               "_overall": "a loja"},
        "es": {"checkout": "el pago", "delivery": "la entrega", "store": "la tienda",
               "support": "el soporte", "returns": "la devolución", "reviews": "el producto",
               "_overall": "la tienda"},
    },
)  # fmt: skip

COSTS = {  # fixed per month, cost per event (EUR)
    "ads": (18_000, 0.35), "social": (9_000, 0.2), "search": (14_000, 0.6),
    "email": (2_000, 0.01), "website": (25_000, 0.04), "app": (20_000, 0.03),
    "store": (220_000, 4.0), "checkout": (6_000, 0.25), "delivery": (4_000, 5.5),
    "returns": (2_000, 7.0), "support": (30_000, 3.5),
}  # fmt: skip


@cache
def catalog() -> JourneyCatalog:
    """The retail catalog shipped with the package."""
    return JourneyCatalog.from_yaml(files("cjm_retail") / "catalog.yaml", name="retail")


@cache
def settings() -> SimulationSettings:
    """The retail world for :func:`cjm_core.synth.simulate`."""
    return SimulationSettings(
        template="retail",
        catalog=catalog(),
        intervention=INTERVENTION,
        start_weights=START,
        transitions=TRANSITIONS,
        conversion_touchpoints={"checkout": 1.0, "store": 1.0},
        conversion_requires_visit=True,
        follow_ups=FOLLOW_UPS,
        durations=DURATIONS,
        surveys=SURVEYS,
        phrases=PHRASES,
        regions={"north": 0.25, "south": 0.30, "central": 0.30, "islands": 0.15},
        languages={"en": 0.88, "es": 0.07, "pt": 0.05},
        costs=COSTS,
        fixed_device={"app": "mobile"},
        value_sigma=0.7,
        currency="EUR",
        version="1",
    )


def generate(customers: int = 5000, seed: int = 7, **options) -> SyntheticData:
    """Synthetic retail data with the planted checkout redesign.

    :param options: ``start``, ``end`` (``YYYY-MM-DD``) and ``intervention_date``.

    Example::

        >>> generate(customers=200, seed=2).truth["intervention"]["touchpoint"]
        'checkout'
    """
    return simulate(settings(), customers=customers, seed=seed, **options)
