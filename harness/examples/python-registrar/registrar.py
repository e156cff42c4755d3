#!/usr/bin/env python3
"""A minimal registrar for the harness's adapter protocol, version 1 (see harness/ADAPTER.md).

Written the way a registrar developer would start: Python standard library only (ssl, json,
socket, struct, base64, hashlib, xml.etree), one file, the gaining side of a secure transfer
with the DNS operator the harness hosts. It does what protocol-notes §5.2 (RFC 6781 §4.3.5.1,
RFC 8063, RFC 8901) asks of a gaining registrar:

  1. build the signed zone at its operator, with the losing operator's ZSK in the DNSKEY set;
  2. relay its own ZSK to the losing registrar with the transfer token (keyrelay:create);
  3. wait until the losing servers publish that key, then one more WAIT;
  4. transfer the domain and add its own KSK as key data, keeping the old DS;
  5. wait until the parent serves the new DS, then WAIT;
  6. switch NS to its operator; wait until the parent delegates to it, then WAIT;
  7. remove the old DS; wait until the parent's DS set is only its own, then WAIT;
  8. stop publishing the losing ZSK.

Its waits are fixed and conservative (WAIT, one day: longer than any TTL in the harness's
certification world) instead of computed from TTLs; a production registrar reads the TTLs.
It hands out tokens, but does not implement the losing side (publishing relayed keys).

Run it with:  harness run scenarios/certify/gaining.toml --subject "python3 registrar.py"
"""

import base64
import hashlib
import json
import random
import socket
import ssl
import struct
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

PROTOCOL = 1
WAIT = timedelta(days=1)
RECHECK = timedelta(hours=1)
GIVE_UP = timedelta(hours=48)

NS = {
    "epp": "urn:ietf:params:xml:ns:epp-1.0",
    "domain": "urn:ietf:params:xml:ns:domain-1.0",
    "host": "urn:ietf:params:xml:ns:host-1.0",
    "secDNS": "urn:ietf:params:xml:ns:secDNS-1.1",
    "keyrelay": "urn:ietf:params:xml:ns:keyrelay-1.0",
}


# --- the adapter protocol: newline-delimited JSON on stdin/stdout -------------------------

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


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def format_time(t):
    if t.microsecond:
        t = t.replace(microsecond=0) + timedelta(seconds=1)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Operator:
    """The hosted DNS operator, driven with `operator` requests."""

    def __init__(self, ns):
        self.ns = ns
        self.next = 0

    def call(self, op, **args):
        self.next += 1
        rid = "op-%d" % self.next
        send(dict(type="operator", id=rid, op=op, **args))
        answer = receive()
        if answer is None or answer.get("type") != "operator_result" or answer.get("id") != rid:
            raise RuntimeError("expected the result of %s, got %r" % (rid, answer))
        if not answer["ok"]:
            raise RuntimeError("operator %s: %s" % (op, answer.get("error")))
        return answer


# --- EPP over TLS (RFC 5734): 4-byte length, then the XML ---------------------------------

class EppError(Exception):
    pass


class Epp:
    def __init__(self, setup):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(setup["ca_file"])
        ctx.load_cert_chain(setup["cert_file"], setup["key_file"])
        host, port = setup["address"].rsplit(":", 1)
        raw = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.trid = 0
        self.clid = setup["clid"]
        greeting = self.read()
        objs = [e.text for e in greeting.iter("{%s}objURI" % NS["epp"])]
        exts = [e.text for e in greeting.iter("{%s}extURI" % NS["epp"])]
        svcs = "".join("<objURI>%s</objURI>" % escape(u) for u in objs)
        if exts:
            svcs += "<svcExtension>%s</svcExtension>" % "".join(
                "<extURI>%s</extURI>" % escape(u) for u in exts)
        self.command(
            "<login><clID>%s</clID><pw>%s</pw><options><version>1.0</version><lang>en</lang>"
            "</options><svcs>%s</svcs></login>" % (escape(setup["clid"]), escape(setup["password"]), svcs))

    def read(self):
        head = self._exactly(4)
        (length,) = struct.unpack(">I", head)
        return ET.fromstring(self._exactly(length - 4))

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EppError("the registry closed the connection")
            data += chunk
        return data

    def command(self, body, extension="", ok=(1000, 1001, 1300, 1301)):
        """Sends a command; returns (code, response). Raises on a code not in `ok`."""
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
            msg = result.findtext("epp:msg", "", NS)
            raise EppError("EPP %d %s" % (code, msg))
        return code, resp

    def domain_info(self, name, token=None):
        auth = "<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo>" % escape(token) if token else ""
        _, r = self.command(
            '<info><domain:info xmlns:domain="%s"><domain:name hosts="all">%s</domain:name>%s'
            '</domain:info></info>' % (NS["domain"], escape(name), auth))
        data = r.find("epp:response/epp:resData/domain:infData", NS)
        keys = [key_from_xml(k) for k in r.iter("{%s}keyData" % NS["secDNS"])]
        return {
            "clid": data.findtext("domain:clID", "", NS),
            "ns": [h.text.lower() for h in data.iter("{%s}hostObj" % NS["domain"])],
            "token": data.findtext("domain:authInfo/domain:pw", None, NS),
            "keys": keys,
        }

    def secdns_update(self, name, add=(), rem=()):
        ext = '<secDNS:update xmlns:secDNS="%s">' % NS["secDNS"]
        if rem:
            ext += "<secDNS:rem>%s</secDNS:rem>" % "".join(key_xml(k) for k in rem)
        if add:
            ext += "<secDNS:add>%s</secDNS:add>" % "".join(key_xml(k) for k in add)
        ext += "</secDNS:update>"
        self.command('<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>'
                     '</domain:update></update>' % (NS["domain"], escape(name)), ext)

    def poll_all(self):
        """Reads and acknowledges every queued message; returns their texts."""
        texts = []
        for _ in range(100):
            code, r = self.command('<poll op="req"/>')
            if code != 1301:
                break
            q = r.find("epp:response/epp:msgQ", NS)
            texts.append(q.findtext("epp:msg", "", NS))
            self.command('<poll op="ack" msgID="%s"/>' % escape(q.get("id")))
        return texts


def key_xml(k, wrapper="secDNS:keyData"):
    """Key data (RFC 5910 §4.2); the wrapper element is keyrelay:keyData in key relay."""
    return ("<{w}><secDNS:flags>{f}</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>{a}</secDNS:alg>"
            "<secDNS:pubKey>{k}</secDNS:pubKey></{w}>").format(w=wrapper, f=k["flags"], a=k["alg"], k=k["pub_key"])


def key_from_xml(e):
    return {"flags": int(e.findtext("secDNS:flags", "", NS)), "protocol": 3,
            "alg": int(e.findtext("secDNS:alg", "", NS)), "pub_key": e.findtext("secDNS:pubKey", "", NS).strip()}


# --- DNS: just enough of RFC 1035 / 4034 to read DNSKEY, DS and NS ------------------------

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


def dns_query(addr, name, qtype):
    """Asks `addr` ("IP:PORT") for (name, qtype) with DO set; returns [(section, owner, type, ttl, rdata, msg, offset)]."""
    host, port = addr.rsplit(":", 1)
    host = host.strip("[]")
    qid = random.randrange(65536)
    query = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + name_wire(name) + struct.pack(">HH", qtype, 1)
    query += b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(query, (host, int(port)))
        msg = s.recv(65535)
    if msg[2] & 0x02:  # truncated: again over TCP
        with socket.create_connection((host, int(port)), timeout=3) as s:
            s.sendall(struct.pack(">H", len(query)) + query)
            (n,) = struct.unpack(">H", recv_exactly(s, 2))
            msg = recv_exactly(s, n)
    _, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    if flags & 0x000F not in (0, 3):
        raise RuntimeError("%s answered %s %d with rcode %d" % (addr, name, qtype, flags & 0xF))
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
            records.append((section, owner, rtype, ttl, msg[pos:pos + length], msg, pos))
            pos += length
    return records


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


DNSKEY, DS, NS_TYPE = 48, 43, 2


def dnskeys(addr, domain):
    out = []
    for section, owner, rtype, _, rdata, _, _ in dns_query(addr, domain, DNSKEY):
        if section == "answer" and rtype == DNSKEY and owner == domain.lower().rstrip("."):
            flags, _, alg = struct.unpack(">HBB", rdata[:4])
            out.append({"flags": flags, "protocol": 3, "alg": alg,
                        "pub_key": base64.b64encode(rdata[4:]).decode()})
    return out


def ds_set(addr, domain):
    return [rdata for section, owner, rtype, _, rdata, _, _ in dns_query(addr, domain, DS)
            if section == "answer" and rtype == DS and owner == domain.lower().rstrip(".")]


def delegation(addr, domain):
    names = set()
    for _, owner, rtype, _, _, msg, off in dns_query(addr, domain, NS_TYPE):
        if rtype == NS_TYPE and owner == domain.lower().rstrip("."):
            names.add(read_name(msg, off)[0])
    return names


def ds_matches(domain, key, ds_rdata):
    """Whether a DS record (RFC 4034 §5.1.4, SHA-256) is the digest of `key`."""
    if len(ds_rdata) < 4 or ds_rdata[3] != 2:
        return False
    rdata = struct.pack(">HBB", key["flags"], 3, key["alg"]) + base64.b64decode(key["pub_key"])
    return hashlib.sha256(name_wire(domain) + rdata).digest() == ds_rdata[4:]


# --- the gaining procedure ----------------------------------------------------------------

class Move:
    def __init__(self, domain, token, records, now):
        self.domain, self.token, self.records = domain, token, records
        self.state, self.wake, self.since = "start", now, now
        self.error = None

    def busy(self):
        return self.state not in ("done", "failed")


class Registrar:
    def __init__(self, hello):
        self.hosts = {h.rstrip(".").lower(): a for h, a in hello["dns"]["hosts"].items()}
        self.parent = hello["dns"]["parent"]
        self.epp = Epp(hello["epp"])
        self.op = Operator(hello["operator"]["ns"])
        self.moves = {}

    def addrs(self, names):
        return [self.hosts[n] for n in names if n in self.hosts]

    def tick(self, now):
        for text in self.epp.poll_all():
            log("poll message: %s" % text)
        for m in self.moves.values():
            while m.busy() and m.wake <= now:
                try:
                    if not self.advance(m, now):
                        break
                except Exception as e:  # one domain's failure must not stop the others
                    m.state, m.error = "failed", str(e)
                    log("%s: giving up: %s" % (m.domain, e), "error")

    def advance(self, m, now):
        """Runs one step of `m`; returns whether to go on at once."""
        d = m.domain
        if m.state == "start":
            info = self.epp.domain_info(d, m.token)
            m.losing_ns, m.old_keys = info["ns"], info["keys"]
            losing = self.addrs(m.losing_ns)
            if not losing:
                raise RuntimeError("cannot reach the losing name servers %s" % m.losing_ns)
            theirs = dnskeys(losing[0], d)
            if not theirs:
                raise RuntimeError("the domain is not signed; this example only moves signed domains")
            alg = theirs[0]["alg"]  # RFC 8901 §4: sign with the losing side's algorithm
            self.op.call("create_zone", domain=d, records=m.records, signed=True, algorithm=alg)
            m.ksk = self.op.call("ksk", domain=d)["keys"][0]
            m.zsks = self.op.call("zsks", domain=d)["keys"]
            m.imported = [k for k in theirs if k["flags"] == 256]
            for k in m.imported:
                self.op.call("add_foreign_key", domain=d, key=k)
            body = "".join("<keyrelay:keyRelayData>%s<keyrelay:expiry><keyrelay:relative>P7D"
                           "</keyrelay:relative></keyrelay:expiry></keyrelay:keyRelayData>"
                           % key_xml(k, "keyrelay:keyData") for k in m.zsks)
            self.epp.command(
                '<create><keyrelay:create xmlns:keyrelay="%s" xmlns:secDNS="%s" xmlns:domain="%s">'
                "<keyrelay:name>%s</keyrelay:name><keyrelay:authInfo><domain:pw>%s</domain:pw>"
                "</keyrelay:authInfo>%s</keyrelay:create></create>"
                % (NS["keyrelay"], NS["secDNS"], NS["domain"], escape(d), escape(m.token), body))
            log("%s: zone built with the losing ZSK; relayed our ZSK" % d)
            m.state, m.since = "await_relay", now
            return True
        if m.state == "await_relay":
            published = all(all(k in dnskeys(a, d) for k in m.zsks) for a in self.addrs(m.losing_ns))
            if published:
                log("%s: the losing servers publish our ZSK; waiting a day" % d)
                m.state, m.wake = "transfer", now + WAIT
            elif now - m.since > GIVE_UP:
                raise RuntimeError("the losing operator did not publish our ZSK within 48 hours")
            else:
                m.wake = now + RECHECK
            return False
        if m.state == "transfer":
            self.epp.command(
                '<transfer op="request"><domain:transfer xmlns:domain="%s"><domain:name>%s</domain:name>'
                "<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo></domain:transfer></transfer>"
                % (NS["domain"], escape(d), escape(m.token)), ok=(1000,))
            self.epp.secdns_update(d, add=[m.ksk])
            log("%s: transferred; added our KSK, keeping the old DS" % d)
            m.state = "await_ds"
            return True
        if m.state == "await_ds":
            if any(ds_matches(d, m.ksk, r) for r in ds_set(self.parent, d)):
                log("%s: the parent serves our DS; waiting a day" % d)
                m.state, m.wake = "switch_ns", now + WAIT
            else:
                m.wake = now + RECHECK
            return False
        if m.state == "switch_ns":
            mine = [n.rstrip(".").lower() for n in self.op.ns]
            for n in mine:
                _, r = self.epp.command('<check><host:check xmlns:host="%s"><host:name>%s</host:name>'
                                        "</host:check></check>" % (NS["host"], escape(n)))
                cd = r.find(".//host:cd/host:name", NS)
                if cd is not None and cd.get("avail") in ("1", "true"):
                    self.epp.command('<create><host:create xmlns:host="%s"><host:name>%s</host:name>'
                                     "</host:create></create>" % (NS["host"], escape(n)))
            hostobjs = lambda names: "".join("<domain:hostObj>%s</domain:hostObj>" % escape(n) for n in names)
            self.epp.command(
                '<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>'
                "<domain:add><domain:ns>%s</domain:ns></domain:add>"
                "<domain:rem><domain:ns>%s</domain:ns></domain:rem></domain:update></update>"
                % (NS["domain"], escape(d), hostobjs(mine), hostobjs(m.losing_ns)))
            log("%s: switched NS to %s" % (d, ", ".join(mine)))
            m.mine, m.state = set(mine), "await_ns"
            return True
        if m.state == "await_ns":
            if delegation(self.parent, d) == m.mine:
                log("%s: the parent delegates to us; waiting a day" % d)
                m.state, m.wake = "remove_old_ds", now + WAIT
            else:
                m.wake = now + RECHECK
            return False
        if m.state == "remove_old_ds":
            old = [k for k in m.old_keys if k != m.ksk]
            if old:
                self.epp.secdns_update(d, rem=old)
            log("%s: removed the old DS" % d)
            m.state = "await_old_ds_gone"
            return True
        if m.state == "await_old_ds_gone":
            ds = ds_set(self.parent, d)
            if ds and all(ds_matches(d, m.ksk, r) for r in ds):
                log("%s: the parent serves only our DS; waiting a day" % d)
                m.state, m.wake = "remove_foreign", now + WAIT
            else:
                m.wake = now + RECHECK
            return False
        if m.state == "remove_foreign":
            for k in m.imported:
                self.op.call("remove_foreign_key", domain=d, key=k)
            log("%s: done; the losing ZSK is no longer published" % d)
            m.state = "done"
            return False
        raise RuntimeError("unknown state %s" % m.state)

    def status(self, mid, now):
        moves = self.moves.values()
        wakes = [m.wake for m in moves if m.busy()] + [now + RECHECK]
        return {"type": "status", "id": mid, "next_wake": format_time(min(wakes)),
                "done": [m.domain for m in moves if m.state == "done"],
                "failed": [[m.domain, m.error] for m in moves if m.state == "failed"],
                "busy": [m.domain for m in moves if m.busy()]}


def main():
    hello = receive()
    if hello is None or hello.get("type") != "hello":
        print("expected hello, got %r" % (hello,), file=sys.stderr)
        return 2
    if hello["protocol"] != PROTOCOL:
        send({"type": "error", "id": hello["id"], "message": "I speak protocol %d" % PROTOCOL})
        return 2
    registrar = Registrar(hello)
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
                registrar.moves[msg["domain"]] = Move(msg["domain"], msg["token"], msg["records"], now)
                log("%s: the registrant asks to move it here" % msg["domain"])
                send({"type": "accepted", "id": mid})
            elif kind == "request_token":
                token = registrar.epp.domain_info(msg["domain"])["token"]
                if token is None:
                    raise RuntimeError("%s is not ours" % msg["domain"])
                send({"type": "token", "id": mid, "token": token})
            elif kind == "shutdown":
                send({"type": "bye", "id": mid})
                return 0
            else:
                send({"type": "error", "id": mid, "message": "unknown message type %r" % kind})
        except (EppError, RuntimeError, OSError) as e:
            send({"type": "error", "id": mid, "message": str(e)})


if __name__ == "__main__":
    sys.exit(main())
