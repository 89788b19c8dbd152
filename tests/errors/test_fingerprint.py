"""Parameterization, normalization, fingerprint rules and the fingerprint's invariants, on parsed
traces built by hand (the parsers have their own tests; here only what comes after them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from summitcol.errors.fingerprint import fingerprint
from summitcol.errors.normalize import InAppRules, basename, collapse_recursion, function_name, module_name
from summitcol.errors.parameterize import parameterize
from summitcol.errors.parsers.frames import ExceptionInfo, Frame, ParsedTrace
from summitcol.errors.rules import FingerprintRules
from summitcol.exceptions import ConfigError


@pytest.mark.parametrize(("message", "template"), [
    ("order 1231 not found", "order <int> not found"),
    ("user alice@example.com failed from 10.0.0.1:5432", "user <email> failed from <ip>"),
    ("file /tmp/tmpab12/x/data.json missing", "file <path> missing"),
    ("timeout after 250ms talking to db.example.com", "timeout after <duration> talking to <hostname>"),
    ("request 123e4567-e89b-12d3-a456-426614174000 failed", "request <uuid> failed"),
    ("commit 3f2a1b9c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90 missing", "commit <sha1> missing"),
    ("pointer 0x7ffd3a2c", "pointer <hex>"),
    ("ratio 0.75 too high", "ratio <float> too high"),
    ("KeyError: 'order-17'", "KeyError: '<str>'"),
    ("id=abc-77 rejected", "id=<value> rejected"),
    ("at 2026-12-03T11:22:33Z", "at <date>"),
    ("list index out of range", "list index out of range"),
    ("line one\nline two\nline three", "line one line two..."),
])
def test_parameterize(message: str, template: str) -> None:
    assert parameterize(message) == template


def test_parameterize_is_bounded_on_huge_messages() -> None:
    assert len(parameterize("x" * 5_000_000)) <= 1027


@pytest.mark.parametrize(("path", "name"), [
    ("/tmp/tmpq1w2/app/orders.py", "orders.py"),
    ("C:\\build\\src\\Orders.cs", "orders.cs"),
    ("https://cdn.example.com/static/js/main.3f2a1b9c.chunk.js?v=12", "main.chunk.js"),
    ("webpack:///./src/app.js", "app.js"),
    ("", ""),
])
def test_basename(path: str, name: str) -> None:
    assert basename(path) == name


@pytest.mark.parametrize(("function", "language", "name"), [
    ("lambda$process$0", "java", "lambda$process"),
    ("handle$$EnhancerBySpringCGLIB$$a1b2c3", "java", "handle<auto>"),
    ("main.(*Server).handle.func3", "go", "main.(*Server).handle.func"),
    ("<ProcessAsync>d__5.MoveNext", "dotnet", "ProcessAsync"),
    ("block (2 levels) in perform", "ruby", "block in perform"),
    ("Object.<anonymous>", "node", ""),
    ("async OrderService.lookup", "node", "lookup"),
    ("<anonymous>", "javascript", ""),
    ("process_order", "python", "process_order"),
])
def test_function_names(function: str, language: str, name: str) -> None:
    assert function_name(function, language) == name


def test_java_generated_modules() -> None:
    assert module_name("com.shop.Orders$1", "java") == "com.shop.Orders$<n>"
    assert module_name("jdk.internal.reflect.GeneratedMethodAccessor42", "java") == "<auto>"


def test_recursion_collapsed_for_any_depth_and_short_cycles() -> None:
    def frames(*names: str) -> list[Frame]:
        return [Frame(function=n, file="a.py") for n in names]

    assert [f.function for f in collapse_recursion(frames("main", *["walk"] * 50, "leaf"))] == ["main", "walk", "leaf"]
    assert [f.function for f in collapse_recursion(frames("main", *["even", "odd"] * 7, "leaf"))] == ["main", "even", "odd", "leaf"]


@pytest.mark.parametrize(("frame", "in_app"), [
    (Frame(function="f", file="/srv/app/orders.py"), True),
    (Frame(function="get", file="/usr/lib/python3.11/site-packages/requests/api.py"), False),
    (Frame(function="x", file="/app/node_modules/express/lib/router.js"), False),
    (Frame(function="processTicksAndRejections", file="node:internal/process/task_queues"), False),
    (Frame(function="run", module="java.lang.Thread"), False),
    (Frame(function="lookup", module="com.shop.Orders"), True),
    (Frame(function="gopanic", module="runtime", file="/usr/local/go/src/runtime/panic.go"), False),
])
def test_in_app_defaults(frame: Frame, in_app: bool) -> None:
    assert InAppRules().decide(frame) is in_app


def test_in_app_include_and_exclude() -> None:
    rules = InAppRules(include=("org.springframework.mine",), exclude=("com.shop.generated", "/srv/app/vendored/"))
    assert rules.decide(Frame(function="f", module="org.springframework.mine.Thing"))
    assert not rules.decide(Frame(function="f", module="com.shop.generated.Stub"))
    assert not rules.decide(Frame(function="f", file="/srv/app/vendored/lib.py"))


def trace(*frames: tuple[str, str, int], exc_type: str = "KeyError", message: str = "'a'", language: str = "python") -> ParsedTrace:
    return ParsedTrace(language, (ExceptionInfo(exc_type, message, tuple(Frame(function=f, file=p, line=n) for f, p, n in frames)),))


BASE = [("main", "/srv/app/cli.py", 10), ("handle", "/srv/app/orders.py", 40), ("lookup", "/srv/app/orders.py", 90)]


def test_same_bug_same_fingerprint_whatever_lines_paths_message_and_recursion() -> None:
    base = fingerprint(trace(*BASE))
    shifted = fingerprint(trace(*((f, p.replace("/srv/app", "/tmp/tmpx9/app"), n + 17) for f, p, n in BASE), message="'b'"))
    recursive = fingerprint(trace(BASE[0], *[BASE[1]] * 12, BASE[2]))
    with_library = fingerprint(trace(*BASE, ("get", "/usr/lib/python3.11/site-packages/requests/api.py", 5)))
    assert base.fingerprint == shifted.fingerprint == recursive.fingerprint == with_library.fingerprint
    assert base.crash_token == with_library.crash_token == "orders.py:lookup"
    assert base.signature == ("cli.py:main", "orders.py:handle", "orders.py:lookup")


def test_near_misses_differ() -> None:
    base = fingerprint(trace(*BASE))
    other_site = fingerprint(trace(BASE[0], BASE[1], ("lookup_user", "/srv/app/orders.py", 90)))
    other_type = fingerprint(trace(*BASE, exc_type="ValueError"))
    other_file = fingerprint(trace(BASE[0], BASE[1], ("lookup", "/srv/app/users.py", 90)))
    assert len({base.fingerprint, other_site.fingerprint, other_type.fingerprint, other_file.fingerprint}) == 4


def test_without_frames_the_message_template_decides() -> None:
    a = fingerprint(ParsedTrace("unknown", (ExceptionInfo("TimeoutError", "gave up after 30s on 10.0.0.7"),), fallback=True))
    b = fingerprint(ParsedTrace("unknown", (ExceptionInfo("TimeoutError", "gave up after 12s on 10.0.0.9"),), fallback=True))
    c = fingerprint(ParsedTrace("unknown", (ExceptionInfo("TimeoutError", "connection refused"),), fallback=True))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    untyped = fingerprint(ParsedTrace("unknown", (ExceptionInfo("", ""),), fallback=True))
    assert len(untyped.fingerprint) == 32 and untyped.title == "<unknown error>"


def test_fingerprint_is_the_same_in_another_process() -> None:
    """A deterministic hash: no PYTHONHASHSEED, no process state."""
    code = (
        "from tests.errors.test_fingerprint import BASE, trace;"
        "from summitcol.errors.fingerprint import fingerprint;"
        "print(fingerprint(trace(*BASE)).fingerprint)"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}, cwd=".").stdout.strip()
    # pinned: a change of this value regroups every user's errors, so it must be deliberate
    assert other == fingerprint(trace(*BASE)).fingerprint == "ce507efa6b162fc5e24dfea50d81a3b9"


def test_custom_rules() -> None:
    rules = FingerprintRules([
        "# comments and blank lines are fine\n",
        'error.type:ConnectionError error.value:"*timeout*" -> connection-timeout title="Upstream timed out"',
        "stack.function:lookup tags.region:eu-* -> lookups-eu, {{ default }}",
        "error.type:Value* -> {{ error.type }}, {{ stack.function }}",
    ])
    timeout_a = fingerprint(trace(*BASE, exc_type="ConnectionError", message="read TIMEOUT on a"), rules=rules)
    timeout_b = fingerprint(trace(BASE[0], exc_type="ConnectionError", message="connect timeout"), rules=rules)
    assert timeout_a.fingerprint == timeout_b.fingerprint and timeout_a.custom and timeout_a.title == "Upstream timed out"
    eu = fingerprint(trace(*BASE), rules=rules, tags={"region": "eu-west"})
    us = fingerprint(trace(*BASE), rules=rules, tags={"region": "us-east"})
    assert not eu.custom and eu.fingerprint != us.fingerprint == fingerprint(trace(*BASE)).fingerprint
    v1 = fingerprint(trace(*BASE, exc_type="ValueError"), rules=rules)
    v2 = fingerprint(trace(("other", "/srv/app/x.py", 1), ("lookup", "/srv/app/y.py", 2), exc_type="ValueError"), rules=rules)
    assert v1.fingerprint == v2.fingerprint and v1.custom


@pytest.mark.parametrize(("rule", "problem"), [
    ("error.type:X", "expected `matchers -> values`"),
    ("colour:red -> x", "unknown matcher 'colour:red'"),
    (" -> x", "no matcher before ->"),
    ("error.type:X -> ", "no fingerprint value after ->"),
    ("error.type:X -> {{ nope }}", "unknown variable {{ nope }}"),
])
def test_rule_errors(rule: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        FingerprintRules([rule])
