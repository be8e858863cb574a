"""Example-based tests of the library alone: tables of cases (most observed on QEMU or
worked from its source) and single examples. No QEMU is started."""
