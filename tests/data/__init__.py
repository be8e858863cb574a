"""Data the tests check against: QEMU's own test tables restated as Python, and rows
captured from real QEMU (README.md here says where each comes from)."""
