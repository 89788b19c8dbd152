"""Capture real stack traces for the parser tests: run small programs in Python, Node.js, Java, Go
and Ruby and write what each runtime prints, exactly as the OpenTelemetry SDKs record it
(`traceback.format_exception`, `err.stack`, `printStackTrace`, a panic / `debug.Stack()`,
`full_message`), under tests/data/errors/traces/<name>.txt.

    python tests/data/errors/capture_traces.py          # needs python3, node, javac/java, go, ruby

Captured: python-{chain,recursion,during-handling,exception-group}, node-{async,json,await,eval}
(`err.stack`), node-top-level (Node's own stderr report of an uncaught error, header included:
what a log shipper collects rather than `err.stack`), java-{caused-by,lambda,suppressed,reflection},
go-{panic,debug-stack,goroutine}, ruby, ruby-cause. Go's pointer arguments and goroutine numbers
change from run to run; nothing else does.

Programs run from a fixed directory (/tmp/summit-traces) so the paths in the committed traces do
not depend on who captured them. Formats that cannot run here are written from their documented
form, in files named `*-documented.txt`, which this script does not touch: .NET
(`Exception.ToString()`, learn.microsoft.com), Kotlin (printStackTrace of the JVM), and browser
stacks of Chrome, Firefox and Safari (MDN `Error.prototype.stack`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

OUT = Path(__file__).parent / "traces"
WORK = Path("/tmp/summit-traces")

PYTHON = '''
import traceback

def lookup(orders, key):
    return orders[key]

def handle(key):
    try:
        return lookup({}, key)
    except KeyError as exc:
        raise ValueError(f"bad order {key}") from exc

def walk(n):
    return walk(n - 1) if n else 1 / 0

def during():
    try:
        {}["k"]
    except KeyError:
        raise RuntimeError("cleanup failed")

def group():
    raise ExceptionGroup("two failed", [ValueError("v1"), TypeError("t2")])

for call in (lambda: handle("a-1"), lambda: walk(5), during, group):
    try:
        call()
    except Exception as exc:
        print("".join(traceback.format_exception(exc)), end="\\f")
'''

NODE = '''
class Cart { constructor(order) { this.total = order.items.length; } }
async function load(id) { await null; return new Cart(undefined); }
function route(id) { return load(id); }
route(3).catch((err) => { process.stdout.write(err.stack + "\\f"); });
setTimeout(() => { try { JSON.parse("{oops"); } catch (err) { process.stdout.write(err.stack + "\\f"); } }, 10);
async function fetchOrder(id) { await null; throw new RangeError(`order ${id} out of range`); }
async function checkout(id) { await null; return await fetchOrder(id); }
checkout(7).catch((err) => { process.stdout.write(err.stack + "\\f"); });  // no timer: no internal frames
function run(code) { return eval(code); }
setTimeout(() => { try { run("null.x"); } catch (err) { process.stdout.write(err.stack + "\\f"); } }, 30);
'''

NODE_TOP = '''
const config = require("./config.json");
'''

JAVA = '''
package com.shop;

public class Orders {
    static int lookup(String id) { throw new IllegalStateException("order " + id + " not found"); }
    static int handle(String id) {
        try { return lookup(id); }
        catch (IllegalStateException e) { throw new RuntimeException("handler failed", e); }
    }
    public static void main(String[] args) {
        try { handle("12"); } catch (Exception e) { e.printStackTrace(); }
        Runnable r = () -> { throw new UnsupportedOperationException("lambda says no"); };
        try { r.run(); } catch (Exception e) { System.err.print("\\f"); e.printStackTrace(); }
        try (Conn c = new Conn()) { c.send(); } catch (Exception e) { System.err.print("\\f"); e.printStackTrace(); }
        try { Orders.class.getDeclaredMethod("lookup", String.class).invoke(null, "9"); }
        catch (Exception e) { System.err.print("\\f"); e.printStackTrace(); }
    }
    static class Conn implements AutoCloseable {
        void send() { throw new IllegalStateException("send failed"); }
        public void close() { throw new IllegalArgumentException("close failed"); }
    }
}
'''

GO = '''
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"

	"example.com/shop/store"
)

type Server struct{ items []int }

func (s *Server) lookup(i int) int { return s.items[i] }

func handle(s *Server) {
	defer func() {
		if r := recover(); r != nil {
			if len(os.Args) > 1 {
				fmt.Fprint(os.Stderr, string(debug.Stack()))
				return
			}
			panic(r)
		}
	}()
	fmt.Println(s.lookup(5))
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "goroutine" {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); store.New().Get(12) }()
		wg.Wait()
		return
	}
	handle(&Server{items: []int{1, 2, 3}})
}
'''

GO_STORE = '''
package store

import "fmt"

type Store struct{ rows map[int]string }

func New() *Store { return &Store{rows: map[int]string{}} }

func (s *Store) Get(id int) string {
	row, ok := s.rows[id]
	if !ok {
		panic(fmt.Errorf("order %d missing", id))
	}
	return row
}
'''

RUBY = '''
class Orders
  def lookup(id)
    raise KeyError, "order #{id} not found"
  end
end

def handle(id)
  [id].each { |i| Orders.new.lookup(i) }
end

begin
  handle(12)
rescue => e
  print e.full_message(highlight: false)
end

def save(order)
  Integer(order)
rescue ArgumentError
  raise IOError, "could not save #{order}"
end

begin
  save("x1")
rescue => e
  print "\\f", e.full_message(highlight: false)
end
'''


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def write(name: str, text: str) -> None:
    (OUT / f"{name}.txt").write_text(text)
    print(f"  {name}.txt ({len(text.splitlines())} lines)", file=sys.stderr)


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "java" / "com" / "shop").mkdir(parents=True)
    (WORK / "go" / "store").mkdir(parents=True)
    OUT.mkdir(exist_ok=True)
    (WORK / "app.py").write_text(textwrap.dedent(PYTHON))
    python_chain, python_recursion, python_during, python_group = run([sys.executable, "app.py"], WORK).stdout.split("\f")[:4]
    write("python-chain", python_chain)
    write("python-recursion", python_recursion)
    write("python-during-handling", python_during)
    write("python-exception-group", python_group)
    (WORK / "app.js").write_text(NODE)
    node_cart, node_await, node_json, node_eval = run(["node", "app.js"], WORK).stdout.split("\f")[:4]
    write("node-async", node_cart + "\n")
    write("node-json", node_json + "\n")
    write("node-await", node_await + "\n")
    write("node-eval", node_eval + "\n")
    (WORK / "top.js").write_text(NODE_TOP)
    (WORK / "config.json").write_text("{ broken")
    write("node-top-level", run(["node", "top.js"], WORK).stderr)
    (WORK / "java" / "com" / "shop" / "Orders.java").write_text(JAVA)
    run(["javac", "com/shop/Orders.java"], WORK / "java").check_returncode()
    java_chain, java_lambda, java_suppressed, java_reflection = run(
        ["java", "com.shop.Orders"], WORK / "java").stderr.split("\f")[:4]
    write("java-caused-by", java_chain)
    write("java-lambda", java_lambda)
    write("java-suppressed", java_suppressed)
    write("java-reflection", java_reflection)
    (WORK / "go" / "main.go").write_text(GO)
    (WORK / "go" / "store" / "store.go").write_text(GO_STORE)
    (WORK / "go" / "go.mod").write_text("module example.com/shop\n\ngo 1.21\n")
    run(["go", "build", "-o", "shop", "."], WORK / "go").check_returncode()
    write("go-panic", run(["./shop"], WORK / "go").stderr)
    write("go-debug-stack", run(["./shop", "stack"], WORK / "go").stderr)
    write("go-goroutine", run(["./shop", "goroutine"], WORK / "go").stderr)
    (WORK / "app.rb").write_text(RUBY)
    ruby, ruby_cause = run(["ruby", "app.rb"], WORK).stdout.split("\f")[:2]
    write("ruby", ruby)
    write("ruby-cause", ruby_cause)
    return 0


if __name__ == "__main__":
    sys.exit(main())
