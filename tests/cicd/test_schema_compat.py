"""The schema compatibility check: the committed schemas pass against the baseline, breaking
changes to a copy of them fail with the exact problem, additive ones pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from summitcol.cicd import schema_compat
from summitcol.cicd.schema_compat import (
    DEFAULT_BASELINE,
    DEFAULT_PROTO_ROOT,
    SchemaCompatError,
    check,
    compile_protos,
    load_baseline,
    load_descriptor_set,
    main,
)

ROOT = Path(__file__).resolve().parents[2]
FILE = "summit/build/v1/build.proto"


@pytest.fixture(scope="module")
def baseline() -> descriptor_pb2.FileDescriptorSet:
    return load_descriptor_set(DEFAULT_BASELINE)


def mutated(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of proto/ with each (old, new) text replaced once in build.proto; returns its root."""
    root = tmp_path / "proto"
    shutil.copytree(DEFAULT_PROTO_ROOT, root)
    schema = root / FILE
    text = schema.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"edit target {old!r} is not unique in build.proto"
        text = text.replace(old, new)
    schema.write_text(text)
    return root


def problems(baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path, *edits: tuple[str, str]) -> list[str]:
    return [str(problem) for problem in check(baseline, compile_protos(mutated(tmp_path, *edits)))]


# --- the real schemas ------------------------------------------------------------------------------


def test_the_committed_schemas_are_compatible_with_the_baseline(baseline: descriptor_pb2.FileDescriptorSet) -> None:
    assert check(baseline, compile_protos(DEFAULT_PROTO_ROOT)) == []


def test_the_baseline_holds_the_build_schemas(baseline: descriptor_pb2.FileDescriptorSet) -> None:
    # an empty or unrelated baseline would make every check pass
    [file] = baseline.file
    assert (file.name, file.package) == (FILE, "summit.build.v1")
    assert [message.name for message in file.message_type] == [
        "Repository", "VcsRef", "Runner", "PipelineRun", "Job", "Step", "TestCase", "Deployment", "Change", "BuildEvent"]


def test_the_command_line_passes_on_the_committed_schemas() -> None:
    done = subprocess.run([sys.executable, "-m", "summitcol.cicd.schema_compat"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "compatible with proto/summit/build/v1/baseline.txtpb (1 file(s), 10 messages, 8 enums)\n"


# --- breaking changes ------------------------------------------------------------------------------

STEP = f"{FILE}: message summit.build.v1.Step"
BREAKING = {
    "a field number reused for another name": (
        [("  string name = 6;\n  // Where the step is.", "  string title = 6;\n  // Where the step is.")],
        [f"{STEP}: field number 6 was 'name' (string) and is now 'title' (string): a number keeps its name; "
         "reserve 6 and give 'title' a new number"]),
    "a field number reused for another name and type": (
        [("  string owner = 3;", "  int64 owner_id = 3;")],
        [f"{FILE}: message summit.build.v1.Repository: field number 3 was 'owner' (string) and is now 'owner_id' "
         "(int64): a number keeps its name; reserve 3 and give 'owner_id' a new number"]),
    "a scalar type changed": (
        [("  int64 run_number = 3;", "  string run_number = 3;")],
        [f"{FILE}: message summit.build.v1.PipelineRun: field 'run_number' (3) changed type from int64 to string"]),
    "an enum type changed": (
        [("  Result result = 6;", "  State result = 6;")],
        [f"{FILE}: message summit.build.v1.PipelineRun: field 'result' (6) changed type from summit.build.v1.Result "
         "to summit.build.v1.State"]),
    "a label changed": (
        [("  repeated string labels = 3;", "  string labels = 3;")],
        [f"{FILE}: message summit.build.v1.Runner: field 'labels' (3) changed label from repeated to singular"]),
    "presence added": (
        [("  uint32 number = 5;", "  optional uint32 number = 5;")],
        [f"{STEP}: field 'number' (5) changed label from singular to optional"]),
    "a map's value type changed": (
        [("  map<string, string> attributes = 7;", "  map<string, int64> attributes = 7;")],
        [f"{FILE}: message summit.build.v1.BuildEvent: field 'attributes' (7) changed type from map<string, string> "
         "to map<string, int64>"]),
    "a field removed without reserved": (
        [("  string url = 12;\n", "")],
        [f"{STEP}: field 'url' (12) was removed without reserving its number and name: "
         'add `reserved 12; reserved "url";`']),
    "a field removed with only its number reserved": (
        [("  string url = 12;\n", "  reserved 12;\n")],
        [f"{STEP}: field 'url' (12) was removed without reserving its name: add `reserved \"url\";`"]),
    "a field removed with only its name reserved": (
        [("  string url = 12;\n", '  reserved "url";\n')],
        [f"{STEP}: field 'url' (12) was removed without reserving its number: add `reserved 12;`"]),
    "a field moved to another number": (
        [("  string pusher = 8;", "  string pusher = 9;")],
        [f"{FILE}: message summit.build.v1.Change: field 'pusher' moved from number 8 to 9: keep 8, or reserve it "
         "and give the new field a new name"]),
    "a field moved out of the oneof": (
        [("    Change change = 15;\n  }", "  }\n  Change change = 15;")],
        [f"{FILE}: message summit.build.v1.BuildEvent: field 'change' (15) moved from oneof 'event' to no oneof"]),
    "an enum value removed": (
        [("  RESULT_TIMEOUT = 4;\n", "")],
        [f"{FILE}: enum summit.build.v1.Result: value RESULT_TIMEOUT (4) was removed without reserving its number "
         'and name: add `reserved 4; reserved "RESULT_TIMEOUT";`']),
    "an enum value number reused": (
        [("  RESULT_TIMEOUT = 4;", "  RESULT_DEADLINE = 4;")],
        [f"{FILE}: enum summit.build.v1.Result: value number 4 was RESULT_TIMEOUT and is now RESULT_DEADLINE: a number "
         "keeps its name (add the new name with `option allow_alias = true;`, or use a new number)"]),
    "a message renamed": (
        [("message Step {", "message BuildStep {"), ("    Step step = 12;", "    BuildStep step = 12;")],
        [f"{STEP}: removed or renamed (renamed to 'summit.build.v1.BuildStep'?)",
         f"{FILE}: message summit.build.v1.BuildEvent: field 'step' (12) changed type from summit.build.v1.Step "
         "to summit.build.v1.BuildStep"]),
    "a message removed": (
        [("    // A commit was pushed.\n    Change change = 15;\n", ""),
         ("message Change {", "message Unused {\n}\nmessage ChangeGone {")],
        [f"{FILE}: message summit.build.v1.Change: removed or renamed (renamed to 'summit.build.v1.ChangeGone'?)",
         f"{FILE}: message summit.build.v1.BuildEvent: field 'change' (15) was removed without reserving its number "
         'and name: add `reserved 15; reserved "change";`']),
    "an enum renamed": (
        [("enum JobKind {", "enum JobType {"), ("  JobKind kind = 6;", "  JobType kind = 6;")],
        [f"{FILE}: message summit.build.v1.Job: field 'kind' (6) changed type from summit.build.v1.JobKind "
         "to summit.build.v1.JobType",
         f"{FILE}: enum summit.build.v1.JobKind: removed or renamed (renamed to 'summit.build.v1.JobType'?)"]),
    "the package changed": (
        [("package summit.build.v1;", "package summit.build.v2;")],
        [f"{FILE}: package: changed from 'summit.build.v1' to 'summit.build.v2': every message and enum in the file "
         "is renamed; put the new version in its own file and package"]),
}


@pytest.mark.parametrize("edits, expected", BREAKING.values(), ids=BREAKING.keys())
def test_a_breaking_change_fails_with_the_exact_problem(
    baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path, edits: list[tuple[str, str]], expected: list[str]
) -> None:
    assert problems(baseline, tmp_path, *edits) == expected


def test_a_field_removed_with_its_number_and_name_reserved_passes(
    baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    assert problems(baseline, tmp_path, ("  string url = 12;\n", '  reserved 12;\n  reserved "url";\n')) == []
    assert problems(baseline, tmp_path / "range", ("  string url = 12;\n", '  reserved 1000 to max, 12;\n  reserved "url";\n')) == []


def test_an_enum_value_removed_with_reserved_passes(baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path) -> None:
    assert problems(baseline, tmp_path, ("  RESULT_TIMEOUT = 4;\n", '  reserved 4;\n  reserved "RESULT_TIMEOUT";\n')) == []


ADDITIVE = [
    ("  string parent_span_id = 19;\n}\n\n// A step", "  string parent_span_id = 19;\n  string logs_url = 20;\n}\n\n// A step"),
    ("  PROVIDER_OTEL = 5;\n", "  PROVIDER_OTEL = 5;\n  PROVIDER_BUILDKITE = 6;\n"),
    ("    Change change = 15;\n", "    Change change = 15;\n    Artifact artifact = 16;\n"),
    ("// A source repository", "message Artifact {\n  string name = 1;\n  ArtifactKind kind = 2;\n}\n\n"
     "enum ArtifactKind {\n  ARTIFACT_KIND_UNSPECIFIED = 0;\n}\n\n// A source repository"),
    ("  string name = 1;\n  // vcs.ref.head.type", "  string name = 1;\n  // vcs.ref.head.type"),  # a comment only
    ("  RESULT_SKIP = 6;\n", "  RESULT_SKIP = 6;\n  RESULT_NEUTRAL = 7;\n"),
]


def test_additive_changes_pass(baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path) -> None:
    assert problems(baseline, tmp_path, *ADDITIVE) == []


def test_a_message_moved_to_another_file_of_the_package_passes(
    baseline: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    root = mutated(tmp_path, ("message Change {", "message ChangeMovedAway {"),
                   ('import "google/protobuf/timestamp.proto";', 'import "google/protobuf/timestamp.proto";\n'
                    'import "summit/build/v1/change.proto";'),
                   ("    Change change = 15;", "    Change change = 15;\n    ChangeMovedAway unused = 16;"))
    (root / "summit/build/v1/change.proto").write_text(
        'syntax = "proto3";\npackage summit.build.v1;\nimport "google/protobuf/timestamp.proto";\n'
        "message Change {\n  string author_name = 1;\n  string author_email = 2;\n"
        "  google.protobuf.Timestamp authored_time = 3;\n  google.protobuf.Timestamp committed_time = 4;\n"
        "  google.protobuf.Timestamp pushed_time = 5;\n  string title = 6;\n  string url = 7;\n  string pusher = 8;\n}\n")
    assert check(baseline, compile_protos(root)) == []


# --- what the baseline reserved stays reserved -----------------------------------------------------


def test_a_number_or_name_the_baseline_reserves_stays_reserved(tmp_path: Path) -> None:
    reserved = compile_protos(mutated(tmp_path / "a", ("  string url = 12;\n", '  reserved 12, 16 to 20;\n  reserved "url";\n')))
    reused = compile_protos(mutated(tmp_path / "b", ("  string url = 12;\n", "  string link = 12;\n  reserved 16 to 19;\n")))
    assert [str(problem) for problem in check(reserved, reused)] == [
        f"{STEP}: field 'link' (12) uses number 12, which the baseline reserves",
        f"{STEP}: reserved number 16 to 20 is no longer reserved",
        f'{STEP}: reserved name "url" is no longer reserved',
    ]
    renamed = compile_protos(mutated(tmp_path / "c", ("  string url = 12;\n", "  string link = 12;\n  reserved 16 to 20;\n"),
                                     ("  string name = 6;\n  // Where", "  string url = 6;\n  // Where")))
    assert [str(problem) for problem in check(reserved, renamed)][-2:] == [
        f"{STEP}: field 'link' (12) uses number 12, which the baseline reserves",
        f"{STEP}: field 'url' (6) uses a name the baseline reserves",
    ]


def test_enum_reserved_ranges_include_their_end(tmp_path: Path) -> None:
    reserved = compile_protos(mutated(tmp_path / "a", ("  RESULT_SKIP = 6;\n", "  RESULT_SKIP = 6;\n  reserved 7 to 9;\n")))
    reused = compile_protos(mutated(tmp_path / "b", ("  RESULT_SKIP = 6;\n", "  RESULT_SKIP = 6;\n  RESULT_NEUTRAL = 9;\n"
                                                                              "  reserved 7 to 8;\n")))
    assert [str(problem) for problem in check(reserved, reused)] == [
        f"{FILE}: enum summit.build.v1.Result: value 'RESULT_NEUTRAL' (9) uses number 9, which the baseline reserves"]


# --- the command line ------------------------------------------------------------------------------


def test_the_command_line_prints_each_problem_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = mutated(tmp_path, ("  string url = 12;\n", ""), ("  int64 run_number = 3;", "  string run_number = 3;"))
    assert main(["--proto-root", str(root), "--baseline", str(DEFAULT_BASELINE)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{FILE}: message summit.build.v1.PipelineRun: field 'run_number' (3) changed type from int64 to string",
        f"{STEP}: field 'url' (12) was removed without reserving its number and name: add `reserved 12; reserved \"url\";`",
        f"2 breaking change(s) against {DEFAULT_BASELINE}: keep old numbers and names (reserve removed ones), "
        "or put the change in a new package (summit.build.v2)",
    ]


def test_write_baseline_refuses_a_breaking_change_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.txtpb"
    shutil.copyfile(DEFAULT_BASELINE, baseline)
    root = mutated(tmp_path, ("  string url = 12;\n", ""))
    args = ["--proto-root", str(root), "--baseline", str(baseline), "--write-baseline"]
    assert main(args) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 breaking change(s): the baseline is unchanged; fix them, or accept them deliberately with --allow-breaking "
        "(make proto-baseline ALLOW_BREAKING=1)")
    assert baseline.read_bytes() == DEFAULT_BASELINE.read_bytes()
    assert main([*args, "--allow-breaking"]) == 0
    assert check(load_descriptor_set(baseline), compile_protos(root)) == []
    assert check(load_descriptor_set(DEFAULT_BASELINE), load_descriptor_set(baseline)) != []


def test_a_refreshed_baseline_protects_the_fields_added_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.txtpb"
    shutil.copyfile(DEFAULT_BASELINE, baseline)
    added = mutated(tmp_path / "added", ("  string pusher = 8;\n", "  string pusher = 8;\n  string tree_sha = 9;\n"))
    assert main(["--proto-root", str(added), "--baseline", str(baseline), "--write-baseline"]) == 0
    assert capsys.readouterr().out == f"wrote {baseline} (1 file(s), 10 messages, 8 enums)\n"
    assert load_descriptor_set(baseline) == compile_protos(added)
    # removing it again is caught now; against the old baseline it would have passed
    assert main(["--proto-root", str(DEFAULT_PROTO_ROOT), "--baseline", str(baseline)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{FILE}: message summit.build.v1.Change: field 'tree_sha' (9) was removed without reserving its number and "
        'name: add `reserved 9; reserved "tree_sha";`')


def test_the_baseline_can_be_a_git_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DEFAULT_PROTO_ROOT, repo / "proto")
    (repo / "proto" / "summit/build/v1/baseline.txtpb").unlink()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       check=True, capture_output=True, timeout=30)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "schemas")
    schema = repo / "proto" / FILE
    schema.write_text(schema.read_text().replace("  RESULT_TIMEOUT = 4;\n", ""))
    assert [str(problem) for problem in check(load_baseline("git:HEAD", repo), compile_protos(repo / "proto"))] == [
        f"{FILE}: enum summit.build.v1.Result: value RESULT_TIMEOUT (4) was removed without reserving its number "
        'and name: add `reserved 4; reserved "RESULT_TIMEOUT";`']
    with pytest.raises(SchemaCompatError, match=r"^git ls-tree -r --name-only nosuchref -- proto failed: fatal: "):
        load_baseline("git:nosuchref", repo)


def test_unreadable_inputs_exit_2_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.txtpb"
    assert main(["--baseline", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"error: {missing}: cannot read the baseline (No such file or directory); write one with `make proto-baseline`\n")
    garbage = tmp_path / "garbage.txtpb"
    garbage.write_text("file { nonsense: 1 }\n")
    assert main(["--baseline", str(garbage)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {garbage}: not a FileDescriptorSet: 1:8 : ")
    root = mutated(tmp_path, ("message Step {", "message Step {{"))
    assert main(["--proto-root", str(root)]) == 2
    assert capsys.readouterr().err.endswith("error: protoc failed (exit 1); its messages are above\n")
    assert main(["--proto-root", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'nowhere'}: no such directory (pass --proto-root, the directory holding summit/)\n")


def test_the_default_paths_are_the_checkouts() -> None:
    assert schema_compat.DEFAULT_PROTO_ROOT == ROOT / "proto"
    assert DEFAULT_BASELINE == ROOT / "proto/summit/build/v1/baseline.txtpb"
