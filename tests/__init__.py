"""cputopo's tests.

A regular package, so that pytest imports every test module under its full name
(``tests.<folder>.test_<subject>``) and modules in different folders may share a
name; helpers are imported from ``tests.support``.
"""
