#!/usr/bin/env python3
"""A complete small registrar for the harness's adapter protocol, version 1 (harness/ADAPTER.md).

Python standard library only (ssl, socket, struct, json, base64, hashlib, xml.etree), one file,
both roles of a secure registrar change with the DNS operator the harness hosts. It is meant to
be read and copied: every step names the RFC text it implements, and every wait is computed
from TTLs and delays observed over DNS, never from a fixed period.

Notation (protocol-notes §5.2): A is the losing side (registrar and DNS operator), B the gaining
side. TTL_DS and TTL_NSp are the TTLs of the DS and NS sets the parent (the TLD) serves;
TTL_K(A), TTL_NSc(A) the DNSKEY and NS TTLs A serves; Max(A) the largest TTL of anything A serves
(SOA, its MINIMUM field for negative answers, DNSKEY, NS, NSEC/NSEC3, the data the registrant
cares about). margin(t) = max(t/10, 60 s).

The gaining side: RFC 6781 §4.3.5.1 with Double-DS and pre-published data-signing keys
(RFC 8901 §3, model 2; SIDN's "IETF method"), RFC 8063 key relay as the channel to A:

  1. Read the domain (EPP info with the token), the parent's DS and NS sets, and A's DNSKEY set
     over DNS. A's *data-signing* keys are those whose key tags sign A's data (the RRSIGs over
     its SOA, NS, checked names and a negative answer): a ZSK (flags 256), or a CSK (flags 257
     signing everything). Keys A publishes for others never sign A's data, so they are not
     picked up.
  2. Build the zone at B's operator with A's algorithm (RFC 8901 §4, RFC 4035 §2.2) and import
     A's data-signing keys into B's DNSKEY set (model 2: every DNSKEY set holds every
     operator's data-signing keys).
  3. Relay B's data-signing keys (its ZSK, or its CSK) to A with the token (RFC 8063
     keyrelay:create). The expiry must outlive the whole move, and it is sent before the
     registry's publication delays can be seen: RELAY_PATIENCE (how long A may take to publish
     the key) + twice the waits of steps 4, 6, 8 and 9 (see relay_lifetime()).
  4. Wait until every one of A's name servers publishes the relayed key, then TTL_K(A) + margin:
     no cache can still hold an A DNSKEY set without B's key (RFC 7583 Ipub = Dprp + TTLkey).
  5. Transfer with the token (SIDN: immediate), then add B's KSK as secDNS keyData, keeping the
     old DS: the parent's DS set is {DS_A, DS_B} (Double-DS, RFC 6781 §4.3.5.1).
  6. Wait until the parent serves DS_B (the registry's publication delay, observed), then
     TTL_DS + margin: no cache can still hold a DS set without DS_B.
  7. Switch NS to B's operator (after checking that A still publishes B's key and that the
     relayed key's expiry covers what is left).
  8. Wait until the parent delegates to B (observed), then TTL_NSp + TTL_NSc(A) + Max(A) +
     margin: a resolver may hold the parent's old NS for TTL_NSp, refresh A's own NS set just
     before and use it for TTL_NSc(A), and fetch anything of A's at the last moment.
  9. Remove the old DS (secDNS rem keyData); wait until the parent's DS set is B's only, then
     TTL_DS + margin.
 10. Stop publishing A's keys (RFC 6781: "after all A-related DNSSEC records expired").

An unsigned (or insecurely delegated) domain has no chain to keep: B signs its zone, transfers,
switches NS, waits as in step 8 so nothing unsigned of A's can meet the new DS, adds DS_B and
waits TTL_DS (RFC 6781 §4.3.5.2 in the direction insecure → secure).

The losing side:

  * hands out the token (the domain's authInfo, read with EPP info);
  * reads the poll queue on every tick and acknowledges every message (key relays, transfer
    notices, anything else: RFC 5730 §2.9.2.3);
  * publishes each relayed key in the DNSKEY set until its expiry (RFC 8063 §2.1.1: absolute,
    or relative to the relay's crDate; a past time or P0D revokes the key; a key relayed again
    updates its expiry), refusing a key of an algorithm its zone does not sign with (it would
    break strict validators, RFC 4035 §2.2);
  * once told the domain was transferred away, keeps serving it, with the relayed keys, until
    the parent no longer delegates to it, then TTL_NSp + TTL_NSc + Max(own) + margin more (no
    resolver can reach or hold it any more), and retires the zone (remove_zone, which also
    drops the relayed keys).

Giving up (the losing side never publishes the relayed key or drops it too early, the relayed
key would expire before the move is over, the registry refuses a command…) happens before the
NS switch whenever it can, and is safe: the gaining side revokes its relay (P0D) while the
domain is still A's and, unless the domain is (about to be) delegated to it, withdraws its DS
and removes its zone, so no half-built zone with A's keys is left behind.

Waiting, it looks again every quarter of the smallest TTL involved (between a minute and an
hour), and reads the poll queue at least every POLL_INTERVAL. Seeing a change late only makes
a wait start later. The virtual clock is the `now` of the harness's messages, never the wall
clock.

Run it with:  harness run scenarios/certify --subject "python3 registrar.py"
"""

import base64
import hashlib
import json
import random
import re
import socket
import ssl
import struct
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

PROTOCOL = 1

# How often to read the poll queue when nothing else is due. A slow poller delays the other
# side (the gaining registrar waits for the relayed key to appear), never breaks anything.
POLL_INTERVAL = timedelta(minutes=30)

# How long the gaining side waits for the losing registrar to publish the relayed key before
# giving up. This is patience with another registrar (how often it polls), not a DNS wait: no
# TTL says how long it may take.
RELAY_PATIENCE = timedelta(hours=48)

NS = {
    "epp": "urn:ietf:params:xml:ns:epp-1.0",
    "domain": "urn:ietf:params:xml:ns:domain-1.0",
    "host": "urn:ietf:params:xml:ns:host-1.0",
    "secDNS": "urn:ietf:params:xml:ns:secDNS-1.1",
    "keyrelay": "urn:ietf:params:xml:ns:keyrelay-1.0",
}


class GiveUp(Exception):
    """The procedure cannot go on: give the domain up (safely)."""


class Transient(Exception):
    """A server did not answer (DNS timeout, EPP connection lost): try again on the next check."""


# --- time -----------------------------------------------------------------------------------

def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def format_time(t):
    if t.microsecond:
        t = t.replace(microsecond=0) + timedelta(seconds=1)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def human(seconds):
    seconds = int(seconds)
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    out = "".join("%d%s" % (v, u) for v, u in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if v)
    return out or "0s"


def margin(seconds):
    """Safety added to every TTL wait: a tenth, at least a minute."""
    return max(seconds // 10, 60)


def with_margin(seconds):
    return timedelta(seconds=seconds + margin(seconds))


def recheck_period(*ttls):
    """How often to look again while waiting for a change: a quarter of the smallest TTL
    involved, between a minute and an hour. Seeing a change late only makes waits longer."""
    positive = [t for t in ttls if t and t > 0]
    base = min(positive) // 4 if positive else 900
    return timedelta(seconds=min(max(base, 60), 3600))


def xs_duration(seconds):
    """An xs:duration for a number of seconds (rounded up to minutes), e.g. P3DT4H30M."""
    minutes = -(-int(seconds) // 60)
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    out = "P%dD" % d if d else "P"
    if h or m:
        out += "T" + ("%dH" % h if h else "") + ("%dM" % m if m else "")
    return out if out != "P" else "PT0M"


def add_xs_duration(t, text):
    """t + an xs:duration (RFC 8063 relative expiry); None when it cannot be read."""
    m = re.fullmatch(r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                     r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text.strip())
    if not m:
        return None
    sign = -1 if m.group(1) else 1
    years, months, days, hours, minutes = (int(g or 0) for g in m.groups()[1:6])
    secs = float(m.group(7) or 0)
    # Calendar months first (xs:duration semantics), then the exact part.
    total_months = t.month - 1 + sign * (years * 12 + months)
    year, month = t.year + total_months // 12, total_months % 12 + 1
    for day in (t.day, 30, 29, 28):
        try:
            t = t.replace(year=year, month=month, day=day)
            break
        except ValueError:
            continue
    return t + sign * timedelta(days=days, hours=hours, minutes=minutes, seconds=secs)


# --- the adapter protocol: newline-delimited JSON on stdin/stdout -------------------------------

def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def receive():
    while True:
        line = sys.stdin.readline()
        if not line:
            return None
        if line.strip():
            return json.loads(line)


def log(message, level="info"):
    send({"type": "log", "level": level, "message": message})


def debug(message):
    print(message, file=sys.stderr, flush=True)


class Operator:
    """The hosted DNS operator, driven with `operator` requests (ADAPTER.md)."""

    def __init__(self, setup):
        self.ns = [n.rstrip(".").lower() for n in setup["ns"]]
        self.algorithm = setup["algorithm"]
        self.next = 0

    def call(self, op, **args):
        self.next += 1
        rid = "op-%d" % self.next
        send(dict(type="operator", id=rid, op=op, **args))
        answer = receive()
        if answer is None or answer.get("type") != "operator_result" or answer.get("id") != rid:
            raise RuntimeError("expected the result of %s, got %r" % (rid, answer))
        if not answer["ok"]:
            raise GiveUp("operator %s: %s" % (op, answer.get("error")))
        return answer


# --- EPP over TLS (RFC 5734): 4-byte length, then the XML -------------------------------------

# How often one command is tried before the caller hears Transient (see Epp.command).
ATTEMPTS = 6


class EppError(Exception):
    """The registry refused a command."""

    def __init__(self, code, text):
        super().__init__("EPP %d %s" % (code, text))
        self.code = code


class Epp:
    """One EPP session; it logs in again if the registry closed the connection (idle timeout)."""

    def __init__(self, setup):
        self.setup = setup
        self.clid = setup["clid"]
        self.trid = 0
        self.sock = None

    def connect(self):
        s = self.setup
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(s["ca_file"])
        ctx.load_cert_chain(s["cert_file"], s["key_file"])
        host, port = s["address"].rsplit(":", 1)
        raw = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        greeting = self.read()
        objs = [e.text for e in greeting.iter("{%s}objURI" % NS["epp"])]
        exts = [e.text for e in greeting.iter("{%s}extURI" % NS["epp"])]
        svcs = "".join("<objURI>%s</objURI>" % escape(u) for u in objs)
        if exts:
            svcs += "<svcExtension>%s</svcExtension>" % "".join(
                "<extURI>%s</extURI>" % escape(u) for u in exts)
        self.exchange(
            "<login><clID>%s</clID><pw>%s</pw><options><version>1.0</version><lang>en</lang>"
            "</options><svcs>%s</svcs></login>" % (escape(s["clid"]), escape(s["password"]), svcs),
            "", (1000,))

    def read(self):
        (length,) = struct.unpack(">I", self._exactly(4))
        return ET.fromstring(self._exactly(length - 4))

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the registry closed the connection")
            data += chunk
        return data

    def exchange(self, body, extension, ok):
        self.trid += 1
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
               '<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command>%s%s<clTRID>PY-%05d</clTRID>'
               '</command></epp>' % (body, "<extension>%s</extension>" % extension if extension else "",
                                     self.trid)).encode()
        self.sock.sendall(struct.pack(">I", len(xml) + 4) + xml)
        resp = self.read()
        result = resp.find("epp:response/epp:result", NS)
        code = int(result.get("code"))
        if code not in ok:
            raise EppError(code, result.findtext("epp:msg", "", NS))
        return code, resp

    def command(self, body, extension="", ok=(1000, 1001, 1300, 1301)):
        """Sends a command; returns (code, response). Raises EppError on a code not in `ok`.

        What a registry may do to any command is handled here, so callers see only refusals:
        2400 (command failed: a passing server error, RFC 5730 §3) is sent again; a connection
        the registry closed (idle timeout, 2500-2502 then a close, a dropped connection) is
        opened again with a new login (refused with 2502 while the old session still counts)
        and the command sent once more. After ATTEMPTS tries it is Transient: the caller's
        next tick tries again.
        """
        last = None
        for attempt in range(ATTEMPTS):
            try:
                if self.sock is None:
                    self.connect()
                return self.exchange(body, extension, ok)
            except EppError as e:
                if e.code == 2400:
                    last = e
                elif e.code in (2500, 2501, 2502):
                    last = e
                    self.drop()
                else:
                    raise
            except (OSError, ConnectionError) as e:
                last = e
                self.drop()
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        raise Transient("EPP: %s (after %d tries)" % (last, ATTEMPTS))

    def drop(self):
        """Forgets the session; the next command logs in again."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def domain_info(self, name, token=None):
        auth = "<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo>" % escape(token) if token else ""
        _, r = self.command(
            '<info><domain:info xmlns:domain="%s"><domain:name hosts="all">%s</domain:name>%s'
            '</domain:info></info>' % (NS["domain"], escape(name), auth), ok=(1000,))
        data = r.find("epp:response/epp:resData/domain:infData", NS)
        return {
            "clid": data.findtext("domain:clID", "", NS),
            "ns": [h.text.rstrip(".").lower() for h in data.iter("{%s}hostObj" % NS["domain"])],
            "token": data.findtext("domain:authInfo/domain:pw", None, NS),
            "keys": [key_from_xml(k) for k in r.iter("{%s}keyData" % NS["secDNS"])],
        }

    def secdns_update(self, name, add=(), rem=()):
        """RFC 5910 §3.2.5 with the Key Data Interface (SIDN takes keyData, computes the DS)."""
        ext = '<secDNS:update xmlns:secDNS="%s">' % NS["secDNS"]
        if rem:
            ext += "<secDNS:rem>%s</secDNS:rem>" % "".join(key_xml(k) for k in rem)
        if add:
            ext += "<secDNS:add>%s</secDNS:add>" % "".join(key_xml(k) for k in add)
        ext += "</secDNS:update>"
        self.command('<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>'
                     '</domain:update></update>' % (NS["domain"], escape(name)), ext, ok=(1000, 1001))

    def key_relay(self, name, token, keys, expiry):
        """RFC 8063 §3.2.1: keyrelay:create, one keyRelayData per key, relative expiry."""
        body = "".join("<keyrelay:keyRelayData>%s<keyrelay:expiry><keyrelay:relative>%s"
                       "</keyrelay:relative></keyrelay:expiry></keyrelay:keyRelayData>"
                       % (key_xml(k, "keyrelay:keyData"), expiry) for k in keys)
        self.command(
            '<create><keyrelay:create xmlns:keyrelay="%s" xmlns:secDNS="%s" xmlns:domain="%s">'
            "<keyrelay:name>%s</keyrelay:name><keyrelay:authInfo><domain:pw>%s</domain:pw>"
            "</keyrelay:authInfo>%s</keyrelay:create></create>"
            % (NS["keyrelay"], NS["secDNS"], NS["domain"], escape(name), escape(token), body),
            ok=(1000,))


def key_xml(k, wrapper="secDNS:keyData"):
    """Key data (RFC 5910 §4.2); the wrapper element is keyrelay:keyData in key relay."""
    return ("<{w}><secDNS:flags>{f}</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>{a}</secDNS:alg>"
            "<secDNS:pubKey>{k}</secDNS:pubKey></{w}>").format(w=wrapper, f=k["flags"], a=k["alg"], k=k["pub_key"])


def key_from_xml(e):
    return {"flags": int(e.findtext("secDNS:flags", "", NS)), "protocol": 3,
            "alg": int(e.findtext("secDNS:alg", "", NS)),
            "pub_key": "".join(e.findtext("secDNS:pubKey", "", NS).split())}


# --- DNS: just enough of RFC 1035 / 4034 to read TTLs, DNSKEY, DS, NS, SOA and RRSIG ----------

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50,
         "NSEC3PARAM": 51, "TLSA": 52, "CDS": 59, "CDNSKEY": 60, "SVCB": 64, "HTTPS": 65,
         "CAA": 257}
A_, NS_, SOA_, DS_, RRSIG_, DNSKEY_ = 1, 2, 6, 43, 46, 48


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
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            continue
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].decode().lower())
        pos += n
    return ".".join(labels), (end if end is not None else pos)


class RR:
    """One resource record of an answer; `msg` and `offset` let names in the rdata be read."""

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


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def dns_query(addr, name, qtype):
    """Asks `addr` ("IP:PORT") for (name, qtype) with DO set; returns (rcode, [RR])."""
    host, port = addr.rsplit(":", 1)
    host = host.strip("[]")
    qid = random.randrange(65536)
    query = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + name_wire(name) + struct.pack(">HH", qtype, 1)
    query += b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(query, (host, int(port)))
            while True:
                msg = s.recv(65535)
                if msg[:2] == query[:2]:
                    break
        if msg[2] & 0x02:  # truncated: again over TCP
            with socket.create_connection((host, int(port)), timeout=3) as s:
                s.sendall(struct.pack(">H", len(query)) + query)
                (n,) = struct.unpack(">H", recv_exactly(s, 2))
                msg = recv_exactly(s, n)
    except (OSError, ConnectionError) as e:
        raise Transient("DNS %s %d at %s: %s" % (name, qtype, addr, e))
    _, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    rcode = flags & 0x000F
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
    return rcode, records


def ask(addr, name, qtype):
    """The records of an answer, or Transient unless it is NOERROR or NXDOMAIN: a server that
    refuses or fails says nothing about what caches may hold."""
    rcode, records = dns_query(addr, name, qtype)
    if rcode not in (0, 3):
        raise Transient("%s answered %s %d with rcode %d" % (addr, name, qtype, rcode))
    return records


def answer(addr, name, qtype):
    """The answer RRset of `qtype` at `name` (without its RRSIGs), and its TTL."""
    owner = name.lower().rstrip(".")
    rrs = [r for r in ask(addr, name, qtype)
           if r.section == "answer" and r.rtype == qtype and r.owner == owner]
    return rrs, max((r.ttl for r in rrs), default=0)


def key_of_rdata(rdata):
    flags, _, alg = struct.unpack(">HBB", rdata[:4])
    return {"flags": flags, "protocol": 3, "alg": alg, "pub_key": base64.b64encode(rdata[4:]).decode()}


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


def dnskeys(addr, domain):
    """The DNSKEY set a server publishes, and its TTL."""
    rrs, ttl = answer(addr, domain, DNSKEY_)
    return [key_of_rdata(r.rdata) for r in rrs], ttl


def ds_set(parent, domain):
    """The DS rdatas the parent publishes, and their TTL."""
    rrs, ttl = answer(parent, domain, DS_)
    return [r.rdata for r in rrs], ttl


def delegation(parent, domain):
    """The NS names the parent delegates `domain` to (from its referral), and their TTL."""
    records = ask(parent, domain, NS_)
    owner = domain.lower().rstrip(".")
    ns = [r for r in records if r.rtype == NS_ and r.owner == owner and r.section != "additional"]
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
    qs = [(domain, SOA_), (domain, NS_), (domain, DNSKEY_)]
    for name, rtype in checks or []:
        t = type_number(rtype)
        if t is not None:
            qs.append((name, t))
    qs.append((probe_name(domain), A_))
    return qs


def served_ttls(addr, domain, checks=()):
    """What caches may keep of what `addr` serves for `domain`: the largest TTL of its answers
    and negative answers (RFC 2308: the SOA TTL and its MINIMUM field), plus its child NS TTL."""
    largest, child_ns = 0, 0
    for name, qtype in questions(domain, checks):
        for r in ask(addr, name, qtype):
            if r.section == "additional":
                continue
            largest = max(largest, r.ttl)
            if r.rtype == SOA_:
                largest = max(largest, r.soa_minimum())
            if r.rtype == NS_ and r.owner == domain.lower().rstrip(".") and qtype == NS_:
                child_ns = max(child_ns, r.ttl)
    return largest, child_ns


def data_signing_tags(addr, domain, checks=()):
    """(algorithm, key tag) of every RRSIG over data (anything but the DNSKEY set): the keys
    that sign the zone's data, whatever their flags say (a ZSK, or a CSK)."""
    tags = set()
    for name, qtype in questions(domain, checks):
        if qtype == DNSKEY_:
            continue
        for r in ask(addr, name, qtype):
            if r.rtype == RRSIG_ and r.section != "additional":
                covered, alg, tag = r.rrsig()
                if covered != DNSKEY_:
                    tags.add((alg, tag))
    return tags


# --- the gaining procedure ----------------------------------------------------------------------

class Move:
    """A domain moving here, and what was observed of it."""

    def __init__(self, domain, token, records, checks, now):
        self.domain, self.token, self.records = domain, token, records
        self.checks = [tuple(c) for c in checks or []]
        self.state, self.wake, self.since = "start", now, now
        self.error = None
        self.secure = True
        self.losing_ns, self.old_keys, self.imported = [], [], []
        self.ksk, self.zsks = None, []
        self.relayed, self.relay_expires = False, None
        self.transferred, self.ds_added = False, False
        self.changed_at, self.ds_delay = now, timedelta(0)
        # TTLs observed (seconds): DS and NS at the parent; DNSKEY, child NS and the largest
        # TTL at the losing operator.
        self.ttl = {"ds": 0, "ns_parent": 0, "dnskey_losing": 0, "ns_child_losing": 0, "max_losing": 0}
        self.recheck = POLL_INTERVAL

    def busy(self):
        return self.state not in ("done", "failed")


class Away:
    """A domain of ours that was transferred away: served until the delegation moved and the
    caches forgot us, then retired."""

    def __init__(self, domain, now):
        self.domain, self.wake = domain, now
        self.ns_ttl = 0
        self.retire_at = None


class Registrar:
    def __init__(self, hello):
        self.hosts = {h.rstrip(".").lower(): a for h, a in hello["dns"]["hosts"].items()}
        self.parent = hello["dns"]["parent"]
        self.epp = Epp(hello["epp"])
        self.clid = hello["epp"]["clid"]
        self.op = Operator(hello["operator"])
        self.moves, self.away = {}, {}
        self.processed = set()

    def addrs(self, names):
        out = []
        for n in names:
            a = self.hosts.get(n.rstrip(".").lower())
            if a is None:
                log("no address for name server %s" % n, "warn")
            elif a not in out:
                out.append(a)
        return out

    def delegated_here(self, domain):
        ns, _ = delegation(self.parent, domain)
        return bool(ns & set(self.op.ns))

    # --- every tick ---------------------------------------------------------------------------

    def tick(self, now):
        try:
            self.read_poll_queue(now)
        except (Transient, EppError) as e:
            log("reading the poll queue failed: %s" % e, "warn")
        for m in list(self.moves.values()):
            while m.busy() and m.wake <= now:
                try:
                    if not self.advance(m, now):
                        break
                except Transient as e:
                    log("%s: %s; trying again later" % (m.domain, e), "warn")
                    m.wake = now + m.recheck
                except (GiveUp, EppError, RuntimeError) as e:
                    self.give_up(m, now, str(e))
        for a in list(self.away.values()):
            if a.wake <= now:
                try:
                    self.check_away(a, now)
                except (Transient, GiveUp, EppError) as e:
                    log("%s: %s; trying again later" % (a.domain, e), "warn")
                    a.wake = now + POLL_INTERVAL

    def status(self, mid, now):
        moves = self.moves.values()
        wakes = [m.wake for m in moves if m.busy()] + [a.wake for a in self.away.values()]
        wake = min(wakes + [now + POLL_INTERVAL])
        # A wake at or before now would not be scheduled by the harness: always ask for later.
        wake = max(wake, now + timedelta(seconds=1))
        return {"type": "status", "id": mid, "next_wake": format_time(wake),
                "done": [m.domain for m in moves if m.state == "done"],
                "failed": [[m.domain, m.error] for m in moves if m.state == "failed"],
                # A domain that left is ours to retire: not idle until its zone is gone.
                "busy": [m.domain for m in moves if m.busy()] + list(self.away)}

    def wait(self, m, now, seconds, why, state):
        m.wake, m.state = now + with_margin(seconds), state
        log("%s: %s; waiting %s + %s margin" % (m.domain, why, human(seconds), human(margin(seconds))))
        return False

    def later(self, m, now):
        m.wake = now + m.recheck
        return False

    def advance(self, m, now):
        """Runs one step of `m`; returns whether to go on at once (False: m.wake is set)."""
        return getattr(self, "step_" + m.state)(m, now)

    # Steps 1–3: learn the state, build the zone, relay our key.
    def step_start(self, m, now):
        d = m.domain
        info = self.epp.domain_info(d, m.token)
        if info["clid"] == self.clid:
            raise GiveUp("%s is already ours" % d)
        self.away.pop(d, None)  # it comes back: nothing left of a previous stay to retire
        m.losing_ns, m.old_keys = info["ns"], info["keys"]
        losing = self.addrs(m.losing_ns)
        if not losing:
            raise GiveUp("cannot reach the losing name servers %s" % m.losing_ns)
        ds, m.ttl["ds"] = ds_set(self.parent, d)
        _, m.ttl["ns_parent"] = delegation(self.parent, d)
        theirs, signing = [], set()
        for addr in losing:
            keys, ttl = dnskeys(addr, d)
            theirs += [k for k in keys if not any(same_key(k, x) for x in theirs)]
            m.ttl["dnskey_losing"] = max(m.ttl["dnskey_losing"], ttl)
            largest, child_ns = served_ttls(addr, d, m.checks)
            m.ttl["max_losing"] = max(m.ttl["max_losing"], largest)
            m.ttl["ns_child_losing"] = max(m.ttl["ns_child_losing"], child_ns)
            signing |= data_signing_tags(addr, d, m.checks)
        m.recheck = recheck_period(*m.ttl.values())
        m.secure = bool(ds)
        if m.secure and not theirs:
            raise GiveUp("the parent has a DS for %s but the losing servers publish no DNSKEY" % d)

        if not m.secure:
            # Nothing validates this domain now: sign our zone, add our DS after the move.
            self.op.call("create_zone", domain=d, records=m.records, signed=True,
                         algorithm=self.op.algorithm)
            m.ksk = self.op.call("ksk", domain=d)["keys"][0]
            log("%s: not securely delegated; moving it, then adding our DS" % d)
            m.state = "transfer"
            return True

        # Step 1: the losing side's data-signing keys, by the RRSIGs over its data.
        data_keys = [k for k in theirs if (k["alg"], key_tag(k)) in signing]
        if not data_keys:  # no signature seen (should not happen): fall back on the flags
            data_keys = [k for k in theirs if k["flags"] == 256] or theirs
            log("%s: no RRSIG over the losing data matched a DNSKEY; importing by flags" % d, "warn")
        # Step 2: a common algorithm (RFC 8901 §4): ours if they sign with it, else theirs.
        algs = sorted({k["alg"] for k in data_keys})
        alg = self.op.algorithm if self.op.algorithm in algs else algs[0]
        if alg != self.op.algorithm:
            log("%s: the losing side signs with algorithm %d; using it too (RFC 8901 §4)" % (d, alg))
        self.op.call("create_zone", domain=d, records=m.records, signed=True, algorithm=alg)
        m.ksk = self.op.call("ksk", domain=d)["keys"][0]
        m.zsks = self.op.call("zsks", domain=d)["keys"]
        for k in data_keys:
            self.op.call("add_foreign_key", domain=d, key=k)
        m.imported = data_keys
        log("%s: zone built; imported the losing data-signing key(s) %s" % (
            d, ", ".join("%d/%d/flags %d" % (key_tag(k), k["alg"], k["flags"]) for k in data_keys)))

        # Step 3: relay our data-signing keys, valid for the whole move (RFC 8063).
        lifetime = self.relay_lifetime(m)
        self.epp.key_relay(d, m.token, m.zsks, xs_duration(lifetime.total_seconds()))
        m.relayed, m.relay_expires = True, now + lifetime
        log("%s: relayed our key(s) %s, expiry %s (until %s)" % (
            d, ", ".join("%d/%d" % (key_tag(k), k["alg"]) for k in m.zsks),
            xs_duration(lifetime.total_seconds()), format_time(m.relay_expires)))
        m.state, m.since = "await_relay", now
        return self.later(m, now)

    def relay_lifetime(self, m):
        """How long the losing side must publish our key: until it may publish it (at most
        RELAY_PATIENCE), then every wait up to the end of the move (steps 4, 6, 8, 9), each
        doubled to cover the registry's publication delays, which cannot be seen beforehand."""
        t = m.ttl
        waits = [t["dnskey_losing"], t["ds"], t["ns_parent"] + t["ns_child_losing"] + t["max_losing"], t["ds"]]
        return RELAY_PATIENCE + 2 * sum((with_margin(w) for w in waits), timedelta(0))

    def losing_publish_ours(self, m):
        """Whether every losing server publishes all our relayed keys; the largest DNSKEY TTL."""
        ok, ttl = True, 0
        for addr in self.addrs(m.losing_ns):
            keys, t = dnskeys(addr, m.domain)
            ttl = max(ttl, t)
            ok &= all(any(same_key(z, k) for k in keys) for z in m.zsks)
        return ok, ttl

    # Step 4: every losing server publishes our key; caches forget the DNSKEY set without it.
    def step_await_relay(self, m, now):
        published, ttl = self.losing_publish_ours(m)
        if published:
            m.ttl["dnskey_losing"] = max(m.ttl["dnskey_losing"], ttl)
            return self.wait(m, now, m.ttl["dnskey_losing"],
                             "every losing server publishes our key (after %s); the DNSKEY TTL"
                             % human((now - m.since).total_seconds()), "transfer")
        if now - m.since > RELAY_PATIENCE:
            raise GiveUp("the losing side did not publish our relayed key within %s"
                         % human(RELAY_PATIENCE.total_seconds()))
        return self.later(m, now)

    # Step 5: the transfer (SIDN: immediate; a pending transfer is waited for).
    def step_transfer(self, m, now):
        code, _ = self.epp.command(
            '<transfer op="request"><domain:transfer xmlns:domain="%s"><domain:name>%s</domain:name>'
            "<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo></domain:transfer></transfer>"
            % (NS["domain"], escape(m.domain), escape(m.token)), ok=(1000, 1001))
        if code == 1001:
            log("%s: transfer pending" % m.domain)
            m.state = "await_transfer"
            return self.later(m, now)
        return self.transferred(m, now)

    def step_await_transfer(self, m, now):
        if self.epp.domain_info(m.domain)["clid"] == self.clid:
            return self.transferred(m, now)
        return self.later(m, now)

    def transferred(self, m, now):
        m.transferred = True
        log("%s: transferred to us" % m.domain)
        m.state = "add_ds" if m.secure else "switch_ns"
        return True

    # Step 5, continued: add our KSK as key data, keeping the old DS (Double-DS).
    def step_add_ds(self, m, now):
        self.epp.secdns_update(m.domain, add=[m.ksk])
        m.ds_added, m.changed_at = True, now
        log("%s: added our KSK %d as key data%s" % (
            m.domain, key_tag(m.ksk), ", keeping the old DS" if m.secure else ""))
        m.state = "await_ds"
        return self.later(m, now)

    # Step 6: the parent serves our DS; caches forget the DS set without it.
    def step_await_ds(self, m, now):
        ds, ttl = ds_set(self.parent, m.domain)
        if not any(ds_matches(m.domain, m.ksk, r) for r in ds):
            return self.later(m, now)
        m.ds_delay = now - m.changed_at
        m.ttl["ds"] = max(m.ttl["ds"], ttl)
        return self.wait(m, now, m.ttl["ds"], "the parent serves our DS (seen %s after the update); the DS TTL"
                         % human(m.ds_delay.total_seconds()), "switch_ns" if m.secure else "finish")

    # Step 7: switch the delegation to our operator.
    def step_switch_ns(self, m, now):
        d = m.domain
        if m.secure:
            # Two checks before the point of no return. A losing side that stopped publishing
            # our key would make our answers bogus for every resolver holding its DNSKEY set.
            published, _ = self.losing_publish_ours(m)
            if not published:
                raise GiveUp("the losing servers no longer publish our relayed key; not switching NS")
            # The relayed key must stay published until step 8 is over: its expiry must cover
            # the NS publication delay (estimated as twice the DS one) and the step 8 wait.
            t = m.ttl
            rest = (2 * m.ds_delay + m.recheck
                    + with_margin(t["ns_parent"] + t["ns_child_losing"] + t["max_losing"]))
            if m.relay_expires < now + rest:
                raise GiveUp("the relayed key expires at %s, before the move could be over; not switching NS"
                             % format_time(m.relay_expires))
        mine = self.op.ns
        _, r = self.epp.command('<check><host:check xmlns:host="%s">%s</host:check></check>' % (
            NS["host"], "".join("<host:name>%s</host:name>" % escape(n) for n in mine)), ok=(1000,))
        for cd in r.iter("{%s}name" % NS["host"]):
            if cd.get("avail") in ("1", "true"):
                self.epp.command('<create><host:create xmlns:host="%s"><host:name>%s</host:name>'
                                 "</host:create></create>" % (NS["host"], escape(cd.text)), ok=(1000,))
        hostobjs = lambda names: "".join("<domain:hostObj>%s</domain:hostObj>" % escape(n) for n in names)
        rem = [n for n in m.losing_ns if n not in mine]
        add = [n for n in mine if n not in m.losing_ns]
        change = ("<domain:add><domain:ns>%s</domain:ns></domain:add>" % hostobjs(add) if add else "")
        change += ("<domain:rem><domain:ns>%s</domain:ns></domain:rem>" % hostobjs(rem) if rem else "")
        if change:
            self.epp.command('<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>%s'
                             "</domain:update></update>" % (NS["domain"], escape(d), change), ok=(1000, 1001))
        m.changed_at = now
        log("%s: switched NS to %s" % (d, ", ".join(mine)))
        m.state = "await_ns"
        return self.later(m, now)

    # Step 8: the parent delegates to us; caches forget the old delegation and A's data.
    def step_await_ns(self, m, now):
        ns, ttl = delegation(self.parent, m.domain)
        if ns != set(self.op.ns):
            return self.later(m, now)
        t = m.ttl
        t["ns_parent"] = max(t["ns_parent"], ttl)
        for addr in self.addrs(m.losing_ns):
            try:  # the losing servers still answer (they serve until caches forgot them)
                largest, child_ns = served_ttls(addr, m.domain, m.checks)
                t["max_losing"] = max(t["max_losing"], largest)
                t["ns_child_losing"] = max(t["ns_child_losing"], child_ns)
            except Transient as e:
                log("%s: %s; using the TTLs seen before" % (m.domain, e), "warn")
        wait = t["ns_parent"] + t["ns_child_losing"] + t["max_losing"]
        return self.wait(m, now, wait,
                         "the parent delegates to us (seen %s after the update); parent NS TTL %s + "
                         "losing NS TTL %s + largest losing TTL %s" % (
                             human((now - m.changed_at).total_seconds()), human(t["ns_parent"]),
                             human(t["ns_child_losing"]), human(t["max_losing"])),
                         "remove_old_ds" if m.secure else "add_ds")

    # Step 9: remove the old DS; caches forget the DS set with it.
    def step_remove_old_ds(self, m, now):
        old = [k for k in m.old_keys if not same_key(k, m.ksk)]
        if old:
            self.epp.secdns_update(m.domain, rem=old)
        log("%s: removed the old DS" % m.domain)
        m.state = "await_old_ds_gone"
        return self.later(m, now)

    def step_await_old_ds_gone(self, m, now):
        ds, ttl = ds_set(self.parent, m.domain)
        if not ds or not all(ds_matches(m.domain, m.ksk, r) for r in ds):
            return self.later(m, now)
        m.ttl["ds"] = max(m.ttl["ds"], ttl)
        return self.wait(m, now, m.ttl["ds"], "the parent serves only our DS; the DS TTL", "remove_imported")

    # Step 10: stop publishing the losing side's keys.
    def step_remove_imported(self, m, now):
        for k in m.imported:
            self.op.call("remove_foreign_key", domain=m.domain, key=k)
        log("%s: done; the losing side's keys are no longer published" % m.domain)
        m.state = "done"
        return False

    def step_finish(self, m, now):
        log("%s: done" % m.domain)
        m.state = "done"
        return False

    def give_up(self, m, now, why):
        """Stops safely: revoke the relay while the domain is still theirs; unless the domain
        is (or is about to be) delegated to us, withdraw our DS and remove our zone, so no
        half-built zone with the other side's keys is left behind."""
        log("%s: giving up: %s" % (m.domain, why), "error")
        m.state, m.error = "failed", why
        if m.relayed and not m.transferred:
            try:  # RFC 8063 §2.1.1: a zero relative expiry revokes the key relay
                self.epp.key_relay(m.domain, m.token, m.zsks, "P0D")
                log("%s: revoked our key relay" % m.domain)
            except (EppError, Transient) as e:
                log("%s: could not revoke our key relay: %s" % (m.domain, e), "warn")
        try:
            # The registry's NS set, not only the parent's: an NS change may be on its way.
            ours = set(self.op.ns)
            keep = m.transferred and bool(set(self.epp.domain_info(m.domain)["ns"]) & ours)
            keep = keep or self.delegated_here(m.domain)
        except (EppError, Transient) as e:
            log("%s: cannot tell where it is delegated (%s); keeping our zone" % (m.domain, e), "warn")
            return
        if keep:
            log("%s: the domain is delegated to us; keeping our zone" % m.domain, "warn")
            return
        try:
            if m.ds_added:
                # Our DS would point at a zone nobody serves; the old DS keeps it secure.
                self.epp.secdns_update(m.domain, rem=[m.ksk])
                log("%s: withdrew our DS" % m.domain)
            if self.op.call("hosts", domain=m.domain).get("hosted"):
                self.op.call("remove_zone", domain=m.domain)
                log("%s: removed our zone (the move did not happen)" % m.domain)
        except (GiveUp, EppError, Transient) as e:
            log("%s: could not clean up: %s" % (m.domain, e), "warn")

    # --- the losing side ------------------------------------------------------------------------

    def read_poll_queue(self, now):
        """Reads every queued message, acts on it, acknowledges it (RFC 5730 §2.9.2.3)."""
        for _ in range(1000):
            code, r = self.epp.command('<poll op="req"/>')
            if code != 1301:
                return
            q = r.find("epp:response/epp:msgQ", NS)
            mid = q.get("id")
            if mid not in self.processed:
                try:
                    self.handle_message(r, q.findtext("epp:msg", "", NS), now)
                except (GiveUp, Transient, EppError, RuntimeError) as e:
                    # Acknowledged anyway: a message that cannot be acted on would block the
                    # queue for every later one.
                    log("poll message %s: %s" % (mid, e), "error")
                self.processed.add(mid)
            self.epp.command('<poll op="ack" msgID="%s"/>' % escape(mid), ok=(1000,))

    def handle_message(self, r, text, now):
        res = r.find("epp:response/epp:resData", NS)
        relay = res.find("keyrelay:infData", NS) if res is not None else None
        transfer = next(res.iter("{%s}trnData" % NS["domain"]), None) if res is not None else None
        if relay is not None:
            self.publish_relayed(relay, now)
        elif transfer is not None:
            name = transfer.findtext("domain:name", "", NS).lower()
            gaining = transfer.findtext("domain:reID", "", NS)
            losing = transfer.findtext("domain:acID", "", NS)
            if losing == self.clid and gaining != self.clid:
                log("%s: transferred away to %s; serving it until the delegation moved" % (name, gaining))
                if self.op.call("hosts", domain=name).get("hosted"):
                    self.away[name] = Away(name, now)
            else:
                log("poll: %s" % text)
        else:
            log("poll: %s" % text)

    def publish_relayed(self, relay, now):
        """RFC 8063 §2.1.1 at the registrar of record: publish, update or revoke relayed keys."""
        name = relay.findtext("keyrelay:name", "", NS).lower()
        sender = relay.findtext("keyrelay:reID", "?", NS)
        created = relay.findtext("keyrelay:crDate", None, NS)
        created = parse_time(created) if created else now
        if not self.op.call("hosts", domain=name).get("hosted"):
            log("%s: key relayed by %s for a zone we do not host; ignored" % (name, sender), "warn")
            return
        try:
            own_algs = {k["alg"] for k in dnskeys(self.addrs(self.op.ns)[0], name)[0]}
        except (Transient, IndexError):
            own_algs = set()
        for data in relay.findall("keyrelay:keyRelayData", NS):
            key = key_from_xml(data.find("keyrelay:keyData", NS))
            absolute = data.findtext("keyrelay:expiry/keyrelay:absolute", None, NS)
            relative = data.findtext("keyrelay:expiry/keyrelay:relative", None, NS)
            expires = (parse_time(absolute) if absolute
                       else add_xs_duration(created, relative) if relative else None)
            desc = "key %d/%d relayed by %s" % (key_tag(key), key["alg"], sender)
            if relative and expires is None:
                log("%s: %s has an unreadable expiry %r; ignored" % (name, desc, relative), "warn")
            elif expires is not None and expires <= now:
                self.op.call("remove_foreign_key", domain=name, key=key)
                log("%s: %s revoked (expiry %s)" % (name, desc, absolute or relative))
            elif own_algs and key["alg"] not in own_algs:
                log("%s: %s is of an algorithm our zone does not sign with; not publishing it "
                    "(RFC 4035 §2.2, RFC 8901 §4)" % (name, desc), "warn")
            else:
                self.op.call("add_foreign_key", domain=name, key=key,
                             expires=format_time(expires) if expires else None)
                log("%s: publishing %s until %s" % (name, desc, format_time(expires) if expires else
                                                    "the zone is retired"))

    def check_away(self, a, now):
        """Retires the zone of a domain that left once no resolver can reach or hold it."""
        d = a.domain
        ns, ttl = delegation(self.parent, d)
        a.ns_ttl = max(a.ns_ttl, ttl)
        mine = self.addrs(self.op.ns)
        if ns & set(self.op.ns):
            a.wake = now + recheck_period(a.ns_ttl)
            return
        if a.retire_at is None:
            largest, child_ns = 0, 0
            for addr in mine:
                l, c = served_ttls(addr, d)
                largest, child_ns = max(largest, l), max(child_ns, c)
            wait = a.ns_ttl + child_ns + largest
            a.retire_at = a.wake = now + with_margin(wait)
            log("%s: the parent no longer delegates to us; retiring the zone after parent NS TTL %s + "
                "our NS TTL %s + our largest TTL %s + margin, at %s" % (
                    d, human(a.ns_ttl), human(child_ns), human(largest), format_time(a.retire_at)))
            return
        if now >= a.retire_at:
            self.op.call("remove_zone", domain=d)
            log("%s: retired the zone (and the relayed keys in it)" % d)
            del self.away[d]


def main():
    hello = receive()
    if hello is None or hello.get("type") != "hello":
        debug("expected hello, got %r" % (hello,))
        return 2
    if hello["protocol"] != PROTOCOL:
        send({"type": "error", "id": hello["id"], "message": "I speak protocol %d" % PROTOCOL})
        return 2
    try:
        registrar = Registrar(hello)
    except (OSError, EppError, Transient) as e:
        send({"type": "error", "id": hello["id"], "message": "cannot log in to the registry: %s" % e})
        return 2
    send({"type": "ready", "id": hello["id"], "dns": "hosted", "next_wake": hello["now"]})
    while True:
        msg = receive()
        if msg is None:
            return 0
        kind, mid = msg.get("type"), msg.get("id")
        try:
            if kind == "tick":
                now = parse_time(msg["now"])
                registrar.tick(now)
                send(registrar.status(mid, now))
            elif kind == "transfer_in":
                now = parse_time(msg["now"])
                d = msg["domain"].lower().rstrip(".")
                if d in registrar.moves and registrar.moves[d].busy():
                    raise GiveUp("%s is already moving here" % d)
                registrar.moves[d] = Move(d, msg["token"], msg["records"], msg.get("checks"), now)
                log("%s: the registrant asks to move it here" % d)
                send({"type": "accepted", "id": mid})
            elif kind == "request_token":
                token = registrar.epp.domain_info(msg["domain"])["token"]
                if token is None:
                    raise GiveUp("%s is not ours" % msg["domain"])
                log("%s: gave the registrant the token" % msg["domain"])
                send({"type": "token", "id": mid, "token": token})
            elif kind == "shutdown":
                send({"type": "bye", "id": mid})
                return 0
            else:
                send({"type": "error", "id": mid, "message": "unknown message type %r" % kind})
        except (EppError, GiveUp, Transient, RuntimeError, OSError) as e:
            send({"type": "error", "id": mid, "message": str(e)})


if __name__ == "__main__":
    sys.exit(main())
