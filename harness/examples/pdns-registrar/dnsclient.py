"""Just enough of a DNS client (RFC 1035, RFC 4034) to read what servers serve: answers with
their TTLs, DNSKEY, DS, NS, SOA and RRSIG records. Standard library only.

A registrar reads everything it waits on over DNS, from the servers resolvers would ask: the
parent's DS and NS sets from the TLD's server, the losing operator's DNSKEY set and TTLs from
the losing name servers, its own changes from its own servers. Every answer is asked with the
DO bit, over UDP, again over TCP when truncated.
"""

import base64
import hashlib
import random
import socket
import struct

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "DNAME": 39, "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50,
         "NSEC3PARAM": 51, "TLSA": 52, "CDS": 59, "CDNSKEY": 60, "SVCB": 64, "HTTPS": 65,
         "CAA": 257}
A, NS, SOA, DS, RRSIG, DNSKEY = 1, 2, 6, 43, 46, 48
NOERROR, NXDOMAIN, REFUSED = 0, 3, 5


class Transient(Exception):
    """A server did not answer, or not usefully: try again later."""


def type_number(name):
    name = name.upper()
    if name in TYPES:
        return TYPES[name]
    if name.startswith("TYPE") and name[4:].isdigit():
        return int(name[4:])
    return None


def name_wire(name):
    out = b""
    for label in name.rstrip(".").lower().split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(msg, pos):
    labels, end = [], None
    for _ in range(128):  # a bound on compression pointers: never loop on a bad message
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            continue
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].decode("ascii", "replace").lower())
        pos += n
    return ".".join(labels), (end if end is not None else pos)


class RR:
    """One resource record of a response; `msg` and `offset` let names in the rdata be read."""

    def __init__(self, section, owner, rtype, ttl, rdata, msg, offset):
        self.section, self.owner, self.rtype, self.ttl = section, owner, rtype, ttl
        self.rdata, self.msg, self.offset = rdata, msg, offset

    def target(self):
        """The name in an NS rdata."""
        return read_name(self.msg, self.offset)[0]

    def soa_minimum(self):
        _, pos = read_name(self.msg, self.offset)
        _, pos = read_name(self.msg, pos)
        return struct.unpack(">IIIII", self.msg[pos:pos + 20])[4]

    def rrsig(self):
        """(type covered, algorithm, key tag) of an RRSIG (RFC 4034 §3.1)."""
        covered, alg = struct.unpack(">HB", self.rdata[:3])
        (tag,) = struct.unpack(">H", self.rdata[16:18])
        return covered, alg, tag


def _exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def query(addr, name, qtype, timeout=2.0):
    """Asks `addr` ("IP:PORT") for (name, qtype) with DO set; returns (rcode, [RR])."""
    host, port = addr.rsplit(":", 1)
    host = host.strip("[]")
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + name_wire(name) + struct.pack(">HH", qtype, 1)
    q += b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(q, (host, int(port)))
            while True:
                msg = s.recv(65535)
                if msg[:2] == q[:2]:
                    break
        if msg[2] & 0x02:  # truncated: again over TCP
            with socket.create_connection((host, int(port)), timeout=timeout) as s:
                s.sendall(struct.pack(">H", len(q)) + q)
                (n,) = struct.unpack(">H", _exactly(s, 2))
                msg = _exactly(s, n)
    except (OSError, ConnectionError) as e:
        raise Transient("DNS %s/%d at %s: %s" % (name, qtype, addr, e))
    try:
        return _parse(msg)
    except (IndexError, struct.error, UnicodeError) as e:
        raise Transient("DNS %s/%d at %s: unreadable answer (%s)" % (name, qtype, addr, e))


def _parse(msg):
    _, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    pos = 12
    for _ in range(qd):
        _, pos = read_name(msg, pos)
        pos += 4
    records = []
    for section, count in (("answer", an), ("authority", ns), ("additional", ar)):
        for _ in range(count):
            owner, pos = read_name(msg, pos)
            rtype, _, ttl, length = struct.unpack(">HHIH", msg[pos:pos + 10])
            pos += 10
            records.append(RR(section, owner, rtype, ttl, msg[pos:pos + length], msg, pos))
            pos += length
    return flags & 0x000F, records


def ask(addr, name, qtype):
    """The records of an answer; Transient unless it is NOERROR or NXDOMAIN: a server that
    refuses or fails says nothing about what caches may hold."""
    rcode, records = query(addr, name, qtype)
    if rcode not in (NOERROR, NXDOMAIN):
        raise Transient("%s answered %s/%d with rcode %d" % (addr, name, qtype, rcode))
    return records


def answer(addr, name, qtype):
    """The answer RRset of `qtype` at `name` (without its RRSIGs), and its TTL."""
    owner = name.lower().rstrip(".")
    rrs = [r for r in ask(addr, name, qtype)
           if r.section == "answer" and r.rtype == qtype and r.owner == owner]
    return rrs, max((r.ttl for r in rrs), default=0)


# --- keys ---------------------------------------------------------------------------------------

def key_of_rdata(rdata):
    flags, _, alg = struct.unpack(">HBB", rdata[:4])
    return {"flags": flags, "protocol": 3, "alg": alg, "pub_key": base64.b64encode(rdata[4:]).decode()}


def key_of_text(text):
    """A key from DNSKEY presentation data: "257 3 13 <base64>"."""
    flags, proto, alg, *b64 = text.split()
    return {"flags": int(flags), "protocol": int(proto), "alg": int(alg), "pub_key": "".join(b64)}


def key_text(k):
    return "%d 3 %d %s" % (k["flags"], k["alg"], k["pub_key"])


def key_rdata(k):
    return struct.pack(">HBB", k["flags"], 3, k["alg"]) + base64.b64decode(k["pub_key"])


def same_key(a, b):
    return key_rdata(a) == key_rdata(b)


def key_tag(k):
    """RFC 4034 Appendix B (every algorithm but 1)."""
    acc = 0
    for i, b in enumerate(key_rdata(k)):
        acc += b if i & 1 else b << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def describe(k):
    return "%d/%d" % (key_tag(k), k["alg"])


def dnskeys(addr, domain):
    """The DNSKEY set a server publishes, and its TTL."""
    rrs, ttl = answer(addr, domain, DNSKEY)
    return [key_of_rdata(r.rdata) for r in rrs], ttl


def ds_set(parent, domain):
    """The DS rdatas the parent publishes, and their TTL."""
    rrs, ttl = answer(parent, domain, DS)
    return [r.rdata for r in rrs], ttl


def delegation(parent, domain):
    """The NS names the parent delegates `domain` to (from its referral), and their TTL."""
    records = ask(parent, domain, NS)
    owner = domain.lower().rstrip(".")
    ns = [r for r in records if r.rtype == NS and r.owner == owner and r.section != "additional"]
    return {r.target() for r in ns}, max((r.ttl for r in ns), default=0)


def ds_matches(domain, key, ds_rdata):
    """Whether a DS record (RFC 4034 §5.1.4) is a digest of `key` (SHA-1, SHA-256, SHA-384)."""
    if len(ds_rdata) < 5:
        return False
    (tag,), alg, digest_type = struct.unpack(">H", ds_rdata[:2]), ds_rdata[2], ds_rdata[3]
    hashes = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}
    if digest_type not in hashes or alg != key["alg"] or tag != key_tag(key):
        return False
    return hashes[digest_type](name_wire(domain) + key_rdata(key)).digest() == ds_rdata[4:]


def probe_name(domain):
    return "nx-%08x.%s" % (random.randrange(1 << 32), domain)


def questions(domain, checks):
    """The questions whose answers say what a server serves for `domain`: the apex SOA, NS and
    DNSKEY, the names the registrant checks, and a name that does not exist (negative answer)."""
    qs = [(domain, SOA), (domain, NS), (domain, DNSKEY)]
    for name, rtype in checks or []:
        t = type_number(rtype)
        if t is not None:
            qs.append((name, t))
    qs.append((probe_name(domain), A))
    return qs


def served_ttls(addr, domain, checks=()):
    """What caches may keep of what `addr` serves for `domain`: the largest TTL of its answers
    and negative answers (RFC 2308: the SOA TTL and its MINIMUM field), and its own NS TTL."""
    largest, child_ns = 0, 0
    for name, qtype in questions(domain, checks):
        for r in ask(addr, name, qtype):
            if r.section == "additional":
                continue
            largest = max(largest, r.ttl)
            if r.rtype == SOA:
                largest = max(largest, r.soa_minimum())
            if r.rtype == NS and r.owner == domain.lower().rstrip(".") and qtype == NS:
                child_ns = max(child_ns, r.ttl)
    return largest, child_ns


def data_signing_tags(addr, domain, checks=()):
    """(algorithm, key tag) of every RRSIG over data (anything but the DNSKEY set): the keys
    that sign the zone's data, whatever their flags say (a ZSK, or a CSK)."""
    tags = set()
    for name, qtype in questions(domain, checks):
        if qtype == DNSKEY:
            continue
        for r in ask(addr, name, qtype):
            if r.rtype == RRSIG and r.section != "additional":
                covered, alg, tag = r.rrsig()
                if covered != DNSKEY:
                    tags.add((alg, tag))
    return tags
