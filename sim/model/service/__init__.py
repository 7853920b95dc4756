"""A served application: request arrivals, traffic and its modes (every request, or
fluid), replica queues, the fleet of replicas behind a load balancer, CloudWatch-like
monitoring, the autoscaling control loop and the service level objective.

May import ``cluster``, ``hosts``, ``images``, ``network`` and ``primitives``; not
``platforms`` (a fleet starts replicas through the `Platform` protocol it is given).
"""
