"""The hub directory (`summitcol-<pid>-*/hub.sock` in the temp directory) does not outlive its
collector: removed at stop, and after a kill -9 by the next collector that starts."""

from __future__ import annotations

import signal
from pathlib import Path

from summitcol.service.workers import remove_stale_hub_dirs
from summitcol.worker import _children
from tests.helpers import Collector, free_port, wait_for


def config(grpc: int) -> str:
    return f"""\
        receivers:
          otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{grpc}}}}}}}
        exporters:
          debug:
        service:
          workers: 2
          telemetry: {{metrics: {{level: none}}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [debug]}}
        """


def test_a_killed_collectors_hub_dir_is_removed_by_the_next(tmp_path: Path, private_tmpdir: Path) -> None:
    temp = private_tmpdir
    (temp / "summitcol-unrelated").mkdir()  # not a hub directory: left alone
    grpc = free_port()
    killed = Collector(tmp_path, config(grpc), "killed").start()
    assert killed.process is not None
    [stale] = temp.glob(f"summitcol-{killed.process.pid}-*")
    assert remove_stale_hub_dirs(str(temp)) == []  # it is alive: its hub answers
    children = _children(killed.process.pid)
    assert len(children) == 1
    assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
    assert wait_for(lambda: not Path(f"/proc/{children[0]}").exists())  # the kernel kills worker 1 too
    assert (stale / "hub.sock").exists()  # nothing can run at kill -9; the next start cleans up
    with Collector(tmp_path, config(grpc), "next") as following:
        assert following.process is not None
        assert not stale.exists()
        assert sorted(p.name.split("-")[1] for p in temp.iterdir()) == [str(following.process.pid), "unrelated"]
    assert [p.name for p in temp.iterdir()] == ["summitcol-unrelated"]
