"""``-object memory-backend-*``: the RAM backends NUMA nodes take their memory from.

QEMU reads ``-object`` with keyval (``qom-type`` implied) and checks the
members against the object type's schema while it reads the command line:
unknown members, missing ``id``/``size``, a bad identifier or size, a duplicate id. A size of
zero is refused when the object is created, later
(observed on QEMU 7.2 and 10.0; the stand-in reports them at that point too).
"""

from __future__ import annotations

from typing import Final

import attrs

from topology._errors import OptionSyntaxError, ParameterError
from topology._parse.command_line import UnsupportedOptionError
from topology._parse.identifiers import IDENTIFIER_HINT, is_identifier
from topology._parse.keyval import parse_keyval
from topology._parse.numa import _strtosz
from topology._versions import QemuVersion

__all__ = ["MemoryBackend", "read_object"]


#: The members each modelled backend type takes (QAPI MemoryBackend*Properties);
#: required ones besides ``id`` and ``size`` are listed in _REQUIRED.
_COMMON: Final = frozenset(
    {
        "qom-type",
        "id",
        "size",
        "merge",
        "dump",
        "host-nodes",
        "policy",
        "prealloc",
        "prealloc-threads",
        "prealloc-context",
        "share",
        "reserve",
        "x-use-canonical-path-for-ramblock-id",
    }
)
_MEMBERS: Final = {
    "memory-backend-ram": _COMMON,
    "memory-backend-memfd": _COMMON | {"hugetlb", "hugetlbsize", "seal"},
    "memory-backend-file": _COMMON
    | {"align", "offset", "discard-data", "mem-path", "pmem", "readonly", "rom"},
}
_REQUIRED: Final = {"memory-backend-file": ("mem-path",)}

#: Other user-creatable object types of QEMU's (``qapi/qom.json`` ObjectType):
#: QEMU takes them; the stand-in does not model them.
_OTHER_TYPES: Final = frozenset(
    {
        "authz-list",
        "authz-listfile",
        "authz-pam",
        "authz-simple",
        "can-bus",
        "can-host-socketcan",
        "colo-compare",
        "cryptodev-backend-builtin",
        "cryptodev-vhost-user",
        "dbus-vmstate",
        "filter-buffer",
        "filter-dump",
        "filter-mirror",
        "filter-redirector",
        "filter-replay",
        "filter-rewriter",
        "input-barrier",
        "input-linux",
        "iothread",
        "main-loop",
        "memory-backend-epc",
        "memory-backend-shm",
        "pr-manager-helper",
        "rng-builtin",
        "rng-egd",
        "rng-random",
        "secret",
        "secret_keyring",
        "sev-guest",
        "thread-context",
        "throttle-group",
        "tls-cipher-suites",
        "tls-creds-anon",
        "tls-creds-psk",
        "tls-creds-x509",
    }
)


@attrs.frozen(kw_only=True)
class MemoryBackend:
    """A ``-object memory-backend-*`` option: its type, id and size in bytes."""

    qom_type: str
    id: str
    size: int
    where: str


def read_object(text: str, *, spelled: str, version: QemuVersion) -> MemoryBackend:
    """Read one ``-object`` option as QEMU's command-line pass does.

    >>> from topology._versions import qemu_version
    >>> read_object("memory-backend-ram,id=m0,size=64M", spelled="-object",
    ...             version=qemu_version("7.2")).size
    67108864
    """
    where = f"{spelled} {text}"
    tree, wants_help = parse_keyval(text, option=spelled, implied_key="qom-type")
    if wants_help:
        raise UnsupportedOptionError(f"cputopo: {where}: help texts are not modelled", what="help")

    def fail(message: str, what: str, hint: str | None = None) -> ParameterError:
        return ParameterError(f"{where}: {message}", what=what, where=where, hint=hint)

    qom_type = tree.get("qom-type")
    if not isinstance(qom_type, str):
        raise fail("Parameter 'qom-type' is missing", "qom-type")
    if qom_type not in _MEMBERS:
        if qom_type in _OTHER_TYPES:
            raise UnsupportedOptionError(
                f"cputopo: {where}: the stand-in models only memory backends", what=qom_type
            )
        raise fail(f"Parameter 'qom-type' does not accept value '{qom_type}'", "qom-type")
    object_id = tree.get("id")
    if object_id is None:
        raise fail("Parameter 'id' is missing", "id")
    if not isinstance(object_id, str) or not is_identifier(object_id):
        raise fail("Parameter 'id' expects an identifier", "id", IDENTIFIER_HINT)
    for member in tree:
        if member not in _MEMBERS[qom_type]:
            raise fail(f"Invalid parameter '{member}'", member)
    if "host-nodes" in tree or tree.get("policy", "default") != "default":
        # QEMU binds the memory to the host's NUMA nodes (and refuses a policy
        # without host-nodes when it creates the backend): host-specific.
        raise UnsupportedOptionError(
            f"cputopo: {where}: host NUMA policies are not modelled", what="policy"
        )
    raw_size = tree.get("size")
    if raw_size is None:
        raise fail("Parameter 'size' is missing", "size")
    size = _strtosz(raw_size, "B", version).value if isinstance(raw_size, str) else None
    if size is None:
        raise fail("Parameter 'size' expects a size value", "size")
    for member in _REQUIRED.get(qom_type, ()):
        if member not in tree:
            raise fail(f"Parameter '{member}' is missing", member)
    return MemoryBackend(qom_type=qom_type, id=object_id, size=size, where=where)


def check_created(backends: list[MemoryBackend]) -> dict[str, int]:
    """Create the backends in order: QEMU's errors for a zero size or a duplicate id."""
    sizes: dict[str, int] = {}
    for backend in backends:
        if backend.id in sizes:
            option, _, text = backend.where.partition(" ")
            raise OptionSyntaxError(
                f"Duplicate ID '{backend.id}' for object", option=option, text=text, what="id"
            )
        if backend.size == 0:
            raise ParameterError(
                f"property 'size' of {backend.qom_type} doesn't take value '0'", what="size"
            )
        sizes[backend.id] = backend.size
    return sizes
