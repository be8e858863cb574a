"""Stage 3, the model: a started VM's CPU slots, NUMA layout and hot-plug state.

``slots`` the possible CPU slots; ``vm`` the :class:`~topology.VirtualMachine`
and its operations; ``numa`` and ``hmat`` the guest NUMA layout; ``graph`` the
networkx view, built on demand; ``build`` a VM from a whole QEMU command line.
"""
