/*
 * summitcol.pdata._otlp: OTLP protobuf (wire format) -> column buffers, in C.
 *
 * decode_traces(data: bytes, max_attributes: int) reads an ExportTraceServiceRequest straight
 * from its wire bytes into growable column buffers (no protobuf objects, no Python objects per
 * field) and returns them as bytes objects that `fastdecode.py` wraps into Arrow arrays without
 * copying. The GIL is released while parsing, so decode threads run on every core.
 *
 * The output is exactly what `traces.traces_from_otlp` builds (see its docstring and
 * pdata/README.md): the same validity rules (a span with a bad id or too many attributes is left
 * out and reported by its byte range, so Python can word the reason), the same value texts
 * (ints in decimal, doubles as Go's shortest 'f' format, bytes in base64, bools true/false).
 * Values C does not render itself — arrays, kvlists, and doubles whose shortest form needs an
 * exponent — are handed to a Python callback (rare). Malformed wire data or invalid UTF-8 makes
 * the call return None, and the caller falls back to the protobuf library, which words the error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <float.h>

/* ---------------------------------------------------------------- growable buffers */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *src, size_t n) {
    if (n == 0) return 0; /* src may be NULL (an absent string); memcpy must not see it */
    if (buf_reserve(b, n)) return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

#define PUT(b, type, value)                                   \
    do {                                                      \
        type _v = (value);                                    \
        if (buf_put((b), &_v, sizeof(_v))) return -1;         \
    } while (0)

/* Why the decode running on this thread stopped, when it is not "malformed, let protobuf word it":
   the Python side raises ValueError with this text (the receiver answers 400). */
static _Thread_local const char *decode_error;
/* Arrow string offsets are int32: a column whose text would pass this many bytes is refused
   (a bound check, not pa.large_string: the storage schema stays `string`). Set per call. */
static _Thread_local size_t max_column_bytes;

static int column_full(size_t len) {
    if (len <= max_column_bytes) return 0;
    decode_error = "the request renders more than 2 GiB of text into one column (Arrow's string offsets are 32-bit); send it in smaller requests";
    return -1;
}

/* A string column: int32 offsets (first 0) + UTF-8 data. */
typedef struct {
    Buf offsets, data;
    int32_t count;
} StrCol;

static int str_init(StrCol *c) {
    memset(c, 0, sizeof(*c));
    int32_t zero = 0;
    return buf_put(&c->offsets, &zero, 4);
}

static int str_add(StrCol *c, const char *s, size_t n) {
    if (column_full(c->data.len + n) || buf_put(&c->data, s, n)) return -1;
    int32_t end = (int32_t)c->data.len;
    if (buf_put(&c->offsets, &end, 4)) return -1;
    c->count++;
    return 0;
}

/* An attribute-map column: per row offsets into entries; keys, types, values per entry. */
typedef struct {
    Buf row_offsets; /* int32, first 0 */
    StrCol keys, values;
    Buf types; /* uint8 */
    int32_t entries;
} AttrCol;

static int attr_init(AttrCol *a) {
    memset(a, 0, sizeof(*a));
    int32_t zero = 0;
    if (buf_put(&a->row_offsets, &zero, 4)) return -1;
    if (str_init(&a->keys) || str_init(&a->values)) return -1;
    return 0;
}

static int attr_end_row(AttrCol *a) {
    return buf_put(&a->row_offsets, &a->entries, 4);
}

static void buf_free(Buf *b) { free(b->data); b->data = NULL; b->len = b->cap = 0; }
static void str_free(StrCol *c) { buf_free(&c->offsets); buf_free(&c->data); }
static void attr_free(AttrCol *a) { buf_free(&a->row_offsets); str_free(&a->keys); str_free(&a->values); buf_free(&a->types); }

/* ---------------------------------------------------------------- wire reading */

typedef struct {
    const uint8_t *p, *end;
} Reader;

static int read_varint(Reader *r, uint64_t *out) {
    uint64_t v = 0;
    int shift = 0;
    while (r->p < r->end && shift < 64) {
        uint8_t byte = *r->p++;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) { *out = v; return 0; }
        shift += 7;
    }
    return -1;
}

static int read_fixed64(Reader *r, uint64_t *out) {
    if (r->end - r->p < 8) return -1;
    memcpy(out, r->p, 8);
    r->p += 8;
    return 0;
}

static int read_fixed32(Reader *r, uint32_t *out) {
    if (r->end - r->p < 4) return -1;
    memcpy(out, r->p, 4);
    r->p += 4;
    return 0;
}

static int read_bytes(Reader *r, Reader *sub) {
    uint64_t n;
    if (read_varint(r, &n)) return -1;
    if ((uint64_t)(r->end - r->p) < n) return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int skip_field(Reader *r, int wire) {
    uint64_t tmp;
    Reader sub;
    switch (wire) {
    case 0: return read_varint(r, &tmp);
    case 1: if (r->end - r->p < 8) return -1; r->p += 8; return 0;
    case 2: return read_bytes(r, &sub);
    case 5: if (r->end - r->p < 4) return -1; r->p += 4; return 0;
    default: return -1; /* groups (3/4) are not used by OTLP */
    }
}

/* Field tag: returns 1 with field/wire set, 0 at the end, -1 on error. Field numbers run from 1
   to 2^29 - 1: a larger one (the tag passes 32 bits) is malformed, as protobuf has it. */
static int next_tag(Reader *r, uint32_t *field, int *wire) {
    if (r->p >= r->end) return 0;
    uint64_t tag;
    if (read_varint(r, &tag)) return -1;
    if (tag > UINT32_MAX) return -1;
    *field = (uint32_t)(tag >> 3);
    *wire = (int)(tag & 7);
    if (*field == 0) return -1;
    return 1;
}

/* UTF-8 validity, as protobuf requires of string fields (overlongs and surrogates rejected). */
static int utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
        i += len;
    }
    return 1;
}

static int read_string(Reader *r, Reader *sub) {
    if (read_bytes(r, sub)) return -1;
    if (!utf8_valid(sub->p, (size_t)(sub->end - sub->p))) return -1;
    return 0;
}

/* ---------------------------------------------------------------- value rendering */

enum { T_EMPTY = 0, T_STRING = 1, T_INT = 2, T_DOUBLE = 3, T_BOOL = 4, T_KVLIST = 5, T_ARRAY = 6, T_BYTES = 7 };

static const char HEX[] = "0123456789abcdef";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_hex(Buf *b, const uint8_t *s, size_t n) {
    if (column_full(b->len + 2 * n) || buf_reserve(b, 2 * n)) return -1;
    char *out = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[s[i] >> 4];
        out[2 * i + 1] = HEX[s[i] & 15];
    }
    b->len += 2 * n;
    return 0;
}

static int str_add_hex(StrCol *c, const uint8_t *s, size_t n) {
    if (put_hex(&c->data, s, n)) return -1;
    int32_t end = (int32_t)c->data.len;
    if (buf_put(&c->offsets, &end, 4)) return -1;
    c->count++;
    return 0;
}

static int str_add_base64(StrCol *c, const uint8_t *s, size_t n) {
    size_t out_len = 4 * ((n + 2) / 3);
    if (column_full(c->data.len + out_len) || buf_reserve(&c->data, out_len)) return -1;
    char *o = c->data.data + c->data.len;
    size_t i = 0, j = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
        o[j++] = B64[(v >> 18) & 63]; o[j++] = B64[(v >> 12) & 63]; o[j++] = B64[(v >> 6) & 63]; o[j++] = B64[v & 63];
    }
    if (i < n) {
        uint32_t v = s[i] << 16;
        if (i + 1 < n) v |= s[i + 1] << 8;
        o[j++] = B64[(v >> 18) & 63];
        o[j++] = B64[(v >> 12) & 63];
        o[j++] = (i + 1 < n) ? B64[(v >> 6) & 63] : '=';
        o[j++] = '=';
    }
    c->data.len += j;
    int32_t end = (int32_t)c->data.len;
    if (buf_put(&c->offsets, &end, 4)) return -1;
    c->count++;
    return 0;
}

typedef struct {
    PyObject *fallback;  /* callable(kind: int, payload: bytes) -> (type: int, text: str) */
    int failed;          /* a Python error is set */
    const uint8_t *base; /* start of the request, for rejected spans' byte offsets */
} Ctx;

/* Hand a value to Python: kind 0 = an AnyValue message (array/kvlist), 1 = a double's 8 bytes. */
static int fallback_value(Ctx *ctx, int kind, const uint8_t *p, size_t n, AttrCol *a) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rc = -1;
    PyObject *res = PyObject_CallFunction(ctx->fallback, "iy#", kind, (const char *)p, (Py_ssize_t)n);
    if (res) {
        int type;
        const char *text;
        Py_ssize_t len;
        if (PyArg_ParseTuple(res, "is#", &type, &text, &len)) {
            uint8_t t = (uint8_t)type;
            if (!buf_put(&a->types, &t, 1) && !str_add(&a->values, text, (size_t)len)) rc = 0;
        }
        Py_DECREF(res);
    }
    if (rc) ctx->failed = 1;
    PyGILState_Release(g);
    return rc;
}

/* Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that read back as `v` (the
   correctly rounded %.*e at the smallest precision that round-trips, which is what Python's repr
   chooses too), laid out without an exponent. Runs without the GIL (no Python API here);
   infinities and NaN go to the Python fallback. */
/* digits[0..nd) × 10^(exp10 - nd + 1) as a C string strtod reads. */
static double read_back(const char *digits, int nd, int exp10, int neg, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%c.%.*se%d", neg ? "-" : "", digits[0], nd - 1, digits + 1, exp10);
    return strtod(buf, NULL);
}

/* Add (+1) or subtract (-1) one unit in the last of nd digits, keeping nd digits. */
static int step_digits(char *digits, int nd, int *exp10, int dir) {
    int i = nd - 1;
    if (dir > 0) {
        while (i >= 0 && digits[i] == '9') digits[i--] = '0';
        if (i < 0) { memmove(digits + 1, digits, (size_t)nd - 1); digits[0] = '1'; (*exp10)++; return 0; }
        digits[i]++;
    } else {
        while (i >= 0 && digits[i] == '0') digits[i--] = '9';
        if (i < 0) return -1;
        digits[i]--;
        if (digits[0] == '0') {
            if (nd == 1) return -1;
            memmove(digits, digits + 1, (size_t)nd - 1);
            digits[nd - 1] = '9';
            (*exp10)--;
        }
    }
    return 0;
}

/* The p-digit decimal that reads back as v, if any: the correctly rounded one, or near a power
   of two (where the interval of values reading back as v is lopsided) a neighbour of it
   (2^-24 -> ...063). */
static int digits_at(double v, int p, int neg, char *digits, int *nd, int *exp10) {
    char sci[48], buf[48];
    snprintf(sci, sizeof sci, "%.*e", p - 1, v);
    const char *q = sci + (sci[0] == '-');
    *nd = 0;
    for (; *q && *q != 'e'; q++) if (*q >= '0' && *q <= '9') digits[(*nd)++] = *q;
    *exp10 = atoi(q + 1);
    if (read_back(digits, *nd, *exp10, neg, buf, sizeof buf) == v) return 1;
    for (int dir = 1; dir >= -1; dir -= 2) {
        char trial[24];
        int e = *exp10;
        memcpy(trial, digits, (size_t)*nd);
        if (step_digits(trial, *nd, &e, dir) == 0 && read_back(trial, *nd, e, neg, buf, sizeof buf) == v) {
            memcpy(digits, trial, (size_t)*nd);
            *exp10 = e;
            return 1;
        }
    }
    return 0;
}

static int format_shortest(double v, char *out, size_t cap) {
    char digits[24] = {0};
    int neg = v < 0 || (v == 0 && signbit(v));
    int nd = 0, exp10 = 0, found;
    /* Any decimal of at most 15 digits survives a trip through a double (DBL_DIG), so when the
       15-digit rounding reads back as v, the shortest form is it without trailing zeros;
       otherwise 16 digits may do, and 17 always do. */
    if (v != 0 && fabs(v) < DBL_MIN) {
        /* subnormals carry fewer bits, so the DBL_DIG shortcut does not hold: search up */
        found = 0;
        for (int p = 1; p <= 17 && !found; p++) found = digits_at(v, p, neg, digits, &nd, &exp10);
    } else {
        found = digits_at(v, 15, neg, digits, &nd, &exp10) || digits_at(v, 16, neg, digits, &nd, &exp10) ||
                digits_at(v, 17, neg, digits, &nd, &exp10);
    }
    if (!found) return -1;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    size_t o = 0;
#define OUT(c) do { if (o + 1 >= cap) return -1; out[o++] = (c); } while (0)
    if (neg) OUT('-');
    if (nd == 1 && digits[0] == '0') { OUT('0'); out[o] = 0; return (int)o; }
    if (exp10 >= 0) {
        for (int i = 0; i <= exp10; i++) OUT(i < nd ? digits[i] : '0');
        if (nd > exp10 + 1) {
            OUT('.');
            for (int i = exp10 + 1; i < nd; i++) OUT(digits[i]);
        }
    } else {
        OUT('0');
        OUT('.');
        for (int i = 0; i < -exp10 - 1; i++) OUT('0');
        for (int i = 0; i < nd; i++) OUT(digits[i]);
    }
#undef OUT
    out[o] = 0;
    return (int)o;
}

static int put_double(Ctx *ctx, double v, AttrCol *a) {
    char text[400];
    int n;
    if (v != v || v - v != 0 || (n = format_shortest(v, text, sizeof text)) < 0) {
        uint8_t raw[8];
        memcpy(raw, &v, 8);
        return fallback_value(ctx, 1, raw, 8, a);
    }
    uint8_t t = T_DOUBLE;
    return (buf_put(&a->types, &t, 1) || str_add(&a->values, text, (size_t)n)) ? -1 : 0;
}

/* One AnyValue into (type, text). */
static int put_any_value(Ctx *ctx, const Reader *value, AttrCol *a) {
    Reader r = *value;
    uint32_t field;
    int wire, more;
    int kind = 0; /* which oneof field was last seen */
    Reader last = {0};
    uint64_t last_num = 0;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field >= 1 && field <= 7) {
            if ((field == 1 || field == 5 || field == 6 || field == 7) && wire == 2) {
                if (field == 1 ? read_string(&r, &last) : read_bytes(&r, &last)) return -1;
                kind = (int)field;
            } else if ((field == 2 || field == 3) && wire == 0) {
                if (read_varint(&r, &last_num)) return -1;
                kind = (int)field;
            } else if (field == 4 && wire == 1) {
                if (read_fixed64(&r, &last_num)) return -1;
                kind = 4;
            } else if (skip_field(&r, wire)) return -1;
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    uint8_t t;
    char num[32];
    switch (kind) {
    case 1:
        t = T_STRING;
        if (buf_put(&a->types, &t, 1)) return -1;
        return str_add(&a->values, (const char *)last.p, (size_t)(last.end - last.p));
    case 2:
        t = T_BOOL;
        if (buf_put(&a->types, &t, 1)) return -1;
        return last_num ? str_add(&a->values, "true", 4) : str_add(&a->values, "false", 5);
    case 3: {
        t = T_INT;
        int n = snprintf(num, sizeof num, "%lld", (long long)(int64_t)last_num);
        if (buf_put(&a->types, &t, 1)) return -1;
        return str_add(&a->values, num, (size_t)n);
    }
    case 4: {
        double d;
        memcpy(&d, &last_num, 8);
        return put_double(ctx, d, a);
    }
    case 5:
    case 6:
        /* arrays and kvlists: the Python side renders their OTLP/JSON from the message bytes */
        return fallback_value(ctx, 0, value->p, (size_t)(value->end - value->p), a);
    case 7:
        t = T_BYTES;
        if (buf_put(&a->types, &t, 1)) return -1;
        return str_add_base64(&a->values, last.p, (size_t)(last.end - last.p));
    default:
        t = T_EMPTY;
        if (buf_put(&a->types, &t, 1)) return -1;
        return str_add(&a->values, "", 0);
    }
}

/* One KeyValue entry. */
static int put_key_value(Ctx *ctx, Reader *kv, AttrCol *a) {
    uint32_t field;
    int wire, more;
    Reader key = {0}, value = {0};
    int has_value = 0;
    while ((more = next_tag(kv, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (read_string(kv, &key)) return -1; }
        else if (field == 2 && wire == 2) {
            /* a second copy of a singular message: protobuf merges the copies, the Python path does */
            if (has_value || read_bytes(kv, &value)) return -1;
            has_value = 1;
        }
        else if (skip_field(kv, wire)) return -1;
    }
    if (more < 0) return -1;
    if (str_add(&a->keys, key.p ? (const char *)key.p : "", key.p ? (size_t)(key.end - key.p) : 0)) return -1;
    a->entries++;
    if (!has_value) {
        uint8_t t = T_EMPTY;
        if (buf_put(&a->types, &t, 1)) return -1;
        return str_add(&a->values, "", 0);
    }
    return put_any_value(ctx, &value, a);
}

/* ---------------------------------------------------------------- resources and scopes */

/* One entry per resource / scope that holds at least one valid record. */
typedef struct {
    AttrCol res_attrs, scope_attrs;
    StrCol res_schema, service, scope_name, scope_version, scope_schema;
    Buf res_dropped, scope_dropped;
    int32_t resources, scopes;
} Containers;

static int containers_init(Containers *c) {
    memset(c, 0, sizeof(*c));
    if (attr_init(&c->res_attrs) || attr_init(&c->scope_attrs)) return -1;
    if (str_init(&c->res_schema) || str_init(&c->service) || str_init(&c->scope_name) || str_init(&c->scope_version) ||
        str_init(&c->scope_schema))
        return -1;
    return 0;
}

static void containers_free(Containers *c) {
    attr_free(&c->res_attrs); attr_free(&c->scope_attrs);
    str_free(&c->res_schema); str_free(&c->service); str_free(&c->scope_name); str_free(&c->scope_version);
    str_free(&c->scope_schema);
    buf_free(&c->res_dropped); buf_free(&c->scope_dropped);
}

/* ---------------------------------------------------------------- traces */

typedef struct {
    int32_t n;
    Buf start, end, flags, dropped_attrs, dropped_events, dropped_links, kind, status_code, resource_idx, scope_idx;
    Buf trace_id, span_id; /* hex, 32 / 16 chars each */
    StrCol parent_id, trace_state, name, status_message;
    AttrCol attrs;
    /* events */
    Buf event_offsets, event_time, event_dropped;
    StrCol event_name;
    AttrCol event_attrs;
    int32_t events;
    /* links */
    Buf link_offsets, link_trace_id, link_flags, link_dropped;
    StrCol link_span_id, link_state; /* a link's span id may be empty (contrib's githubreceiver links a re-run to a trace only) */
    AttrCol link_attrs;
    int32_t links;
    Containers c;
    /* rejected spans: (start, end) byte offsets in the request */
    Buf rejected;
} Traces;

static int traces_init(Traces *t) {
    memset(t, 0, sizeof(*t));
    int32_t zero = 0;
    if (str_init(&t->parent_id) || str_init(&t->trace_state) || str_init(&t->name) || str_init(&t->status_message)) return -1;
    if (attr_init(&t->attrs) || attr_init(&t->event_attrs) || attr_init(&t->link_attrs)) return -1;
    if (containers_init(&t->c)) return -1;
    if (str_init(&t->event_name) || str_init(&t->link_state) || str_init(&t->link_span_id)) return -1;
    if (buf_put(&t->event_offsets, &zero, 4) || buf_put(&t->link_offsets, &zero, 4)) return -1;
    return 0;
}

static void traces_free(Traces *t) {
    Buf *bufs[] = {&t->start, &t->end, &t->flags, &t->dropped_attrs, &t->dropped_events, &t->dropped_links, &t->kind,
                   &t->status_code, &t->resource_idx, &t->scope_idx, &t->trace_id, &t->span_id, &t->event_offsets,
                   &t->event_time, &t->event_dropped, &t->link_offsets, &t->link_trace_id,
                   &t->link_flags, &t->link_dropped, &t->rejected};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) buf_free(bufs[i]);
    StrCol *strs[] = {&t->parent_id, &t->trace_state, &t->name, &t->status_message, &t->event_name, &t->link_state, &t->link_span_id};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) str_free(strs[i]);
    attr_free(&t->attrs); attr_free(&t->event_attrs); attr_free(&t->link_attrs);
    containers_free(&t->c);
}

/* Count KeyValues of a repeated field `field_no` in a message (for the attribute limit). */
static int count_field(const Reader *msg, uint32_t field_no, int64_t *count) {
    Reader r = *msg;
    uint32_t field;
    int wire, more;
    *count = 0;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == field_no && wire == 2) (*count)++;
        if (skip_field(&r, wire)) return -1;
    }
    return more < 0 ? -1 : 0;
}

/* Is this span valid (ids, attribute limits)? 1 yes, 0 no, -1 malformed. */
static int span_valid(const Reader *span, int64_t max_attrs) {
    Reader r = *span;
    uint32_t field;
    int wire, more;
    int64_t attrs = 0;
    size_t trace_len = 0, span_len = 0, parent_len = 0;
    int ok = 1;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        Reader sub;
        if (wire == 2 && (field == 1 || field == 2 || field == 4 || field == 9 || field == 11 || field == 13)) {
            if (read_bytes(&r, &sub)) return -1;
            size_t n = (size_t)(sub.end - sub.p);
            if (field == 1) trace_len = n;
            else if (field == 2) span_len = n;
            else if (field == 4) parent_len = n;
            else if (field == 9) attrs++;
            else if (field == 11) {
                int64_t c;
                if (count_field(&sub, 3, &c)) return -1;
                if (c > max_attrs) ok = 0;
            } else { /* link */
                Reader lr = sub;
                uint32_t lf;
                int lw, lm;
                size_t lt = 0, ls = 0;
                int64_t la = 0;
                while ((lm = next_tag(&lr, &lf, &lw)) == 1) {
                    Reader ls_sub;
                    if (lw == 2 && (lf == 1 || lf == 2 || lf == 4)) {
                        if (read_bytes(&lr, &ls_sub)) return -1;
                        if (lf == 1) lt = (size_t)(ls_sub.end - ls_sub.p);
                        else if (lf == 2) ls = (size_t)(ls_sub.end - ls_sub.p);
                        else la++;
                    } else if (skip_field(&lr, lw)) return -1;
                }
                if (lm < 0) return -1;
                if (lt != 16 || (ls != 0 && ls != 8) || la > max_attrs) ok = 0;
            }
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    if (trace_len != 16 || span_len != 8 || (parent_len != 0 && parent_len != 8) || attrs > max_attrs) ok = 0;
    return ok;
}

static int read_attrs_into(Ctx *ctx, Reader *msg_field, AttrCol *a) {
    Reader kv;
    if (read_bytes(msg_field, &kv)) return -1;
    return put_key_value(ctx, &kv, a);
}

static int decode_event(Ctx *ctx, Reader *ev, Traces *t) {
    uint32_t field;
    int wire, more;
    uint64_t time = 0, dropped = 0;
    Reader name = {0};
    while ((more = next_tag(ev, &field, &wire)) == 1) {
        if (field == 1 && wire == 1) { if (read_fixed64(ev, &time)) return -1; }
        else if (field == 2 && wire == 2) { if (read_string(ev, &name)) return -1; }
        else if (field == 3 && wire == 2) { if (read_attrs_into(ctx, ev, &t->event_attrs)) return -1; }
        else if (field == 4 && wire == 0) { if (read_varint(ev, &dropped)) return -1; }
        else if (skip_field(ev, wire)) return -1;
    }
    if (more < 0) return -1;
    PUT(&t->event_time, uint64_t, time);
    PUT(&t->event_dropped, uint32_t, (uint32_t)dropped);
    if (str_add(&t->event_name, name.p ? (const char *)name.p : "", name.p ? (size_t)(name.end - name.p) : 0)) return -1;
    if (attr_end_row(&t->event_attrs)) return -1;
    t->events++;
    return 0;
}

static int decode_link(Ctx *ctx, Reader *lk, Traces *t) {
    uint32_t field;
    int wire, more;
    uint64_t dropped = 0;
    uint32_t flags = 0;
    Reader trace = {0}, span = {0}, state = {0};
    while ((more = next_tag(lk, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (read_bytes(lk, &trace)) return -1; }
        else if (field == 2 && wire == 2) { if (read_bytes(lk, &span)) return -1; }
        else if (field == 3 && wire == 2) { if (read_string(lk, &state)) return -1; }
        else if (field == 4 && wire == 2) { if (read_attrs_into(ctx, lk, &t->link_attrs)) return -1; }
        else if (field == 5 && wire == 0) { if (read_varint(lk, &dropped)) return -1; }
        else if (field == 6 && wire == 5) { if (read_fixed32(lk, &flags)) return -1; }
        else if (skip_field(lk, wire)) return -1;
    }
    if (more < 0) return -1;
    if (put_hex(&t->link_trace_id, trace.p, 16)) return -1;
    if (span.p && span.end > span.p) { if (str_add_hex(&t->link_span_id, span.p, 8)) return -1; }
    else if (str_add(&t->link_span_id, "", 0)) return -1;
    if (str_add(&t->link_state, state.p ? (const char *)state.p : "", state.p ? (size_t)(state.end - state.p) : 0)) return -1;
    PUT(&t->link_flags, uint32_t, flags);
    PUT(&t->link_dropped, uint32_t, (uint32_t)dropped);
    if (attr_end_row(&t->link_attrs)) return -1;
    t->links++;
    return 0;
}

static int decode_status(Reader *st, Reader *message, int32_t *code) {
    uint32_t field;
    int wire, more;
    uint64_t v;
    while ((more = next_tag(st, &field, &wire)) == 1) {
        if (field == 2 && wire == 2) { if (read_string(st, message)) return -1; }
        else if (field == 3 && wire == 0) { if (read_varint(st, &v)) return -1; *code = (int32_t)v; }
        else if (skip_field(st, wire)) return -1;
    }
    return more < 0 ? -1 : 0;
}

static int decode_span(Ctx *ctx, Reader *sp, Traces *t) {
    uint32_t field;
    int wire, more;
    uint64_t start = 0, end = 0, v;
    uint32_t flags = 0, dropped_attrs = 0, dropped_events = 0, dropped_links = 0;
    int32_t kind = 0, status_code = 0;
    Reader trace = {0}, span = {0}, parent = {0}, state = {0}, name = {0}, message = {0};
    while ((more = next_tag(sp, &field, &wire)) == 1) {
        Reader sub;
        switch (field) {
        case 1: if (wire != 2 || read_bytes(sp, &trace)) return -1; break;
        case 2: if (wire != 2 || read_bytes(sp, &span)) return -1; break;
        case 3: if (wire != 2 || read_string(sp, &state)) return -1; break;
        case 4: if (wire != 2 || read_bytes(sp, &parent)) return -1; break;
        case 5: if (wire != 2 || read_string(sp, &name)) return -1; break;
        case 6: if (wire != 0 || read_varint(sp, &v)) return -1; kind = (int32_t)v; break;
        case 7: if (wire != 1 || read_fixed64(sp, &start)) return -1; break;
        case 8: if (wire != 1 || read_fixed64(sp, &end)) return -1; break;
        case 9: if (wire != 2 || read_attrs_into(ctx, sp, &t->attrs)) return -1; break;
        case 10: if (wire != 0 || read_varint(sp, &v)) return -1; dropped_attrs = (uint32_t)v; break;
        case 11: if (wire != 2 || read_bytes(sp, &sub) || decode_event(ctx, &sub, t)) return -1; break;
        case 12: if (wire != 0 || read_varint(sp, &v)) return -1; dropped_events = (uint32_t)v; break;
        case 13: if (wire != 2 || read_bytes(sp, &sub) || decode_link(ctx, &sub, t)) return -1; break;
        case 14: if (wire != 0 || read_varint(sp, &v)) return -1; dropped_links = (uint32_t)v; break;
        case 15: if (wire != 2 || read_bytes(sp, &sub) || decode_status(&sub, &message, &status_code)) return -1; break;
        case 16: if (wire != 5 || read_fixed32(sp, &flags)) return -1; break;
        default: if (skip_field(sp, wire)) return -1;
        }
    }
    if (more < 0) return -1;
    PUT(&t->start, uint64_t, start);
    PUT(&t->end, uint64_t, end);
    PUT(&t->flags, uint32_t, flags);
    PUT(&t->dropped_attrs, uint32_t, dropped_attrs);
    PUT(&t->dropped_events, uint32_t, dropped_events);
    PUT(&t->dropped_links, uint32_t, dropped_links);
    PUT(&t->kind, int32_t, kind);
    PUT(&t->status_code, int32_t, status_code);
    if (put_hex(&t->trace_id, trace.p, 16) || put_hex(&t->span_id, span.p, 8)) return -1;
    if (parent.p && parent.end > parent.p) { if (str_add_hex(&t->parent_id, parent.p, 8)) return -1; }
    else if (str_add(&t->parent_id, "", 0)) return -1;
#define ADD_STR(col, rd) str_add((col), (rd).p ? (const char *)(rd).p : "", (rd).p ? (size_t)((rd).end - (rd).p) : 0)
    if (ADD_STR(&t->trace_state, state) || ADD_STR(&t->name, name) || ADD_STR(&t->status_message, message)) return -1;
    if (attr_end_row(&t->attrs)) return -1;
    if (buf_put(&t->event_offsets, &t->events, 4) || buf_put(&t->link_offsets, &t->links, 4)) return -1;
    t->n++;
    return 0;
}

static int decode_resource(Ctx *ctx, const Reader *resource, const Reader *schema, Containers *t) {
    Reader r = *resource;
    uint32_t field;
    int wire, more;
    uint64_t dropped = 0;
    int32_t first_entry = t->res_attrs.entries;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (read_attrs_into(ctx, &r, &t->res_attrs)) return -1; }
        else if (field == 2 && wire == 0) { if (read_varint(&r, &dropped)) return -1; }
        else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    /* service.name: the first entry with that key and a string value */
    const int32_t *koff = (const int32_t *)t->res_attrs.keys.offsets.data;
    const int32_t *voff = (const int32_t *)t->res_attrs.values.offsets.data;
    const uint8_t *types = (const uint8_t *)t->res_attrs.types.data;
    const char *service = "";
    size_t service_len = 0;
    for (int32_t i = first_entry; i < t->res_attrs.entries; i++) {
        size_t klen = (size_t)(koff[i + 1] - koff[i]);
        if (klen == 12 && types[i] == T_STRING && memcmp(t->res_attrs.keys.data.data + koff[i], "service.name", 12) == 0) {
            service = t->res_attrs.values.data.data + voff[i];
            service_len = (size_t)(voff[i + 1] - voff[i]);
            break;
        }
    }
    if (str_add(&t->service, service, service_len)) return -1;
    if (attr_end_row(&t->res_attrs)) return -1;
    PUT(&t->res_dropped, uint32_t, (uint32_t)dropped);
    if (ADD_STR(&t->res_schema, *schema)) return -1;
    t->resources++;
    return 0;
}

static int decode_scope(Ctx *ctx, const Reader *scope, const Reader *schema, Containers *t) {
    Reader r = *scope;
    uint32_t field;
    int wire, more;
    uint64_t dropped = 0;
    Reader name = {0}, version = {0};
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (read_string(&r, &name)) return -1; }
        else if (field == 2 && wire == 2) { if (read_string(&r, &version)) return -1; }
        else if (field == 3 && wire == 2) { if (read_attrs_into(ctx, &r, &t->scope_attrs)) return -1; }
        else if (field == 4 && wire == 0) { if (read_varint(&r, &dropped)) return -1; }
        else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    if (ADD_STR(&t->scope_name, name) || ADD_STR(&t->scope_version, version)) return -1;
    if (attr_end_row(&t->scope_attrs)) return -1;
    PUT(&t->scope_dropped, uint32_t, (uint32_t)dropped);
    if (ADD_STR(&t->scope_schema, *schema)) return -1;
    t->scopes++;
    return 0;
}

/* The schema_url of a container message (field 3), read before its records are decoded. */
static int find_schema(const Reader *msg, Reader *schema) {
    Reader r = *msg;
    uint32_t field;
    int wire, more;
    schema->p = schema->end = NULL;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 3 && wire == 2) { if (read_string(&r, schema)) return -1; }
        else if (skip_field(&r, wire)) return -1;
    }
    return more < 0 ? -1 : 0;
}

/* A resource or scope no valid record uses is not output, but protobuf checks it all the same
   (UTF-8, wire format, nested values): decode it into scratch columns and drop them. */
static int check_container(Ctx *ctx, const Reader *msg, int is_scope) {
    Containers scratch;
    Reader no_schema = {0};
    int rc = containers_init(&scratch);
    if (rc == 0) rc = is_scope ? decode_scope(ctx, msg, &no_schema, &scratch) : decode_resource(ctx, msg, &no_schema, &scratch);
    containers_free(&scratch);
    return rc;
}

static int decode_scope_spans(Ctx *ctx, const Reader *ss, Traces *t, int64_t max_attrs,
                              const Reader *resource, const Reader *res_schema, int *resource_added) {
    Reader schema, scope = {0};
    if (find_schema(ss, &schema)) return -1;
    Reader r = *ss;
    uint32_t field;
    int wire, more;
    /* the scope message first (it may come after the spans on the wire) */
    Reader scan = *ss;
    while ((more = next_tag(&scan, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (scope.p || read_bytes(&scan, &scope)) return -1; } /* 2 copies: merged by the Python path */
        else if (skip_field(&scan, wire)) return -1;
    }
    if (more < 0) return -1;
    int scope_added = 0;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 2 && wire == 2) {
            Reader span;
            if (read_bytes(&r, &span)) return -1;
            int valid = span_valid(&span, max_attrs);
            if (valid < 0) return -1;
            if (!valid) {
                PUT(&t->rejected, int64_t, (int64_t)(span.p - ctx->base));
                PUT(&t->rejected, int64_t, (int64_t)(span.end - ctx->base));
                continue;
            }
            if (!*resource_added) {
                if (decode_resource(ctx, resource, res_schema, &t->c)) return -1;
                *resource_added = 1;
            }
            if (!scope_added) {
                if (decode_scope(ctx, &scope, &schema, &t->c)) return -1;
                scope_added = 1;
            }
            PUT(&t->resource_idx, uint32_t, (uint32_t)(t->c.resources - 1));
            PUT(&t->scope_idx, uint32_t, (uint32_t)(t->c.scopes - 1));
            if (decode_span(ctx, &span, t)) return -1;
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    return !scope_added && scope.p ? check_container(ctx, &scope, 1) : 0;
}

static int decode_resource_spans(Ctx *ctx, const Reader *rs, Traces *t, int64_t max_attrs) {
    Reader schema, resource = {0};
    if (find_schema(rs, &schema)) return -1;
    Reader scan = *rs;
    uint32_t field;
    int wire, more;
    while ((more = next_tag(&scan, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (resource.p || read_bytes(&scan, &resource)) return -1; } /* 2 copies: merged by the Python path */
        else if (skip_field(&scan, wire)) return -1;
    }
    if (more < 0) return -1;
    int resource_added = 0;
    Reader r = *rs;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 2 && wire == 2) {
            Reader ss;
            if (read_bytes(&r, &ss)) return -1;
            if (decode_scope_spans(ctx, &ss, t, max_attrs, &resource, &schema, &resource_added)) return -1;
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    return !resource_added && resource.p ? check_container(ctx, &resource, 0) : 0;
}

static int decode_traces_request(Ctx *ctx, Reader *req, Traces *t, int64_t max_attrs) {
    uint32_t field;
    int wire, more;
    while ((more = next_tag(req, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) {
            Reader rs;
            if (read_bytes(req, &rs)) return -1;
            if (decode_resource_spans(ctx, &rs, t, max_attrs)) return -1;
        } else if (skip_field(req, wire)) return -1;
    }
    return more < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- logs */

typedef struct {
    int32_t n;
    Buf time, observed, flags, severity_number, dropped, body_present, resource_idx, scope_idx, rejected;
    StrCol trace_id, span_id, severity_text, event_name;
    AttrCol attrs, body; /* body: only its types and values are used */
    Containers c;
} Logs;

static int logs_init(Logs *l) {
    memset(l, 0, sizeof(*l));
    if (str_init(&l->trace_id) || str_init(&l->span_id) || str_init(&l->severity_text) || str_init(&l->event_name)) return -1;
    if (attr_init(&l->attrs) || attr_init(&l->body) || containers_init(&l->c)) return -1;
    return 0;
}

static void logs_free(Logs *l) {
    Buf *bufs[] = {&l->time, &l->observed, &l->flags, &l->severity_number, &l->dropped, &l->body_present,
                   &l->resource_idx, &l->scope_idx, &l->rejected};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) buf_free(bufs[i]);
    str_free(&l->trace_id); str_free(&l->span_id); str_free(&l->severity_text); str_free(&l->event_name);
    attr_free(&l->attrs); attr_free(&l->body);
    containers_free(&l->c);
}

/* Valid log record (ids empty or the right size, attribute limit)? 1 yes, 0 no, -1 malformed. */
static int log_valid(const Reader *rec, int64_t max_attrs) {
    Reader r = *rec;
    uint32_t field;
    int wire, more;
    int64_t attrs = 0;
    size_t trace_len = 0, span_len = 0;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        Reader sub;
        if (wire == 2 && (field == 6 || field == 9 || field == 10)) {
            if (read_bytes(&r, &sub)) return -1;
            if (field == 6) attrs++;
            else if (field == 9) trace_len = (size_t)(sub.end - sub.p);
            else span_len = (size_t)(sub.end - sub.p);
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    return (trace_len == 0 || trace_len == 16) && (span_len == 0 || span_len == 8) && attrs <= max_attrs;
}

static int decode_log(Ctx *ctx, Reader *rec, Logs *l) {
    uint32_t field;
    int wire, more;
    uint64_t time = 0, observed = 0, v;
    uint32_t flags = 0, dropped = 0;
    int32_t severity = 0;
    Reader trace = {0}, span = {0}, severity_text = {0}, event_name = {0}, body = {0};
    int has_body = 0;
    while ((more = next_tag(rec, &field, &wire)) == 1) {
        switch (field) {
        case 1: if (wire != 1 || read_fixed64(rec, &time)) return -1; break;
        case 2: if (wire != 0 || read_varint(rec, &v)) return -1; severity = (int32_t)v; break;
        case 3: if (wire != 2 || read_string(rec, &severity_text)) return -1; break;
        case 5: if (wire != 2 || has_body || read_bytes(rec, &body)) return -1; has_body = 1; break; /* 2 copies: merged by the Python path */
        case 6: if (wire != 2 || read_attrs_into(ctx, rec, &l->attrs)) return -1; break;
        case 7: if (wire != 0 || read_varint(rec, &v)) return -1; dropped = (uint32_t)v; break;
        case 8: if (wire != 5 || read_fixed32(rec, &flags)) return -1; break;
        case 9: if (wire != 2 || read_bytes(rec, &trace)) return -1; break;
        case 10: if (wire != 2 || read_bytes(rec, &span)) return -1; break;
        case 11: if (wire != 1 || read_fixed64(rec, &observed)) return -1; break;
        case 12: if (wire != 2 || read_string(rec, &event_name)) return -1; break;
        default: if (skip_field(rec, wire)) return -1;
        }
    }
    if (more < 0) return -1;
    PUT(&l->time, uint64_t, time);
    PUT(&l->observed, uint64_t, observed);
    PUT(&l->flags, uint32_t, flags);
    PUT(&l->severity_number, int32_t, severity);
    PUT(&l->dropped, uint32_t, dropped);
    PUT(&l->body_present, uint8_t, (uint8_t)has_body);
    if (trace.p && trace.end > trace.p) { if (str_add_hex(&l->trace_id, trace.p, 16)) return -1; }
    else if (str_add(&l->trace_id, "", 0)) return -1;
    if (span.p && span.end > span.p) { if (str_add_hex(&l->span_id, span.p, 8)) return -1; }
    else if (str_add(&l->span_id, "", 0)) return -1;
    if (ADD_STR(&l->severity_text, severity_text) || ADD_STR(&l->event_name, event_name)) return -1;
    if (has_body) {
        if (put_any_value(ctx, &body, &l->body)) return -1;
    } else {
        uint8_t t = T_EMPTY;
        if (buf_put(&l->body.types, &t, 1) || str_add(&l->body.values, "", 0)) return -1;
    }
    if (attr_end_row(&l->attrs)) return -1;
    l->n++;
    return 0;
}

static int decode_scope_logs(Ctx *ctx, const Reader *sl, Logs *l, int64_t max_attrs, const Reader *resource,
                             const Reader *res_schema, int *resource_added) {
    Reader schema, scope = {0};
    if (find_schema(sl, &schema)) return -1;
    uint32_t field;
    int wire, more;
    Reader scan = *sl;
    while ((more = next_tag(&scan, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) { if (scope.p || read_bytes(&scan, &scope)) return -1; } /* 2 copies: merged by the Python path */
        else if (skip_field(&scan, wire)) return -1;
    }
    if (more < 0) return -1;
    int scope_added = 0;
    Reader r = *sl;
    while ((more = next_tag(&r, &field, &wire)) == 1) {
        if (field == 2 && wire == 2) {
            Reader rec;
            if (read_bytes(&r, &rec)) return -1;
            int valid = log_valid(&rec, max_attrs);
            if (valid < 0) return -1;
            if (!valid) {
                PUT(&l->rejected, int64_t, (int64_t)(rec.p - ctx->base));
                PUT(&l->rejected, int64_t, (int64_t)(rec.end - ctx->base));
                continue;
            }
            if (!*resource_added) {
                if (decode_resource(ctx, resource, res_schema, &l->c)) return -1;
                *resource_added = 1;
            }
            if (!scope_added) {
                if (decode_scope(ctx, &scope, &schema, &l->c)) return -1;
                scope_added = 1;
            }
            PUT(&l->resource_idx, uint32_t, (uint32_t)(l->c.resources - 1));
            PUT(&l->scope_idx, uint32_t, (uint32_t)(l->c.scopes - 1));
            if (decode_log(ctx, &rec, l)) return -1;
        } else if (skip_field(&r, wire)) return -1;
    }
    if (more < 0) return -1;
    return !scope_added && scope.p ? check_container(ctx, &scope, 1) : 0;
}

static int decode_logs_request(Ctx *ctx, Reader *req, Logs *l, int64_t max_attrs) {
    uint32_t field;
    int wire, more;
    while ((more = next_tag(req, &field, &wire)) == 1) {
        if (field == 1 && wire == 2) {
            Reader rl, schema, resource = {0}, scan;
            if (read_bytes(req, &rl)) return -1;
            if (find_schema(&rl, &schema)) return -1;
            uint32_t f2;
            int w2, m2;
            scan = rl;
            while ((m2 = next_tag(&scan, &f2, &w2)) == 1) {
                if (f2 == 1 && w2 == 2) { if (resource.p || read_bytes(&scan, &resource)) return -1; } /* 2 copies: Python merges */
                else if (skip_field(&scan, w2)) return -1;
            }
            if (m2 < 0) return -1;
            int resource_added = 0;
            Reader r = rl;
            while ((m2 = next_tag(&r, &f2, &w2)) == 1) {
                if (f2 == 2 && w2 == 2) {
                    Reader sl;
                    if (read_bytes(&r, &sl)) return -1;
                    if (decode_scope_logs(ctx, &sl, l, max_attrs, &resource, &schema, &resource_added)) return -1;
                } else if (skip_field(&r, w2)) return -1;
            }
            if (m2 < 0) return -1;
            if (!resource_added && resource.p && check_container(ctx, &resource, 0)) return -1;
        } else if (skip_field(req, wire)) return -1;
    }
    return more < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- Python side */

static PyObject *bytes_of(const Buf *b) {
    return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
}

static PyObject *str_tuple(const StrCol *c) {
    return Py_BuildValue("(NN)", bytes_of(&c->offsets), bytes_of(&c->data));
}

static PyObject *attr_tuple(const AttrCol *a) {
    return Py_BuildValue("(NNNNN)", bytes_of(&a->row_offsets), bytes_of(&a->keys.offsets), bytes_of(&a->keys.data),
                         bytes_of(&a->types), str_tuple(&a->values));
}

/* The resource and scope columns, shared by every signal's result dict. */
static int put_containers(PyObject *out, const Containers *c) {
    struct { const char *key; PyObject *value; } items[] = {
        {"resources", PyLong_FromLong(c->resources)},   {"res_attrs", attr_tuple(&c->res_attrs)},
        {"res_schema", str_tuple(&c->res_schema)},      {"service", str_tuple(&c->service)},
        {"res_dropped", bytes_of(&c->res_dropped)},     {"scopes", PyLong_FromLong(c->scopes)},
        {"scope_name", str_tuple(&c->scope_name)},      {"scope_version", str_tuple(&c->scope_version)},
        {"scope_attrs", attr_tuple(&c->scope_attrs)},   {"scope_dropped", bytes_of(&c->scope_dropped)},
        {"scope_schema", str_tuple(&c->scope_schema)},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        if (rc == 0 && (!items[i].value || PyDict_SetItemString(out, items[i].key, items[i].value))) rc = -1;
        Py_XDECREF(items[i].value);
    }
    return rc;
}

static PyObject *py_decode_traces(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    long long max_attrs;
    PyObject *fallback;
    Py_ssize_t max_column = INT32_MAX;
    if (!PyArg_ParseTuple(args, "y*LO|n", &view, &max_attrs, &fallback, &max_column)) return NULL;
    Traces t;
    Ctx ctx = {fallback, 0, (const uint8_t *)view.buf};
    if (traces_init(&t)) {
        traces_free(&t);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Reader req = {(const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len};
    int rc;
    decode_error = NULL;
    max_column_bytes = max_column < 0 ? 0 : (size_t)max_column;
    Py_BEGIN_ALLOW_THREADS
    rc = decode_traces_request(&ctx, &req, &t, (int64_t)max_attrs);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (ctx.failed) {
        traces_free(&t);
        return NULL; /* the fallback raised */
    }
    if (rc && decode_error) {
        traces_free(&t);
        PyErr_SetString(PyExc_ValueError, decode_error); /* refused for a reason of ours, not protobuf's */
        return NULL;
    }
    if (rc) {
        traces_free(&t);
        Py_RETURN_NONE; /* malformed: the caller lets the protobuf library word the error */
    }
    PyObject *out = PyDict_New();
    if (!out) { traces_free(&t); return NULL; }
#define SET(key, value)                                              \
    do {                                                             \
        PyObject *_v = (value);                                      \
        if (!_v || PyDict_SetItemString(out, key, _v)) {             \
            Py_XDECREF(_v);                                          \
            Py_DECREF(out);                                          \
            traces_free(&t);                                         \
            return NULL;                                             \
        }                                                            \
        Py_DECREF(_v);                                               \
    } while (0)
    SET("n", PyLong_FromLong(t.n));
    SET("start", bytes_of(&t.start));
    SET("end", bytes_of(&t.end));
    SET("flags", bytes_of(&t.flags));
    SET("dropped_attrs", bytes_of(&t.dropped_attrs));
    SET("dropped_events", bytes_of(&t.dropped_events));
    SET("dropped_links", bytes_of(&t.dropped_links));
    SET("kind", bytes_of(&t.kind));
    SET("status_code", bytes_of(&t.status_code));
    SET("resource_idx", bytes_of(&t.resource_idx));
    SET("scope_idx", bytes_of(&t.scope_idx));
    SET("trace_id", bytes_of(&t.trace_id));
    SET("span_id", bytes_of(&t.span_id));
    SET("parent_id", str_tuple(&t.parent_id));
    SET("trace_state", str_tuple(&t.trace_state));
    SET("name", str_tuple(&t.name));
    SET("status_message", str_tuple(&t.status_message));
    SET("attrs", attr_tuple(&t.attrs));
    SET("events", PyLong_FromLong(t.events));
    SET("event_offsets", bytes_of(&t.event_offsets));
    SET("event_time", bytes_of(&t.event_time));
    SET("event_dropped", bytes_of(&t.event_dropped));
    SET("event_name", str_tuple(&t.event_name));
    SET("event_attrs", attr_tuple(&t.event_attrs));
    SET("links", PyLong_FromLong(t.links));
    SET("link_offsets", bytes_of(&t.link_offsets));
    SET("link_trace_id", bytes_of(&t.link_trace_id));
    SET("link_span_id", str_tuple(&t.link_span_id));
    SET("link_flags", bytes_of(&t.link_flags));
    SET("link_dropped", bytes_of(&t.link_dropped));
    SET("link_state", str_tuple(&t.link_state));
    SET("link_attrs", attr_tuple(&t.link_attrs));
    if (put_containers(out, &t.c)) { Py_DECREF(out); traces_free(&t); return NULL; }
    SET("rejected", bytes_of(&t.rejected));
    traces_free(&t);
    return out;
}


static PyObject *py_decode_logs(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    long long max_attrs;
    PyObject *fallback;
    Py_ssize_t max_column = INT32_MAX;
    if (!PyArg_ParseTuple(args, "y*LO|n", &view, &max_attrs, &fallback, &max_column)) return NULL;
    Logs l;
    Ctx ctx = {fallback, 0, (const uint8_t *)view.buf};
    if (logs_init(&l)) {
        logs_free(&l);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Reader req = {(const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len};
    int rc;
    decode_error = NULL;
    max_column_bytes = max_column < 0 ? 0 : (size_t)max_column;
    Py_BEGIN_ALLOW_THREADS
    rc = decode_logs_request(&ctx, &req, &l, (int64_t)max_attrs);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (ctx.failed) { logs_free(&l); return NULL; }
    if (rc && decode_error) { logs_free(&l); PyErr_SetString(PyExc_ValueError, decode_error); return NULL; }
    if (rc) { logs_free(&l); Py_RETURN_NONE; }
    PyObject *out = PyDict_New();
    if (!out) { logs_free(&l); return NULL; }
#undef SET
#define SET(key, value)                                              \
    do {                                                             \
        PyObject *_v = (value);                                      \
        if (!_v || PyDict_SetItemString(out, key, _v)) {             \
            Py_XDECREF(_v);                                          \
            Py_DECREF(out);                                          \
            logs_free(&l);                                           \
            return NULL;                                             \
        }                                                            \
        Py_DECREF(_v);                                               \
    } while (0)
    SET("n", PyLong_FromLong(l.n));
    SET("time", bytes_of(&l.time));
    SET("observed", bytes_of(&l.observed));
    SET("flags", bytes_of(&l.flags));
    SET("severity_number", bytes_of(&l.severity_number));
    SET("dropped", bytes_of(&l.dropped));
    SET("body_present", bytes_of(&l.body_present));
    SET("resource_idx", bytes_of(&l.resource_idx));
    SET("scope_idx", bytes_of(&l.scope_idx));
    SET("trace_id", str_tuple(&l.trace_id));
    SET("span_id", str_tuple(&l.span_id));
    SET("severity_text", str_tuple(&l.severity_text));
    SET("event_name", str_tuple(&l.event_name));
    SET("attrs", attr_tuple(&l.attrs));
    SET("body_types", bytes_of(&l.body.types));
    SET("body", str_tuple(&l.body.values));
    if (put_containers(out, &l.c)) { Py_DECREF(out); logs_free(&l); return NULL; }
    SET("rejected", bytes_of(&l.rejected));
    logs_free(&l);
    return out;
}

/* How many field-2 messages sit inside the field-2 messages of the field-1 messages: spans in
 * an ExportTraceServiceRequest, log records in an ExportLogsServiceRequest (the same shape). A
 * scan of tags without decoding, so a request of a million records is refused for its size in
 * a few milliseconds instead of after decoding them all; -1 when the bytes are malformed (the
 * decoder then says what is wrong). */
static long long count_nested(Reader req) {
    long long count = 0;
    uint32_t field;
    int wire, more;
    while ((more = next_tag(&req, &field, &wire)) == 1) {
        if (field != 1 || wire != 2) { if (skip_field(&req, wire)) return -1; continue; }
        Reader outer;
        if (read_bytes(&req, &outer)) return -1;
        while ((more = next_tag(&outer, &field, &wire)) == 1) {
            if (field != 2 || wire != 2) { if (skip_field(&outer, wire)) return -1; continue; }
            Reader inner;
            if (read_bytes(&outer, &inner)) return -1;
            while ((more = next_tag(&inner, &field, &wire)) == 1) {
                if (field == 2 && wire == 2) count++;
                if (skip_field(&inner, wire)) return -1;
            }
            if (more < 0) return -1;
        }
        if (more < 0) return -1;
    }
    return more < 0 ? -1 : count;
}

static PyObject *py_count_records(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    Reader req = {(const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len};
    long long count;
    Py_BEGIN_ALLOW_THREADS
    count = count_nested(req);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(count);
}

static PyMethodDef METHODS[] = {
    {"decode_traces", py_decode_traces, METH_VARARGS,
     "decode_traces(data, max_attributes, fallback[, max_column_bytes]) -> dict of column buffers, or None if malformed;"
     " ValueError when a column would pass max_column_bytes (default 2^31 - 1)"},
    {"decode_logs", py_decode_logs, METH_VARARGS,
     "decode_logs(data, max_attributes, fallback[, max_column_bytes]) -> dict of column buffers, or None if malformed;"
     " ValueError when a column would pass max_column_bytes (default 2^31 - 1)"},
    {"count_records", py_count_records, METH_VARARGS,
     "count_records(data) -> spans of an ExportTraceServiceRequest or log records of an ExportLogsServiceRequest"
     " (a tag scan, no decode), or -1 if malformed"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_otlp", "OTLP protobuf -> column buffers", -1, METHODS};

PyMODINIT_FUNC PyInit__otlp(void) { return PyModule_Create(&MODULE); }
