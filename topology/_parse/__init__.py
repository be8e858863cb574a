"""Stage 1, reading: QEMU option texts into raw values, as QEMU's parsers read them.

Nothing here knows a machine. ``keyval``, ``cint``, ``identifiers``, ``qdict``,
``glib_hash`` and ``qom_props`` are QEMU's own building blocks (option syntax, C
integers, the id rule, QDict and GLib hash orders, QOM integer properties);
``smp``, ``numa`` and ``memory`` read the ``-smp``, ``-numa`` and ``-m`` options.
"""
