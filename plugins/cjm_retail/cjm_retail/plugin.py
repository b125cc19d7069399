"""The retail template, registered through the ``cjm`` entry-point group.

Example::

    >>> from cjm_retail.plugin import retail_template
    >>> t = retail_template()
    >>> t.name, t.study_defaults["touchpoints"]
    ('retail', ['checkout'])
"""

from __future__ import annotations

from cjm_core.extensions import KPI, Connector, Funnel, Template
from cjm_core.plugins import hookimpl

from .generator import INTERVENTION_DATE, catalog, generate

KPIS = (
    KPI("conversion_rate", "Conversion rate",
        "Share of journeys with an event_type == 'conversion' event (a purchase online or "
        "in store)."),
    KPI("checkout_completion", "Checkout completion",
        "Share of journeys reaching checkout that have a conversion at or after the first "
        "checkout visit."),
    KPI("csat_checkout", "CSAT at checkout",
        "Mean CSAT (1-5) of feedback with touchpoint == 'checkout'."),
    KPI("avg_checkout_time", "Average time in checkout",
        "Mean duration_s of checkout events.", higher_is_better=False),
    KPI("average_order_value", "Average order value",
        "Mean value of conversion events."),
    KPI("delivery_csat", "Delivery CSAT",
        "Mean CSAT (1-5) of feedback with touchpoint == 'delivery'."),
    KPI("return_rate", "Return rate",
        "Share of converted journeys with a returns event.", higher_is_better=False),
    KPI("average_rating", "Average review rating",
        "Mean score of feedback with metric == 'rating'."),
    KPI("nps", "Net Promoter Score",
        "% promoters (9-10) minus % detractors (0-6) among NPS answers."),
    KPI("repeat_contact_rate", "Repeat support contact rate",
        "Share of journeys with a support contact that have a second one within 7 days.",
        higher_is_better=False),
)  # fmt: skip

FUNNELS = (
    Funnel("web_checkout", "Website to checkout", ("website", "checkout"), level="touchpoint",
           window="7D"),
    Funnel("app_checkout", "App to checkout", ("app", "checkout"), level="touchpoint",
           window="7D"),
    Funnel("journey_stages", "Awareness to delivery",
           ("awareness", "consideration", "purchase", "delivery"), level="stage",
           window="30D"),
    Funnel("purchase", "Interaction to purchase", ("interaction", "conversion"),
           level="event_type", window="30D"),
)  # fmt: skip


def retail_template() -> Template:
    """The retail :class:`~cjm_core.extensions.Template`."""
    return Template(
        name="retail",
        title="Retail (online shop and stores)",
        description=(
            "Ads, social, search, email, website, app, store, checkout, delivery, returns, "
            "support and reviews. Planted intervention: a redesigned one-page checkout on "
            f"{INTERVENTION_DATE}."
        ),
        catalog=catalog(),
        kpis=KPIS,
        funnels=FUNNELS,
        study_defaults={
            "touchpoints": ["checkout"],
            "metrics": ["conversion", "csat", "wait_time", "revenue_per_customer"],
            "intervention_date": INTERVENTION_DATE,
            "alpha": 0.05,
            "cost": 20000.0,  # what the change cost, for the study's ROI (illustrative)
        },
        generate=generate,
    )


@hookimpl
def cjm_register_templates() -> list[Template]:
    return [retail_template()]


@hookimpl
def cjm_register_connectors() -> list[Connector]:
    """Connectors for real public retail data: ``olist`` and ``online_shoppers``."""
    from .real_olist import OLIST_CONNECTOR  # imported here: a failure stays in this hook
    from .real_shoppers import SHOPPERS_CONNECTOR

    return [OLIST_CONNECTOR, SHOPPERS_CONNECTOR]
