"""Property and stateful tests of the library alone: Hypothesis draws the inputs
(``@given``, rule-based state machines, ``find``). No QEMU is started."""
