"""The SimPy model of a container-orchestrated cloud, in subsystem packages.

Each package owns one part of the world and imports only the packages below it:

- ``faults`` — what fails during a run (fault kinds) and how the run recovers;
- ``service`` — a served app: arrivals, traffic and its modes, replica queues, the fleet
  behind its load balancer, monitoring, the autoscaling loop and the SLO;
- ``platforms`` — how a replica starts, what it holds and what it costs (container, VM,
  microVM, Beanstalk, Fargate);
- ``cluster`` — the cluster as a whole: its hosts and registries put together, the
  scheduler, deployments, the node lifecycle and the node scaler;
- ``hosts`` — machines and what runs on them: resources, the container engine (pulls),
  the container runtime, replicas' records, cloud instances and their bills, spot;
- ``images`` — images, the layer store, layer downloads, snapshotters and registries;
- ``network`` — the graph, topologies, flows and their max-min fair rates;
- ``primitives`` — small SimPy building blocks the others share (events later in an
  instant, first-come-first-served slots, token buckets).

The model knows no Hydra and no matplotlib, opens no files, and takes every random
generator it uses from its caller.
"""
