"""The webhook pacer's token bucket on a clock of its own."""

from __future__ import annotations

from summitcol.receiver.webhook.pacing import Pacer


def test_burst_then_waits_spaced_by_the_rate_then_refusal() -> None:
    now = [100.0]
    pacer = Pacer(rate=10, burst=3, max_wait=0.25, clock=lambda: now[0])
    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]  # the burst
    waits = [pacer.reserve() for _ in range(3)]
    assert [round(w, 6) for w in waits[:2]] == [0.1, 0.2] and waits[2] is None  # 0.3 s would be past max_wait
    now[0] += 1.0  # a second later the bucket is full again, no more than the burst
    assert [pacer.reserve() for _ in range(4)][:3] == [0.0, 0.0, 0.0]
