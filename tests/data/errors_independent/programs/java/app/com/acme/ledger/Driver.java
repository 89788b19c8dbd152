package com.acme.ledger;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Runs corpus scenarios in a loop and prints what the OpenTelemetry Java SDK records for an exception:
 * exception.type = getClass().getName(), exception.message = getMessage(), exception.stacktrace = the
 * printStackTrace text. Each stdin line is tab-separated: id, entry, wrappers, scenario, args...
 */
public final class Driver {
    private Driver() {}

    public static void main(String[] argv) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            String[] args = Arrays.copyOfRange(f, 4, f.length);
            try {
                Entry.dispatch(f[1], Integer.parseInt(f[2]), f[3], args);
                out.append("{\"id\":").append(json(f[0])).append(",\"error\":\"no exception\"}\n");
            } catch (Throwable t) {
                StringWriter sw = new StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                out.append("{\"id\":").append(json(f[0]))
                    .append(",\"type\":").append(json(t.getClass().getName()))
                    .append(",\"message\":").append(t.getMessage() == null ? "null" : json(t.getMessage()))
                    .append(",\"stacktrace\":").append(json(sw.toString())).append("}\n");
            }
        }
        System.out.write(out.toString().getBytes(StandardCharsets.UTF_8));
        System.out.flush();
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
