package com.vendor.jsonlite;

/** A tiny JSON syntax checker (vendored library, shipped as its own jar). */
public class JsonParser {
    private final String text;
    private int pos;

    public JsonParser(String text) {
        this.text = text;
    }

    public Object parse() {
        Object value = readValue();
        return value;
    }

    private Object readValue() {
        char c = text.charAt(pos);
        if (c == '{') return readObject();
        if (Character.isDigit(c)) {
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            return "number";
        }
        throw new ParseException("unexpected character '" + c + "' at offset " + pos);
    }

    private Object readObject() {
        pos++;
        while (text.charAt(pos) != '}') {
            if (text.charAt(pos) == '"') {
                pos = text.indexOf('"', pos + 1) + 1;
                if (text.charAt(pos) != ':') throw new ParseException("expected ':' at offset " + pos);
                pos++;
                readValue();
                if (text.charAt(pos) == ',') pos++;
            } else {
                throw new ParseException("unexpected character '" + text.charAt(pos) + "' at offset " + pos);
            }
        }
        return "object";
    }
}
