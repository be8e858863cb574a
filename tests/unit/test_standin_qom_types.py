"""``qom-list-types`` in the stand-in, without QEMU: its refusals and the filtering.

Compared with real QEMU in ``tests/differential/test_standin_qom_types.py``;
here QEMU's argument errors, what the stand-in refuses as not modelled (no
capture for the release or the machine type, an interface whose implementers
were not captured) and, on a small table, how the captured list is filtered.
"""

from __future__ import annotations

import pytest

from topology._versions import qemu_version
from topology.qemu import NOT_MODELLED, QemuSimulator, UnsupportedOptionError, _qom_types
from topology.qemu._qom_types import QomTypes


def _sim(version: str = "10.0") -> QemuSimulator:
    return QemuSimulator(["qemu-system-x86_64", "-M", "q35"], version=version)


@pytest.mark.parametrize(
    ("arguments", "desc"),
    [
        ({"implements": 1}, "Invalid parameter type for 'implements', expected: string"),
        ({"abstract": "yes"}, "Invalid parameter type for 'abstract', expected: boolean"),
        ({"implements": "device", "x": 1}, "Parameter 'x' is unexpected"),
    ],
)
def test_qom_list_types_refuses_bad_arguments_in_qemus_words(
    arguments: dict[str, object], desc: str
) -> None:
    assert _sim().qmp("qom-list-types", arguments) == {
        "error": {"class": "GenericError", "desc": desc}
    }


def test_qom_list_types_of_an_unknown_name_is_empty() -> None:
    assert _sim().qmp("qom-list-types", {"implements": "no-such-type"}) == {"return": []}


def test_qom_list_types_of_a_release_with_no_capture_is_not_modelled() -> None:
    reply = _sim("9.0").qmp("qom-list-types")
    assert reply["error"]["class"] == NOT_MODELLED


def test_qom_list_types_on_a_machine_type_not_captured_is_not_modelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _qom_types.qom_types("x86_64", qemu_version("10.0"))
    other = QomTypes(
        names=table.names,
        parents=table.parents,
        abstract=table.abstract,
        implementers=table.implementers,
        machines=frozenset({"pc-i440fx-10.0"}),
    )
    monkeypatch.setitem(_qom_types._LOADED, ("x86_64", qemu_version("10.0")), other)
    reply = _sim().qmp("qom-list-types")
    assert reply["error"]["class"] == NOT_MODELLED
    assert "pc-q35-10.0" in reply["error"]["desc"]


#: object <- device <- cpu <- x-cpu (abstract) <- a-cpu, b-cpu; one interface.
_TABLE = QomTypes(
    names=("b-cpu", "iface", "object", "x-cpu", "interface", "device", "a-cpu", "cpu"),
    parents=("x-cpu", "interface", None, "cpu", None, "object", "x-cpu", "device"),
    abstract=(False, True, True, True, True, False, False, True),
    implementers={"interface": (1, 4), "iface": (1, 6)},
    machines=frozenset({"m"}),
)


@pytest.mark.parametrize(
    ("implements", "abstract", "names"),
    [
        (None, False, ["b-cpu", "device", "a-cpu"]),
        ("cpu", True, ["b-cpu", "x-cpu", "a-cpu", "cpu"]),
        ("x-cpu", False, ["b-cpu", "a-cpu"]),
        ("iface", True, ["iface", "a-cpu"]),  # captured, not derived
        ("iface", False, ["a-cpu"]),
        ("unknown", True, []),
    ],
)
def test_the_list_is_filtered_in_its_own_order(
    implements: str | None, abstract: bool, names: list[str]
) -> None:
    assert [entry["name"] for entry in _TABLE.list_types(implements, abstract)] == names


def test_an_interface_without_captured_implementers_is_not_modelled() -> None:
    table = QomTypes(
        names=("interface", "other-if"),
        parents=(None, "interface"),
        abstract=(True, True),
        implementers={},
        machines=frozenset(),
    )
    with pytest.raises(UnsupportedOptionError):
        table.list_types("other-if", True)


def test_entries_carry_abstract_only_when_true_and_parent_where_there_is_one() -> None:
    assert _TABLE.list_types("x-cpu", True)[:2] == [
        {"name": "b-cpu", "parent": "x-cpu"},
        {"name": "x-cpu", "abstract": True, "parent": "cpu"},
    ]
