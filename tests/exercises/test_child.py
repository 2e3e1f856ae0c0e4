"""The plain-data format between the grader and the child: what it carries, and what it refuses without
spending the grader's memory on it."""

from __future__ import annotations

import json
import struct
import tracemalloc

import numpy as np
import pytest

from conv1x1.exercises.child import MAX_HEADER, MalformedFrame, Opaque, decode, encode, plain


def frame(header: object, blobs: tuple[bytes, ...] = ()) -> bytes:
    text = json.dumps(header).encode()
    return (struct.pack("<II", len(text), len(blobs)) + struct.pack(f"<{len(blobs)}Q", *map(len, blobs)) + text
            + b"".join(blobs))


def test_plain_data_crosses_the_format_unchanged():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    value = (x, 3, -2.5, True, None, [np.int64(7), 1e300])
    back = decode(encode(plain(value)))
    assert type(back) is tuple and back[1:5] == (3, -2.5, True, None) and back[5] == [7, 1e300]
    assert type(back[0]) is np.ndarray and back[0].dtype == np.float32 and np.array_equal(back[0], x)


def test_a_header_of_millions_of_small_values_is_refused_before_it_is_parsed():
    payload = frame({"list": [{"none": True}] * 2_000_000})
    assert len(payload) > MAX_HEADER
    tracemalloc.start()
    try:
        with pytest.raises(MalformedFrame, match="header"):
            decode(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20


@pytest.mark.parametrize("payload", [
    b"\x00" * 4,                                                      # shorter than a header
    struct.pack("<II", 2, 0xFFFFFFFF) + b"{}",                       # four billion arrays claimed
    struct.pack("<II", 10 ** 6, 0) + b"{}",                          # a header longer than the frame
])
def test_a_frame_whose_sizes_do_not_fit_is_malformed(payload):
    with pytest.raises(MalformedFrame):
        decode(payload)


def test_an_array_header_cannot_claim_more_bytes_than_it_brings_or_an_object_dtype():
    with pytest.raises(MalformedFrame, match="fill its shape"):
        decode(frame({"array": 0, "dtype": "<f8", "shape": [2 ** 40, 2 ** 20]}, (bytes(16),)))
    with pytest.raises(MalformedFrame, match="dtype"):
        decode(frame({"array": 0, "dtype": "|O", "shape": [2]}, (bytes(16),)))


def test_a_subclass_of_a_number_a_tuple_or_an_array_is_only_described():
    class Number(float):
        pass

    class Pair(tuple):
        pass

    class Scalar(np.float64):
        pass

    described = [plain(v) for v in (Number(1.0), Pair((1, 2)), Scalar(1.0), np.zeros(2).view(np.matrix),
                                    np.zeros(2, dtype=object), np.zeros(2, dtype=[("a", "f8")]))]
    assert all(isinstance(v, Opaque) for v in described)


def test_arrays_of_every_shape_and_layout_keep_their_shape_across_the_format():
    """A 0-d array (np.array(loss)) is accepted in the notebook; the command line must see the same shape."""
    for array in (np.array(2.5), np.zeros((0, 3)), np.arange(12.0).reshape(3, 4).T, np.ones((2, 1, 3), np.int32)):
        back = decode(encode(plain(array)))
        assert back.shape == array.shape and back.dtype == array.dtype and np.array_equal(back, array)
