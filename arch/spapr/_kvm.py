"""pseries under KVM: whether the host's SMT modes allow the machine's vsmt.

QEMU asks KVM for its current SMT mode (``kvmppc_smt_threads``: the
``KVM_CAP_PPC_SMT`` value, 1 when KVM has none) and, when vsmt differs, tries to
set it (``kvmppc_set_smt_threads``, enabling ``KVM_CAP_PPC_SMT``). Linux accepts
exactly the modes of ``KVM_CAP_PPC_SMT_POSSIBLE`` and answers ``-EINVAL`` to
any other. If the set fails, QEMU only warns when the current mode is at least
``threads`` and divides vsmt, and refuses otherwise, with hints
(``hw/ppc/spapr.c`` ``spapr_set_vsmt_mode``; ``target/ppc/kvm.c``
``kvmppc_smt_threads``, ``kvmppc_set_smt_threads``,
``kvmppc_error_append_smt_possible_hint``). The message is
``Failed to set KVM's VSMT mode to %d (errno %d)`` with the negative errno in
QEMU up to 10.2 (11.0 prints ``: <strerror>`` instead).

No host is at hand, so the host is described by two cputopo options (they
are not QEMU options and are never passed to QEMU):

* ``host-smt``: KVM's current SMT mode, ``kvmppc_smt_threads()`` (default 1,
  a POWER9 host with KVM-HV; a POWER8 host reports its threads per subcore, 8);
* ``host-vsmt-modes``: the modes KVM can be set to, separated by blanks
  (default ``"1 2 4 8"``, POWER9 KVM-HV); empty for a KVM that cannot set one
  (KVM-PR, old kernels: QEMU then says ``This KVM seems to be too old to support VSMT.``).

>>> check_kvm_vsmt(vsmt=8, threads=4, user_vsmt=False,
...                options={"host-smt": "4", "host-vsmt-modes": ""})
[QemuWarning(message="Failed to set KVM's VSMT mode to 8 (errno -22)", what='vsmt', ...)]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology import BoardError, ParameterError, QemuWarning

__all__ = ["EINVAL", "check_kvm_vsmt", "host_smt", "host_vsmt_modes"]

#: Linux's answer to an SMT mode it cannot set (negated, as QEMU prints it).
EINVAL: Final = 22
_DEFAULT_MODES: Final = "1 2 4 8"


def host_smt(options: Mapping[str, str]) -> int:
    """The host's current KVM SMT mode (``host-smt``, default 1)."""
    text = options.get("host-smt", "1")
    if not text.isdigit() or int(text) < 1:
        raise ParameterError(
            f"cputopo: host-smt must be a positive integer, not '{text}'",
            what="host-smt",
            value=text,
        )
    return int(text)


def host_vsmt_modes(options: Mapping[str, str]) -> tuple[int, ...]:
    """The SMT modes KVM can be set to (``host-vsmt-modes``), largest first.

    >>> host_vsmt_modes({}), host_vsmt_modes({"host-vsmt-modes": ""})
    ((8, 4, 2, 1), ())
    """
    text = options.get("host-vsmt-modes", _DEFAULT_MODES)
    words = text.split()
    if not all(word.isdigit() and int(word) & (int(word) - 1) == 0 for word in words):
        # KVM_CAP_PPC_SMT_POSSIBLE is a bit mask: only powers of 2 can be in it.
        raise ParameterError(
            f"cputopo: host-vsmt-modes must be powers of 2 separated by blanks, not '{text}'",
            what="host-vsmt-modes",
            value=text,
        )
    return tuple(sorted({int(word) for word in words if int(word)}, reverse=True))


def check_kvm_vsmt(
    *, vsmt: int, threads: int, user_vsmt: bool, options: Mapping[str, str]
) -> list[QemuWarning]:
    """The KVM part of ``spapr_set_vsmt_mode``: QEMU's warning, or its error with hints.

    >>> check_kvm_vsmt(vsmt=2, threads=2, user_vsmt=False, options={"host-vsmt-modes": "1"})
    Traceback (most recent call last):
      ...
    topology.BoardError: Failed to set KVM's VSMT mode to 2 (errno -22)
    """
    current = host_smt(options)
    modes = host_vsmt_modes(options)
    if vsmt == current or vsmt in modes:
        return []
    message = f"Failed to set KVM's VSMT mode to {vsmt} (errno -{EINVAL})"
    if current >= threads and vsmt % current == 0:
        # Some vCPU ids are wasted, but the guest works.
        return [QemuWarning(message=message, what="vsmt")]
    hints = []
    if not user_vsmt:
        hints.append(
            f"On PPC, a VM with {threads} threads/core on a host with {current} threads/core "
            f"requires the use of VSMT mode {vsmt}."
        )
    if modes:
        hints.append(f"Available VSMT modes: {' '.join(str(mode) for mode in modes)}.")
    else:
        hints.append("This KVM seems to be too old to support VSMT.")
    raise BoardError(message, what="vsmt", value=vsmt, hint="\n".join(hints))
