"""``topology.machine(...)`` refuses what QEMU refuses in ``-machine``, ``-cpu`` and ``-accel``.

Each row was observed on QEMU 7.2.22, 10.0.13 and 11.1.3 under TCG (the same
text on all three; ``tests/differential/test_machine_options.py`` compares
them with a running QEMU): an unknown ``-machine`` property (``Property
'<type>-machine.<name>' not found``), a read-only one (``... is not
writable``), an unknown accelerator (``-machine accel=``: ``invalid
accelerator <name>``), an unknown ``-cpu`` model (``unable to find CPU model
'<name>'``, on every target), and ``-cpu host`` without KVM on x86 (``CPU
model 'host' requires KVM or HVF``, when the first boot CPU is realized).
QEMU refuses properties and accelerators before it prints anything, a CPU
model after the machine type's deprecation warning and ``-smp``'s.
"""

from __future__ import annotations

import pytest

import topology

REFUSED = [
    ("x86_64", "q35", "7.2", {"nosuchprop": "1"},
     "Property 'pc-q35-7.2-machine.nosuchprop' not found"),
    ("x86_64", "pc", "11.1", {"foo_bar": "1"},
     "Property 'pc-i440fx-11.1-machine.foo-bar' not found"),
    ("ppc64", None, "7.2", {"vfio_no_msix_emulation": "on"},
     "Property 'pseries-7.2-machine.vfio-no-msix-emulation' is not writable"),
    ("aarch64", "virt", "7.2", {"highmem_redists": "off"},
     "Property 'virt-7.2-machine.highmem-redists' not found"),
    ("x86_64", "q35", "10.0", {"accel": "nosuch"}, "invalid accelerator nosuch"),
    ("x86_64", "q35", "7.2", {"cpu": "Nosuch"}, "unable to find CPU model 'Nosuch'"),
    ("x86_64", "q35", "11.1", {"cpu": "Nosuch,+x2apic"}, "unable to find CPU model 'Nosuch'"),
    ("ppc64", None, "10.0", {"cpu": "Nosuch"}, "unable to find CPU model 'Nosuch'"),
    ("s390x", None, "11.1", {"cpu": "Nosuch"}, "unable to find CPU model 'Nosuch'"),
    ("aarch64", "virt", "10.0", {"cpu": "Nosuch"}, "unable to find CPU model 'Nosuch'"),
    # "host" exists only with KVM on these targets (the stand-in's host is the target's own).
    ("ppc64", None, "7.2", {"cpu": "host"}, "unable to find CPU model 'host'"),
    ("aarch64", "virt", "11.1", {"cpu": "host"}, "unable to find CPU model 'host'"),
]  # fmt: skip


@pytest.mark.parametrize(("arch", "name", "version", "options", "error"), REFUSED)
def test_machine_refuses_what_qemu_refuses(
    arch: str, name: str | None, version: str, options: dict[str, str], error: str
) -> None:
    with pytest.raises(topology.ParameterError) as refused:
        # Properties and accelerators are refused by machine() itself (QEMU
        # prints nothing before them), a CPU model when -smp is resolved.
        topology.machine(arch, name, qemu_version=version, **options).resolve("2")
    assert refused.value.message == error
    if "cpu" not in options:
        with pytest.raises(topology.ParameterError):
            topology.machine(arch, name, qemu_version=version, **options)


def test_an_unknown_cpu_model_comes_after_the_machine_types_warning() -> None:
    # Observed on QEMU 10.0.13: qemu-system-x86_64 -M pc-q35-2.4 -cpu nosuch -smp 2
    # prints the deprecation warning, then "unable to find CPU model 'nosuch'".
    old = topology.machine("x86_64", "pc-q35-2.4", qemu_version="10.0", cpu="nosuch")
    with pytest.raises(topology.ParameterError) as refused:
        old.resolve("2")
    assert [str(warning) for warning in refused.value.warnings] == [
        "warning: Machine type 'pc-q35-2.4' is deprecated: machines more than 3 years old "
        "are subject to deletion after 6 years"
    ]
    with pytest.raises(topology.ParameterError) as at_start:
        topology.VirtualMachine.start(old, "2")
    assert at_start.value.warnings == refused.value.warnings


@pytest.mark.parametrize(
    ("arch", "name", "options"),
    [
        ("x86_64", "q35", {"cpu": "Skylake-Client,+x2apic", "smbios_entry_point_type": "64"}),
        ("x86_64", "q35", {"cpu": "host", "accel": "kvm"}),
        ("ppc64", None, {"cpu": "power9", "ic_mode": "xics", "vsmt": "2", "host_smt": "4"}),
        ("aarch64", "virt", {"gic_version": "3", "cpu": "max"}),
        ("s390x", None, {"cpu": "qemu"}),
    ],
)
@pytest.mark.parametrize("version", ["7.2", "10.0", "11.1"])
def test_machine_takes_what_qemu_takes(
    arch: str, name: str | None, options: dict[str, str], version: str
) -> None:
    chosen = topology.machine(arch, name, qemu_version=version, **options)
    assert chosen.options == {key.replace("_", "-"): value for key, value in options.items()}


@pytest.mark.parametrize("version", ["7.2", "10.0", "11.1"])
@pytest.mark.parametrize("name", ["q35", "pc", "microvm"])
def test_x86_cpu_host_needs_kvm(version: str, name: str) -> None:
    tcg = topology.machine("x86_64", name, qemu_version=version, cpu="host")
    with pytest.raises(topology.BoardError) as refused:
        tcg.resolve("2")
    assert refused.value.message == "CPU model 'host' requires KVM or HVF"
    topology.machine("x86_64", name, qemu_version=version, cpu="host", accel="kvm").resolve("2")
