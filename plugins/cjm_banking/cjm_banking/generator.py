"""The banking template's simulated world and its planted intervention.

On 2024-04-01 the bank staffs up its call centre: the median wait falls from 9 minutes to 2.
From then on, journeys whose first call-centre contact is on or after the date convert
8 points more often (the same additive lift for every persona) and CSAT at the call centre
moves from ``CSAT_BEFORE`` to ``CSAT_AFTER`` (mean 2.84 -> 3.65). Nothing else changes.
The engine is :func:`cjm_core.synth.simulate`; only these settings are banking's.

Example::

    >>> from cjm_banking.generator import generate
    >>> data = generate(customers=300, seed=1)
    >>> data.truth["effects"]["conversion"]["difference"]
    0.08
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

INTERVENTION_DATE = "2024-04-01"
CSAT_BEFORE = (0.16, 0.24, 0.30, 0.20, 0.10)
CSAT_AFTER = (0.05, 0.10, 0.25, 0.35, 0.25)

INTERVENTION = Intervention(
    touchpoint="call_centre",
    date=INTERVENTION_DATE,
    description=(
        "Call-centre staffing increased and call-back added: median wait cut from 9 to 2 minutes."
    ),
    conversion_lift=0.08,
    csat_before=CSAT_BEFORE,
    csat_after=CSAT_AFTER,
    duration_label="wait_time_s",
    duration_before_s=540.0,
    duration_after_s=120.0,
    duration_sigma=0.6,
    csat_rate=0.25,
    extra_monthly_cost=38_000.0,
)

START = {
    "social_ads": 3.0, "search_ads": 3.0, "display_ads": 2.0, "email": 2.5, "website": 2.0,
    "mobile_app": 2.5, "branch": 0.6, "atm": 0.5, "call_centre": 0.8,
}  # fmt: skip

TRANSITIONS = {
    "social_ads": {"website": 4.0, "mobile_app": 1.0, "social_ads": 0.5, "end": 4.0},
    "search_ads": {"website": 5.0, "end": 3.0},
    "display_ads": {"website": 3.0, "end": 5.0},
    "email": {"website": 3.0, "mobile_app": 2.0, "online_application": 0.5, "end": 3.0},
    "website": {"website": 2.0, "chatbot": 1.0, "call_centre": 1.2, "online_application": 1.5,
                "branch": 0.7, "mobile_app": 0.8, "email": 0.4, "end": 3.0},
    "mobile_app": {"mobile_app": 1.5, "website": 0.8, "call_centre": 1.0, "chatbot": 0.8,
                   "online_application": 1.0, "atm": 0.3, "end": 3.0},
    "chatbot": {"call_centre": 1.2, "website": 1.5, "online_application": 0.7, "end": 1.5},
    "call_centre": {"website": 1.2, "branch": 0.8, "online_application": 1.0,
                    "advisor_meeting": 0.6, "call_centre": 0.4, "mobile_app": 0.6, "end": 2.5},
    "branch": {"advisor_meeting": 1.5, "website": 0.5, "call_centre": 0.4, "atm": 0.4,
               "end": 2.5},
    "atm": {"branch": 0.5, "mobile_app": 0.5, "end": 3.0},
    "online_application": {"id_verification": 2.0, "call_centre": 0.8, "website": 0.8,
                           "chatbot": 0.5, "end": 2.5},
    "id_verification": {"call_centre": 0.6, "online_application": 0.5, "end": 2.5},
    "advisor_meeting": {"branch": 0.3, "call_centre": 0.3, "end": 2.5},
}  # fmt: skip

FOLLOW_UPS = {
    "*": (
        FollowUp("welcome_pack", 0.95, 3_600),
        FollowUp("card_activation", 0.7, 5 * 86_400),
        FollowUp("mobile_app", 0.5, 8 * 86_400),
        FollowUp("atm", 0.3, 10 * 86_400),
    )
}

DURATIONS = {  # median seconds, log-sigma (assisted: the wait; others: handling/session)
    "social_ads": (15, 0.8), "search_ads": (10, 0.6), "display_ads": (5, 0.6),
    "email": (40, 0.8), "website": (180, 0.9), "chatbot": (240, 0.6),
    "call_centre": (540, 0.6), "branch": (900, 0.5), "online_application": (600, 0.6),
    "id_verification": (240, 0.5), "advisor_meeting": (300, 0.7), "welcome_pack": (30, 0.7),
    "card_activation": (120, 0.5), "mobile_app": (150, 0.8), "atm": (90, 0.3),
}  # fmt: skip

CSAT = (0.06, 0.09, 0.20, 0.38, 0.27)
SURVEYS = (
    SurveyRule("csat", ("branch",), 0.12, (0.04, 0.07, 0.19, 0.40, 0.30)),
    SurveyRule("csat", ("advisor_meeting",), 0.25, (0.03, 0.06, 0.16, 0.40, 0.35)),
    SurveyRule("csat", ("online_application", "mobile_app", "website"), 0.02, CSAT),
    SurveyRule("csat", ("chatbot",), 0.10, (0.15, 0.20, 0.30, 0.22, 0.13)),
    SurveyRule("ces", ("chatbot", "online_application", "id_verification"), 0.05,
               (0.05, 0.07, 0.10, 0.16, 0.25, 0.22, 0.15)),
    SurveyRule("nps", (), 0.06,
               (0.04, 0.03, 0.04, 0.05, 0.06, 0.09, 0.10, 0.16, 0.18, 0.13, 0.12),
               converted_scores=(0.02, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.14, 0.20, 0.20,
                                 0.20)),
)  # fmt: skip

PHRASES = PhraseBank(
    details={
        "call_centre": {
            "negative": ("I was on hold for ages", "the hold music went on forever",
                         "got transferred three times", "the line dropped after a long wait",
                         "nobody could answer a simple question about fees",
                         "waited so long I gave up and called back later"),
            "neutral": ("the agent was polite but it took a while to get through",
                        "got my answer in the end", "had to explain my issue twice",
                        "the wait was acceptable"),
            "positive": ("got through to someone almost immediately",
                         "the agent sorted it out in one call", "very quick to reach a person",
                         "friendly agent who knew the products well", "the call-back was "
                         "right on time"),
        },
        "branch": {
            "negative": ("the branch queue was out the door", "only one cashier open",
                         "the branch closed early without notice"),
            "neutral": ("the branch was busy but fine", "staff did what they could"),
            "positive": ("staff at the branch were lovely", "in and out of the branch in "
                         "minutes"),
        },
        "advisor_meeting": {
            "negative": ("the advisor kept pushing products I did not want",
                         "the meeting started 30 minutes late"),
            "neutral": ("the advisor explained the options", "useful but long meeting"),
            "positive": ("the advisor really listened", "clear advice, no jargon"),
        },
        "chatbot": {
            "negative": ("the chatbot kept sending me in circles", "the bot did not "
                         "understand my question"),
            "neutral": ("the chat bot handled the basics", "the bot passed me to a person"),
            "positive": ("the chat answered straight away", "the assistant found the form "
                         "for me"),
        },
        "online_application": {
            "negative": ("the application form timed out twice", "the upload of my "
                         "documents kept failing"),
            "neutral": ("the application took longer than promised",),
            "positive": ("applied online in ten minutes", "the application was "
                         "straightforward"),
        },
        "_overall": {
            "negative": ("the bank makes everything hard", "fees keep going up and service "
                         "down"),
            "neutral": ("the bank is ok, like any other", "nothing special about this bank"),
            "positive": ("best bank I have had", "the bank just works"),
        },
    },
    names={
        "en": {"_overall": "bank"},
        "pt": {"call_centre": "a central de atendimento", "branch": "a agência",
               "advisor_meeting": "a reunião com o gerente", "chatbot": "o chat",
               "online_application": "o pedido online", "_overall": "o banco"},
        "es": {"call_centre": "el centro de llamadas", "branch": "la sucursal",
               "advisor_meeting": "la reunión con el asesor", "chatbot": "el chat",
               "online_application": "la solicitud online", "_overall": "el banco"},
    },
)  # fmt: skip

COSTS = {  # fixed per month, cost per event (EUR)
    "social_ads": (12_000, 0.9), "search_ads": (15_000, 1.6), "display_ads": (8_000, 0.4),
    "email": (2_500, 0.02), "website": (20_000, 0.05), "chatbot": (4_000, 0.3),
    "call_centre": (95_000, 4.5), "branch": (160_000, 12.0), "online_application": (6_000, 0.5),
    "id_verification": (3_000, 1.2), "advisor_meeting": (25_000, 35.0),
    "mobile_app": (30_000, 0.03), "atm": (40_000, 0.8),
}  # fmt: skip


@cache
def catalog() -> JourneyCatalog:
    """The banking catalog shipped with the package."""
    return JourneyCatalog.from_yaml(files("cjm_banking") / "catalog.yaml", name="banking")


@cache
def settings() -> SimulationSettings:
    """The banking world for :func:`cjm_core.synth.simulate`."""
    return SimulationSettings(
        template="banking",
        catalog=catalog(),
        intervention=INTERVENTION,
        start_weights=START,
        transitions=TRANSITIONS,
        conversion_touchpoints={
            "online_application": 3.0,
            "mobile_app": 1.0,
            "advisor_meeting": 1.5,
            "branch": 1.0,
        },  # fmt: skip
        conversion_requires_visit=False,
        conversion_boost={"online_application": 1.6, "advisor_meeting": 1.4},
        follow_ups=FOLLOW_UPS,
        durations=DURATIONS,
        surveys=SURVEYS,
        phrases=PHRASES,
        regions={"north": 0.22, "south": 0.28, "east": 0.18, "west": 0.20, "capital": 0.12},
        languages={"en": 0.9, "pt": 0.05, "es": 0.05},
        costs=COSTS,
        fixed_device={
            "mobile_app": "mobile",
            "card_activation": "mobile",
            "id_verification": "mobile",
        },  # fmt: skip
        currency="EUR",
        version="1",
    )


def generate(customers: int = 5000, seed: int = 7, **options) -> SyntheticData:
    """Synthetic banking data with the planted call-centre intervention.

    :param options: ``start``, ``end`` (``YYYY-MM-DD``) and ``intervention_date``.

    Example::

        >>> generate(customers=200, seed=2).truth["intervention"]["touchpoint"]
        'call_centre'
    """
    return simulate(settings(), customers=customers, seed=seed, **options)
