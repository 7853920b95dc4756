"""The SimPy model: images, registries, network, hosts, container engine, platforms."""
