"""Statistics: the funnel, money, calls and visits over time, figures by employee."""
