"""Faults: the kinds of failure a run can inject (``kinds``) and resilience, which injects
them, takes what they take and accounts for the recovery.

May import every other model package.
"""
