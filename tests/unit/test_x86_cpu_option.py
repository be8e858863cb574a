"""x86 ``-cpu`` features: how QEMU reads them and when it refuses them, observed cases.

Every row was observed on real QEMU (7.2.22 on the host, 10.0.13 in the trixie
root, 11.1.3 in the sid root) started as ``tests/support/qemu_runner.py``
does, with ``-machine q35 -smp 2 -cpu CPU``: its exit status and stderr. The
generated comparison with real QEMU is ``tests/differential/test_x86_cpu_option.py``.
"""

from __future__ import annotations

import pytest

from tests.support.qemu_runner import BASE_ARGS
from topology.qemu import QemuSimulator, QemuStartError, UnsupportedOptionError

_P = "qemu-system-x86_64: "
_W = _P + "warning: "
_TCG = _W + "TCG doesn't support requested feature: "

# More digits than Python converts by default (4,300).
_MANY_NINES = "9" * 5000
_AMBIGUOUS = [
    _W + 'Ambiguous CPU model string. Don\'t mix both "+x2apic" and "x2apic=on"',
    _W + 'Ambiguous CPU model string. Don\'t mix both "-pcid" and "pcid=on"',
    _W + "Compatibility of ambiguous CPU model strings won't be kept on future QEMU versions",
]
_CONFLICT = [
    _W + "this feature conflicts with APX: CPUID[eax=07h,ecx=00h].EBX.mpx [bit 14]",
    _W + "this feature conflicts with MPX: CPUID[eax=07h,ecx=01h].EDX.apxf [bit 21]",
]

#: (releases, -cpu, exit status, stderr)
ROWS: list[tuple[tuple[str, ...], str, int, list[str]]] = [
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,foo=on",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.foo=on: Property 'qemu64-x86_64-cpu.foo' "
            "not found"
        ],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,+foo",
        1,
        [_P + "Property 'qemu64-x86_64-cpu.foo' not found"],
    ),
    (("7.2", "10.0", "11.1"), "host,+foo", 1, [_P + "Property 'host-x86_64-cpu.foo' not found"]),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,x2apic=maybe",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.x2apic=maybe: Parameter 'x2apic' expects "
            "'on' or 'off'"
        ],
    ),
    # Every vCPU prints its features: two lines for -smp 2 (7.2's TCG lacks x2apic).
    (("10.0", "11.1"), "qemu64,sse4_1=on,+sse4_1,x2apic=y,level=0x10,level=+5", 0, []),
    (
        ("7.2",),
        "qemu64,sse4_1=on,+sse4_1,x2apic=y,level=0x10,level=+5",
        0,
        [_TCG + "CPUID.01H:ECX.x2apic [bit 21]"] * 2,
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,level=99999999999999999999999",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.level=99999999999999999999999: Parameter "
            "'level' expects uint64"
        ],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,hv-spinlocks=-1",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.hv-spinlocks=-1: Parameter 'hv-spinlocks' "
            "expects uint32_t"
        ],
    ),
    (("7.2", "10.0", "11.1"), "qemu64,-level", 1, [_P + "Parameter 'level' expects uint64"]),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,+model-id",
        1,
        [_P + "Invalid parameter type for 'model-id', expected: string"],
    ),
    (("7.2", "10.0", "11.1"), "qemu64,tsc-freq=abc", 1, [_P + "bad numerical value abc"]),
    # A fraction needs a unit other than bytes (observed on 11.1).
    (("11.1",), "qemu64,tsc-freq=1.5", 1, [_P + "bad numerical value 1.5"]),
    (("11.1",), "qemu64,tsc-freq=1.5k", 0, []),
    (("11.1",), "qemu64,tsc-freq=1 G", 1, [_P + "bad numerical value 1 G"]),
    (
        ("11.1",),
        f"qemu64,tsc-freq={_MANY_NINES}.5G",
        1,
        [f"{_P}bad numerical value {_MANY_NINES}.5G"],
    ),
    (
        ("11.1",),
        f"qemu64,level={_MANY_NINES}",
        1,
        [
            f"{_P}can't apply global qemu64-x86_64-cpu.level={_MANY_NINES}: Parameter 'level' "
            "expects uint64"
        ],
    ),
    (
        ("10.0", "11.1"),
        "qemu64,+x2apic,x2apic=on,-pcid,pcid=on",
        0,
        _AMBIGUOUS,
    ),
    (
        ("7.2",),
        "qemu64,+x2apic,x2apic=on,-pcid,pcid=on",
        0,
        [*_AMBIGUOUS, *[_TCG + "CPUID.01H:ECX.x2apic [bit 21]"] * 2],
    ),
    (
        ("7.2",),
        "qemu64,vendor=abc",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.vendor=abc: Property '.vendor' doesn't take "
            "value 'abc'"
        ],
    ),
    (
        ("10.0", "11.1"),
        "qemu64,vendor=abc",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.vendor=abc: value of property 'vendor' must "
            "consist of exactly 12 characters"
        ],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,filtered-features=1",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.filtered-features=1: Property "
            "'qemu64-x86_64-cpu.filtered-features' is not writable"
        ],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,=on",
        1,
        [_P + "can't apply global qemu64-x86_64-cpu.=on: Property 'qemu64-x86_64-cpu.' not found"],
    ),
    (
        ("7.2",),
        "qemu64,hv-vpindex,-hv-vpindex",
        1,
        [_P + "kernel doesn't allow setting HyperV VP_INDEX"],
    ),
    (("7.2",), "qemu64,+hv-vpindex", 0, []),
    (("10.0", "11.1"), "qemu64,hv-vpindex", 0, []),
    (
        ("7.2",),
        "qemu64,lbr-fmt",
        -6,
        [_P + "../../util/error.c:59: error_setv: Assertion `*errp == NULL' failed."],
    ),
    (
        ("7.2",),
        "qemu64,+lbr_fmt",
        -6,
        [_P + "../../util/error.c:59: error_setv: Assertion `*errp == NULL' failed."],
    ),
    (
        ("10.0", "11.1"),
        "qemu64,lbr-fmt",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.lbr-fmt=on: Parameter 'lbr-fmt' expects "
            "uint64"
        ],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,-legacy-cache",
        1,
        [_P + "CPU model 'qemu64' doesn't support legacy-cache=off"],
    ),
    (("10.0", "11.1"), "qemu64,legacy-multi-node=on", 0, []),
    # max and host have two properties of their own (libvirt: -cpu host,migratable=on).
    (("7.2", "10.0", "11.1"), "max,host-cache-info=on,migratable=off", 0, []),
    (
        ("7.2", "10.0", "11.1"),
        "host,migratable=on",
        1,
        [_P + "CPU model 'host' requires KVM or HVF"],
    ),
    (
        ("7.2", "10.0", "11.1"),
        "qemu64,migratable=on",
        1,
        [
            _P + "can't apply global qemu64-x86_64-cpu.migratable=on: Property "
            "'qemu64-x86_64-cpu.migratable' not found"
        ],
    ),
    (
        ("11.1",),
        "host,+tsc-deadline",
        1,
        [
            _TCG + "CPUID[eax=01h].ECX.tsc-deadline [bit 24]",
            _P + "CPU model 'host' requires KVM or HVF",
        ],
    ),
    (
        ("11.1",),
        "qemu64,check=off,enforce=on,tsc-deadline=on",
        1,
        [
            _TCG + "CPUID[eax=01h].ECX.tsc-deadline [bit 24]",
            _P + "TCG doesn't support requested features",
        ],
    ),
    (
        ("11.1",),
        "qemu64,enforce=on,svm=off,npt=on",
        1,
        [
            _W + "This feature depends on other features that were not requested: "
            "CPUID[eax=8000000Ah].EDX.npt [bit 0]",
            _P + "TCG doesn't support requested features",
        ],
    ),
    (
        ("11.1",),
        "qemu64,mpx=on,apxf=on",
        0,
        _CONFLICT * 2,  # once per vCPU
    ),
    (
        ("11.1",),
        "Snowridge,apxf=on,check=off",
        0,
        _CONFLICT * 2,  # once per vCPU
    ),
    (("11.1",), "DiamondRapids,mpx=on,apxf=off,check=off", 0, []),
]

CASES = [
    (version, cpu, code, stderr) for versions, cpu, code, stderr in ROWS for version in versions
]


def _start(version: str, cpu: str) -> tuple[int, list[str]]:
    argv = ["qemu-system-x86_64", *BASE_ARGS, "-machine", "q35", "-smp", "2", "-cpu", cpu]
    try:
        return 0, list(QemuSimulator(argv, version=version).stderr_lines)
    except QemuStartError as refused:
        return refused.exit_code, refused.stderr.splitlines()


@pytest.mark.parametrize(("version", "cpu", "code", "stderr"), CASES)
def test_observed(version: str, cpu: str, code: int, stderr: list[str]) -> None:
    assert _start(version, cpu) == (code, stderr)


@pytest.mark.parametrize(
    "cpu",
    [
        "qemu64,socket-id=1",  # QEMU: doesn't match set apic-id (every CPU shares the global)
        "qemu64,phys-bits=1",  # checked as the vCPU is realized
    ],
)
def test_what_cputopo_does_not_judge(cpu: str) -> None:
    with pytest.raises(UnsupportedOptionError):
        _start("11.1", cpu)


def test_enforce_with_unmodelled_warnings_is_not_judged() -> None:
    # QEMU 11.1 refuses this (vmx adds VMX capability lines TCG lacks).
    with pytest.raises(UnsupportedOptionError):
        _start("11.1", "qemu64,vmx=on,enforce=on")


def test_hv_vpindex_is_refused_only_under_tcg() -> None:
    # Not observed (no KVM here): 7.2 refuses it as TCG cannot set the VP
    # index; under KVM it is what libvirt writes for Windows guests.
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-machine", "q35", "-cpu", "host,hv-vpindex=on"]
    assert QemuSimulator([*argv, "-smp", "2"], version="7.2").stderr_lines == ()
