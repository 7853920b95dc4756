"""A docker-like command line over a simulated host: ``sim-docker``.

`dockerfile` reads real Dockerfiles, `daemon` keeps the simulated host's images,
containers and volumes and advances simulated time, `cli` parses Docker's verbs and
prints what Docker would print.
"""
