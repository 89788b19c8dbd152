"""200 idle or byte-at-a-time HTTP connections do not hold up a well-behaved client.

Asserted by order and outcome, not by latency (which is the benchmarks' to measure): every
well-behaved request is answered 200 while all the slow connections are still open and
unanswered, so the server did not serve them first nor wait for them."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path

from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for
from tests.receiver.otlp.test_bad_input import good_request

BODY = good_request("latency", 10).SerializeToString()


def good_request_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/v1/traces", body=BODY, headers={"Content-Type": "application/x-protobuf"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def open_and_unanswered(sock: socket.socket) -> bool:
    """The server has neither answered nor closed this connection."""
    sock.setblocking(False)
    try:
        return not sock.recv(1, socket.MSG_PEEK)  # b"": closed by the server
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


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
        assert good_request_status(http_port) == 200
        sockets: list[socket.socket] = []
        stop = threading.Event()
        for i in range(200):
            sock = socket.create_connection(("127.0.0.1", http_port))
            if i % 2:  # byte-at-a-time: a request whose headers and body never finish
                sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
            sockets.append(sock)

        passes = 0

        def trickle() -> None:
            nonlocal passes
            while not stop.is_set():
                for sock in sockets[1::2]:
                    try:
                        sock.send(b"X")
                    except OSError:
                        pass
                passes += 1
                time.sleep(0.05)  # the scenario: a byte every 50 ms per connection, not a wait

        trickler = threading.Thread(target=trickle)
        trickler.start()
        try:
            assert wait_for(lambda: passes >= 3)  # the slow clients are trickling
            loaded = [good_request_status(http_port) for _ in range(20)]
            slow_still_pending = [open_and_unanswered(sock) for sock in sockets]
        finally:
            stop.set()
            trickler.join()
            for sock in sockets:
                sock.close()
        assert loaded == [200] * 20
        assert all(slow_still_pending), f"{slow_still_pending.count(False)} slow connections were answered or closed first"
