"""The cluster: hosts, registries and network put together from config, placement of
replicas on hosts, deployments, the kubelet's CrashLoopBackOff, and the node scaler that
adds and removes hosts.

May import ``hosts``, ``images``, ``network`` and ``primitives``.
"""
