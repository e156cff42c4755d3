"""A small EPP client (RFC 5730-5734 over mutual TLS, secDNS-1.1 key data, RFC 8063 key relay)
with the standard library's `ssl`: the registrar's connection to the registry.

One session, shared by the threads of the registrar: a lock makes each command one exchange.
What a registry may do to any command is handled here (`Session.command`), so callers see only
refusals: a command answered 2400 is sent again, a session the registry closed (its idle
timeout, 2500-2502, a dropped connection) is logged in again, a login refused because the
registrar's sessions are used up (2502) is tried again, each up to ATTEMPTS times.
Where to connect and with which credentials is configuration: host and port, the CA the
registry's certificate chains to, the client certificate and key, clID and password.
"""

import re
import socket
import ssl
import struct
import threading
import time
from datetime import timedelta
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = {
    "epp": "urn:ietf:params:xml:ns:epp-1.0",
    "domain": "urn:ietf:params:xml:ns:domain-1.0",
    "host": "urn:ietf:params:xml:ns:host-1.0",
    "secDNS": "urn:ietf:params:xml:ns:secDNS-1.1",
    "keyrelay": "urn:ietf:params:xml:ns:keyrelay-1.0",
}


# How often one command (or the first login) is tried before the caller hears EppUnavailable.
ATTEMPTS = 6

# Result codes after which the same command is sent again (RFC 5730 §3): 2400, the command
# failed for a passing reason on the server's side and was not executed; 2500-2502, the
# registry ends the session (a protocol error, an authentication error, the session limit), so
# a new session is needed first.
RETRY_SAME_SESSION = (2400,)
RETRY_NEW_SESSION = (2500, 2501, 2502)


class EppError(Exception):
    """The registry refused a command."""

    def __init__(self, code, text):
        super().__init__("EPP %d %s" % (code, text))
        self.code = code


class EppConfigError(Exception):
    """The EPP configuration is unusable (CA, certificate or key files): not worth retrying."""


class EppUnavailable(Exception):
    """The registry could not be reached, or kept failing the command: try again later."""


class Session:
    """One EPP session, logged in; `command` is safe to call from several threads."""

    def __init__(self, host, port, ca_file, cert_file, key_file, clid, password,
                 server_name="localhost"):
        self.addr = (host.strip("[]"), int(port))
        self.ca_file, self.cert_file, self.key_file = ca_file, cert_file, key_file
        self.clid, self.password, self.server_name = clid, password, server_name
        self.trid = 0
        self.sock = None
        self.lock = threading.Lock()
        with self.lock:
            # Log in now, so that a wrong configuration shows at start, not at the first command.
            self._retrying(lambda: None)

    # --- the transport ----------------------------------------------------------------------

    def _connect(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_verify_locations(self.ca_file)
            ctx.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as e:
            # A configuration error: say which files (the exception alone does not).
            raise EppConfigError("cannot load the EPP CA %s or the client certificate %s and key "
                           "%s: %s" % (self.ca_file, self.cert_file, self.key_file, e))
        raw = socket.create_connection(self.addr, timeout=30)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=self.server_name)
        except OSError:
            raw.close()
            raise
        greeting = self._read()
        objs = [e.text for e in greeting.iter("{%s}objURI" % NS["epp"])]
        exts = [e.text for e in greeting.iter("{%s}extURI" % NS["epp"])]
        svcs = "".join("<objURI>%s</objURI>" % escape(u) for u in objs)
        if exts:
            svcs += "<svcExtension>%s</svcExtension>" % "".join(
                "<extURI>%s</extURI>" % escape(u) for u in exts)
        self._exchange(
            "<login><clID>%s</clID><pw>%s</pw><options><version>1.0</version><lang>en</lang>"
            "</options><svcs>%s</svcs></login>" % (escape(self.clid), escape(self.password), svcs),
            "", (1000,))

    def _read(self):
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

    def _exchange(self, body, extension, ok):
        self.trid += 1
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
               '<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command>%s%s<clTRID>PDNSREG-%05d</clTRID>'
               '</command></epp>' % (body, "<extension>%s</extension>" % extension if extension else "",
                                     self.trid)).encode()
        self.sock.sendall(struct.pack(">I", len(xml) + 4) + xml)
        resp = self._read()
        result = resp.find("epp:response/epp:result", NS)
        code = int(result.get("code"))
        if code not in ok:
            raise EppError(code, result.findtext("epp:msg", "", NS))
        return code, resp

    def command(self, body, extension="", ok=(1000, 1001, 1300, 1301)):
        """Sends a command; returns (code, response). EppError on a code not in `ok`.

        What a registry may do to any command is handled here, so callers see only refusals:
        2400 (command failed: a passing server error, RFC 5730 §3; it was not executed) is sent
        again in the same session; a session the registry ended (2500-2502, then a close) or a
        connection it closed or broke (its idle timeout, a dropped connection, a garbled frame)
        is opened again with a new login, which may itself be refused with 2502 while the old
        session still counts, and the command sent once more. After ATTEMPTS tries it is
        EppUnavailable: the scheduler tries again later. (A connection that broke between a
        command and its answer leaves open whether it was executed; like the Python example,
        this client sends it again, and a refusal of the repeat reaches the caller as an
        EppError.)
        """
        with self.lock:
            return self._retrying(lambda: self._exchange(body, extension, ok))

    def _retrying(self, action):
        """Runs `action` in a logged-in session, up to ATTEMPTS times (see `command`), waiting
        a little longer after each failed try (50 ms, doubling, at most a second)."""
        last = None
        for attempt in range(ATTEMPTS):
            try:
                if self.sock is None:
                    self._login()
                return action()
            except EppError as e:
                if e.code in RETRY_NEW_SESSION:
                    self._drop()
                elif e.code not in RETRY_SAME_SESSION:
                    raise
                last = e
            except (OSError, ConnectionError, ET.ParseError) as e:
                self._drop()
                last = e
            if attempt + 1 < ATTEMPTS:
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
        raise EppUnavailable("EPP: %s (after %d tries)" % (last, ATTEMPTS))

    def _login(self):
        """Opens a connection and logs in; a failure leaves no half-open session behind."""
        try:
            self._connect()
        except Exception:
            self._drop()
            raise

    def _drop(self):
        """Forgets the session; the next try logs in again."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def close(self):
        with self.lock:
            if self.sock is not None:
                try:
                    self._exchange("<logout/>", "", (1500,))
                except (OSError, ConnectionError, EppError, ET.ParseError):
                    pass
            self._drop()

    # --- the commands a registrar needs -----------------------------------------------------

    def domain_info(self, name, token=None):
        auth = ("<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo>" % escape(token)
                if token else "")
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

    def ensure_hosts(self, names):
        """Creates the host objects (outside the TLD: no addresses) that do not exist yet."""
        _, r = self.command('<check><host:check xmlns:host="%s">%s</host:check></check>' % (
            NS["host"], "".join("<host:name>%s</host:name>" % escape(n) for n in names)), ok=(1000,))
        for cd in r.iter("{%s}name" % NS["host"]):
            if cd.get("avail") in ("1", "true"):
                self.command('<create><host:create xmlns:host="%s"><host:name>%s</host:name>'
                             "</host:create></create>" % (NS["host"], escape(cd.text)), ok=(1000,))

    def set_ns(self, name, add=(), rem=()):
        objs = lambda names: "".join("<domain:hostObj>%s</domain:hostObj>" % escape(n) for n in names)
        change = "<domain:add><domain:ns>%s</domain:ns></domain:add>" % objs(add) if add else ""
        change += "<domain:rem><domain:ns>%s</domain:ns></domain:rem>" % objs(rem) if rem else ""
        if change:
            self.command('<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>%s'
                         "</domain:update></update>" % (NS["domain"], escape(name), change),
                         ok=(1000, 1001))

    def secdns_update(self, name, add=(), rem=()):
        """RFC 5910 §3.2.5 with the Key Data Interface (the registry computes the DS)."""
        ext = '<secDNS:update xmlns:secDNS="%s">' % NS["secDNS"]
        if rem:
            ext += "<secDNS:rem>%s</secDNS:rem>" % "".join(key_xml(k) for k in rem)
        if add:
            ext += "<secDNS:add>%s</secDNS:add>" % "".join(key_xml(k) for k in add)
        ext += "</secDNS:update>"
        self.command('<update><domain:update xmlns:domain="%s"><domain:name>%s</domain:name>'
                     '</domain:update></update>' % (NS["domain"], escape(name)), ext, ok=(1000, 1001))

    def transfer_request(self, name, token):
        """Returns the result code: 1000 (done, SIDN) or 1001 (pending)."""
        code, _ = self.command(
            '<transfer op="request"><domain:transfer xmlns:domain="%s"><domain:name>%s</domain:name>'
            "<domain:authInfo><domain:pw>%s</domain:pw></domain:authInfo></domain:transfer></transfer>"
            % (NS["domain"], escape(name), escape(token)), ok=(1000, 1001))
        return code

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

    def poll(self):
        """The oldest queued message as (id, text, resData element or None), or None."""
        code, r = self.command('<poll op="req"/>')
        if code != 1301:
            return None
        q = r.find("epp:response/epp:msgQ", NS)
        return q.get("id"), q.findtext("epp:msg", "", NS), r.find("epp:response/epp:resData", NS)

    def ack(self, message_id):
        self.command('<poll op="ack" msgID="%s"/>' % escape(message_id), ok=(1000,))


def key_xml(k, wrapper="secDNS:keyData"):
    """Key data (RFC 5910 §4.2); the wrapper element is keyrelay:keyData in key relay."""
    return ("<{w}><secDNS:flags>{f}</secDNS:flags><secDNS:protocol>3</secDNS:protocol>"
            "<secDNS:alg>{a}</secDNS:alg><secDNS:pubKey>{k}</secDNS:pubKey></{w}>").format(
                w=wrapper, f=k["flags"], a=k["alg"], k=k["pub_key"])


def key_from_xml(e):
    return {"flags": int(e.findtext("secDNS:flags", "", NS)), "protocol": 3,
            "alg": int(e.findtext("secDNS:alg", "", NS)),
            "pub_key": "".join(e.findtext("secDNS:pubKey", "", NS).split())}


def xs_duration(seconds):
    """An xs:duration for a number of seconds, rounded up to whole seconds: PT95S."""
    return "PT%dS" % max(0, -(-int(seconds * 1000) // 1000))


def add_xs_duration(t, text):
    """t (a datetime) + an xs:duration (RFC 8063 relative expiry): calendar months and years
    first, then days and time; None when it cannot be read."""
    m = re.fullmatch(r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                     r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text.strip())
    if not m or text.strip().rstrip("T") in ("P", "-P") or text.strip().endswith("T"):
        return None
    sign = -1 if m.group(1) else 1
    years, months, days, hours, minutes = (int(g or 0) for g in m.groups()[1:6])
    secs = float(m.group(7) or 0)
    total_months = t.month - 1 + sign * (years * 12 + months)
    year, month = t.year + total_months // 12, total_months % 12 + 1
    for day in (t.day, 30, 29, 28):
        try:
            t = t.replace(year=year, month=month, day=day)
            break
        except ValueError:
            continue
    return t + sign * timedelta(days=days, hours=hours, minutes=minutes, seconds=secs)
