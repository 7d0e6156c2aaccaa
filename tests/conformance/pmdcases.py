"""pmdcases.py - sections 12 and 13 (permessage-deflate, RFC 7692), after the
Autobahn Testsuite's case12_x_x.py.

Every case sends COUNT messages of SIZE octets one at a time, each
compressed (RSV1) and, when AUTOFRAG is set, cut into frames of AUTOFRAG
octets of compressed payload; it waits for each echo before sending the next
and requires every echo byte for byte (inflated with the agreed parameters,
see pmd.Receiver for what is checked on the way).

  12.1-12.5  the five Autobahn data sets, default offer / acceptance:
             12.1 JSON (text), 12.2 a 512x512 grey bitmap (binary), 12.3
             German prose (UTF-8 sent as binary, as Autobahn does: slices cut
             code points), 12.4 HTML (text), 12.5 a PDF-like file, mostly
             incompressible (binary). Autobahn ships real files (Faust, Lena,
             a paper); ours are generated, deterministic, of the same sizes
             and kinds.
  13.1-13.7  the JSON data with Autobahn's seven parameter sets:
             offers (server_no_context_takeover, server_max_window_bits) /
             acceptances (client_no_context_takeover, client_max_window_bits)
             13.1 default, 13.2 no context takeover, 13.3 window 8,
             13.4 window 15, 13.5 both with 8, 13.6 both with 15,
             13.7 three offers [(nct, 8), (nct, -), default] in that order.

Each subsection has Autobahn's 18 (size, auto-fragment) pairs, sizes 16
octets to 128 KiB. Autobahn sends 1000 messages per case; we send
min(25, max(2, 256 KiB / SIZE)) so that the 216 cases run in seconds.

As the fuzzing client a case offers its parameter sets; a server that does
not accept permessage-deflate makes it UNIMPLEMENTED, an answer that breaks
RFC 7692 makes it FAILED. As the fuzzing server a case accepts the agent's
offer with the case's parameters; if the agent offered no permessage-deflate,
or none that allows the client_max_window_bits the case needs, the case is
UNIMPLEMENTED (Autobahn's convention) and only the closing handshake counts.
"""
import random

# (payload size, auto-fragment size) as in Autobahn's MSG_SIZES
MSG_SIZES = [
    (16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0), (8192, 0), (16384, 0), (32768, 0),
    (65536, 0), (131072, 0),
    (8192, 256), (16384, 256), (32768, 256), (65536, 256), (131072, 256),
    (131072, 1024), (131072, 4096), (131072, 32768),
]


def count_for(size):
    """Messages per case (Autobahn: 1000)."""
    return min(25, max(2, (256 * 1024) // size))


# ---- the data sets (generated; sizes of Autobahn's files) -------------------

_WORDS_DE = ("Habe nun ach Philosophie Juristerei und Medizin und leider auch Theologie "
             "durchaus studiert mit heißem Bemühn da steh ich nun ich armer Tor und bin so "
             "klug als wie zuvor heiße Magister heiße Doktor gar und ziehe schon an die zehen "
             "Jahr herauf herab und quer und krumm meine Schüler an der Nase herum Größe "
             "Mädchen Grüße schön über Bäume Flüsse Höhe fröhlich").split()


def _json(n):
    r = random.Random(12)
    out, i = [], 0
    while sum(map(len, out)) < n:
        out.append('{"id": %d, "user": "user%03d", "active": %s, "score": %.4f, "tags": [%s], '
                   '"address": {"street": "%s Street %d", "zip": "%05d"}},\n' % (
                       i, r.randrange(1000), "true" if r.random() < 0.5 else "false", r.random(),
                       ", ".join('"%s"' % t for t in r.sample(["alpha", "beta", "gamma", "delta",
                                                              "omega"], r.randrange(4))),
                       r.choice(["Main", "Oak", "Pine", "Maple"]), r.randrange(1, 999),
                       r.randrange(100000)))
        i += 1
    return ("[" + "".join(out))[:n].encode()


def _bitmap(n):
    """A BMP: 54-octet header, 256-entry grey palette, 512x512 pixels."""
    r = random.Random(13)
    head = (b"BM" + (n).to_bytes(4, "little") + b"\0\0\0\0" + (1078).to_bytes(4, "little") +
            (40).to_bytes(4, "little") + (512).to_bytes(4, "little") + (512).to_bytes(4, "little") +
            (1).to_bytes(2, "little") + (8).to_bytes(2, "little") + bytes(24))
    pal = b"".join(bytes([g, g, g, 0]) for g in range(256))
    rows = []
    for y in range(512):
        rows.append(bytes((((x * y) >> 8) + (x >> 1) + r.randrange(8)) & 255 for x in range(512)))
    return (head + pal + b"".join(rows))[:n]


def _prose(n):
    r = random.Random(14)
    out, size = [], 0
    while size < n:
        line = " ".join(r.choice(_WORDS_DE) for _ in range(r.randrange(4, 12)))
        line = line[0].upper() + line[1:] + r.choice([".", ",", "!", "?", ";"]) + "\n"
        b = line.encode()
        out.append(b)
        size += len(b)
    return b"".join(out)[:n]


def _html(n):
    r = random.Random(15)
    out = ['<!DOCTYPE html>\n<html><head><title>Data</title></head><body>\n']
    size = len(out[0])
    i = 0
    while size < n:
        s = ('<div class="row r%d"><a href="/item/%d?ref=list">Item %d</a> <span class="price">'
             '%d.%02d</span><p>%s</p></div>\n' % (i % 7, i, i, r.randrange(999), r.randrange(100),
                                                   " ".join(r.choice(["lorem", "ipsum", "dolor",
                                                                      "sit", "amet", "elit"])
                                                            for _ in range(r.randrange(3, 15)))))
        out.append(s)
        size += len(s)
        i += 1
    return "".join(out).encode()[:n]


def _pdf(n):
    """Mostly incompressible (like a PDF's compressed streams), with text
    objects between them."""
    r = random.Random(16)
    out, size, k = [b"%PDF-1.4\n"], 9, 1
    while size < n:
        obj = (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (k, 4000) +
               r.randbytes(4000) + b"\nendstream\nendobj\n")
        out.append(obj)
        size += len(obj)
        k += 1
    return b"".join(out)[:n]


# (description, size, binary, generator, compressible)
DATASETS = [
    ("Large JSON data file", 194056, False, _json, True),
    ("Bitmap 512x512 grey", 263222, True, _bitmap, True),
    ("Human readable text, German prose", 222218, True, _prose, True),
    ("Large HTML file", 83711, False, _html, True),
    ("A larger PDF (mostly incompressible)", 1042328, True, _pdf, False),
]

_cache = {}


def dataset(k):
    """Data set k (0-based), built once."""
    if k not in _cache:
        _desc, size, _b, gen, _c = DATASETS[k]
        _cache[k] = gen(size)
        assert len(_cache[k]) == size
    return _cache[k]


def messages(k, size, count):
    """The messages of a case: consecutive slices of the data set, wrapping
    around (Autobahn's sendOne)."""
    data = dataset(k)
    out, ptr = [], 0
    for _ in range(count):
        end = ptr + size
        if end <= len(data):
            out.append(data[ptr:end])
        else:
            end -= len(data)
            out.append(data[ptr:] + data[:end])
        ptr = end
    return out


# ---- parameter sets (Autobahn's DEFLATE_PARAMS) ------------------------------

PARAMS = [
    ([(False, 0)], [(False, 0)]),
    ([(True, 0)], [(True, 0)]),
    ([(False, 8)], [(False, 8)]),
    ([(False, 15)], [(False, 15)]),
    ([(True, 8)], [(True, 8)]),
    ([(True, 15)], [(True, 15)]),
    ([(True, 8), (True, 0), (False, 0)], [(True, 8), (True, 0), (False, 0)]),
]


def _run(k, size, count, frag):
    from wire import BINARY, CONT, RSV1, TEXT
    op = BINARY if DATASETS[k][2] else TEXT

    def run(s):
        conn = s.conn
        for i, msg in enumerate(messages(k, size, count)):
            payload = conn.pmd_tx.compress(msg)
            if frag:
                pieces = [payload[j:j + frag] for j in range(0, len(payload), frag)] or [b""]
            else:
                pieces = [payload]
            frames = [s.frame(op if j == 0 else CONT, p, fin=j == len(pieces) - 1,
                              rsv=RSV1 if j == 0 else 0) for j, p in enumerate(pieces)]
            s.send(*frames)
            s.wait_events(i + 1, seconds=10)
            if conn.event_count < i + 1 or conn.peer_close is not None or conn.gone():
                break
    return run


def add_cases(case, T, B):
    """Add sections 12 and 13 through cases.case()."""
    def add(cid, k, size, count, frag, offers, accept, what):
        mk = B if DATASETS[k][2] else T
        case(cid, "Send %d compressed messages each of payload size %d, auto-fragment to %d "
             "octets. %s" % (count, size, frag, what), _run(k, size, count, frag),
             ok=lambda: [[mk(m) for m in messages(k, size, count)]],
             timeout=30.0, expect="receive every message back as sent (inflated byte for byte); "
             "answer our Close with 1000",
             pmd={"offers": offers, "accept": accept,
                  "compressible": DATASETS[k][4] and size >= 1024})

    for k in range(len(DATASETS)):
        for i, (size, frag) in enumerate(MSG_SIZES):
            add("12.%d.%d" % (k + 1, i + 1), k, size, count_for(size), frag, PARAMS[0][0],
                PARAMS[0][1], "%s. Use the default permessage-deflate offer." % DATASETS[k][0])
    for j, (offers, accept) in enumerate(PARAMS):
        for i, (size, frag) in enumerate(MSG_SIZES):
            add("13.%d.%d" % (j + 1, i + 1), 0, size, count_for(size), frag, offers, accept,
                "Offers (server_no_context_takeover, server_max_window_bits) %s / acceptance "
                "(client_no_context_takeover, client_max_window_bits) %s." % (offers, accept))
