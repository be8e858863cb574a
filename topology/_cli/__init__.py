"""The ``cputopo`` command: a thin shell over the library (``main``, ``diff``, ``validate``)."""
