"""A docker-like command line over a simulated host: ``sim-docker``.

`dockerfile` reads real Dockerfiles; `node` is the simulated host (the first host of a
cluster built like any run's, with the model's container runtime) and its clock; the
`daemon` keeps its `images`, `containers` and `volumes` (one service each) and builds
with the `builder`; `verbs` carry out Docker's verbs on it and `cli` prints what Docker
would print.
"""
