"""Pure deciders behind small protocols: plain inputs in, a decision out, no SimPy."""
