"""Stage 4, views: the model as QEMU's monitor shows it (QMP and HMP replies)."""
