"""Fuzzing (hypothesis over raw bytes, bounded here; `make fuzz` runs longer): the decoders and
both receivers answer every input with a result or their specific error — no crash, no hang —
and the C decoder reads every input as protobuf does (mutated bytes, and the wire forms of
`tests/pdata/test_wire_merge.py`: repeated singular messages, field numbers past 2^29)."""

from __future__ import annotations

import http.client
import os
import random

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summitcol.component import Signal
from summitcol.exceptions import InvalidDataError
from summitcol.pdata import fastdecode
from summitcol.pdata.codec import decode_request
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml
from tests.pdata.test_roundtrip import log_requests, trace_requests
from tests.pdata.test_wire_merge import Rewriter, assert_c_equals_python
from tests.receiver.otlp.test_bad_input import TRACE_METHOD, good_request

EXAMPLES = int(os.environ.get("SUMMIT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
DIFFERENTIAL = settings(max_examples=max(100, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
VALID = good_request("fuzz", 3).SerializeToString()


def mutations() -> st.SearchStrategy[bytes]:
    """Random bytes, and valid requests with bytes flipped, cut or spliced in."""

    def mutate(data: bytes, position: int, junk: bytes, cut: bool) -> bytes:
        position %= len(data) + 1
        return data[:position] if cut else data[:position] + junk + data[position + len(junk) :]

    return st.one_of(
        st.binary(max_size=2048),
        st.builds(mutate, st.just(VALID), st.integers(0, 10_000), st.binary(min_size=1, max_size=8), st.booleans()),
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
otlp_keys = st.sampled_from(
    ["resourceSpans", "scopeSpans", "spans", "traceId", "spanId", "name", "attributes", "key", "value",
     "stringValue", "intValue", "kvlistValue", "arrayValue", "values", "startTimeUnixNano", "events", "links", "status"]
)
otlp_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40) | st.just("5b8efff798038103d269b633813fc60c"),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(otlp_keys, children, max_size=5),
    max_leaves=40,
)


@FUZZ
@given(mutations(), st.sampled_from(list(Signal)))
def test_protobuf_decoder_never_crashes(body: bytes, signal: Signal) -> None:
    try:
        decode_request(signal, body, "proto")
    except InvalidDataError:
        pass


@pytest.mark.skipif(not fastdecode.AVAILABLE, reason="the C extension is not built")
@FUZZ
@given(mutations(), st.sampled_from([Signal.TRACES, Signal.LOGS]))
def test_c_decoder_reads_mutated_bytes_as_protobuf_does(body: bytes, signal: Signal) -> None:
    assert_c_equals_python(signal, body)


@pytest.mark.skipif(not fastdecode.AVAILABLE, reason="the C extension is not built")
@DIFFERENTIAL
@given(
    st.one_of(st.tuples(st.just(Signal.TRACES), trace_requests()), st.tuples(st.just(Signal.LOGS), log_requests())),
    st.integers(0, 2**32).map(random.Random),
    st.sampled_from(["split", "extra", "corrupt", "field"]),
    st.sampled_from([2**29 - 1, 2**29, 2**32 + 1, 2**40]),
)
def test_c_decoder_reads_repeated_messages_and_big_field_numbers_as_protobuf_does(  # type: ignore[no-untyped-def]
    signal_request, rng, mode: str, number: int
) -> None:
    signal, request = signal_request
    assert_c_equals_python(signal, Rewriter(rng, mode, number).serialize(request))


@FUZZ
@given(st.one_of(json_values, otlp_like), st.sampled_from(list(Signal)))
def test_json_decoder_never_crashes(document: object, signal: Signal) -> None:
    import orjson

    try:
        body = orjson.dumps(document)
    except (TypeError, orjson.JSONEncodeError):
        return
    try:
        decode_request(signal, body, "json")
    except InvalidDataError:
        pass


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fuzz")
    grpc_port, http_port = free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
exporters:
  debug:
{pipelines_yaml("otlp", "", "debug")}
"""
    with Collector(tmp, config) as running:
        running.grpc_port, running.http_port = grpc_port, http_port  # type: ignore[attr-defined]
        yield running


@settings(max_examples=max(50, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=mutations(), content_type=st.sampled_from(["application/x-protobuf", "application/json"]), gzip_header=st.booleans())
def test_http_receiver_answers_every_body(collector, body: bytes, content_type: str, gzip_header: bool) -> None:  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=30)
    headers = {"Content-Type": content_type}
    if gzip_header:
        headers["Content-Encoding"] = "gzip"
    connection.request("POST", "/v1/traces", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status in (200, 400, 413)


@settings(max_examples=max(50, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=mutations())
def test_grpc_receiver_answers_every_body(collector, body: bytes) -> None:  # type: ignore[no-untyped-def]
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    try:
        channel.unary_unary(TRACE_METHOD)(body, timeout=30)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        channel.close()


def test_collector_still_serves_after_fuzzing(collector) -> None:  # type: ignore[no-untyped-def]
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    assert channel.unary_unary(TRACE_METHOD)(VALID, timeout=30) == b""
    channel.close()
