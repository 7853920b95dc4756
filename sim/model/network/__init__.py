"""The network: a small graph type, topologies built from config, flows in flight and
their max-min fair rates, kept exact and updated incrementally.

May import ``primitives`` only.
"""
