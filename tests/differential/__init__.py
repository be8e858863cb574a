"""Differential tests: each starts real QEMU (7.2, or 10.0 in its root) and compares
what it answers with the model (``topology``, ``arch``). They skip when QEMU is
missing, unless CPUTOPO_REQUIRE_QEMU=1 / CPUTOPO_REQUIRE_QEMU10=1."""
