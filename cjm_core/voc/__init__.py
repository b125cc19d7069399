"""Voice of the customer: survey metrics, feedback linked to journeys, comments, key drivers.

- :func:`survey_metrics`, :func:`compare_scores`, :func:`score_trend`: NPS, CSAT, CES and
  declared ratings per touchpoint, stage, persona and period, with intervals and tests;
- :func:`link_feedback`: each answer placed on its journey and touchpoint;
- :func:`comment_sentiment`, :func:`sentiment_agreement`, :func:`comment_topics`: offline
  sentiment (English, Portuguese, Spanish) checked against ratings, and topics of negative
  comments;
- :func:`key_drivers`, :func:`driver_table`: which satisfaction goes with the outcome.
"""

from .drivers import key_drivers
from .drivers_result import KeyDrivers
from .drivers_table import driver_table
from .link import LinkedFeedback, link_feedback
from .sentiment import comment_sentiment
from .sentiment_agreement import SentimentAgreement, sentiment_agreement
from .survey import ScoreTrend, SurveyMetrics, compare_scores, score_trend, survey_metrics
from .topics import CommentTopics, comment_topics

__all__ = [
    "CommentTopics",
    "KeyDrivers",
    "LinkedFeedback",
    "ScoreTrend",
    "SentimentAgreement",
    "SurveyMetrics",
    "comment_sentiment",
    "comment_topics",
    "compare_scores",
    "driver_table",
    "key_drivers",
    "link_feedback",
    "score_trend",
    "sentiment_agreement",
    "survey_metrics",
]
