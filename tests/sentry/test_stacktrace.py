"""Sentry's structured frames rendered as the runtime prints them, and read back by the
fingerprint processor's parsers into the same frames."""

from __future__ import annotations

from summitcol.errors.parsers import parse
from summitcol.sentry.stacktrace import render

FRAMES = [
    {"filename": "app/orders.py", "abs_path": "/srv/app/orders.py", "function": "checkout", "module": "app.orders",
     "lineno": 31, "context_line": "        return lookup(order_id)", "in_app": True},
    {"filename": "app/store.py", "abs_path": "/srv/app/store.py", "function": "lookup", "module": "app.store",
     "lineno": 8, "context_line": "    return ORDERS[order_id]", "in_app": True},
]
CAUSE = {"type": "KeyError", "value": "'a-1'", "module": None, "stacktrace": {"frames": FRAMES}}
RAISED = {"type": "OrderError", "value": "order a-1 is missing", "module": "app.errors",
          "stacktrace": {"frames": [{"abs_path": "/srv/app/orders.py", "function": "checkout", "lineno": 33,
                                     "context_line": "        raise OrderError(...) from exc"}]}}
PYTHON_CHAIN = """\
Traceback (most recent call last):
  File "/srv/app/orders.py", line 31, in checkout
    return lookup(order_id)
  File "/srv/app/store.py", line 8, in lookup
    return ORDERS[order_id]
KeyError: 'a-1'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/app/orders.py", line 33, in checkout
    raise OrderError(...) from exc
app.errors.OrderError: order a-1 is missing
"""


def test_a_python_chain_as_traceback_prints_it() -> None:
    assert render([CAUSE, RAISED], "python") == PYTHON_CHAIN


def test_an_implicit_context_link_and_an_exception_without_frames() -> None:
    context = {**RAISED, "mechanism": {"type": "chained", "source": "__context__"}}
    text = render([{"type": "ValueError", "value": "bad"}, context], "python")
    assert text.startswith("ValueError: bad\n\nDuring handling of the above exception, another exception occurred:\n\n")
    assert render([], "python") == ""


def test_the_python_text_parses_back_into_the_sdks_frames() -> None:
    parsed = parse(PYTHON_CHAIN, language="python")
    assert parsed.language == "python"
    assert [(e.type, e.message) for e in parsed.exceptions] == [("KeyError", "'a-1'"), ("app.errors.OrderError", "order a-1 is missing")]
    assert [(f.function, f.file, f.line, f.context_line) for f in parsed.exceptions[0].frames] == [
        ("checkout", "/srv/app/orders.py", 31, "return lookup(order_id)"),
        ("lookup", "/srv/app/store.py", 8, "return ORDERS[order_id]"),
    ]


def test_javascript_as_v8_prints_it_newest_frame_first() -> None:
    error = {"type": "TypeError", "value": "x is undefined", "stacktrace": {"frames": [
        {"abs_path": "https://shop.example/app.js", "function": "onClick", "lineno": 10, "colno": 5},
        {"abs_path": "https://shop.example/cart.js", "function": "total", "lineno": 42, "colno": 17},
    ]}}
    cause = {"type": "Error", "value": "fetch failed", "stacktrace": {"frames": [{"abs_path": "node:internal/x", "lineno": 1, "colno": 2}]}}
    text = render([cause, error], "javascript")
    assert text == ("TypeError: x is undefined\n"
                    "    at total (https://shop.example/cart.js:42:17)\n"
                    "    at onClick (https://shop.example/app.js:10:5)")  # err.stack: the cause is not part of it
    parsed = parse(text, language="javascript")
    assert [(f.function, f.line) for f in parsed.exceptions[-1].frames] == [("onClick", 10), ("total", 42)]


def test_java_as_print_stack_trace_prints_it() -> None:
    error = {"type": "IllegalStateException", "value": "closed", "module": "java.lang", "stacktrace": {"frames": [
        {"module": "com.shop.Main", "function": "main", "filename": "Main.java", "lineno": 12},
        {"module": "com.shop.Cart", "function": "add", "filename": "Cart.java", "lineno": 40},
    ]}}
    assert render([error], "java") == ("java.lang.IllegalStateException: closed\n"
                                       "\tat com.shop.Cart.add(Cart.java:40)\n"
                                       "\tat com.shop.Main.main(Main.java:12)")
