"""A plugin package for sim: the ``proportional`` autoscaling policy."""
