"""The hall simulator and planner: a SimPy model running `queueing`'s real policy (see README.md)."""
