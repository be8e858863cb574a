"""What the tests share and that is not a test: running real QEMU, and the rule for
tests that need it (skip when it is missing, fail when CI requires it)."""
