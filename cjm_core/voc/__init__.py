"""Voice of the customer: survey metrics, feedback linked to journeys, comments, key drivers."""
