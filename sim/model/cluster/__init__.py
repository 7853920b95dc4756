"""The cluster: hosts, registries and network put together from config, the scheduler
that places replicas on hosts (`sim.model.cluster.scheduling`), deployments, the node
lifecycle (when a crashed host's pods are replaced), and the node scaler that adds and
removes hosts.

May import ``hosts``, ``images``, ``network`` and ``primitives``.
"""
