"""kube-scheduler's plugins as pure deciders: which nodes a pod may go to, and which is best.

One module per plugin, after ``pkg/scheduler/framework/plugins/<plugin>/``; each takes
plain values — a `PodInfo` and `NodeInfo` snapshots (`objects`) — and answers with a
rejection or a score (`plugin`), so it is tested with tables alone. `registry` lists
every plugin and kube-scheduler's default profile. The scheduling cycle that runs them
(filter every node, score the feasible ones, normalise, weigh, break ties) is the
model's (`sim.model.cluster.scheduling`).
"""
