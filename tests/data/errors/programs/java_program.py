"""The shop application in Java: a class com.shop.<Module> per module, a library
org.apache.shoplib.Http, and a driver printing each exception as the OpenTelemetry Java agent
records it (class name, `getMessage()`, `printStackTrace()`), compiled with javac for each copy."""

from __future__ import annotations

import subprocess
from pathlib import Path

LIBRARY = '''package org.apache.shoplib;

public class Http {
    public static Object post(String url) throws Exception { return send(url, 2); }
    static Object send(String url, int retries) throws Exception {
        throw new java.net.SocketTimeoutException("timeout after " + (url.length() * 7) + "ms calling " + url);
    }
}
'''
EXCEPTION = '''package com.shop;

public class CheckoutException extends RuntimeException {
    public CheckoutException(String message, Throwable cause) { super(message, cause); }
}
'''
DRIVER = '''package com.shop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;

public class Main {
    static Object dispatch(String bug, Object arg, int depth) throws Exception {
        switch (bug) {
%s
            default: throw new IllegalArgumentException("no bug " + bug);
        }
    }
    static Object withAuth(String bug, Object arg, int depth, int wrappers) throws Exception { return through(bug, arg, depth, wrappers - 1); }
    static Object withMetrics(String bug, Object arg, int depth, int wrappers) throws Exception { return through(bug, arg, depth, wrappers - 1); }
    static Object through(String bug, Object arg, int depth, int wrappers) throws Exception {
        if (wrappers <= 0) { return dispatch(bug, arg, depth); }
        return wrappers %% 2 == 1 ? withAuth(bug, arg, depth, wrappers) : withMetrics(bug, arg, depth, wrappers);
    }
    static Object serviceCall(String bug, Object arg, int depth, int wrappers) throws Exception { return through(bug, arg, depth, wrappers); }
    static Object handleRequest(String bug, Object arg, int depth, int wrappers) throws Exception { return serviceCall(bug, arg, depth, wrappers); }
    static Object runJob(String bug, Object arg, int depth, int wrappers) throws Exception { return through(bug, arg, depth, wrappers); }
    static Object parseAndRun(String bug, Object arg, int depth, int wrappers) throws Exception { return through(bug, arg, depth, wrappers); }
    static Object cliCommand(String bug, Object arg, int depth, int wrappers) throws Exception { return parseAndRun(bug, arg, depth, wrappers); }

    static String quote(String s) {
        if (s == null) { return "null"; }
        StringBuilder out = new StringBuilder("\\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\\\') { out.append('\\\\').append(c); }
            else if (c == '\\n') { out.append("\\\\n"); }
            else if (c == '\\t') { out.append("\\\\t"); }
            else if (c < 0x20) { out.append(String.format("\\\\u%%04x", (int) c)); }
            else { out.append(c); }
        }
        return out.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\\t", -1);
            String bug = f[0], entry = f[1];
            int wrappers = Integer.parseInt(f[2]), depth = Integer.parseInt(f[3]);
            Object arg = f[4].equals("null") ? null : f[4].startsWith("i:") ? (Object) Integer.valueOf(f[4].substring(2)) : f[4].substring(2);
            try {
                if (entry.equals("http")) { handleRequest(bug, arg, depth, wrappers); }
                else if (entry.equals("job")) { runJob(bug, arg, depth, wrappers); }
                else { cliCommand(bug, arg, depth, wrappers); }
                System.err.println("no exception for " + line);
                System.exit(1);
            } catch (Exception e) {
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                System.out.println("{\\"type\\": " + quote(e.getClass().getName()) + ", \\"message\\": " + quote(e.getMessage())
                    + ", \\"stacktrace\\": " + quote(trace.toString()) + "}");
            }
        }
    }
}
'''


def java_arg(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return f"i:{value}"
    return f"s:{value}"


def write(root: Path, bugs: list, pad: int) -> list[str]:  # type: ignore[type-arg]
    src = root / "src"
    (src / "com" / "shop").mkdir(parents=True)
    (src / "org" / "apache" / "shoplib").mkdir(parents=True)
    (src / "org" / "apache" / "shoplib" / "Http.java").write_text(LIBRARY)
    (src / "com" / "shop" / "CheckoutException.java").write_text(EXCEPTION)
    modules: dict[str, list] = {}  # type: ignore[type-arg]
    for bug in bugs:
        modules.setdefault(bug.module, []).append(bug)
    cases = []
    for module, members in sorted(modules.items()):
        body = f"package com.shop;\n\npublic class {module} {{\n"
        seen = set()
        for bug in members:
            cases.append(f'            case "{bug.name}": return {module}.{bug.function}(arg, depth);')
            if bug.function in seen:
                continue
            seen.add(bug.function)
            inserted = "".join(f"    static final int CHANGE_{bug.function}_{i} = {i}; // release change\n" for i in range(pad))
            body += f"{inserted}    static Object {bug.function}(Object arg, int depth) throws Exception {{\n        {bug.code}\n    }}\n"
        (src / "com" / "shop" / f"{module}.java").write_text(body + "}\n")
    (src / "com" / "shop" / "Main.java").write_text(DRIVER % "\n".join(cases))
    sources = [str(p.relative_to(root)) for p in sorted(src.rglob("*.java"))]
    subprocess.run(["javac", "-d", "classes", *sources], cwd=root, check=True, capture_output=True, timeout=300)
    return ["java", "-XX:TieredStopAtLevel=1", "-cp", "classes", "com.shop.Main"]
