"""QEMU stand-in and the names QEMU knows (``topology.qemu``)."""
