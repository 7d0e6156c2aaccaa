"""pmd.py - the fuzzer's permessage-deflate (RFC 7692): negotiation, the
compressor for what we send, and a strict receiver for what the peer sends.

Negotiation follows the Autobahn Testsuite's model:
  an offer is (request_no_context_takeover, request_max_window_bits): what we
  ask of the server's compressor; every offer also carries
  client_no_context_takeover and client_max_window_bits (Autobahn's
  PerMessageDeflateOffer defaults: we can do both);
  an acceptance is a list of (no_context_takeover, max_window_bits)
  alternatives, tried in order, that the server asks of the client's
  compressor. As the fuzzing server we also apply the chosen alternative to
  our own compressor (server_no_context_takeover / server_max_window_bits,
  which RFC 7692 7.1.1.1 and 7.1.2.1 let a server send unasked), so that the
  client's inflater is tested with the same parameters as its compressor.

The receiver checks what the peer under test does, strictly:
  - RSV1 only on the first frame of a data message (section 6);
  - every compressed message inflates (with the tail 00 00 ff ff appended);
  - with *_no_context_takeover agreed for the peer, each message inflates on
    its own with a fresh inflater: a back-reference into the previous message
    fails as "invalid distance too far back";
  - with a *_max_window_bits below 15 agreed for the peer, no back-reference
    reaches further than 2^bits octets: max_distance() decodes the DEFLATE
    stream itself, because zlib's inflater accepts any distance into the
    output of the same call whatever its window. (zlib cannot deflate with a
    256-octet window: deflateInit2 refuses raw windowBits 8, so zlib based
    peers compress with 9 when 8 is agreed; that is still within the rule,
    as zlib never emits a distance beyond the window size minus 262.)

Our own compressor keeps to what was agreed: with 8 bits agreed it deflates
with windowBits 9, which is safe: zlib never emits a distance beyond the
window size minus 262 (MIN_LOOKAHEAD), 250 for 9 bits; Compressor checks it.
"""
import zlib

NAME = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"


class NegotiationError(Exception):
    """The peer's extension header breaks RFC 7692."""


# ---- header parsing ----------------------------------------------------------

def _split_outside_quotes(s, sep):
    parts, cur, q = [], [], False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == sep and not q:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_extensions(value):
    """A Sec-WebSocket-Extensions value as [(name, {param: value or True})].
    Raises NegotiationError on a duplicate parameter or an empty element."""
    out = []
    if not value or not value.strip():
        return out
    for elem in _split_outside_quotes(value, ","):
        items = [x.strip() for x in _split_outside_quotes(elem, ";")]
        if not items[0]:
            raise NegotiationError("empty extension element in %r" % value)
        params = {}
        for it in items[1:]:
            if not it:
                raise NegotiationError("empty extension parameter in %r" % value)
            k, eq, v = it.partition("=")
            k, v = k.strip().lower(), v.strip()
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                v = v[1:-1]
            if k in params:
                raise NegotiationError("duplicate parameter %s" % k)
            params[k] = v if eq else True
        out.append((items[0].lower(), params))
    return out


def _bits(v, what):
    """A window-bits value: '8'..'15' (no sign, no leading zero)."""
    if v is True or v not in [str(b) for b in range(8, 16)]:
        raise NegotiationError("%s=%r is not 8..15" % (what, v))
    return int(v)


KNOWN = ("server_no_context_takeover", "client_no_context_takeover",
         "server_max_window_bits", "client_max_window_bits")


class Agreed:
    """The parameters in force on one connection, from our point of view:
    we_nct/we_bits for our compressor, peer_nct/peer_bits for the peer's."""

    def __init__(self, we_nct, we_bits, peer_nct, peer_bits, header):
        self.we_nct, self.we_bits = we_nct, we_bits
        self.peer_nct, self.peer_bits = peer_nct, peer_bits
        self.header = header

    def __repr__(self):
        return "Agreed(%r)" % self.header


# ---- client side (we offer, the server under test answers) ------------------

def offer_string(request_nct, request_bits):
    """One offer as Autobahn's PerMessageDeflateOffer writes it."""
    s = NAME + "; client_no_context_takeover; client_max_window_bits"
    if request_nct:
        s += "; server_no_context_takeover"
    if request_bits:
        s += "; server_max_window_bits=%d" % request_bits
    return s


def client_check_response(offers, value):
    """Check the server's Sec-WebSocket-Extensions answer to our offers (a
    list of (request_nct, request_bits)). Returns an Agreed, or None if the
    server did not accept permessage-deflate. Raises NegotiationError when the
    answer accepts no offer validly."""
    exts = parse_extensions(value)
    if not exts:
        return None
    if len(exts) != 1 or exts[0][0] != NAME:
        raise NegotiationError("server answered %r to an offer of %s only" % (value, NAME))
    p = exts[0][1]
    for k in p:
        if k not in KNOWN:
            raise NegotiationError("unknown parameter %s in the answer" % k)
    for k in ("server_no_context_takeover", "client_no_context_takeover"):
        if k in p and p[k] is not True:
            raise NegotiationError("%s with a value" % k)
    sbits = _bits(p["server_max_window_bits"], "server_max_window_bits") \
        if "server_max_window_bits" in p else None
    cbits = _bits(p["client_max_window_bits"], "client_max_window_bits") \
        if "client_max_window_bits" in p else None
    why = []
    for nct, bits in offers:  # the answer must fit at least one offer
        if nct and "server_no_context_takeover" not in p:
            why.append("offer %r: server_no_context_takeover asked, not in the answer" % ((nct, bits),))
            continue
        if bits and (sbits is None or sbits > bits):
            why.append("offer %r: server_max_window_bits=%d asked, answer has %r" % (
                (nct, bits), bits, sbits))
            continue
        # we offered client_max_window_bits without a value: any 8..15 is fine
        return Agreed(we_nct=True,  # we offered client_no_context_takeover: a promise
                      we_bits=cbits or 15,
                      peer_nct="server_no_context_takeover" in p,
                      peer_bits=sbits or 15, header=value)
    raise NegotiationError("the answer %r fits none of our offers: %s" % (value, "; ".join(why)))


# ---- server side (the client under test offers, we answer) ------------------

def server_accept(value, alternatives):
    """Answer the client's Sec-WebSocket-Extensions offers with the first of
    the alternatives [(client_nct, client_bits)] some permessage-deflate
    offer allows. Returns (response header, Agreed), or (None, reason) when
    no offer allows any alternative (the case is UNIMPLEMENTED). Raises
    NegotiationError if the offers themselves break RFC 7692."""
    offers = []
    for name, p in parse_extensions(value):
        if name != NAME:
            continue
        for k in p:
            if k not in KNOWN:
                raise NegotiationError("unknown parameter %s in the offer" % k)
        if "server_max_window_bits" in p:
            _bits(p["server_max_window_bits"], "server_max_window_bits")
        if p.get("client_max_window_bits", True) is not True:
            _bits(p["client_max_window_bits"], "client_max_window_bits")
        offers.append(p)
    if not offers:
        return None, "the client offered no %s" % NAME
    for nct, bits in alternatives:
        for p in offers:
            if bits and "client_max_window_bits" not in p:
                continue  # the client cannot limit its window (7.1.2.2)
            cbits = bits
            if bits and p["client_max_window_bits"] is not True:
                cbits = min(bits, int(p["client_max_window_bits"]))
            s_nct = nct or "server_no_context_takeover" in p
            sbits = bits or 15
            if "server_max_window_bits" in p:
                sbits = min(sbits, int(p["server_max_window_bits"]))
            resp = NAME
            if s_nct:
                resp += "; server_no_context_takeover"
            if nct:
                resp += "; client_no_context_takeover"
            if sbits < 15 or "server_max_window_bits" in p:
                resp += "; server_max_window_bits=%d" % sbits
            if cbits:
                resp += "; client_max_window_bits=%d" % cbits
            # the client keeps its hint too: client_no_context_takeover offered
            return resp, Agreed(we_nct=s_nct, we_bits=sbits,
                                peer_nct=nct or "client_no_context_takeover" in p,
                                peer_bits=cbits or 15, header=resp)
    return None, "no offer in %r allows client_max_window_bits" % value


# ---- compressing what we send ------------------------------------------------

class Compressor:
    """Our side's compressor under the agreed parameters."""

    def __init__(self, agreed):
        self.nct = agreed.we_nct
        self.bits = agreed.we_bits
        self.z = None

    def _new(self):
        # zlib refuses a raw 8-bit window; 9 keeps distances within 250
        return zlib.compressobj(6, zlib.DEFLATED, -max(9, self.bits))

    def compress(self, data):
        """One message's compressed payload (the tail removed)."""
        if self.z is None or self.nct:
            self.z = self._new()
        out = self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        if self.bits < 15:  # never send what we would fail the peer for
            assert max_distance(out) <= 1 << self.bits
        return out[:-4]


# ---- checking what the peer sends -------------------------------------------

class InflateError(Exception):
    pass


class Receiver:
    """Inflates the peer's messages and checks them against the agreement."""

    def __init__(self, agreed):
        self.nct = agreed.peer_nct
        self.bits = agreed.peer_bits
        self.z = None
        self.compressed = 0       # messages that came compressed
        self.max_distance = 0     # the furthest back-reference seen

    def inflate(self, payload):
        """The message's data. Raises InflateError."""
        data = payload + TAIL
        if self.z is None or self.nct or self.z.eof:
            self.z = zlib.decompressobj(-self.bits)
        try:
            out = self.z.decompress(data)
        except zlib.error as e:
            what = str(e)
            if self.nct and "too far back" in what:
                what += " (a reference into an earlier message, but no_context_takeover was agreed)"
            raise InflateError(what)
        if self.z.unused_data:
            raise InflateError("%d octets after the end of the DEFLATE stream" % len(self.z.unused_data))
        self.compressed += 1
        if self.bits < 15:
            d = max_distance(data)
            self.max_distance = max(self.max_distance, d)
            if d > (1 << self.bits):
                raise InflateError("back-reference distance %d beyond the agreed window of "
                                   "%d bits (%d octets)" % (d, self.bits, 1 << self.bits))
        return out


# ---- a DEFLATE decoder that only measures distances --------------------------

_LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
          115, 131, 163, 195, 227, 258]
_LEXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
_DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
          1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
_DEXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
           12, 13, 13]
_CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def _table(lengths):
    """A lookup table indexed by the next maxbits input bits (LSB first):
    entry = symbol << 4 | code length (0: no such code)."""
    maxbits = max(lengths) if lengths else 0
    if maxbits == 0:
        return [0], 0
    count = [0] * 16
    for n in lengths:
        if n:
            count[n] += 1
    code, nxt = 0, [0] * 16
    for b in range(1, 16):
        code = (code + count[b - 1]) << 1
        nxt[b] = code
    size = 1 << maxbits
    tab = [0] * size
    for sym, n in enumerate(lengths):
        if not n:
            continue
        c = nxt[n]
        nxt[n] += 1
        r = int(format(c, "0%db" % n)[::-1], 2)
        e = sym << 4 | n
        for i in range(r, size, 1 << n):
            tab[i] = e
    return tab, maxbits


_FIXED = None


def _fixed():
    global _FIXED
    if _FIXED is None:
        lit = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
        _FIXED = (_table(lit), _table([5] * 30))
    return _FIXED


def max_distance(data):
    """The largest back-reference distance in raw DEFLATE data made of whole
    blocks (a permessage-deflate message with its tail). Raises InflateError
    if the data is not DEFLATE."""
    n = len(data)
    pos = 0
    buf = 0
    cnt = 0
    maxd = 0

    def bits(k):
        nonlocal pos, buf, cnt
        while cnt < k:
            if pos >= n:
                raise InflateError("DEFLATE data ends inside a block")
            buf |= data[pos] << cnt
            pos += 1
            cnt += 8
        v = buf & ((1 << k) - 1)
        buf >>= k
        cnt -= k
        return v

    def sym(table):
        nonlocal pos, buf, cnt
        tab, mb = table
        while cnt < mb and pos < n:
            buf |= data[pos] << cnt
            pos += 1
            cnt += 8
        e = tab[buf & ((1 << mb) - 1)]
        ln = e & 15
        if ln == 0 or ln > cnt:
            raise InflateError("bad Huffman code")
        buf >>= ln
        cnt -= ln
        return e >> 4

    while True:
        if pos >= n and cnt < 8 and (buf & ((1 << cnt) - 1)) == 0:
            return maxd  # only padding left: the data ended between blocks
        final = bits(1)
        btype = bits(2)
        if btype == 0:
            buf >>= cnt & 7  # to the byte boundary
            cnt -= cnt & 7
            ln = bits(16)
            if bits(16) != ln ^ 0xFFFF:
                raise InflateError("stored block length check failed")
            # the bit buffer holds whole bytes now: drop them back into pos
            pos -= cnt // 8
            buf, cnt = 0, 0
            if pos + ln > n:
                raise InflateError("stored block runs past the data")
            pos += ln
        elif btype in (1, 2):
            if btype == 1:
                lit, dist = _fixed()
            else:
                hlit, hdist, hclen = bits(5) + 257, bits(5) + 1, bits(4) + 4
                cl = [0] * 19
                for i in range(hclen):
                    cl[_CLORDER[i]] = bits(3)
                clt = _table(cl)
                lens = []
                while len(lens) < hlit + hdist:
                    s = sym(clt)
                    if s < 16:
                        lens.append(s)
                    elif s == 16:
                        if not lens:
                            raise InflateError("repeat with no previous length")
                        lens.extend([lens[-1]] * (3 + bits(2)))
                    elif s == 17:
                        lens.extend([0] * (3 + bits(3)))
                    else:
                        lens.extend([0] * (11 + bits(7)))
                lit, dist = _table(lens[:hlit]), _table(lens[hlit:hlit + hdist])
            while True:
                s = sym(lit)
                if s < 256:
                    continue
                if s == 256:
                    break
                s -= 257
                if s >= 29:
                    raise InflateError("bad length symbol")
                if _LEXTRA[s]:
                    bits(_LEXTRA[s])
                d = sym(dist)
                if d >= 30:
                    raise InflateError("bad distance symbol")
                dv = _DBASE[d] + (bits(_DEXTRA[d]) if _DEXTRA[d] else 0)
                if dv > maxd:
                    maxd = dv
        else:
            raise InflateError("reserved block type 3")
        if final:
            return maxd
