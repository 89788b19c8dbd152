"""Generate summitcol/cicd/model/*_pb2.py(i) from proto/summit/build/v1/*.proto (`make proto`).

The generated code is committed, so installing or importing Summit needs no protoc;
tests/cicd/test_codegen.py regenerates into a temporary directory and fails when the committed
files differ by a byte. Run this after every change to a .proto file, then commit both.

protoc (from grpcio-tools, `python -m grpc_tools.protoc`) writes `summit/build/v1/build_pb2.py`
under its output directory, mirroring the proto path; this script moves the files flat into
summitcol/cicd/model/. That is safe because the schemas are one file that imports only Google's
well-known types (`from google.protobuf import timestamp_pb2`, which protobuf ships): a second
file importing the first would be generated as `from summit.build.v1 import ...`, which does not
resolve inside summitcol, and would need its import rewritten here.

One line is rewritten: protoc names the module after the proto path (`summit.build.v1.build_pb2`)
in the call that builds the classes, and that name becomes their `__module__`; left alone, pickle
(which multiprocessing workers use) looks the classes up there and fails. The generated modules
get their real name, `summitcol.cicd.model.build_pb2`, instead.

Usage: python tools/protogen.py [--out DIR]   (default: summitcol/cicd/model)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
SCHEMA_DIR = PROTO_ROOT / "summit" / "build" / "v1"
MODEL_DIR = ROOT / "summitcol" / "cicd" / "model"
MODEL_PACKAGE = "summitcol.cicd.model"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi")


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    """The schema files, relative to the proto root, in a stable order (protoc's output depends on it)."""
    return sorted(path.relative_to(proto_root) for path in (proto_root / SCHEMA_DIR.relative_to(PROTO_ROOT)).glob("*.proto"))


def generated_names(proto_root: Path = PROTO_ROOT) -> list[str]:
    """The file names the generator writes into the model directory, one .py and one .pyi per .proto."""
    return [path.stem + suffix for path in proto_files(proto_root) for suffix in GENERATED_SUFFIXES]


def generate(out_dir: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Run protoc on the schemas and write the generated modules flat into `out_dir`; returns them."""
    from summitcol.cicd.schema_compat import run_protoc  # grpcio-tools' protoc, well-known types included

    files = proto_files(proto_root)
    if not files:
        raise SystemExit(f"no .proto files under {proto_root / SCHEMA_DIR.relative_to(PROTO_ROOT)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="summit-protogen-") as tmp:
        run_protoc([f"-I{proto_root}", f"--python_out={tmp}", f"--pyi_out={tmp}", *map(str, files)])
        written = []
        for path in files:
            for suffix in GENERATED_SUFFIXES:
                source = Path(tmp) / path.parent / (path.stem + suffix)
                target = out_dir / source.name
                code = source.read_bytes()
                target.write_bytes(_rename_module(code, path) if suffix == "_pb2.py" else code)
                written.append(target)
    return written


def _rename_module(code: bytes, proto: Path) -> bytes:
    """Give the classes of a generated .py the module name they are imported under (see the docstring)."""
    protoc_name = ".".join((*proto.parent.parts, proto.stem + "_pb2"))
    real_name = f"{MODEL_PACKAGE}.{proto.stem}_pb2"
    old, new = f"(DESCRIPTOR, '{protoc_name}', _globals)".encode(), f"(DESCRIPTOR, '{real_name}', _globals)".encode()
    if code.count(old) != 1:
        raise SystemExit(f"protoc's output for {proto} names its module {protoc_name!r} {code.count(old)} times, "
                         "not once: protoc changed, update _rename_module in tools/protogen.py")
    return code.replace(old, new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
