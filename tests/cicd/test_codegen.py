"""summitcol/cicd/model is protoc's output for proto/summit/build/v1, committed: it must not go stale.

tools/protogen.py (`make proto`) regenerates into a temporary directory here and every committed
file must equal protoc's output byte for byte.
"""

from __future__ import annotations

import importlib.util
import pickle
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from summitcol.cicd.model import build_pb2

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "summitcol" / "cicd" / "model"


def _protogen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protogen", ROOT / "tools" / "protogen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protogen = _protogen()


def _differences(generated: Path) -> list[str]:
    """The model files that differ from (or are missing beside) a fresh generation in `generated`."""
    fresh = sorted(path.name for path in generated.iterdir())
    committed = sorted(path.name for path in MODEL_DIR.glob("*_pb2.py*"))
    stale = [name for name in fresh if not (MODEL_DIR / name).exists()
             or (MODEL_DIR / name).read_bytes() != (generated / name).read_bytes()]
    return stale + [f"{name} (no .proto generates it)" for name in committed if name not in fresh]


def test_the_committed_generated_code_is_what_protoc_generates_now(tmp_path: Path) -> None:
    written = protogen.generate(tmp_path)
    assert sorted(path.name for path in written) == ["build_pb2.py", "build_pb2.pyi"]
    assert _differences(tmp_path) == [], "summitcol/cicd/model is stale: run `make proto` and commit the result"


def test_the_staleness_check_sees_a_changed_proto(tmp_path: Path) -> None:
    proto_root = tmp_path / "proto"
    shutil.copytree(protogen.PROTO_ROOT, proto_root)
    schema = proto_root / "summit" / "build" / "v1" / "build.proto"
    schema.write_text(schema.read_text().replace("  string pusher = 8;\n", "  string pusher = 8;\n  string ref = 9;\n"))
    protogen.generate(tmp_path / "out", proto_root)
    assert _differences(tmp_path / "out") == ["build_pb2.py", "build_pb2.pyi"]


def test_the_staleness_check_sees_a_generated_file_without_its_proto(tmp_path: Path) -> None:
    proto_root = tmp_path / "proto"
    shutil.copytree(protogen.PROTO_ROOT, proto_root)
    (proto_root / "summit" / "build" / "v1" / "build.proto").rename(proto_root / "summit" / "build" / "v1" / "events.proto")
    protogen.generate(tmp_path / "out", proto_root)
    assert _differences(tmp_path / "out") == ["events_pb2.py", "events_pb2.pyi", "build_pb2.py (no .proto generates it)",
                                              "build_pb2.pyi (no .proto generates it)"]


def test_the_classes_live_in_the_module_they_are_imported_from() -> None:
    # protoc would call it summit.build.v1.build_pb2, where pickle (multiprocessing) cannot find it
    assert build_pb2.BuildEvent.__module__ == "summitcol.cicd.model.build_pb2"
    event = build_pb2.BuildEvent(event_id="d-1", job=build_pb2.Job(job_id="7"))
    assert pickle.loads(pickle.dumps(event)) == event


def test_the_registered_file_keeps_its_proto_path() -> None:
    assert build_pb2.DESCRIPTOR.name == "summit/build/v1/build.proto"
    assert build_pb2.DESCRIPTOR.package == "summit.build.v1"


def test_the_rewrite_refuses_output_it_does_not_recognise() -> None:
    with pytest.raises(SystemExit, match=r"names its module 'summit.build.v1.build_pb2' 0 times, not once"):
        protogen._rename_module(b"_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'x', _globals)\n",
                                Path("summit/build/v1/build.proto"))
