"""Conformance of the QEMU stand-in (``topology.qemu``: ``QemuSimulator``, the
``cputopo qemu-system-*`` process, ``validate``) to real QEMU: generated sessions
and observed cases run on both, and the rows captured from QEMU in ``tests/data``."""
