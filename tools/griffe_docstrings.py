"""Griffe extension for the API reference (mkdocs.yml): our docstrings as Markdown.

The docstrings are written for doctest and for reading in the source: bare
``>>>`` examples and Sphinx roles (``:class:`Foo```). Markdown would render the
examples as nested block quotes, and their indexing (``x[0][1]``) as links
that do not resolve. So, on the loaded package and without touching the
source:

* each doctest block (from a ``>>>`` line to the next blank line) becomes a
  fenced ``pycon`` block;
* a role becomes a link to the object when the name resolves from the
  docstring's scope, else code;
* a reST ``::`` that introduces a literal block becomes ``:``.

Not shipped: the documentation build loads it by path.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _doctest_blocks(text: str) -> str:
    out: list[str] = []
    in_fence = False
    in_doctest = False
    indent = ""
    for line in text.splitlines():
        if in_doctest and not line.strip():
            out.append(f"{indent}```")
            in_doctest = False
        if _FENCE.match(line) and not in_doctest:
            in_fence = not in_fence
        elif not in_fence and not in_doctest and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}```pycon")
            in_doctest = True
        out.append(line)
    if in_doctest:
        out.append(f"{indent}```")
    return "\n".join(out)


def _target(name: str, obj: griffe.Object) -> str | None:
    # A dotted name is absolute; a bare one is looked up from the docstring's scope.
    try:
        path = name if "." in name else obj.resolve(name)
        found = obj.modules_collection[path]
        while found.is_alias:
            found = found.target
    except (griffe.AliasResolutionError, griffe.NameResolutionError, KeyError, ValueError):
        return None
    # Only what the reference renders: documented public modules, and documented
    # classes and functions (those of private modules render where they are re-exported).
    if found.kind is griffe.Kind.ATTRIBUTE or found.docstring is None:
        return None
    if found.is_module and any(part.startswith("_") for part in path.split(".")):
        return None
    return path


def _roles(text: str, obj: griffe.Object) -> str:
    def link(match: re.Match[str]) -> str:
        short, name = match.groups()
        name = name.strip().lstrip(".")
        shown = name.rsplit(".", 1)[-1] if short else name
        target = _target(name, obj)
        return f"[`{shown}`][{target}]" if target else f"`{shown}`"

    return _ROLE.sub(link, text)


def _literal_markers(text: str) -> str:
    # "checked::" then a blank line and an indented block: Markdown already
    # makes the block code; only the second colon is reST.
    return re.sub(r"(\S)::$", r"\1:", text, flags=re.MULTILINE)


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            assert isinstance(member, griffe.Object)
            found.extend(_objects(member))
    return found


class MarkdownDocstrings(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is complete."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = _doctest_blocks(obj.docstring.value)
                obj.docstring.value = _literal_markers(_roles(text, obj))
