"""200 idle or byte-at-a-time HTTP connections do not delay a well-behaved client.

The bound is relative to the same request's latency measured moments before on this machine
(generous, since the slow connections share the machine's two cores)."""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time
from pathlib import Path

from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml
from tests.receiver.otlp.test_bad_input import good_request

BODY = good_request("latency", 10).SerializeToString()


def timed_request(port: int) -> float:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/v1/traces", body=BODY, headers={"Content-Type": "application/x-protobuf"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    return time.perf_counter() - start


def test_slow_and_idle_connections_do_not_delay_others(tmp_path: Path) -> None:
    http_port = free_port()
    config = f"""
receivers:
{receiver_yaml(None, http_port)}
exporters:
  debug:
{pipelines_yaml("otlp", "", "debug")}
"""
    with Collector(tmp_path, config):
        baseline = statistics.median(timed_request(http_port) for _ in range(20))
        sockets: list[socket.socket] = []
        stop = threading.Event()
        for i in range(200):
            sock = socket.create_connection(("127.0.0.1", http_port))
            if i % 2:  # byte-at-a-time: a request whose headers and body never finish
                sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
            sockets.append(sock)

        def trickle() -> None:
            while not stop.is_set():
                for sock in sockets[1::2]:
                    try:
                        sock.send(b"X")
                    except OSError:
                        pass
                time.sleep(0.05)

        trickler = threading.Thread(target=trickle)
        trickler.start()
        try:
            time.sleep(0.5)
            loaded = [timed_request(http_port) for _ in range(20)]
        finally:
            stop.set()
            trickler.join()
            for sock in sockets:
                sock.close()
        assert statistics.median(loaded) < baseline * 10 + 0.2, (baseline, loaded)
        assert max(loaded) < 2.0, loaded
