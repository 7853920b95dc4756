"""Karpenter's decisions (kubernetes-sigs/karpenter v1.14, aws/karpenter-provider-aws v1.14).

* `catalogue`: the instance types a NodePool's requirements allow (families, sizes,
  types, architectures, capacity types), each an *offering* (a type on demand or spot)
  with its price and the node it would make; which offering a launch takes (spot before
  on-demand when both are allowed, the cheapest);
* `scheduling`: the provisioner's scheduler: pending pods, largest first, onto existing
  and in-flight nodes, then onto new NodeClaims whose instance type options narrow as
  pods are added (``pkg/controllers/provisioning/scheduling``);
* `disruption`: budgets and the disruption methods, each a small type behind one
  interface: emptiness, multi-node and single-node consolidation
  (``pkg/controllers/disruption``).
"""
