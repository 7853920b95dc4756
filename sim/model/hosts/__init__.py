"""Machines and what runs on them: a host's resources, its container engine (pulls as the
Docker daemon does them) and container runtime, the record of each replica started on a
host, cloud instances launched and billed, node allocatable and spot capacity.

May import ``images``, ``network`` and ``primitives``.
"""
