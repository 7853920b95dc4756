"""The Cluster Autoscaler's decisions (kubernetes/autoscaler, cluster-autoscaler 1.36).

* `utilization`: a node's utilisation, the larger of its CPU and memory requests over
  its allocatable (``simulator/utilization``);
* `eligibility`: which nodes may be removed: under the utilisation threshold, in an
  autoscaled group, and with every pod placeable on the other nodes in a simulation
  (``core/scaledown/eligibility``, ``simulator/cluster.go``);
* `planner`: how long each node has been unneeded, and which to delete now (empty ones in
  bulk, drained ones one at a time) (``core/scaledown/planner``, ``unneeded``);
* `estimator`: how many template nodes of a group the pending pods need, first-fit
  decreasing (``estimator/binpacking_estimator.go``);
* `expanders`: which group to grow (``expander/*``);
* `balance`: similar node groups and the split of a scale-up between them
  (``processors/nodegroupset``);
* `backoff`: a group whose nodes failed to join is left alone for a while
  (``utils/backoff``).
"""
