"""Regenerate ``arch/x86/data/tcg-features-<version>.json`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 runs by ``chroot``)::

    python3 -m tools.capture_tcg_features [--version V ...] [--out DIR]

Every run is QEMU started paused under TCG on ``-machine q35`` with
``-smp 1`` (see ``tests/support/qemu_runner.py``); what is kept is the text after
``TCG doesn't support requested feature:`` of each warning line:

* each CPU model and alias (``-cpu MODEL``): which lines it prints;
* each boolean property of the qemu64 CPU (``-cpu qemu64,FEATURE=on``):
  which line, if any, turning it on prints;
* the order QEMU prints them in, from one run with every such feature on
  (QEMU walks its CPUID feature words, then the bits of each);
* for each model that prints lines, that ``-cpu MODEL,FEATURE=off`` for
  each of its features drops exactly that line (checked, not stored);
* each feature that depends on another (``-cpu 486,FEATURE=on`` drops it with
  "This feature depends on other features that were not requested"), with
  the line QEMU prints for it;
* the models with their own cache information: those that take
  ``legacy-cache=off`` (the others refuse it);
* where QEMU has ``apxf`` (11.1 here), the two lines MPX and APX print when
  both are on, the models that have MPX (``-cpu MODEL,apxf=on`` prints
  them) and those that have APX (``-cpu MODEL,mpx=on`` prints them).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, QemuRun, run_many
from topology._resolve.catalogue import cpu_device_properties, cpu_models

VERSIONS: Final = QEMU_VERSIONS
PREFIX: Final = "qemu-system-x86_64: warning: TCG doesn't support requested feature: "
CONFLICT: Final = "qemu-system-x86_64: warning: this feature conflicts with "
DEPENDS: Final = (
    "qemu-system-x86_64: warning: This feature depends on other features that were not requested: "
)
_BASE: Final = ("-machine", "q35", "-smp", "1")
# Properties that are not CPUID features or change how the others are reported.
_NOT_FEATURES: Final = frozenset({"check", "enforce", "kvm", "migratable", "full-cpuid-auto-level"})


def _lines(stderr: Sequence[str]) -> list[str]:
    return [line.removeprefix(PREFIX) for line in stderr if line.startswith(PREFIX)]


def _cpu_runs(version: str, specs: Sequence[str], verbose: bool = False) -> list[list[str]]:
    jobs = [QemuJob("x86_64", (*_BASE, "-cpu", spec), (), 30.0, version) for spec in specs]
    runs = run_many(jobs)
    for spec, run in zip(specs, runs, strict=True):
        others = [line for line in run.stderr_lines if not line.startswith(PREFIX)]
        if run.exit_code != 0 or (others and verbose):
            print(f"{version} -cpu {spec}: exit {run.exit_code} {others}", file=sys.stderr)
    return [_lines(run.stderr_lines) for run in runs]


# 7.2 and 10.0 print "CPUID.07H:EDX.x [bit 4]" and "MSR(10AH).y [bit 0]"; 11.1
# prints "CPUID[eax=07h,ecx=00h].EDX.x [bit 4]" and "MSR(10Ah).y [bit 0]".
_LINE: Final = re.compile(
    r"(CPUID\.[0-9A-F]+H:E[A-D]X|CPUID\[eax=[0-9A-F]+h(?:,ecx=[0-9A-F]+h)?\]\.E[A-D]X"
    r"|MSR\([0-9A-F]+[Hh]\))\.(\S+) \[bit (\d+)\]"
)


def _word_and_feature(line: str) -> tuple[str, str]:
    """``CPUID.01H:ECX.x2apic [bit 21]`` is word ``CPUID.01H:ECX``, feature ``x2apic``
    (11.1: ``CPUID[eax=01h].ECX.x2apic [bit 21]``, word ``CPUID[eax=01h].ECX``)."""
    match = _LINE.fullmatch(line)
    if match is None:
        return "", line  # QEMU 10.0 names AVX10 versions alone: "avx10.1."
    return match[1], match[2]


def _merge(order: list[str], lines: Sequence[str]) -> None:
    # A line not seen yet goes just before the next known line it was printed
    # before (at the end when none): as late as what is known allows.
    for position, line in enumerate(lines):
        if line in order:
            continue
        following = [order.index(other) for other in lines[position + 1 :] if other in order]
        order.insert(following[0] if following else len(order), line)


def capture(version: str) -> dict[str, object]:
    """What QEMU ``version`` prints, as stored in the JSON file."""
    models = cpu_models("x86_64", version)
    properties = cpu_device_properties("x86_64", version)
    assert models is not None and properties is not None
    model_names = sorted(name for name in models if name != "host")
    model_lines = dict(zip(model_names, _cpu_runs(version, model_names), strict=True))
    features = sorted(
        name for name, kind in properties.items() if kind == "bool" and name not in _NOT_FEATURES
    )
    feature_runs = _cpu_runs(version, [f"qemu64,{name}=on" for name in features])
    feature_lines: dict[str, str] = {}
    for name, lines in zip(features, feature_runs, strict=True):
        if len(lines) > 1:
            raise RuntimeError(f"{version} {name}=on printed {lines}")
        if lines:
            feature_lines[name] = lines[0]
    everything = _cpu_runs(version, ["qemu64," + ",".join(f"{n}=on" for n in feature_lines)])[0]
    if sorted(everything) != sorted(set(feature_lines.values())):
        raise RuntimeError(f"{version}: all features on printed {everything}")
    # QEMU prints by feature word, then bit; two words can print alike
    # (CPUID.12H:EAX), so the order kept is of whole lines.
    order: list[str] = []
    _merge(order, everything)
    # Lines no qemu64 feature prints (MSR words, per model) are placed by one
    # more run of each such model with every feature on but those that pull
    # in more words (vmx, arch-lbr, the svm ones).
    extra = [model for model, lines in model_lines.items() if not set(lines) <= set(everything)]
    plain = [n for n, line in feature_lines.items() if "8000000AH" not in line]
    plain = [n for n in plain if n not in ("vmx", "arch-lbr")]
    for lines in _cpu_runs(version, [",".join([m, *(f"{n}=on" for n in plain)]) for m in extra]):
        _merge(order, lines)
    for lines in model_lines.values():
        _merge(order, lines)
    for lines in model_lines.values():
        if sorted(lines, key=order.index) != lines:
            raise RuntimeError(f"{version}: printed in another order: {lines}")
    drops = _capture_off(version, model_lines)
    svm_features, without_svm = _capture_svm(version, model_names, feature_lines)
    conflict = _capture_apx_conflict(version, model_names) if "apxf" in feature_lines else None
    dependents = _capture_dependents(version, properties)
    runs = _many(version, [f"{model},legacy-cache=off,check=off" for model in model_names])
    with_cache_info = [m for m, run in zip(model_names, runs, strict=True) if run.exit_code == 0]
    return {
        "version": version,
        "order": order,
        "features": dict(sorted(feature_lines.items())),
        "drops": drops,
        "svm_features": svm_features,
        "without_svm": without_svm,
        "dependents": dependents,
        "with_cache_info": with_cache_info,
        "models": {name: lines for name, lines in model_lines.items() if lines},
        **({"apx_conflict": conflict} if conflict else {}),
    }


def _capture_off(version: str, model_lines: dict[str, list[str]]) -> dict[str, list[str]]:
    """The lines ``FEATURE=off`` drops beyond its own (features that depend on it)."""
    specs: list[tuple[str, str, list[str]]] = []
    for model, lines in model_lines.items():
        for line in lines:
            word, feature = _word_and_feature(line)
            if word:
                specs.append((model, feature, lines))
    runs = _cpu_runs(version, [f"{model},{feature}=off" for model, feature, _ in specs])
    drops: dict[str, set[str]] = {}
    for (_, feature, lines), got in zip(specs, runs, strict=True):
        drops.setdefault(feature, set()).update(set(lines) - set(got))
    for (model, feature, lines), got in zip(specs, runs, strict=True):
        if got != [line for line in lines if line not in drops[feature]]:
            raise RuntimeError(f"{version} -cpu {model},{feature}=off: {got}")
    return {feature: sorted(lines) for feature, lines in sorted(drops.items()) if len(lines) > 1}


def _capture_svm(
    version: str, model_names: list[str], feature_lines: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The features that need svm (486 has none), and the models without svm.

    A feature that needs another the CPU lacks is dropped with a "depends"
    warning instead (``feature_dependencies`` in ``target/i386/cpu.c``); under
    TCG only the SVM word depends on a feature some models lack (observed).
    """
    names = sorted(feature_lines)
    jobs = [
        QemuJob("x86_64", (*_BASE, "-cpu", f"486,{name}=on"), (), 30.0, version) for name in names
    ]
    needing = [
        name
        for name, run in zip(names, run_many(jobs), strict=True)
        if list(run.stderr_lines) == [DEPENDS + feature_lines[name]]
    ]
    probe = needing[0]
    jobs = [
        QemuJob("x86_64", (*_BASE, "-cpu", f"{spec}"), (), 30.0, version)
        for spec in [f"486,svm=on,{probe}=on", *(f"{model},{probe}=on" for model in model_names)]
    ]
    runs = run_many(jobs)
    if _lines(runs[0].stderr_lines) != [feature_lines[probe]]:
        raise RuntimeError(f"{version}: svm=on does not enable {probe}")
    without = [
        model
        for model, run in zip(model_names, runs[1:], strict=True)
        if DEPENDS + feature_lines[probe] in run.stderr_lines
    ]
    return needing, without


def _capture_dependents(version: str, properties: Mapping[str, str]) -> dict[str, list[str]]:
    """Every boolean feature 486 drops as depending on another, and its lines.

    486 has almost no feature, so what depends on another is dropped there.
    """
    names = sorted(n for n, kind in properties.items() if kind == "bool" and n not in _NOT_FEATURES)
    runs = _many(version, [f"486,{name}=on" for name in names])
    found: dict[str, list[str]] = {}
    for name, run in zip(names, runs, strict=True):
        lines = [
            line.removeprefix(DEPENDS) for line in run.stderr_lines if line.startswith(DEPENDS)
        ]
        if lines:  # two where a name has two bits (vmx-invept-single-context)
            found[name] = lines
    return found


def _many(version: str, specs: Sequence[str]) -> list[QemuRun]:
    return run_many(
        [QemuJob("x86_64", (*_BASE, "-cpu", spec), (), 30.0, version) for spec in specs]
    )


def _capture_apx_conflict(version: str, model_names: list[str]) -> dict[str, list[str]]:
    """The lines MPX and APX print when both are on, and the models that have each.

    QEMU turns both off when a CPU has both, each with "this feature conflicts
    with ..." (``x86_cpu_expand_features``), whatever ``check`` says.
    """
    specs = ["qemu64,mpx=on,apxf=on"]
    specs += [f"{model},apxf=on" for model in model_names]
    specs += [f"{model},mpx=on" for model in model_names]
    jobs = [QemuJob("x86_64", (*_BASE, "-cpu", spec), (), 30.0, version) for spec in specs]
    runs = run_many(jobs)

    def conflicts(run_index: int) -> list[str]:
        stderr = runs[run_index].stderr_lines
        return [line.removeprefix(CONFLICT) for line in stderr if line.startswith(CONFLICT)]

    lines = conflicts(0)
    if len(lines) != 2:
        raise RuntimeError(f"{version} -cpu {specs[0]}: {runs[0].stderr_lines}")
    count = len(model_names)
    with_mpx = [m for i, m in enumerate(model_names, 1) if conflicts(i) == lines]
    with_apx = [m for i, m in enumerate(model_names, 1 + count) if conflicts(i)]
    if set(with_mpx) & set(with_apx):
        raise RuntimeError(f"{version}: models with both: {set(with_mpx) & set(with_apx)}")
    return {"lines": lines, "models_with_mpx": with_mpx, "models_with_apx": with_apx}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="append", choices=VERSIONS)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent.parent / "arch" / "x86" / "data"
    )
    args = parser.parse_args(argv)
    for version in args.version or VERSIONS:
        data = capture(version)
        path = args.out / f"tcg-features-{version}.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"{path}: {len(data['models'])} models, {len(data['features'])} features")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
