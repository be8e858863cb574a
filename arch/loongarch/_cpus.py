"""CPU models, their QOM types and properties, and the ``-cpu`` option.

``-cpu`` takes a model (``la464``) or its QOM type name (``la464-loongarch-cpu``),
case included, then ``name=value`` features that QEMU turns into global
properties of that type (``target/loongarch/cpu.c`` ``loongarch_cpu_class_by_name``;
``hw/core/cpu-common.c`` ``cpu_common_parse_features``). QEMU looks the model up
and checks the features' syntax after ``-smp`` and before the board is built;
the globals are applied when the board creates its first CPU, and a bad one
fails there (``can't apply global``). All texts below were observed on QEMU
7.2, 10.0 and 11.1 under TCG.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from arch.loongarch._releases import VirtRelease
from topology import BoardError, MachineType, ParameterError
from topology.plugin import UnsupportedOptionError, parse_qemu_bool

__all__ = [
    "ABSTRACT_CPU_TYPE",
    "CPU_TYPE_SUFFIX",
    "TOPOLOGY_PROPS",
    "check_cpu_features",
    "cpu_model",
    "cpu_type",
    "model_of_type",
]

#: The suffix of every loongarch CPU's QOM type (``LOONGARCH_CPU_TYPE_SUFFIX``).
CPU_TYPE_SUFFIX: Final = "-loongarch-cpu"
#: The abstract parent type, which ``device_add`` refuses as such.
ABSTRACT_CPU_TYPE: Final = "loongarch-cpu"
#: The integer properties a CPU has where the board lists its possible CPUs
#: (QEMU 10.0 on): its topology ids, defaulting to 0, and ``node-id`` (-1).
TOPOLOGY_PROPS: Final = ("socket-id", "core-id", "thread-id", "node-id")
#: What QEMU's boolean property parser takes (``qapi_bool_parse``).


def cpu_type(model: str) -> str:
    """The QOM type of a CPU model: ``la464`` -> ``la464-loongarch-cpu``."""
    return f"{model}{CPU_TYPE_SUFFIX}"


def model_of_type(qom_type: str, release: VirtRelease) -> str | None:
    """The model whose QOM type is ``qom_type`` in this release, or None.

    >>> from arch.loongarch._releases import virt_release
    >>> from topology import qemu_version
    >>> model_of_type("max-loongarch-cpu", virt_release(qemu_version("10.0")))
    'max'
    >>> model_of_type("max-loongarch-cpu", virt_release(qemu_version("7.2"))) is None
    True
    """
    if not qom_type.endswith(CPU_TYPE_SUFFIX):
        return None
    model = qom_type[: -len(CPU_TYPE_SUFFIX)]
    return model if model in release.cpu_models else None


def cpu_model(
    machine_type: MachineType, options: Mapping[str, str], release: VirtRelease
) -> tuple[str, list[str]]:
    """The CPU model ``-cpu`` selects (or the default) and its features; QEMU's
    refusal of an unknown model or of a feature that is not ``name=value``.

    >>> from arch.loongarch._releases import virt_release
    >>> from topology import MachineType, qemu_version
    >>> virt = MachineType(name="virt", max_cpus=256, default_cpu="la464")
    >>> release = virt_release(qemu_version("10.0"))
    >>> cpu_model(virt, {"cpu": "max-loongarch-cpu,lsx=off"}, release)
    ('max', ['lsx=off'])
    >>> cpu_model(virt, {"cpu": "la464,+lsx"}, release)
    Traceback (most recent call last):
    ...
    topology.ParameterError: Expected key=value format, found +lsx.
    """
    name, features = machine_type.cpu_model(options)
    model = name if name in release.cpu_models else model_of_type(name, release)
    if model is None:
        raise ParameterError(f"unable to find CPU model '{name}'", what="cpu", value=name)
    # QEMU splits the features with strtok: empty ones vanish.
    features = [feature for feature in features if feature]
    for feature in features:
        if "=" not in feature:
            raise ParameterError(
                f"Expected key=value format, found {feature}.", what="cpu", value=feature
            )
    return model, features


def check_cpu_features(model: str, features: list[str], release: VirtRelease) -> None:
    """Apply ``-cpu`` features as QEMU does when the board creates its first CPU.

    A property the type lacks or a boolean QEMU cannot read fails; the topology
    ids as ``-cpu`` features (which would change what every CPU, hot-plugged
    ones included, defaults to) are not modelled.

    >>> from arch.loongarch._releases import virt_release
    >>> from topology import qemu_version
    >>> try:
    ...     check_cpu_features("la464", ["lsx=maybe"], virt_release(qemu_version("10.0")))
    ... except BoardError as error:
    ...     print(error)
    can't apply global la464-loongarch-cpu.lsx=maybe: Parameter 'lsx' expects 'on' or 'off'
    """
    qom_type = cpu_type(model)
    booleans = (*release.flags(model), "start-powered-off")
    for feature in features:
        name, _, value = feature.partition("=")
        prefix = f"can't apply global {qom_type}.{name}={value}: "
        if name in booleans:
            if parse_qemu_bool(value) is None:
                raise BoardError(
                    f"{prefix}Parameter '{name}' expects 'on' or 'off'", what=name, value=value
                )
        elif release.hotplug and name in TOPOLOGY_PROPS:
            raise UnsupportedOptionError(
                f"cputopo: -cpu {model},{name}=...: a topology id as a -cpu feature is not "
                "modelled (QEMU makes it the default of every CPU of that type)",
                what="cpu",
                value=feature,
            )
        else:
            raise BoardError(
                f"{prefix}Property '{qom_type}.{name}' not found", what=name, value=value
            )
