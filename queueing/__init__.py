"""The queue engine: pure, I/O-free, shared by the server and the simulator.

Named `queueing`, not `queue`: a top-level `queue` package would shadow the standard library's
module (asyncio imports it), or be unreachable once installed.
"""
