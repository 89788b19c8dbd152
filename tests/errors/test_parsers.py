"""The stack-trace parsers on traces real runtimes printed (tests/data/errors/traces/, captured by
capture_traces.py: Python, Node.js, Java, Go, Ruby) and on documented formats that cannot run
here (`*-documented.txt`: .NET, Kotlin, Chrome minified, Firefox, Safari)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summitcol.errors.parsers import detect_language, parse
from summitcol.errors.parsers.common import MAX_CHAIN, MAX_FRAMES

TRACES = Path(__file__).parent.parent / "data" / "errors" / "traces"


def load(name: str) -> str:
    return (TRACES / f"{name}.txt").read_text()


def frames(exc) -> list[tuple[str, str, str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    return [(f.module, f.function, f.file.rsplit("/", 1)[-1], f.line, f.column) for f in exc.frames]


@pytest.mark.parametrize(("name", "language"), [
    ("python-chain", "python"), ("python-recursion", "python"), ("node-async", "node"), ("node-json", "node"),
    ("java-caused-by", "java"), ("java-lambda", "java"), ("kotlin-documented", "java"), ("go-panic", "go"),
    ("go-debug-stack", "go"), ("ruby", "ruby"),
    ("python-during-handling", "python"), ("python-exception-group", "python"), ("node-await", "node"),
    ("node-eval", "node"), ("node-top-level", "node"), ("java-suppressed", "java"), ("java-reflection", "java"),
    ("go-goroutine", "go"), ("ruby-cause", "ruby"), ("dotnet-documented", "dotnet"),
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
    assert frames(reported) == [("", "<module>", "app.py", 27, None), ("", "<lambda>", "app.py", 25, None),
                                ("", "handle", "app.py", 11, None)]
    assert cause.frames[-1].context_line == "return orders[key]"  # the carets line is no code


def test_python_recursion_frames() -> None:
    exc = parse(load("python-recursion")).reported
    assert exc is not None and (exc.type, exc.message) == ("ZeroDivisionError", "division by zero")
    assert [f.function for f in exc.frames] == ["<module>", "<lambda>", "walk", "walk", "walk"]
    assert exc.omitted_frames == 3  # "[Previous line repeated 3 more times]"


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
    assert frames(exc) == [("main", "main", "main.go", 38, None), ("main", "handle", "main.go", 27, None),
                           ("main", "(*Server).lookup", "main.go", 15, None)]
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


def test_python_during_handling_and_exception_group() -> None:
    trace = parse(load("python-during-handling"))
    assert [(e.type, e.message) for e in trace.exceptions] == [("KeyError", "'k'"), ("RuntimeError", "cleanup failed")]
    assert frames(trace.exceptions[0]) == [("", "during", "app.py", 18, None)]
    assert frames(trace.exceptions[1]) == [("", "<module>", "app.py", 27, None), ("", "during", "app.py", 20, None)]
    group = parse(load("python-exception-group"), language="python")
    assert not group.fallback
    # best effort: the group is the reported exception; its sub-exceptions are not a chain
    assert [(e.type, e.message) for e in group.exceptions] == [("ExceptionGroup", "two failed (2 sub-exceptions)")]
    assert frames(group.exceptions[0]) == [("", "<module>", "app.py", 27, None), ("", "group", "app.py", 23, None)]
    assert group.exceptions[0].frames[-1].context_line.startswith('raise ExceptionGroup("two failed"')


def test_node_async_eval_and_uncaught_report() -> None:
    awaited = parse(load("node-await"), language="nodejs").reported
    assert awaited is not None and (awaited.type, awaited.message) == ("RangeError", "order 7 out of range")
    assert frames(awaited)[0] == ("", "checkout", "app.js", 8, 50)  # "at async checkout"
    assert frames(awaited)[-1] == ("", "fetchOrder", "app.js", 7, 51)
    assert len(awaited.frames) == 2
    evaluated = parse(load("node-eval")).reported
    assert evaluated is not None and evaluated.type == "TypeError"
    # "at eval (eval at run (/…/app.js:10:29), <anonymous>:1:6)": the site that called eval
    assert frames(evaluated)[-1] == ("", "eval", "app.js", 10, 29)
    assert [f.file for f in evaluated.frames][:2] == ["node:internal/timers", "node:internal/timers"]
    top = parse(load("node-top-level"), language="nodejs").reported
    assert top is not None and top.type == "SyntaxError"
    assert top.message == "/tmp/summit-traces/config.json: Expected property name or '}' in JSON at position 2"
    assert frames(top)[-1] == ("", "parse", "<anonymous>", None, None)
    assert ("", "Object.<anonymous>", "top.js", 2, 16) in frames(top)
    assert len(top.frames) == 10  # V8's default Error.stackTraceLimit


def test_java_suppressed_kept_out_and_reflection() -> None:
    trace = parse(load("java-suppressed"), language="java")
    assert [(e.type, e.message) for e in trace.exceptions] == [("java.lang.IllegalStateException", "send failed")]
    assert frames(trace.reported) == [("com.shop.Orders", "main", "Orders.java", 14, None),
                                      ("com.shop.Orders$Conn", "send", "Orders.java", 19, None)]
    trace = parse(load("java-reflection"))
    assert [e.type for e in trace.exceptions] == ["java.lang.IllegalStateException", "java.lang.reflect.InvocationTargetException"]
    cause, reported = trace.exceptions
    assert frames(reported)[-1] == ("jdk.internal.reflect.NativeMethodAccessorImpl", "invoke0", "", None, None)  # Native Method
    assert frames(reported)[0] == ("com.shop.Orders", "main", "Orders.java", 15, None)
    assert reported.message == ""
    # "... 5 more": the cause's frames below lookup are the enclosing trace's five
    assert cause.omitted_frames == 5 and len(cause.frames) == 6
    assert frames(cause)[-1] == ("com.shop.Orders", "lookup", "Orders.java", 5, None)
    assert cause.frames[:5] == reported.frames


def test_go_goroutine_package_path_and_error_panic() -> None:
    exc = parse(load("go-goroutine"), language="go").reported
    assert exc is not None and (exc.type, exc.message) == ("panic", "order 12 missing")
    assert frames(exc) == [("main", "main", "main.go", 34, None), ("main", "main.func1", "main.go", 34, None),
                           ("example.com/shop/store", "(*Store).Get", "store.go", 13, None)]
    hinted = parse(load("go-goroutine"), language="go", exc_type="*fmt.wrapError").reported
    assert hinted is not None and hinted.type == "*fmt.wrapError"


def test_ruby_cause_chain() -> None:
    trace = parse(load("ruby-cause"), language="ruby")
    assert [(e.type, e.message) for e in trace.exceptions] == [
        ("ArgumentError", 'invalid value for Integer(): "x1"'), ("IOError", "could not save x1")]
    assert frames(trace.exceptions[0]) == [("", "<main>", "app.rb", 25, None), ("", "save", "app.rb", 19, None),
                                           ("", "Integer", "app.rb", 19, None)]
    assert frames(trace.reported)[-1] == ("", "rescue in save", "app.rb", 21, None)


def test_ruby_34_quotes_and_class_methods() -> None:
    text = ("/srv/app/orders.rb:12:in 'Orders#lookup': order 12 not found (KeyError)\n"
            "\tfrom /srv/app/api.rb:7:in 'block in Api.handle'\n\tfrom /srv/app/api.rb:3:in 'Api.call'\n")
    exc = parse(text).reported
    assert exc is not None and (exc.type, exc.message) == ("KeyError", "order 12 not found")
    assert frames(exc) == [("Api", "call", "api.rb", 3, None), ("", "block in Api.handle", "api.rb", 7, None),
                           ("Orders", "lookup", "orders.rb", 12, None)]


@pytest.mark.timeout(30)
def test_empty_nul_and_megabyte_inputs() -> None:
    assert parse("") == parse("", language=None)
    assert parse("").fallback and parse("").language == "unknown"
    assert parse("", language="python").language == "python"
    nul = parse("Traceback (most recent call last):\n\x00  File \"/a.py\", line 3, in f\x00\nValueError: x\x00\n")
    assert not nul.fallback and nul.reported is not None and nul.reported.type == "ValueError"
    megabyte = "Traceback (most recent call last):\n" + '  File "/a.py", line 1, in f\n    x()\n' * 40_000
    cut = parse(megabyte + "ValueError: x\n").reported  # the exception line is past the 256 KiB read
    assert cut is not None and len(cut.frames) == MAX_FRAMES and cut.omitted_frames > 0
    assert parse(bytes(range(256)).decode("latin-1") * 4096, exc_type="E").reported == parse("", exc_type="E").reported


def test_long_chains_keep_the_reported_exception() -> None:
    python = "\n\nThe above exception was the direct cause of the following exception:\n\n".join(
        f'Traceback (most recent call last):\n  File "/a.py", line {i}, in f\nE{i}: m' for i in range(40))
    java = "java.lang.E0: m\n\tat a.B.c(B.java:1)\n" + "".join(f"Caused by: java.lang.E{i}: m\n\tat a.B.c(B.java:{i})\n" for i in range(1, 40))
    dotnet = " ---> ".join(f"System.E{i}: m" for i in range(40)) + "\n   at A.B.C() in /a.cs:line 1\n"
    ruby = "".join(f"a.rb:{i}:in 'f': m (E{i})\n\tfrom a.rb:1:in '<main>'\n" for i in range(40))
    for text, reported, root in ((python, "E39", "E10"), (java, "java.lang.E0", "java.lang.E29"),
                                 (dotnet, "System.E0", "System.E29"), (ruby, "E0", "E29")):
        trace = parse(text)
        assert not trace.fallback and len(trace.exceptions) == MAX_CHAIN
        assert (trace.exceptions[0].type, trace.exceptions[-1].type) == (root, reported)


def test_sdk_language_hint_against_the_text() -> None:
    java = load("java-caused-by")
    # a Java trace relayed through a Python service: the text's format wins over the SDK's language
    assert parse(java, language="python").language == "java"
    assert parse(java, language="python").reported == parse(java).reported
    # browser and Node stacks are one format: the SDK's name stays
    assert parse(load("chrome-minified-documented"), language="nodejs").language == "node"
    assert parse(load("node-json"), language="webjs").language == "javascript"
    # a hint for a language whose trace is not parseable: fallback, in that language
    unparsed = parse("something odd", language="go", exc_type="E", message="m")
    assert (unparsed.language, unparsed.fallback, unparsed.reported) == ("go", True, parse("", exc_type="E", message="m").reported)
