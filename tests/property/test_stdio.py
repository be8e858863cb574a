"""The QMP JSON reader and writer of the stand-in process, by properties: any JSON
values, however the bytes are cut, read back whole; what the writer prints reads
back and is ASCII. The reader's table of QEMU's answers is in
``tests/unit/test_stdio.py``.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from topology.qemu._qmp_json import QmpJsonStream, qmp_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60)
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 400)))
def test_reader_reads_any_json_however_it_is_cut(values: list[object], cuts: list[int]) -> None:
    # Containers only: a bare number at the end of input would wait for its end.
    values = [[value] for value in values]
    data = "".join(json.dumps(value, ensure_ascii=False) for value in values).encode()
    stream = QmpJsonStream()
    got: list[object] = []
    start = 0
    for cut in sorted({min(cut, len(data)) for cut in cuts} | {len(data)}):
        got.extend(stream.feed(data[start:cut]))
        start = cut
    assert got == values


@settings(max_examples=60)
@given(value=JSON_VALUES)
def test_writer_output_reads_back_and_is_ascii(value: object) -> None:
    text = qmp_json(value)
    assert text.isascii()
    assert json.loads(text) == value
    assert QmpJsonStream().feed(f"[{text}]".encode()) == [[value]]
