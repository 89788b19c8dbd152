"""The replicated-column estimate the memory admission reserves before decoding builds them."""

from __future__ import annotations

import pyarrow as pa
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import Signal
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import decode_request
from summitcol.pdata.decoded import DecodeLimits
from summitcol.pdata.expansion import replicated_nbytes
from tests.processors.test_memory_attack import BLOB, SPANS, amplifying_request

REPLICATED = [
    "ResourceAttributes", "ResourceSchemaUrl", "ResourceDroppedAttributesCount", "ServiceName",
    "ScopeName", "ScopeVersion", "ScopeAttributes", "ScopeDroppedAttributesCount", "ScopeSchemaUrl",
]


def _body(encoding: str, number: int) -> bytes:
    body = amplifying_request(1, number)
    return body if encoding == "proto" else otlp_json.dumps(ExportTraceServiceRequest.FromString(body))


@pytest.mark.parametrize("encoding", ["proto", "json"])  # the C decoder, the Python one
def test_the_estimate_is_what_the_columns_take_and_comes_before_them(encoding: str) -> None:
    asked: list[int] = []
    arrow_before = []

    def reserve(nbytes: int) -> None:
        asked.append(nbytes)
        arrow_before.append(pa.total_allocated_bytes())

    data, _ = decode_request(Signal.TRACES, _body(encoding, 1), encoding, DecodeLimits(reserve=reserve))  # type: ignore[arg-type]
    batch = data.tables["spans"]
    built = sum(batch.column(name).nbytes for name in REPLICATED)
    assert len(asked) == 1
    assert built > SPANS * BLOB  # the 200 kB attribute on each of the 2,000 rows
    assert abs(asked[0] - built) / built < 0.001, (asked[0], built)
    assert arrow_before[0] < SPANS * BLOB  # asked before the 400 MB were allocated


@pytest.mark.parametrize("encoding", ["proto", "json"])
def test_a_refusal_stops_the_decode(encoding: str) -> None:
    def refuse(nbytes: int) -> None:
        raise MemoryError(f"{nbytes} refused")

    with pytest.raises(MemoryError, match=" refused$"):
        decode_request(Signal.TRACES, _body(encoding, 2), encoding, DecodeLimits(reserve=refuse))  # type: ignore[arg-type]


def test_strings_and_maps() -> None:
    strings = pa.array(["a", "bcd", None])
    assert replicated_nbytes([strings], pa.array([0, 1, 1, 2], pa.uint32())) == (1 + 4) + 2 * (3 + 4) + 4
    numbers = pa.array([1, 2], pa.uint32())
    assert replicated_nbytes([numbers], pa.array([0, 0, 1], pa.uint32())) == 12
