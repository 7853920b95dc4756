"""Capacity planning: the cheapest configuration that meets service-level objectives.

``sim-plan`` takes ``sim``'s overrides plus ``plan.*`` keys (`sim.batch.plan.spec`): keys to
vary, objectives every run of a point must meet (``latency_s_p95<=0.3``), and what to
minimize. A search (`sim.batch.plan.search`) picks which points to run, far fewer than the
grid when keys are monotone in capacity; a Hydra sweeper (`sim.batch.plan.sweeper`) runs them
through the configured launcher as ``sim`` runs a sweep, each in a run folder of the
plan's sweep folder, reusing runs already complete there. `sim.batch.plan.table` writes
``plan.csv`` and reads the answer back from it; `sim.batch.plan.figure` draws ``plan.png``.
"""
