"""Images and where they come from: content-addressed layers and images, a host's disk
and layer store, layer downloads (whole or lazy), snapshotters, and registries of every
kind (public, private, mirror, quota) with their limits.

May import ``network`` and ``primitives``.
"""
