"""The stack-trace parsers on traces real runtimes printed (tests/data/errors/traces/, captured by
capture_traces.py: Python, Node.js, Java, Go, Ruby) and on documented formats that cannot run
here (`*-documented.txt`: .NET, Kotlin, Chrome minified, Firefox, Safari)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summitcol.errors.parsers import detect_language, parse
from summitcol.errors.parsers.common import MAX_FRAMES

TRACES = Path(__file__).parent.parent / "data" / "errors" / "traces"


def load(name: str) -> str:
    return (TRACES / f"{name}.txt").read_text()


def frames(exc) -> list[tuple[str, str, str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    return [(f.module, f.function, f.file.rsplit("/", 1)[-1], f.line, f.column) for f in exc.frames]


@pytest.mark.parametrize(("name", "language"), [
    ("python-chain", "python"), ("python-recursion", "python"), ("node-async", "node"), ("node-json", "node"),
    ("java-caused-by", "java"), ("java-lambda", "java"), ("kotlin-documented", "java"), ("go-panic", "go"),
    ("go-debug-stack", "go"), ("ruby", "ruby"), ("dotnet-documented", "dotnet"),
    ("chrome-minified-documented", "javascript"), ("firefox-documented", "javascript"), ("safari-documented", "javascript"),
])
def test_language_detected_and_hint_agrees(name: str, language: str) -> None:
    text = load(name)
    assert detect_language(text) == language
    sdk = {"node": "nodejs", "javascript": "webjs"}.get(language, language)
    assert parse(text, language=sdk).language == language
    assert not parse(text).fallback


def test_python_chain_root_cause_first() -> None:
    trace = parse(load("python-chain"), language="python")
    assert [(e.type, e.message) for e in trace.exceptions] == [("KeyError", "'a-1'"), ("ValueError", "bad order a-1")]
    cause, reported = trace.exceptions
    assert frames(cause) == [("", "handle", "app.py", 9, None), ("", "lookup", "app.py", 5, None)]
    assert frames(reported) == [("", "<module>", "app.py", 18, None), ("", "<lambda>", "app.py", 16, None),
                                ("", "handle", "app.py", 11, None)]
    assert cause.frames[-1].context_line == "return orders[key]"  # the carets line is no code


def test_python_recursion_frames() -> None:
    exc = parse(load("python-recursion")).reported
    assert exc is not None and (exc.type, exc.message) == ("ZeroDivisionError", "division by zero")
    assert [f.function for f in exc.frames] == ["<module>", "<lambda>", "walk", "walk", "walk"]


def test_node_async_constructor_and_internal_frames() -> None:
    cart = parse(load("node-async"), language="nodejs").reported
    assert cart is not None and (cart.type, cart.message) == ("TypeError", "Cannot read properties of undefined (reading 'items')")
    assert frames(cart) == [("", "load", "app.js", 3, 46), ("", "Cart", "app.js", 2, 54)]
    json_error = parse(load("node-json"), language="nodejs").reported
    assert json_error is not None and json_error.type == "SyntaxError"
    assert [(f.function, f.file) for f in json_error.frames] == [
        ("process.processTimers", "node:internal/timers"), ("listOnTimeout", "node:internal/timers"),
        ("Timeout._onTimeout", "/tmp/summit-traces/app.js"), ("JSON.parse", "<anonymous>"),
    ]


def test_java_caused_by_fills_the_shared_frames() -> None:
    trace = parse(load("java-caused-by"), language="java")
    assert [(e.type, e.message) for e in trace.exceptions] == [
        ("java.lang.IllegalStateException", "order 12 not found"), ("java.lang.RuntimeException", "handler failed")]
    cause, reported = trace.exceptions
    assert frames(reported) == [("com.shop.Orders", "main", "Orders.java", 11, None), ("com.shop.Orders", "handle", "Orders.java", 8, None)]
    assert frames(cause) == [("com.shop.Orders", "main", "Orders.java", 11, None), ("com.shop.Orders", "handle", "Orders.java", 7, None),
                             ("com.shop.Orders", "lookup", "Orders.java", 5, None)]
    assert cause.omitted_frames == 1
    lam = parse(load("java-lambda")).reported
    assert lam is not None and [f.function for f in lam.frames] == ["main", "lambda$main$0"]


def test_kotlin_coroutine_frames() -> None:
    exc = parse(load("kotlin-documented"), language="kotlin").reported
    assert exc is not None and exc.type == "java.lang.IllegalArgumentException"
    assert exc.frames[0] == exc.frames[0].__class__(function="run", module="java.lang.Thread", file="Thread.java", line=1583)
    assert (exc.frames[-1].module, exc.frames[-1].function) == ("com.shop.cart.CartService", "add")


@pytest.mark.parametrize("name", ["go-panic", "go-debug-stack"])
def test_go_crash_site_is_below_panic(name: str) -> None:
    trace = parse(load(name), language="go", exc_type="" if name == "go-panic" else "*errors.errorString")
    exc = trace.reported
    assert exc is not None
    assert frames(exc) == [("main", "main", "main.go", 27, None), ("main", "handle", "main.go", 24, None),
                           ("main", "(*Server).lookup", "main.go", 12, None)]
    if name == "go-panic":
        assert (exc.type, exc.message) == ("runtime.Error", "runtime error: index out of range [5] with length 3")
    else:
        assert exc.type == "*errors.errorString"


def test_ruby_backtrace() -> None:
    exc = parse(load("ruby"), language="ruby").reported
    assert exc is not None and (exc.type, exc.message) == ("KeyError", "order 12 not found")
    assert [(f.function, f.line) for f in exc.frames] == [("<main>", 13), ("handle", 9), ("each", 9), ("block in handle", 9), ("lookup", 4)]


def test_dotnet_inner_exceptions_and_async() -> None:
    trace = parse(load("dotnet-documented"), language="dotnet")
    assert [e.type for e in trace.exceptions] == ["System.Collections.Generic.KeyNotFoundException", "System.InvalidOperationException"]
    inner, outer = trace.exceptions
    assert frames(inner)[-1] == ("System.Collections.Generic.Dictionary`2", "get_Item", "", None, None)
    assert frames(inner)[0] == ("Shop.Orders", "Total", "Orders.cs", 42, None)
    assert [(f.module, f.function) for f in outer.frames] == [
        ("System.Runtime.CompilerServices.TaskAwaiter", "ThrowForNonSuccess"), ("Shop.Api", "HandleAsync"), ("Shop.Orders", "Total")]


def test_browser_formats() -> None:
    chrome = parse(load("chrome-minified-documented"), language="webjs").reported
    assert chrome is not None and chrome.type == "TypeError"
    assert frames(chrome)[-1] == ("", "t.render", "main.3f2a1b9c.chunk.js", 1, 23456)
    firefox = parse(load("firefox-documented"), language="webjs", exc_type="TypeError", message="x is null").reported
    safari = parse(load("safari-documented"), language="webjs", exc_type="TypeError", message="x is null").reported
    assert firefox is not None and safari is not None
    assert [(f.function, f.line, f.column) for f in firefox.frames] == [("", 4, 1), ("checkout", 98, 3), ("submit", 120, 15)]
    assert [(f.function, f.line) for f in safari.frames] == [(f.function, f.line) for f in firefox.frames]
    assert (firefox.type, firefox.message) == ("TypeError", "x is null")


@pytest.mark.parametrize(("text", "exc_type", "message", "expected"), [
    ("", "KeyError", "'x'", ("KeyError", "'x'")),
    ("ConnectionError: refused by 10.0.0.1", "", "", ("ConnectionError", "refused by 10.0.0.1")),
    ("something odd happened", "Weird", "", ("Weird", "")),
    ("\x00\x01\x02 binary \xff", "", "", ("", "")),
])
def test_fallback(text: str, exc_type: str, message: str, expected: tuple[str, str]) -> None:
    trace = parse(text, language="cobol", exc_type=exc_type, message=message)
    assert trace.fallback and trace.reported is not None
    assert (trace.reported.type, trace.reported.message) == expected


@pytest.mark.timeout(30)
def test_hostile_input_is_bounded() -> None:
    deep = "Traceback (most recent call last):\n" + "".join(f'  File "/a/b.py", line {i}, in f{i}\n' for i in range(10_000)) + "RecursionError: x\n"
    exc = parse(deep).reported
    assert exc is not None and len(exc.frames) == MAX_FRAMES and exc.frames[-1].function.startswith("f")
    huge = parse("Error: " + "x" * 2_000_000 + "\n    at f (/a.js:1:1)\n", language="nodejs")
    assert huge.reported is not None
    java = parse("java.lang.Error: x\n" + "\tat a.B.c(B.java:1)\n" * 50_000, language="java").reported
    assert java is not None and len(java.frames) == MAX_FRAMES
    for garbage in (bytes(range(256)).decode("latin-1") * 4000, "(" * 100_000, "at " * 100_000, "@:" * 100_000, "\t" * 100_000):
        parse(garbage)
        parse(garbage, language="go")
        parse(garbage, language="dotnet")
        parse(garbage, language="ruby")
        parse(garbage, language="java")
        parse(garbage, language="webjs")


# Lines built to make a backtracking pattern quadratic (each took 3-7 s per parse before the
# patterns were made linear); 64 lines of 4 KiB, parsed under every language.
QUADRATIC_LINES = {
    "v8 call with many ' ('": "    at f" + " (" * 2040 + ")x",
    "gecko frame with a run of spaces": "f@x:" + " " * 4080 + "x",
    "ruby frame with a run of spaces": "x.rb:1:in 'a':" + " " * 4070 + "x",
    "blank lines of spaces": " " * 4090,
    "java frame with many slashes": "\tat " + "a/" * 2040,
    "dotnet type repeated": "aException" * 409 + " x",
    "go panic with spaces": "panic: x" + " " * 4080 + "x",
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(QUADRATIC_LINES))
def test_backtracking_lines_are_linear(name: str) -> None:
    text = "\n".join([QUADRATIC_LINES[name]] * 64)
    for language in (None, "python", "java", "nodejs", "webjs", "go", "dotnet", "ruby"):
        trace = parse(text, language=language)
        assert trace.reported is not None
    assert parse("\n" * 300_000).fallback
