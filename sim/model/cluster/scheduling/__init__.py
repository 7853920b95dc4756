"""kube-scheduler's framework in the model: the profile, the scheduling cycle, and the
scheduler that places replicas on the cluster's hosts and keeps pending ones waiting.

The plugins themselves are pure deciders (`sim.policies.scheduling`); here they are put
together into a profile (`profile`), run over the cluster's nodes one pod at a time
(`cycle`), and driven by SimPy (`scheduler`), with the ranking presets ``spread`` and
``binpack`` (`ranking`) and the words a pending replica's event carries (`pending`).

To ask whether a pod would fit on a node that does not exist yet (a node autoscaler's
template), build the node with `sim.model.hosts.host.node_of` from the host parameters
it would have and call `SchedulingCycle.filter` with the cluster's nodes.
"""
