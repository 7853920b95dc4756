"""Foundations shared by every layer: units, named random streams, errors, event records.

Nothing here knows SimPy, Hydra or matplotlib; only the standard library and numpy.
"""
