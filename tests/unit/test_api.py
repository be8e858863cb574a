"""The public surface: __all__, errors, plugins and the catalogue's own invariants."""

from __future__ import annotations

import pickle
import types

import pytest

import topology


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(topology) if not name.startswith("_")}
    public -= {"annotations"}  # from __future__
    # Public submodules (topology.strategies, topology.testing) become attributes
    # once imported; they are not re-exported names.
    public -= {name for name in public if isinstance(getattr(topology, name), types.ModuleType)}
    assert len(set(topology.__all__)) == len(topology.__all__)
    assert set(topology.__all__) == public


@pytest.mark.parametrize(
    "error",
    [
        topology.TopologyError("plain", what="cpus", where="-smp 4", value=4, hint="hint"),
        topology.OptionSyntaxError("Invalid parameter ''", option="-smp", text=",4"),
        topology.CpuCountError("Invalid SMP CPUs 0", what="cpus", value=0),
    ],
)
def test_errors_pickle_with_their_fields(error: topology.TopologyError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (str(copy), copy.what, copy.where, copy.value, copy.hint) == (
        str(error),
        error.what,
        error.where,
        error.value,
        error.hint,
    )


def test_errors_are_also_the_builtin_they_mean() -> None:
    assert issubclass(topology.InvalidTopologyError, ValueError)
    assert issubclass(topology.UnknownMachineError, LookupError)
    with pytest.raises(ValueError):
        topology.resolve_smp("4,sockets=3", topology.SmpRules("m", frozenset(), 1, 8, False))


def test_bad_rules_raise_topology_errors() -> None:
    with pytest.raises(topology.ParameterError):
        topology.SmpRules("m", frozenset({"nodes"}), 1, 8, False)
    with pytest.raises(topology.ParameterError):
        topology.SmpRules("m", frozenset(), 9, 8, False)
    with pytest.raises(topology.UnsupportedVersionError):
        topology.SmpRules("m", frozenset(), 1, 8, False, "6.2")


def test_unknown_arch_suggests_a_name() -> None:
    with pytest.raises(topology.UnknownArchError, match="did you mean 's390x'"):
        topology.get_arch("s390")


def test_plugins_are_found_by_target_and_by_name() -> None:
    assert topology.get_arch("x86_64") is topology.get_arch("x86")
    assert {"x86_64", "ppc64", "s390x", "aarch64"} <= set(topology.arch_names())


def test_builtin_plugins_are_registered_as_entry_points() -> None:
    from importlib import metadata

    try:
        found = {e.name: e.value for e in metadata.entry_points(group="topology.arch")}
    except Exception:  # pragma: no cover - metadata always answers
        found = {}
    if not found:
        pytest.skip("cputopo is not installed (a bare checkout); built-ins are listed statically")
    assert found["x86"] == "arch.x86:PLUGIN"
    assert {"x86", "spapr", "s390x", "arm"} <= set(found)


# Catalogue invariants that hold in every supported release.
@pytest.mark.parametrize("version", [str(v) for v in topology.SUPPORTED_QEMU_VERSIONS])
@pytest.mark.parametrize("arch", ["x86_64", "ppc64", "s390x", "aarch64"])
def test_each_alias_names_the_newest_type(arch: str, version: str) -> None:
    types_ = topology.machine_types(arch, qemu_version=version)
    names = [t.name for t in types_]
    assert len(names) == len(set(names))
    for machine_type in types_:
        for alias in machine_type.aliases:
            assert machine_type.name.endswith(version)
            assert topology.machine(arch, alias, qemu_version=version).name == machine_type.name


def test_releases_drop_old_machine_types() -> None:
    # docs/about/removed-features.rst and the age rule of include/hw/boards.h.
    def oldest(arch: str, version: str, family: str) -> str:
        names = [t.name for t in topology.machine_types(arch, qemu_version=version)]
        return [n for n in names if n.startswith(family)][-1]

    assert oldest("x86_64", "8.1", "pc-i440fx-") == "pc-i440fx-1.4"
    assert oldest("x86_64", "8.2", "pc-i440fx-") == "pc-i440fx-2.0"
    assert oldest("x86_64", "9.1", "pc-i440fx-") == "pc-i440fx-2.4"
    assert oldest("x86_64", "10.1", "pc-q35-") == "pc-q35-4.2"
    assert oldest("ppc64", "9.2", "pseries-") == "pseries-3.0"
    assert oldest("s390x", "10.0", "s390-ccw-virtio-") == "s390-ccw-virtio-2.9"
    assert oldest("aarch64", "10.2", "virt-") == "virt-5.0"


def test_unknown_machine_text_by_release() -> None:
    with pytest.raises(topology.UnknownMachineError) as old:
        topology.machine("x86_64", "pc-q35-1.0", qemu_version="9.0")
    assert (str(old.value), old.value.hint) == (
        "unsupported machine type",
        "Use -machine help to list supported machines",
    )
    with pytest.raises(topology.UnknownMachineError, match=r'^unsupported machine type: "nope"$'):
        topology.machine("x86_64", "nope", qemu_version="9.1")
    with pytest.raises(topology.UnknownMachineError, match="no default"):
        topology.machine("aarch64", qemu_version="7.2")
