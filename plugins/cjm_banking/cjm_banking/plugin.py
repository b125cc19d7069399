"""The banking template, registered through the ``cjm`` entry-point group.

Example::

    >>> from cjm_banking.plugin import banking_template
    >>> t = banking_template()
    >>> t.name, t.study_defaults["touchpoints"]
    ('banking', ['call_centre'])
"""

from __future__ import annotations

from cjm_core.extensions import KPI, Connector, Funnel, Template
from cjm_core.plugins import hookimpl

from .generator import INTERVENTION_DATE, catalog, generate

KPIS = (
    KPI("conversion_rate", "Conversion rate",
        "Share of journeys with an event_type == 'conversion' event (an account or product "
        "opened)."),
    KPI("csat_call_centre", "CSAT at the call centre",
        "Mean CSAT (1-5) of feedback with touchpoint == 'call_centre'."),
    KPI("avg_wait_call_centre", "Average wait at the call centre",
        "Mean duration_s of call_centre events (seconds on hold).", higher_is_better=False),
    KPI("nps", "Net Promoter Score",
        "% promoters (9-10) minus % detractors (0-6) among NPS answers."),
    KPI("repeat_contact_rate", "Repeat contact rate",
        "Share of journeys with a call_centre contact that have a second one within 7 days.",
        higher_is_better=False),
    KPI("digital_share", "Digital share",
        "Share of events at digital touchpoints."),
    KPI("application_abandonment", "Application abandonment",
        "Share of journeys reaching online_application that do not convert.",
        higher_is_better=False),
    KPI("cost_per_conversion", "Cost per conversion",
        "Sum of costs.amount over the period / number of conversions.",
        higher_is_better=False),
)  # fmt: skip

FUNNELS = (
    Funnel("digital_account_opening", "Website to online application",
           ("website", "online_application"), level="touchpoint", window="30D"),
    Funnel("journey_stages", "Awareness to onboarding (onboarding follows an opened account)",
           ("awareness", "consideration", "application", "onboarding"), level="stage",
           window="30D"),
    Funnel("account_opened", "Interaction to conversion (account opened)",
           ("interaction", "conversion"), level="event_type", window="30D"),
)  # fmt: skip


def banking_template() -> Template:
    """The banking :class:`~cjm_core.extensions.Template`."""
    return Template(
        name="banking",
        title="Retail banking",
        description=(
            "Ads, social, website, app, email, chat, call centre, branch and ATM across "
            "awareness, consideration, application, onboarding and servicing. Planted "
            f"intervention: call-centre waiting cut on {INTERVENTION_DATE}."
        ),
        catalog=catalog(),
        kpis=KPIS,
        funnels=FUNNELS,
        study_defaults={
            "touchpoints": ["call_centre"],
            "metrics": ["conversion", "csat", "wait_time", "revenue_per_customer"],
            "intervention_date": INTERVENTION_DATE,
            "alpha": 0.05,
            "cost": 50000.0,  # what the change cost, for the study's ROI (illustrative)
        },
        generate=generate,
    )


@hookimpl
def cjm_register_templates() -> list[Template]:
    return [banking_template()]


@hookimpl
def cjm_register_connectors() -> list[Connector]:
    """Connectors for three real public banking data sets (see :mod:`cjm_banking.real_data`)."""
    from .real_data import connectors  # imported here: a failure stays in this hook

    return connectors()
