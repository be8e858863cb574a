"""The stand-in as a process: ``cputopo qemu-system-<target> ... -qmp stdio``.

A tool that spawns QEMU for its tests can spawn this instead and talk QMP on
its stdin and stdout, or on UNIX sockets (``-qmp unix:PATH,server=on,wait=off``,
``-chardev socket,id=ID,path=PATH|fd=N,...`` with ``-mon chardev=ID,mode=control``;
several monitors at once; ``-monitor none``): how the monitors are read and
refused is in :mod:`topology.qemu._monitor_options`, how they are served
(one connection at a time per socket, events to every negotiated session,
socket files) in :mod:`topology.qemu._qmp_server`. ``--version``, ``-machine
help``, ``-smp help``, ``-accel help``, ``-cpu help``, ``-device help`` and
``-device CPUTYPE,help`` print QEMU's text and exit 0, each answered where
QEMU answers it in its reading of the line
(:mod:`topology.qemu._option_queries`). What it does, as QEMU 7.2, 10.0 and
11.1 were seen doing (paused with ``-S``):

* a refused start prints QEMU's stderr and exits 1 (0 after ``-smp help``,
  which goes to stdout); where QEMU would crash, at start or on a command, the
  process prints what QEMU prints as it dies (a failed assertion: GLib's lines
  on stderr and its ``Bail out!`` line on stdout, after the QMP messages sent
  so far) and kills itself with that signal, so the parent sees the same
  status (-6 in ``subprocess``);
* a good start prints QEMU's warnings on stderr, then the greeting;
* input is read as a stream: a command may span lines, several may share one
  (see :mod:`topology.qemu._qmp_json`); each answer is one line ending in
  ``\\r\\n``, with the request's ``id`` echoed; bad input gets QEMU's error
  reply (``JSON parse error, ...``, from 11.1 ``2:3: JSON parse error, ...``,
  ``QMP input must be a JSON object``,
  ``QMP input lacks member 'execute'``, ...);
* until ``qmp_capabilities`` only that command is answered; events go out
  only after it, with a ``timestamp``, *before* the reply of the command
  that caused them (pseries ``device_del``: the ``DEVICE_DELETED`` events,
  then ``{"return": {}}``; ``quit``: ``SHUTDOWN``, then the reply, then exit 0);
* end of input does not stop QEMU: it keeps running (paused) until it is
  sent ``quit`` or a signal. On SIGTERM, SIGINT or SIGHUP it sends a
  ``SHUTDOWN`` event (``host-signal``, if negotiated), prints ``terminating
  on signal 15 from pid 123 (name)`` and exits 0, as QEMU does.

Options of the stand-in's own, right after the binary name:
``--qemu-version V`` (``7.2``, ``10.0``, or ``7.2.22`` to also set the micro
version the greeting reports; default ``$CPUTOPO_QEMU_VERSION``, else the
newest release modelled) and ``--qemu-package TEXT`` (the greeting's
``package``, empty by default; both also make ``--version``'s text). An HMP
monitor (``-monitor stdio``, ``mode=readline``), pretty-printed QMP and the
back ends other than stdio and UNIX sockets (tcp, pty, ...) are refused with
exit status 2, as are the help of device types other than CPUs (``-device
virtio-net-pci,help``) and an option the stand-in does not model. A QMP
command the stand-in does not model, or one on an object or property it does
not model (``qom-get`` of a CPU's ``apic-id``), gets an error reply of class
``CputopoNotModelled``, which no QEMU sends, and the session goes on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from topology._errors import OptionSyntaxError, TopologyError
from topology._parse.command_line import _TAKES_ARGUMENT, UnsupportedOptionError
from topology._versions import SUPPORTED_QEMU_VERSIONS, QemuVersion, qemu_version
from topology.qemu._monitor_options import (
    MonitorNotModelled,
    MonitorOptionError,
    MonitorOptionsReader,
    check_monitors,
)
from topology.qemu._option_queries import (
    OptionPass,
    OptionQuery,
    OptionRefused,
    UnknownTarget,
    answer_at_once,
    asks_query,
    first_option_error,
    known_options_only,
)
from topology.qemu._qmp_server import QmpServer, die, open_chardevs, write_fd
from topology.qemu._simulator import QemuSimulator, QemuStartError

__all__ = ["main"]

#: Options that open a monitor or a character device for one.
_MONITOR_OPTIONS = ("qmp", "qmp-pretty", "monitor", "mon", "chardev")


class _UsageError(Exception):
    """The stand-in cannot run this command line (exit status 2)."""


def main(argv: Sequence[str]) -> int:
    """Run the stand-in for ``argv`` (``qemu-system-<target>`` first); its exit status.

    After a good start this serves QMP on its monitors and ends the process
    itself (``quit`` or a signal); it returns only when the start is refused
    or an option query (``--version``, ``-machine help``) was answered.
    """
    try:
        version, package, qemu_argv = _own_options(argv)
        release = qemu_version(".".join(version.split(".")[:2]))
    except _UsageError as error:
        return _usage_error(str(error))
    except TopologyError as error:
        return _usage_error(error.message)
    program = os.path.basename(qemu_argv[0])
    reader = MonitorOptionsReader(program, release)
    try:
        _read_options(qemu_argv, reader, release, version, package)
    except OptionQuery as query:
        write_fd(2, "".join(f"{line}\n" for line in (*reader.warnings, *query.stderr_lines)))
        write_fd(1, query.text)
        return 0
    except (MonitorOptionError, OptionRefused) as refused:
        write_fd(2, "".join(f"{line}\n" for line in (*reader.warnings, *refused.lines)))
        return 1
    except (MonitorNotModelled, _UsageError) as error:
        return _usage_error(str(error))
    except UnsupportedOptionError as error:
        return _usage_error(error.message)
    # What QEMU printed while reading its options (deprecation warnings).
    write_fd(2, "".join(f"{line}\n" for line in reader.warnings))
    try:
        endpoints = open_chardevs(reader.chardevs, program)
    except MonitorOptionError as refused:
        write_fd(2, "".join(f"{line}\n" for line in refused.lines))
        return 1
    except (MonitorNotModelled, UnsupportedOptionError) as error:
        return _usage_error(str(error))
    unlink_paths = [e.unlink_path for e in endpoints.values() if e.unlink_path is not None]
    try:
        simulator = QemuSimulator(qemu_argv, version=version, package=package)
    except QemuStartError as refused:
        write_fd(1, refused.stdout)
        write_fd(2, refused.stderr)
        if refused.exit_code < 0 and refused.message.startswith("cputopo:"):
            write_fd(2, refused.message + "\n")  # why the stand-in stops where QEMU crashes
        return _exit_status(refused.exit_code)
    except OptionSyntaxError as error:
        write_fd(2, f"{program}: {error.message}\n")  # QEMU's own refusal: -foo: invalid option
        return 1
    except TopologyError as error:
        return _usage_error(error.message)
    try:
        check_monitors(reader.monitors, reader.chardevs, program, release)
    except MonitorOptionError as refused:
        write_fd(2, "".join(f"{line}\n" for line in refused.lines))
        return 1
    except MonitorNotModelled as error:
        _unlink(unlink_paths)  # the stand-in's own refusal leaves nothing behind
        return _usage_error(str(error))
    write_fd(2, simulator.stderr)
    # Monitors start in -mon order; each QMP one gets its greeting now.
    served = [endpoints[monitor.chardev] for monitor in reader.monitors if monitor.chardev]
    QmpServer(
        simulator,
        served,
        program=program,
        version=version,
        package=package,
        unlink_paths=unlink_paths,
    ).serve()


def _read_options(
    qemu_argv: Sequence[str],
    reader: MonitorOptionsReader,
    release: QemuVersion,
    version: str,
    package: str,
) -> None:
    """QEMU's option loop: monitor options read, option queries answered, in order.

    A command line with a word QEMU does not know is left to the simulator,
    which refuses it as QEMU's first pass does, before anything else. So is a
    line with no option query on it; one with a query is read by
    :class:`OptionPass` as QEMU reads it, so that an option QEMU refuses
    before the query is answered wins, with QEMU's warnings before it.
    """
    program = os.path.basename(qemu_argv[0])
    refusal = first_option_error(qemu_argv)
    if refusal is not None:
        raise MonitorOptionError([f"{program}: {refusal}"])
    if not known_options_only(qemu_argv):
        return
    target = program.removeprefix("qemu-system-")
    full_version = ".".join([*version.split("."), "0", "0"][:3])
    # The pass writes its warnings to the reader's list: one stderr, in order.
    checks = OptionPass(program, target, release, reader.warnings)
    query_on_line = asks_query(qemu_argv)
    position = 1
    while position < len(qemu_argv):
        word = qemu_argv[position]
        name = word[2:] if word.startswith("--") else word[1:]
        value = qemu_argv[position + 1] if _TAKES_ARGUMENT[name] else None
        position += 2 if value is not None else 1
        if name in _MONITOR_OPTIONS and value is not None:
            reader.read(word, value)
            continue
        if query_on_line:
            checks.read(name, word, value)
        try:
            answer_at_once(
                name, value, target=target, version=release, full_version=full_version,
                package=package,
            )  # fmt: skip
        except UnknownTarget:
            raise _UsageError(f"cputopo: {word} {value}: no catalogue for {target}") from None
    if query_on_line:
        checks.answer_deferred()  # -cpu help, then the first -device asking for help


def _usage_error(message: str) -> int:
    write_fd(2, message + "\n" if message.startswith("cputopo:") else f"cputopo: {message}\n")
    return 2


def _own_options(argv: Sequence[str]) -> tuple[str, str, list[str]]:
    """Split off ``--qemu-version``/``--qemu-package``, given right after the binary."""
    if not argv:
        raise _UsageError("no QEMU command line: give qemu-system-<target> and its options")
    version = os.environ.get("CPUTOPO_QEMU_VERSION") or str(SUPPORTED_QEMU_VERSIONS[-1])
    package = ""
    rest = list(argv[1:])
    while rest and rest[0].split("=", 1)[0] in ("--qemu-version", "--qemu-package"):
        word = rest.pop(0)
        name, equals, value = word.partition("=")
        if not equals:
            if not rest:
                raise _UsageError(f"{name} needs a value")
            value = rest.pop(0)
        if name == "--qemu-version":
            version = value
        else:
            package = value
    return version, package, [argv[0], *rest]


def _unlink(paths: Sequence[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            continue


def _exit_status(exit_code: int) -> int:
    """``exit_code`` as the process's status; a negative one is a death by that signal."""
    if exit_code >= 0:
        return exit_code
    die(-exit_code)
