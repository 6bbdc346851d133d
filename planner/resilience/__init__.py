"""Decisions under disruption: stress tests without foresight, Monte Carlo,
stockpile sizing and the two-stage hedge.
"""
