"""The SimPy world: images, registries, network, hosts, container engine, platforms."""
