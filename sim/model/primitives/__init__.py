"""SimPy building blocks the subsystems share: events that fire later in the current
instant, slots taken first come first served, and token buckets.

Imports nothing of the model.
"""
