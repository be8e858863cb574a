"""The CPUID features TCG lacks, printed per realized x86 vCPU: observed cases.

Every expected line below was printed by real QEMU (7.2.22 on the host,
10.0.13 in the trixie root), started as ``tests/support/qemu_runner.py`` does
(``-accel tcg -S -nodefaults -no-user-config -display none -qmp stdio``) with
the options shown; ``device_add`` cases were sent over QMP after the start.
"""

from __future__ import annotations

import pytest

from arch.x86._tcg_features import tcg_feature_lines
from topology import qemu_version
from topology.qemu import QemuSimulator

_HEAD = ["qemu-system-x86_64", "-accel", "tcg", "-S", "-nodefaults", "-no-user-config"]
_TAIL = ["-display", "none", "-qmp", "stdio"]
_W = "qemu-system-x86_64: warning: "
_TCG = "TCG doesn't support requested feature: "


def _line(feature: str) -> str:
    return _W + _TCG + feature


_SKYLAKE_72 = [
    "CPUID.01H:ECX.pcid [bit 17]",
    "CPUID.01H:ECX.x2apic [bit 21]",
    "CPUID.01H:ECX.tsc-deadline [bit 24]",
    "CPUID.07H:EBX.hle [bit 4]",
    "CPUID.07H:EBX.invpcid [bit 10]",
    "CPUID.07H:EBX.rtm [bit 11]",
    "CPUID.07H:EBX.rdseed [bit 18]",
    "CPUID.80000001H:ECX.3dnowprefetch [bit 8]",
    "CPUID.0DH:EAX.xsavec [bit 1]",
]
_SKYLAKE_100 = [
    "CPUID.01H:ECX.pcid [bit 17]",
    "CPUID.01H:ECX.tsc-deadline [bit 24]",
    "CPUID.07H:EBX.hle [bit 4]",
    "CPUID.07H:EBX.invpcid [bit 10]",
    "CPUID.07H:EBX.rtm [bit 11]",
    "CPUID.0DH:EAX.xsavec [bit 1]",
]
_HT_72 = [
    _W + "This family of AMD CPU doesn't support hyperthreading(2)",
    "Please configure -smp options properly or try enabling topoext feature.",
]
_HT_100 = [
    _W + "This family of AMD CPU doesn't support hyperthreading(2). Please configure -smp "
    "options properly or try enabling topoext feature."
]
_DEVICE = "-device Skylake-Client-x86_64-cpu,socket-id=0,core-id=1,thread-id=0"
_MIXED_100 = [
    "CPUID.01H:ECX.pcid [bit 17]",
    "CPUID.01H:ECX.tsc-deadline [bit 24]",
    "CPUID.07H:EBX.invpcid [bit 10]",
    "CPUID.07H:EBX.rtm [bit 11]",
    "CPUID.07H:EBX.avx512f [bit 16]",
    "CPUID.0DH:EAX.xsavec [bit 1]",
]

#: (version, options, QMP device_add props or None, stderr QEMU printed).
STARTS = [
    ("7.2", "-machine q35 -cpu qemu64,x2apic=on -smp 2", None, [_line(_SKYLAKE_72[1])] * 2),
    ("10.0", "-machine q35 -cpu qemu64,x2apic=on -smp 2", None, []),
    ("7.2", "-machine q35 -cpu Skylake-Client -smp 1", None, [_line(f) for f in _SKYLAKE_72]),
    ("10.0", "-machine q35 -cpu Skylake-Client -smp 1", None, [_line(f) for f in _SKYLAKE_100]),
    # The first CPU's lines, the AMD warning when it is realized, the second's.
    (
        "7.2",
        "-machine pc-q35-7.1 -cpu qemu64,pcid=on -smp 2,threads=2,maxcpus=4",
        None,
        [_line(_SKYLAKE_72[0]), *_HT_72, _line(_SKYLAKE_72[0])],
    ),
    (
        "10.0",
        "-machine pc-q35-7.1 -cpu qemu64,pcid=on -smp 2,threads=2,maxcpus=4",
        None,
        [_line(_SKYLAKE_72[0]), *_HT_100, _line(_SKYLAKE_72[0])],
    ),
    # PC types up to 2.4 turn check off; 10.0 deprecates them.
    ("7.2", "-machine pc-i440fx-2.4 -cpu qemu64,pcid=on", None, []),
    ("7.2", "-machine pc-i440fx-2.5 -cpu qemu64,pcid=on", None, [_line(_SKYLAKE_72[0])]),
    (
        "10.0",
        "-machine pc-q35-2.4 -cpu qemu64,pcid=on",
        None,
        [
            _W + "Machine type 'pc-q35-2.4' is deprecated: machines more than 3 years old are "
            "subject to deletion after 6 years"
        ],
    ),
    # -device CPUs name their option; device_add's lines name no program.
    (
        "10.0",
        f"-machine q35 -cpu Skylake-Client,-hle,x2apic=off,avx512f=on -smp 1,maxcpus=3 {_DEVICE}",
        {"driver": "Skylake-Client-x86_64-cpu", "socket-id": 0, "core-id": 2, "thread-id": 0},
        [_line(f) for f in _MIXED_100]
        + [f"qemu-system-x86_64: {_DEVICE}: warning: {_TCG}{f}" for f in _MIXED_100]
        + [f"warning: {_TCG}{f}" for f in _MIXED_100],
    ),
]


@pytest.mark.parametrize(("version", "options", "plug", "stderr"), STARTS)
def test_observed_start(
    version: str, options: str, plug: dict[str, object] | None, stderr: list[str]
) -> None:
    sim = QemuSimulator([*_HEAD, *options.split(), *_TAIL], version=version)
    if plug is not None:
        assert sim.qmp("device_add", {**plug, "id": "hot"}) == {"return": {}}
        # A refused plug realizes nothing and prints nothing.
        assert "error" in sim.qmp("device_add", {**plug, "id": "again"})
    assert list(sim.stderr_lines) == stderr


#: -cpu features in QEMU's order: key=value, then +feature, then -feature
#: (7.2 and 10.0, -cpu Skylake-Client,xsave=off,+x2apic,x2apic=off,avx512f=on,-pcid,pcid=on;
#: QEMU also warned that the string is ambiguous).
MIXED = [
    ("7.2", [*_SKYLAKE_72[1:6], "CPUID.07H:EBX.avx512f [bit 16]", *_SKYLAKE_72[6:]]),
    ("10.0", [*_SKYLAKE_100[1:5], "CPUID.07H:EBX.avx512f [bit 16]", _SKYLAKE_100[5]]),
]


@pytest.mark.parametrize(("version", "lines"), MIXED)
def test_feature_order(version: str, lines: list[str]) -> None:
    features = ["xsave=off", "+x2apic", "x2apic=off", "avx512f=on", "-pcid", "pcid=on"]
    assert tcg_feature_lines("Skylake-Client", features, qemu_version(version)) == ([], [], lines)


def test_kvm_prints_none() -> None:
    argv = [*_HEAD, "-machine", "q35", "-cpu", "Skylake-Client", *_TAIL]
    argv[2] = "kvm"
    assert QemuSimulator(argv, version="7.2").stderr_lines == ()


def test_versions_between_answer_as_the_captured_ones() -> None:
    for between, captured in (("8.2", "7.2"), ("9.2", "7.2"), ("10.2", "10.0")):
        assert tcg_feature_lines("Skylake-Client", [], qemu_version(between)) == (
            tcg_feature_lines("Skylake-Client", [], qemu_version(captured))
        )
