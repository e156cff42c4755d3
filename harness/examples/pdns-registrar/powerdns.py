"""The registrar's own DNS operator: PowerDNS Authoritative 4.7 (Debian `pdns-server` and
`pdns-backend-sqlite3`) with the gsqlite3 back end and online DNSSEC signing, driven through
its HTTP API, the way a registrar's provisioning system drives it.

`PowerDnsServer` runs one `pdns_server` in the foreground, in a temporary directory of its own,
on free loopback ports (DNS and the webserver with the API, which takes an API key), and stops
it by its process id. `PowerDnsZones` keeps the registrar's zones in it.

What PowerDNS 4.7 does that the registrar has to know (seen on this version; see also
docs/real-servers.md in the harness's repository):

- `direct-dnskey=yes`: DNSKEY records stored in a zone are served *with* the keys of the zone's
  own cryptokeys, and the whole DNSKEY RRset is signed by its KSK. That is how another
  operator's key is published (RFC 8901 model 2, RFC 8063 key relay).
- The DNSKEY RRset is served with the SOA MINIMUM as its TTL, whatever TTL the stored DNSKEY
  records have. Negative answers get min(SOA TTL, SOA MINIMUM) (RFC 9077). So the zone's SOA
  MINIMUM is its DNSKEY TTL, and the SOA TTL bounds its negative answers.
- It signs every answer when asked: a change through the API is served when the call
  returns, provided its caches are off (they are in the configuration below).
- Nothing changes on its own: no re-signing ahead of time (signature windows are fixed weekly),
  no serial bumps apart from API changes (`soa_edit_api: INCREASE`).
"""

import ctypes
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import dnsclient

SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"

ALGORITHMS = {8: "RSASHA256", 13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519",
              16: "ED448"}


class PowerDnsError(Exception):
    """PowerDNS is missing, did not start, or refused an API call."""


class Missing(PowerDnsError):
    """PowerDNS is not installed here (a configuration error, not a transient one)."""


def find_pdns_server(explicit=None):
    """The `pdns_server` program: `explicit` if given, else on PATH or in /usr/sbin (where
    Debian installs it, often not on a user's PATH). Raises Missing naming the packages."""
    hint = "install the Debian packages pdns-server and pdns-backend-sqlite3"
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise Missing("pdns_server not found at %s: %s" % (explicit, hint))
    found = shutil.which("pdns_server") or shutil.which("pdns_server", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise Missing("pdns_server not found on PATH nor in /usr/sbin: %s" % hint)
    if not os.path.isfile(SCHEMA):
        raise Missing("%s not found: install the Debian package pdns-backend-sqlite3" % SCHEMA)
    return found


def free_port():
    """A loopback port free for both UDP and TCP right now (another process may still take
    it before the server binds it: the start is retried then)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise PowerDnsError("no free loopback port found")


def _die_with_parent():
    """In the child before exec: SIGTERM when the registrar dies, even by SIGKILL (Linux
    prctl PR_SET_PDEATHSIG), so no server outlives it. Best effort elsewhere."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


PREFIX = "pdns-registrar-"


def sweep_stale_dirs(older_than=3600):
    """Removes directories earlier runs left behind: killed outright (SIGKILL), a run cannot
    remove its own. A directory is stale when the pdns_server its pid file names no longer
    runs, or, without a pid file (a start that failed early), when it is older than
    `older_than` seconds. Only this user's directories with our prefix are considered; a
    running server's directory is never touched. Returns how many were removed."""
    removed = 0
    base = tempfile.gettempdir()
    try:
        entries = os.listdir(base)
    except OSError:
        return 0
    for entry in entries:
        path = os.path.join(base, entry)
        if not entry.startswith(PREFIX):
            continue
        try:
            st = os.lstat(path)
            if not os.path.isdir(path) or os.path.islink(path) or st.st_uid != os.getuid():
                continue
            try:
                with open(os.path.join(path, "pdns.pid")) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                pid = None
            if pid is not None:
                try:
                    os.kill(pid, 0)  # only asks whether it exists; sends nothing
                    continue
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue  # someone else's process with that pid: leave it
            elif time.time() - st.st_mtime < older_than:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


class PowerDnsServer:
    """One running pdns_server; `stop()` ends it by its pid and removes its directory."""

    def __init__(self, program, start_timeout=20.0):
        self.program = program
        self.start_timeout = start_timeout
        self.proc = None
        self.dir = None
        self.dns_port = self.web_port = None
        self.api_key = secrets.token_hex(16)

    @property
    def dns_addr(self):
        return "127.0.0.1:%d" % self.dns_port

    def start(self):
        last = None
        for _ in range(3):  # a port taken between choosing and binding: again, fresh ports
            try:
                self._start_once()
                return
            except PowerDnsError as e:
                last = e
                self.stop()
                if "bind" not in str(e).lower() and "address already in use" not in str(e).lower():
                    break
        raise last

    def _start_once(self):
        self.dir = tempfile.mkdtemp(prefix=PREFIX)
        self.dns_port, self.web_port = free_port(), free_port()
        while self.web_port == self.dns_port:
            self.web_port = free_port()
        probe = "probe-%s.invalid" % secrets.token_hex(6)
        db = os.path.join(self.dir, "pdns.sqlite3")
        with open(SCHEMA) as f:
            schema = f.read()
        conn = sqlite3.connect(db)
        try:
            conn.executescript(schema)
            # A zone only this server has: "it answers for it" means it is up, and ours.
            conn.execute("INSERT INTO domains (name, type) VALUES (?, 'NATIVE')", (probe,))
            conn.execute(
                "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) "
                "SELECT id, ?, 'SOA', ?, 60, 0, 0, 1 FROM domains WHERE name = ?",
                (probe, "localhost. hostmaster.%s. 1 3600 900 1209600 60" % probe, probe))
            conn.commit()
        finally:
            conn.close()
        conf = "\n".join([
            "launch=gsqlite3",
            "gsqlite3-database=%s" % db,
            "gsqlite3-dnssec=yes",
            "gsqlite3-pragma-synchronous=0",
            "local-address=127.0.0.1",
            "local-port=%d" % self.dns_port,
            "socket-dir=%s" % self.dir,
            # Foreign DNSKEYs stored in a zone are published with its own keys.
            "direct-dnskey=yes",
            "api=yes",
            "api-key=%s" % self.api_key,
            "webserver=yes",
            "webserver-address=127.0.0.1",
            "webserver-port=%d" % self.web_port,
            "webserver-allow-from=127.0.0.0/8",
            "daemon=no",
            "guardian=no",
            "setuid=",
            "setgid=",
            "disable-syslog=yes",
            "security-poll-suffix=",
            # No caches: a change through the API is served at once (the registrar's waits
            # start when it sees a change over DNS, and so do the harness's observations).
            "cache-ttl=0",
            "query-cache-ttl=0",
            "negquery-cache-ttl=0",
            "dnssec-key-cache-ttl=0",
            "zone-metadata-cache-ttl=0",
            "receiver-threads=1",
            "distributor-threads=1",
            "signing-threads=1",
            "",
        ])
        with open(os.path.join(self.dir, "pdns.conf"), "w") as f:
            f.write(conf)
        log = open(os.path.join(self.dir, "pdns.log"), "wb")
        try:
            self.proc = subprocess.Popen(
                [self.program, "--config-dir=%s" % self.dir], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        except OSError as e:
            raise PowerDnsError("cannot start %s: %s" % (self.program, e))
        finally:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise PowerDnsError("pdns_server exited (%s) at start; its log ends with:\n%s"
                                    % (self.proc.returncode, self.log_tail()))
            try:
                rcode, rrs = dnsclient.query(self.dns_addr, probe, dnsclient.SOA, timeout=0.3)
                if rcode == dnsclient.NOERROR and any(r.rtype == dnsclient.SOA for r in rrs):
                    self.api("GET", "")
                    return
            except (dnsclient.Transient, PowerDnsError, OSError):
                pass
            if time.monotonic() > deadline:
                raise PowerDnsError("pdns_server did not answer within %ds; its log ends with:\n%s"
                                    % (self.start_timeout, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, lines=15):
        try:
            with open(os.path.join(self.dir, "pdns.log"), "rb") as f:
                tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
                return "\n".join(tail) if tail else "(empty)"
        except (OSError, TypeError):
            return "(no log)"

    def stop(self):
        """Stops the server by its pid (SIGTERM, then SIGKILL) and removes its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def api(self, method, path, body=None):
        """One call below /api/v1/servers/localhost; the JSON answer (None when empty).
        A status outside 2xx is a PowerDnsError with PowerDNS's own error text."""
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=15)
        try:
            headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, "/api/v1/servers/localhost" + path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except OSError as e:
            raise PowerDnsError("PowerDNS API %s %s: %s" % (method, path, e))
        finally:
            conn.close()
        if not 200 <= resp.status < 300:
            raise PowerDnsError("PowerDNS API %s %s: HTTP %d %s" % (method, path, resp.status, text.strip()))
        return json.loads(text) if text.strip() else None
