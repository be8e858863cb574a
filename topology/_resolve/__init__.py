"""Stage 2, resolving: a machine type and its release fill in what the options left out.

``machine`` holds the machine-type catalogue and :func:`topology.machine`;
``machine_releases`` the machine-type release numbers and their deprecation by
age; ``smp_rules`` and ``smp`` QEMU's ``-smp`` fill-in; ``topology`` the result.
"""
