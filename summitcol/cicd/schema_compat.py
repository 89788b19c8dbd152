"""Is a change to Summit's build event schemas (proto/) compatible with what was published?

Summit's "schema registry with compatibility checks": data written with one version of the
schemas (Kafka topics, files, another Summit's exporter) must still decode, with the same meaning,
under the next. The check compares two descriptor sets (FileDescriptorSet: what protoc compiles
from the .proto files, never their text) and reports every breaking difference:

- a field number reused for another name or type, a field's type or label (singular, optional,
  repeated) changed, a field moved into or out of a oneof, a field moved to another number;
- a field removed without its number and its name in `reserved`, a reserved number or name no
  longer reserved (or taken by a field);
- an enum value number reused for another name, a value removed without `reserved`;
- a message or enum removed or renamed, a file's package or syntax changed.

Adding fields, messages, enums and enum values with fresh numbers is compatible. A rename counts
as breaking even though the binary wire format carries only numbers: JSON and text formats, Any
type URLs and every consumer's generated code use the names.

The baseline is proto/summit/build/v1/baseline.txtpb, a committed descriptor set in text format.
It was chosen over "whatever `git merge-base HEAD main` has" because the check must run in `make
test` anywhere (a tarball, a shallow CI clone, main itself, where the merge base is HEAD and
nothing would be checked), because it names what was actually published rather than what happens
to be on a branch, and because moving it is a deliberate, reviewed step (`make proto-baseline`,
which refuses a breaking change unless ALLOW_BREAKING=1) whose diff reads field by field. Refresh
it when a version of the schemas ships, so that fields added since are protected too.
`--baseline git:REF` compares against the schemas of any commit instead (e.g. in a pull request:
`--baseline git:$(git merge-base HEAD origin/main)`).

Usage:
    python -m summitcol.cicd.schema_compat [--baseline PATH|git:REF] [--proto-root DIR]
    python -m summitcol.cicd.schema_compat --write-baseline [--allow-breaking]
Exit status: 0 compatible, 1 breaking changes (one line each), 2 the schemas could not be read.

There are no services in proto/ yet; rules for them (rpc removed, request type changed) come
with the first one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from google.protobuf import descriptor_pb2, text_format

from summitcol.exceptions import SummitError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROTO_ROOT = REPO_ROOT / "proto"
DEFAULT_BASELINE = DEFAULT_PROTO_ROOT / "summit" / "build" / "v1" / "baseline.txtpb"
GIT_PREFIX = "git:"
MAX_FIELD_NUMBER = 536_870_911  # 2**29 - 1: what `reserved 10 to max` means
BASELINE_HEADER = (
    "# Summit's build event schemas as last published: the baseline of `python -m summitcol.cicd.schema_compat`\n"
    "# (FileDescriptorSet, protobuf text format). Written by `make proto-baseline`; do not edit by hand.\n"
)

FDP = descriptor_pb2.FieldDescriptorProto
_TYPE_NAMES = {
    number: name.removeprefix("TYPE_").lower() for name, number in FDP.Type.items()
}


class SchemaCompatError(SummitError):
    """The schemas or the baseline could not be read or compiled (not a compatibility problem)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One breaking difference: the file and the message, enum or field it is in, and what changed."""

    file: str
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.text}"


# --- reading descriptor sets ---------------------------------------------------------------------


def run_protoc(args: list[str]) -> None:
    """Run grpcio-tools' protoc in-process, with Google's well-known types on the include path.

    protoc writes its own messages (file:line:column: error) to stderr.
    """
    try:
        from grpc_tools import protoc  # only the tests and `make proto` need grpcio-tools
    except ImportError as exc:
        raise SchemaCompatError(
            "grpcio-tools is not installed: install the test extra (pip install -e '.[test]', or make .venv/.installed-test)"
        ) from exc
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(["grpc_tools.protoc", f"-I{include}", *args])
    if code != 0:
        raise SchemaCompatError(f"protoc failed (exit {code}); its messages are above")


def compile_protos(proto_root: Path) -> descriptor_pb2.FileDescriptorSet:
    """Compile every .proto under `proto_root` (the include root) into one descriptor set."""
    if not proto_root.is_dir():
        raise SchemaCompatError(f"{proto_root}: no such directory (pass --proto-root, the directory holding summit/)")
    files = sorted(path.relative_to(proto_root).as_posix() for path in proto_root.rglob("*.proto"))
    if not files:
        raise SchemaCompatError(f"{proto_root}: no .proto files under it")
    with tempfile.TemporaryDirectory(prefix="summit-schema-") as tmp:
        out = Path(tmp) / "set.binpb"
        run_protoc([f"-I{proto_root}", f"--descriptor_set_out={out}", *files])
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def compile_git_ref(ref: str, repo: Path = REPO_ROOT, proto_dir: str = "proto") -> descriptor_pb2.FileDescriptorSet:
    """Compile the .proto files under `proto_dir` as they are in commit `ref` of the git repository `repo`."""

    def git(*args: str) -> bytes:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise SchemaCompatError(f"git {' '.join(args)} failed: {message}")
        return done.stdout

    names = [name for name in git("ls-tree", "-r", "--name-only", ref, "--", proto_dir).decode().splitlines()
             if name.endswith(".proto")]
    if not names:
        raise SchemaCompatError(f"{GIT_PREFIX}{ref}: no .proto files under {proto_dir}/ in that commit")
    with tempfile.TemporaryDirectory(prefix="summit-schema-git-") as tmp:
        for name in names:
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(git("show", f"{ref}:{name}"))
        return compile_protos(Path(tmp) / proto_dir)


def load_descriptor_set(path: Path) -> descriptor_pb2.FileDescriptorSet:
    """Read a descriptor set: protobuf text format for `.txtpb`, binary (protoc --descriptor_set_out) otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaCompatError(f"{path}: cannot read the baseline ({exc.strerror}); write one with `make proto-baseline`") from exc
    try:
        if path.suffix in (".txtpb", ".textproto", ".txt"):
            return text_format.Parse(data.decode(), descriptor_pb2.FileDescriptorSet())
        return descriptor_pb2.FileDescriptorSet.FromString(data)
    except (text_format.ParseError, UnicodeDecodeError, ValueError) as exc:
        raise SchemaCompatError(f"{path}: not a FileDescriptorSet: {exc}") from exc


def load_baseline(spec: str, repo: Path = REPO_ROOT) -> descriptor_pb2.FileDescriptorSet:
    """`git:REF` (the proto/ of a commit) or the path of a descriptor set."""
    if spec.startswith(GIT_PREFIX):
        return compile_git_ref(spec.removeprefix(GIT_PREFIX), repo)
    return load_descriptor_set(Path(spec))


def write_baseline(descriptor_set: descriptor_pb2.FileDescriptorSet, path: Path) -> None:
    """Write `descriptor_set` as the baseline, in text format so that its diffs read field by field."""
    path.write_text(BASELINE_HEADER + text_format.MessageToString(descriptor_set))


# --- comparing them ------------------------------------------------------------------------------


Messages = dict[str, tuple[str, descriptor_pb2.DescriptorProto]]  # full name -> (file, message)
Enums = dict[str, tuple[str, descriptor_pb2.EnumDescriptorProto]]  # full name -> (file, enum)


def _walk(descriptor_set: descriptor_pb2.FileDescriptorSet) -> tuple[Messages, Enums, Messages]:
    """Messages, enums and map entries by full name (no leading dot), in declaration order."""
    messages: Messages = {}
    enums: Enums = {}
    map_entries: Messages = {}

    def visit(file: str, scope: str, message: descriptor_pb2.DescriptorProto) -> None:
        name = f"{scope}.{message.name}" if scope else message.name
        (map_entries if message.options.map_entry else messages)[name] = (file, message)
        for enum in message.enum_type:
            enums[f"{name}.{enum.name}"] = (file, enum)
        for nested in message.nested_type:
            visit(file, name, nested)

    for file in descriptor_set.file:
        for message in file.message_type:
            visit(file.name, file.package, message)
        for enum in file.enum_type:
            enums[f"{file.package}.{enum.name}" if file.package else enum.name] = (file.name, enum)
    return messages, enums, map_entries


class _Index:
    """One descriptor set, indexed for the comparison."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.files = {file.name: file for file in descriptor_set.file}
        self.messages, self.enums, self.map_entries = _walk(descriptor_set)

    def type_of(self, field: descriptor_pb2.FieldDescriptorProto) -> str:
        """The field's type as the .proto spells it: string, summit.build.v1.Result, map<string, string>."""
        if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM, FDP.TYPE_GROUP):
            name = field.type_name.removeprefix(".")
            if name in self.map_entries:
                key, value = sorted(self.map_entries[name][1].field, key=lambda f: f.number)
                return f"map<{self.type_of(key)}, {self.type_of(value)}>"
            return name
        return _TYPE_NAMES[field.type]


def _label(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.label == FDP.LABEL_REPEATED:
        return "repeated"
    if field.label == FDP.LABEL_REQUIRED:
        return "required"
    return "optional" if field.proto3_optional else "singular"


def _oneof(message: descriptor_pb2.DescriptorProto, field: descriptor_pb2.FieldDescriptorProto) -> str | None:
    """The real oneof a field is in (not the synthetic one protoc makes for a proto3 `optional`)."""
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return message.oneof_decl[field.oneof_index].name


def _ranges(ranges: object, *, end_inclusive: bool) -> list[tuple[int, int]]:
    """Reserved ranges as inclusive (first, last) pairs (messages store an exclusive end, enums an inclusive one)."""
    return [(r.start, r.end if end_inclusive else r.end - 1) for r in ranges]  # type: ignore[attr-defined]


def _reserved(number: int, ranges: list[tuple[int, int]]) -> bool:
    return any(first <= number <= last for first, last in ranges)


def _covered(first: int, last: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether every number from first to last is in one of `ranges`."""
    at = first
    for start, end in sorted(ranges):
        if start > at:
            break
        at = max(at, end + 1)
        if at > last:
            return True
    return at > last


def _span(first: int, last: int) -> str:
    last_text = "max" if last >= MAX_FIELD_NUMBER else str(last)
    return str(first) if first == last else f"{first} to {last_text}"


def _reserve_hint(number: int | None, name: str | None) -> str:
    parts = ([f"reserved {number};"] if number is not None else []) + ([f'reserved "{name}";'] if name is not None else [])
    return "add `" + " ".join(parts) + "`"


def check(baseline: descriptor_pb2.FileDescriptorSet, current: descriptor_pb2.FileDescriptorSet) -> list[Problem]:
    """Every breaking difference from `baseline` to `current`, in the baseline's declaration order."""
    old, new = _Index(baseline), _Index(current)
    problems: list[Problem] = []
    moved_package: set[str] = set()
    for name, file in old.files.items():
        now = new.files.get(name)
        if now is None:
            continue  # its types are checked one by one: moving them to another file is fine
        if now.package != file.package:
            moved_package.add(name)
            problems.append(Problem(name, "package", f"changed from '{file.package}' to '{now.package}': every message "
                                    "and enum in the file is renamed; put the new version in its own file and package"))
        if (now.syntax or "proto2") != (file.syntax or "proto2") or now.edition != file.edition:
            problems.append(Problem(name, "syntax", f"changed from {file.syntax or 'proto2'} to {now.syntax or 'proto2'}"))

    for name, (file_name, message) in old.messages.items():
        if file_name in moved_package:
            continue
        if name not in new.messages:
            problems.append(Problem(file_name, f"message {name}", "removed or renamed" + _rename_hint(name, old, new)))
            continue
        problems.extend(_check_message(file_name, name, message, new.messages[name][1], old, new))

    for name, (file_name, enum) in old.enums.items():
        if file_name in moved_package:
            continue
        if name not in new.enums:
            problems.append(Problem(file_name, f"enum {name}", "removed or renamed" + _rename_hint(name, old, new)))
            continue
        problems.extend(_check_enum(file_name, name, enum, new.enums[name][1]))
    return problems


def _shape(proto: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto) -> object:
    if isinstance(proto, descriptor_pb2.DescriptorProto):
        return sorted((f.number, f.name, f.type, f.label) for f in proto.field)
    return sorted(v.number for v in proto.value)  # a renamed enum's values usually change prefix too


def _rename_hint(name: str, old: _Index, new: _Index) -> str:
    """`(renamed to 'X'?)` when exactly one type new in the same scope has the same fields or values."""
    scope = name.rpartition(".")[0]
    table_old: Messages | Enums = old.messages if name in old.messages else old.enums
    table_new: Messages | Enums = new.messages if name in old.messages else new.enums
    shape = _shape(table_old[name][1])
    candidates = [other for other, (_, proto) in table_new.items()
                  if other not in table_old and other.rpartition(".")[0] == scope and _shape(proto) == shape]
    return f" (renamed to '{candidates[0]}'?)" if len(candidates) == 1 else ""


def _check_message(file: str, name: str, old: descriptor_pb2.DescriptorProto, new: descriptor_pb2.DescriptorProto,
                   old_index: _Index, new_index: _Index) -> Iterator[Problem]:
    where = f"message {name}"
    old_fields = {f.number: f for f in old.field}
    new_fields = {f.number: f for f in new.field}
    new_by_name = {f.name: f for f in new.field}
    reserved = _ranges(new.reserved_range, end_inclusive=False)
    reserved_names = set(new.reserved_name)
    for number, field in sorted(old_fields.items()):
        now = new_fields.get(number)
        if now is None:
            moved = new_by_name.get(field.name)
            if moved is not None:
                yield Problem(file, where, f"field '{field.name}' moved from number {number} to {moved.number}: "
                              f"keep {number}, or reserve it and give the new field a new name")
                continue
            number_ok, name_ok = _reserved(number, reserved), field.name in reserved_names
            if not (number_ok and name_ok):
                what = "its number and name" if not (number_ok or name_ok) else "its number" if not number_ok else "its name"
                hint = _reserve_hint(None if number_ok else number, None if name_ok else field.name)
                yield Problem(file, where, f"field '{field.name}' ({number}) was removed without reserving {what}: {hint}")
            continue
        old_type, new_type = old_index.type_of(field), new_index.type_of(now)
        if now.name != field.name:
            yield Problem(file, where, f"field number {number} was '{field.name}' ({old_type}) and is now '{now.name}' "
                          f"({new_type}): a number keeps its name; reserve {number} and give '{now.name}' a new number")
            continue
        if new_type != old_type:
            yield Problem(file, where, f"field '{field.name}' ({number}) changed type from {old_type} to {new_type}")
        if _label(now) != _label(field):
            yield Problem(file, where, f"field '{field.name}' ({number}) changed label from {_label(field)} to {_label(now)}")
        old_oneof, new_oneof = _oneof(old, field), _oneof(new, now)
        if old_oneof != new_oneof:
            before = f"oneof '{old_oneof}'" if old_oneof else "no oneof"
            after = f"oneof '{new_oneof}'" if new_oneof else "no oneof"
            yield Problem(file, where, f"field '{field.name}' ({number}) moved from {before} to {after}")
    yield from _check_reserved(file, where, "field", old, new_fields, new_by_name,
                               _ranges(old.reserved_range, end_inclusive=False), reserved, reserved_names)


def _check_enum(file: str, name: str, old: descriptor_pb2.EnumDescriptorProto,
                new: descriptor_pb2.EnumDescriptorProto) -> Iterator[Problem]:
    where = f"enum {name}"
    old_names: dict[int, list[str]] = {}
    for value in old.value:
        old_names.setdefault(value.number, []).append(value.name)
    new_names: dict[int, list[str]] = {}
    for value in new.value:
        new_names.setdefault(value.number, []).append(value.name)
    new_by_name = {v.name: v for v in new.value}
    reserved = _ranges(new.reserved_range, end_inclusive=True)
    reserved_names = set(new.reserved_name)
    for number, names in sorted(old_names.items()):
        now = new_names.get(number)
        for value_name in names:
            if now is not None and value_name in now:
                continue
            moved = new_by_name.get(value_name)
            if moved is not None:
                yield Problem(file, where, f"value {value_name} moved from number {number} to {moved.number}")
            elif now is not None:
                yield Problem(file, where, f"value number {number} was {value_name} and is now {', '.join(now)}: a number "
                              f"keeps its name (add the new name with `option allow_alias = true;`, or use a new number)")
            else:
                number_ok, name_ok = _reserved(number, reserved), value_name in reserved_names
                if not (number_ok and name_ok):
                    what = "its number and name" if not (number_ok or name_ok) else "its number" if not number_ok else "its name"
                    hint = _reserve_hint(None if number_ok else number, None if name_ok else value_name)
                    yield Problem(file, where, f"value {value_name} ({number}) was removed without reserving {what}: {hint}")
    new_values = {number: _first(new, number) for number in new_names}
    yield from _check_reserved(file, where, "value", old, new_values, new_by_name,
                               _ranges(old.reserved_range, end_inclusive=True), reserved, reserved_names)


def _first(enum: descriptor_pb2.EnumDescriptorProto, number: int) -> descriptor_pb2.EnumValueDescriptorProto:
    return next(value for value in enum.value if value.number == number)


class _Numbered(Protocol):
    """A field or an enum value."""

    @property
    def name(self) -> str: ...

    @property
    def number(self) -> int: ...


def _check_reserved(file: str, where: str, kind: str, old: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto,
                    new_by_number: Mapping[int, _Numbered], new_by_name: Mapping[str, _Numbered],
                    old_reserved: list[tuple[int, int]], new_reserved: list[tuple[int, int]],
                    new_reserved_names: set[str]) -> Iterator[Problem]:
    """What the baseline reserves stays reserved: a number or name freed now can be reused by mistake later."""
    for first, last in old_reserved:
        taken = sorted(number for number in new_by_number if first <= number <= last)
        for number in taken:
            yield Problem(file, where, f"{kind} '{new_by_number[number].name}' ({number}) uses number {number}, "
                          "which the baseline reserves")
        if not taken and not _covered(first, last, new_reserved):
            yield Problem(file, where, f"reserved number {_span(first, last)} is no longer reserved")
    for reserved_name in old.reserved_name:
        used = new_by_name.get(reserved_name)
        if used is not None:
            yield Problem(file, where, f"{kind} '{reserved_name}' ({used.number}) uses a name the baseline reserves")
        elif reserved_name not in new_reserved_names:
            yield Problem(file, where, f"reserved name \"{reserved_name}\" is no longer reserved")


# --- command line --------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _counts(descriptor_set: descriptor_pb2.FileDescriptorSet) -> str:
    messages, enums, _ = _walk(descriptor_set)
    return f"{len(descriptor_set.file)} file(s), {len(messages)} messages, {len(enums)} enums"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m summitcol.cicd.schema_compat",
        description="Check Summit's build event schemas (proto/) against a baseline for breaking changes.",
    )
    parser.add_argument("--baseline", default=_shown(DEFAULT_BASELINE),
                        help="a descriptor set (.txtpb text format, else binary) or git:REF (default: %(default)s)")
    parser.add_argument("--proto-root", type=Path, default=DEFAULT_PROTO_ROOT,
                        help="the include root holding the current .proto files (default: %(default)s)")
    parser.add_argument("--write-baseline", action="store_true",
                        help="make the current schemas the baseline (refused if that breaks the old one)")
    parser.add_argument("--allow-breaking", action="store_true", help="with --write-baseline: accept breaking changes")
    args = parser.parse_args(argv)
    try:
        current = compile_protos(args.proto_root)
        exists = not args.write_baseline or args.baseline.startswith(GIT_PREFIX) or Path(args.baseline).exists()
        baseline = load_baseline(args.baseline) if exists else None
    except SchemaCompatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = check(baseline, current) if baseline is not None else []
    for problem in problems:
        print(problem)
    if args.write_baseline:
        if problems and not args.allow_breaking:
            print(f"{len(problems)} breaking change(s): the baseline is unchanged; fix them, or accept them "
                  "deliberately with --allow-breaking (make proto-baseline ALLOW_BREAKING=1)")
            return 1
        target = DEFAULT_BASELINE if args.baseline.startswith(GIT_PREFIX) else Path(args.baseline)
        write_baseline(current, target)
        print(f"wrote {_shown(target)} ({_counts(current)})")
        return 0
    if problems:
        print(f"{len(problems)} breaking change(s) against {args.baseline}: keep old numbers and names (reserve "
              "removed ones), or put the change in a new package (summit.build.v2)")
        return 1
    print(f"compatible with {args.baseline} ({_counts(current)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
