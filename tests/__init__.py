"""cputopo's tests, by kind: one folder each, with the same meaning everywhere.

* ``unit/``: examples and tables of cases (observed on QEMU, or worked from its
  source) run against the library alone.
* ``property/``: Hypothesis draws the inputs (``@given``, state machines,
  ``find``); the library alone.
* ``differential/``: starts real QEMU (7.2, or 10.0 in its root) and compares
  the model with it; skips when QEMU is missing, unless CI requires it.
* ``conformance/``: the QEMU stand-in (``topology.qemu``) against real QEMU,
  and against the rows captured from it.
* ``support/``: helpers, not tests (running QEMU, ``require_qemu``).
* ``data/``: QEMU's own test tables restated as Python, and rows captured from
  QEMU (``data/README.md`` says how).

A file is named for its subject, and keeps that name in every folder that
tests the subject: ``unit/test_numa_model.py`` holds the cases QEMU answered,
``property/test_numa_model.py`` the properties, ``differential/test_numa_model.py``
the comparison with QEMU. A regular package, so that pytest imports each module
under its full name and such files do not clash.
"""
