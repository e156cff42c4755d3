#!/usr/bin/env python3
"""The adapter between the harness (harness/ADAPTER.md, protocol version 1, on the wall clock)
and a registrar's production stack: this example's back office (registrar.py), its EPP client
(epp.py) and its own DNS operator, a PowerDNS Authoritative it starts itself (powerdns.py).

    harness certify --clock wall --subject "python3 harness/examples/pdns-registrar/adapter.py"

What it does with each message:

- `hello`: configuration. EPP host, port, CA, client certificate and key, clID and password go
  to the EPP client. Unless the registrar sponsors domains when the scenario starts (their
  zones are on the harness's hosted operator, so it must keep using that one), it starts its
  PowerDNS on free loopback ports and answers `ready` with its own name servers
  (`"dns": {"own": {"servers": {...}}}`). It refuses the virtual clock: a real signer signs
  for the real time.
- `request_token` and `transfer_in` become calls on the back office's API (`token`,
  `transfer_in`); the back office does the rest on its own timers, in its scheduler thread.
- `tick` only collects the status. With the hosted operator, the back office's `operator`
  requests are sent here, while answering a harness message, as the protocol requires.
- `shutdown`, the end of stdin, SIGTERM, SIGINT or SIGHUP: the scheduler stops, PowerDNS is
  stopped by its pid and its directory removed. PowerDNS also gets SIGTERM if this process is
  killed outright (PR_SET_PDEATHSIG).

Stdout carries the protocol only; diagnostics go to stderr and to `log` messages.

Options: --pdns-server PATH (default: pdns_server on PATH or in /usr/sbin); --keys ksk-zsk|csk
(how its PowerDNS signs its zones: a KSK and a ZSK, the default, or one combined key).
"""

import argparse
import json
import os
import queue
import signal
import sys
import threading
import time

# Its modules sit next to it; no __pycache__ is written into the checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import epp  # noqa: E402
import powerdns  # noqa: E402
from registrar import GiveUp, Registrar, Timing, stamp  # noqa: E402
from zones import HostedZones, PowerDnsZones, ZoneError  # noqa: E402

PROTOCOL = 1


class Channel:
    """Stdin/stdout of the adapter protocol. Only the main thread reads and writes the
    protocol; the scheduler hands it log lines and operator requests through queues."""

    def __init__(self):
        self.logs = queue.Queue()
        self.requests = queue.Queue()
        self.next_op = 0
        self.closed = False

    @staticmethod
    def send(msg):
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()

    @staticmethod
    def receive():
        while True:
            line = sys.stdin.readline()
            if not line:
                return None
            if line.strip():
                return json.loads(line)

    def log(self, message, level="info"):
        """Any thread: to stderr at once, to the harness with the next answer."""
        print("[%s %s] %s" % (stamp(time.time()), level, message), file=sys.stderr, flush=True)
        self.logs.put((level, message))

    def flush_logs(self):
        while True:
            try:
                level, message = self.logs.get_nowait()
            except queue.Empty:
                return
            self.send({"type": "log", "level": level, "message": message})

    def operator(self, op, **args):
        """The scheduler thread: one hosted-operator request, sent by the main thread with its
        next answer (a tick comes at least every second); blocks until the result."""
        if self.closed:
            raise ZoneError("shutting down")
        slot = {"done": threading.Event(), "answer": None}
        self.requests.put((op, args, slot))
        if not slot["done"].wait(60) or slot["answer"] is None:
            raise ZoneError("operator %s: no result (the harness did not ask anything for 60 s, "
                            "or the registrar is shutting down)" % op)
        return slot["answer"]

    def pump(self, busy, budget=0.5):
        """The main thread, before answering: sends the queued operator requests and hands
        back their results, while the scheduler is running a step (for at most `budget`
        seconds, so the harness's sampling is never held up for long)."""
        deadline = time.monotonic() + budget
        while True:
            self.flush_logs()
            try:
                op, args, slot = self.requests.get(timeout=0.01 if busy() else 0)
            except queue.Empty:
                if not busy() or time.monotonic() > deadline:
                    self.flush_logs()
                    return
                continue
            self.next_op += 1
            rid = "op-%d" % self.next_op
            self.send(dict(type="operator", id=rid, op=op, **args))
            answer = self.receive()
            if answer is None or answer.get("type") != "operator_result" or answer.get("id") != rid:
                slot["done"].set()
                raise RuntimeError("expected the result of %s, got %r" % (rid, answer))
            slot["answer"] = answer
            slot["done"].set()

    def close(self):
        """Releases a scheduler waiting for an operator result."""
        self.closed = True
        while True:
            try:
                _, _, slot = self.requests.get_nowait()
            except queue.Empty:
                return
            slot["done"].set()


class Stop(Exception):
    """A signal asked the adapter to stop."""


def own_names(clid, hosts):
    """Host names for our own name servers, outside the TLD (no glue needed) and unique."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in clid.lower()).strip("-") or "registrar"
    names = ["ns1.%s.pdns-registrar.example" % label, "ns2.%s.pdns-registrar.example" % label]
    taken = [n for n in names if n in {h.rstrip(".").lower() for h in hosts}]
    if taken:
        raise RuntimeError("our name server names %s are already taken in this world" % taken)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdns-server", help="the pdns_server program (default: PATH, /usr/sbin)")
    parser.add_argument("--keys", choices=("ksk-zsk", "csk"), default="ksk-zsk",
                        help="how our PowerDNS signs our zones: a KSK and a ZSK (default), or one "
                             "combined signing key")
    args = parser.parse_args()

    def stop_on_signal(signum, _frame):
        raise Stop("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop_on_signal)

    channel = Channel()
    server = registrar = session = None
    try:
        hello = channel.receive()
        if hello is None or hello.get("type") != "hello":
            print("expected hello, got %r" % (hello,), file=sys.stderr)
            return 2
        hid = hello["id"]
        if hello.get("protocol") != PROTOCOL:
            channel.send({"type": "error", "id": hid, "message": "I speak protocol %d" % PROTOCOL})
            return 2
        clock = hello.get("clock") or {"mode": "virtual", "time_scale": 1}
        if clock.get("mode") != "wall":
            channel.send({"type": "error", "id": hid, "message":
                          "this registrar runs on the real clock (its PowerDNS signs for the real "
                          "time): run the harness with --clock wall"})
            return 2
        timing = Timing(clock.get("time_scale", 1))
        ttls = clock["ttls"]
        hosts = dict(hello["dns"]["hosts"])
        own = not hello.get("domains")
        try:
            if own:
                names = own_names(hello["epp"]["clid"], hosts)
                program = powerdns.find_pdns_server(args.pdns_server)
                stale = powerdns.sweep_stale_dirs()
                if stale:
                    channel.log("removed %d directory(ies) of PowerDNS servers that earlier runs "
                                "left behind" % stale, "warn")
                server = powerdns.PowerDnsServer(program)
                server.start()
                channel.log("PowerDNS (pid %d, directory %s) answers at %s, its API at "
                            "127.0.0.1:%d" % (server.proc.pid, server.dir, server.dns_addr,
                                              server.web_port))
                zones = PowerDnsZones(server, names, hello["operator"]["algorithm"], args.keys, {
                    # Our zones' TTLs: the world's, as scaled (PowerDNS serves the DNSKEY set
                    # with the SOA MINIMUM, negative answers with min(SOA TTL, MINIMUM)).
                    "dnskey": ttls["dnskey"], "ns": ttls["ns"], "data": ttls["data"],
                    "negative": min(ttls["negative"], ttls["dnskey"])})
                for n in names:
                    hosts[n] = server.dns_addr
            else:
                zones = HostedZones(channel.operator, hello["operator"]["ns"],
                                    hello["operator"]["algorithm"], hosts)
            e = hello["epp"]
            host, port = e["address"].rsplit(":", 1)
            session = epp.Session(host, port, e["ca_file"], e["cert_file"], e["key_file"],
                                  e["clid"], e["password"])
        except (powerdns.PowerDnsError, epp.EppError, epp.EppConfigError, epp.EppUnavailable,
                OSError, RuntimeError) as err:
            channel.flush_logs()
            channel.send({"type": "error", "id": hid, "message": "cannot start: %s" % err})
            return 2
        registrar = Registrar(session, zones, hello["dns"]["parent"], hosts, timing, channel.log)
        registrar.start()
        channel.flush_logs()
        dns = {"own": {"servers": {n: server.dns_addr for n in zones.ns}}} if own else "hosted"
        channel.send({"type": "ready", "id": hid, "dns": dns, "next_wake": None})

        while True:
            msg = channel.receive()
            if msg is None:
                return 0
            kind, mid = msg.get("type"), msg.get("id")
            channel.pump(lambda: registrar.active)
            try:
                if kind == "tick":
                    done, failed, busy, due = registrar.status()
                    now = time.time()
                    # Ask to be ticked when the scheduler's next step is due (just after it, so
                    # an operator request it makes can go with that tick), or when a request
                    # waits; otherwise the harness's status rate (every second) is enough.
                    wake = None
                    if not channel.requests.empty():
                        wake = now + 0.05
                    elif due is not None and now < due < now + 1:
                        wake = due + 0.05
                    channel.send({"type": "status", "id": mid,
                                  "next_wake": stamp(wake) if wake else None,
                                  "done": done, "failed": failed, "busy": busy})
                elif kind == "transfer_in":
                    registrar.transfer_in(msg["domain"], msg["token"], msg["records"], msg.get("checks"))
                    channel.flush_logs()
                    channel.send({"type": "accepted", "id": mid})
                elif kind == "request_token":
                    token = registrar.token(msg["domain"])
                    channel.flush_logs()
                    channel.send({"type": "token", "id": mid, "token": token})
                elif kind == "shutdown":
                    channel.close()
                    registrar.stop()
                    registrar = None
                    if server is not None:
                        server.stop()
                        server = None
                    channel.flush_logs()
                    channel.send({"type": "bye", "id": mid})
                    return 0
                else:
                    channel.send({"type": "error", "id": mid, "message": "unknown message type %r" % kind})
            except (GiveUp, epp.EppError, epp.EppUnavailable, ZoneError) as err:
                channel.flush_logs()
                channel.send({"type": "error", "id": mid, "message": str(err)})
    except Stop as s:
        print("stopping: %s" % s, file=sys.stderr)
        return 1
    finally:
        channel.close()
        if registrar is not None:
            registrar.stop(timeout=5)
        if server is not None:
            server.stop()
        if session is not None:
            session.close()


if __name__ == "__main__":
    sys.exit(main())
