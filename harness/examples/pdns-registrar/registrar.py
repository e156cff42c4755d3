"""The registrar's back office: the secure registrar change of a DNSSEC-signed domain, both
roles, run on the real clock by a scheduler thread of its own.

Its API is what a registrant's request turns into: `token(domain)` (give me my domain's
authInfo), `transfer_in(domain, token, records, checks)` (move my domain here), and `status()`
(where do my domains stand). Everything else happens on its own timers: the scheduler reads
the poll queue, runs each domain's procedure when its next step is due, retires zones that
moved away, and drops relayed keys at their expiry.

Notation (protocol-notes §5.2 of the harness): A is the losing side, B the gaining side.
TTL_DS and TTL_NSp are the TTLs of the DS and NS sets the parent (the TLD) serves; TTL_K(A),
TTL_NSc(A) the DNSKEY and NS TTLs A serves; Max(A) the largest TTL of anything A serves (SOA,
its MINIMUM field for negative answers, DNSKEY, NS, NSEC, the data the registrant cares about).
Every one of them is read over DNS when the wait starts; nothing is assumed.

The gaining side: RFC 6781 §4.3.5.1 with Double-DS and pre-published data-signing keys
(RFC 8901 §3, model 2), RFC 8063 key relay as the channel to A:

  1. Read the domain (EPP info with the token), the parent's DS and NS sets, and A's DNSKEY set
     over DNS. A's data-signing keys are those whose key tags sign A's data (a ZSK, or a CSK).
  2. Build the zone at our operator with A's algorithm (RFC 8901 §4) and import A's
     data-signing keys into our DNSKEY set.
  3. Relay our data-signing keys to A (RFC 8063), with an expiry that outlives the move:
     RELAY_PATIENCE + twice the waits of steps 4, 6, 8 and 9 with their margins (the
     registry's publication delays cannot be seen beforehand).
  4. Wait until every one of A's name servers publishes our key, then TTL_K(A) + margin.
  5. Transfer with the token; add our KSK as secDNS keyData, keeping the old DS (Double-DS).
  6. Wait until the parent serves our DS (the publication delay, observed), then TTL_DS + margin.
  7. Switch NS to our name servers, after checking that A still publishes our key and that
     the relay's expiry covers what is left.
  8. Wait until the parent delegates to us, then TTL_NSp + TTL_NSc(A) + Max(A) + margin.
  9. Remove the old DS; wait until the parent serves only ours, then TTL_DS + margin.
 10. Stop publishing A's keys.

An unsigned or insecurely delegated domain moves insecurely: sign, transfer, switch NS, wait as
in step 8, then add our DS and wait TTL_DS.

The losing side hands out the token, reads and acknowledges every poll message, publishes each
relayed key until its expiry (absolute, or relative to the relay's crDate; P0D revokes), and
once the domain was transferred away keeps serving it until the parent no longer delegates to
it and TTL_NSp + its own NS TTL + its own largest TTL + margin have passed; then it removes
the zone.

Time. The clock is the system's. The harness divides every duration of a scenario by its time
scale, so TTLs read over DNS need nothing; this registrar's own fixed durations (its patience
with the other registrar, how often it polls, its smallest margin) are written in scenario time
and divided by the same scale (`Timing`).
"""

import threading
import time
import traceback
from datetime import datetime, timezone

import dnsclient
from dnsclient import Transient, describe, same_key
from epp import EppError, EppUnavailable, NS as EPPNS, add_xs_duration, key_from_xml, xs_duration
from zones import ZoneError

# Fixed durations of this registrar, in scenario seconds (divided by the time scale).
POLL_INTERVAL = 30 * 60  # how often to read the poll queue
RELAY_PATIENCE = 24 * 3600  # how long A may take to publish our relayed key
MIN_MARGIN = 60  # the smallest safety margin added to a TTL wait
MIN_RECHECK, MAX_RECHECK = 60, 3600  # how often to look again while waiting for a change

# Wall-clock floors, not scaled: this registrar and the harness see the same change at
# instants up to the harness's sampling period apart (250 ms by default), and a re-check more
# often than this only costs CPU.
WALL_MARGIN = 0.5
WALL_RECHECK = 0.2


class GiveUp(Exception):
    """The procedure cannot go on: give the domain up (safely)."""


RETRY = (Transient, EppUnavailable)


def utc(t):
    return datetime.fromtimestamp(t, timezone.utc)


def stamp(t):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def human(seconds):
    return "%.1fs" % seconds


def parse_time(text):
    """An RFC 3339 time (any number of fraction digits) as epoch seconds."""
    text = text.strip().replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        text = head + "." + (digits + "000000")[:6] + rest[len(digits):]
    return datetime.fromisoformat(text).timestamp()


class Timing:
    """The registrar's own durations on this run's clock."""

    def __init__(self, scale):
        self.scale = max(1, int(scale))

    def scaled(self, seconds):
        return seconds / self.scale

    def margin(self, wait):
        """The safety added to a wait: a tenth, at least a (scaled) minute and WALL_MARGIN."""
        return max(wait / 10, self.scaled(MIN_MARGIN), WALL_MARGIN)

    def with_margin(self, wait):
        return wait + self.margin(wait)

    def recheck(self, *ttls):
        """How often to look again for a change: a quarter of the smallest TTL involved,
        between a minute and an hour (scaled), at least WALL_RECHECK. Seeing a change late
        only makes a wait start later."""
        positive = [t for t in ttls if t and t > 0]
        base = min(positive) / 4 if positive else self.scaled(900)
        return max(min(max(base, self.scaled(MIN_RECHECK)), self.scaled(MAX_RECHECK)), WALL_RECHECK)

    @property
    def poll_interval(self):
        return max(self.scaled(POLL_INTERVAL), WALL_RECHECK)

    @property
    def relay_patience(self):
        return self.scaled(RELAY_PATIENCE)


class Move:
    """A domain moving here, and what was observed of it (times are epoch seconds)."""

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
        self.changed_at, self.ds_delay = now, 0.0
        # TTLs observed (seconds): DS and NS at the parent; DNSKEY, child NS and the largest
        # TTL at the losing operator.
        self.ttl = {"ds": 0, "ns_parent": 0, "dnskey_losing": 0, "ns_child_losing": 0, "max_losing": 0}
        self.recheck = 1.0

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
    """The back office. `zones` is its DNS operator (zones.PowerDnsZones or HostedZones),
    `epp` its registry session, `log(message, level)` its log."""

    def __init__(self, epp, zones, parent, hosts, timing, log):
        self.epp, self.zones, self.parent = epp, zones, parent
        self.hosts = {h.rstrip(".").lower(): a for h, a in hosts.items()}
        self.clid = epp.clid
        self.timing = timing
        self.log = log
        self.moves, self.away = {}, {}
        # Relayed keys this registrar must drop itself at their expiry (an operator that has
        # no expiry of its own): (domain, key text) -> (time, key).
        self.expiries = {}
        self.processed = set()
        self.next_poll = time.time()
        self.lock = threading.Lock()
        self.wakeup = threading.Condition(self.lock)
        self.stopping = False
        self.active = False
        self.thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    # --- the API the registrant's requests turn into ---------------------------------------

    def start(self):
        self.thread.start()

    def stop(self, timeout=10):
        with self.lock:
            self.stopping = True
            self.wakeup.notify_all()
        self.thread.join(timeout)

    def token(self, domain):
        token = self.epp.domain_info(domain)["token"]
        if token is None:
            raise GiveUp("%s is not ours" % domain)
        self.log("%s: gave the registrant the token" % domain)
        return token

    def transfer_in(self, domain, token, records, checks):
        d = domain.lower().rstrip(".")
        with self.lock:
            if d in self.moves and self.moves[d].busy():
                raise GiveUp("%s is already moving here" % d)
            self.moves[d] = Move(d, token, records, checks, time.time())
            self.wakeup.notify_all()
        self.log("%s: the registrant asks to move it here" % d)

    def status(self):
        """(done, failed, busy, next due time or None)."""
        with self.lock:
            moves = list(self.moves.values())
            away = list(self.away)
            expiring = sorted({d for d, _ in self.expiries})
            due = self._next_due()
        done = [m.domain for m in moves if m.state == "done"]
        failed = [[m.domain, m.error] for m in moves if m.state == "failed"]
        # A domain that left is ours to retire; a relayed key we must drop keeps us busy too.
        busy = [m.domain for m in moves if m.busy()]
        busy += [d for d in away + expiring if d not in busy]
        return done, failed, busy, due

    # --- the scheduler ---------------------------------------------------------------------

    def _next_due(self):
        times = [self.next_poll]
        times += [m.wake for m in self.moves.values() if m.busy()]
        times += [a.wake for a in self.away.values()]
        times += [t for t, _ in self.expiries.values()]
        return min(times)

    def _run(self):
        while True:
            with self.lock:
                while not self.stopping:
                    wait = self._next_due() - time.time()
                    if wait <= 0:
                        break
                    self.wakeup.wait(min(wait, 1.0))
                if self.stopping:
                    return
                self.active = True
            try:
                self._run_due()
            except Exception:  # a bug must not stop the scheduler: say so, go on
                self.log("scheduler: %s" % traceback.format_exc(), "error")
                time.sleep(self.timing.poll_interval)
            finally:
                self.active = False

    def _run_due(self):
        if time.time() >= self.next_poll:
            try:
                self.read_poll_queue()
            except (RETRY + (EppError,)) as e:
                self.log("reading the poll queue failed: %s" % e, "warn")
            self.next_poll = time.time() + self.timing.poll_interval
        for m in list(self.moves.values()):
            while m.busy() and m.wake <= time.time() and not self.stopping:
                try:
                    if not getattr(self, "step_" + m.state)(m):
                        break
                except RETRY as e:
                    self.log("%s: %s; trying again in %s" % (m.domain, e, human(m.recheck)), "warn")
                    m.wake = time.time() + m.recheck
                except (GiveUp, EppError, ZoneError) as e:
                    self.give_up(m, str(e))
                except Exception as e:
                    self.log("%s: %s" % (m.domain, traceback.format_exc()), "error")
                    self.give_up(m, "internal error: %s" % e)
        for a in list(self.away.values()):
            if a.wake <= time.time():
                try:
                    self.check_away(a)
                except (RETRY + (GiveUp, EppError, ZoneError)) as e:
                    self.log("%s: %s; trying again later" % (a.domain, e), "warn")
                    a.wake = time.time() + self.timing.poll_interval
        for (d, text), (t, key) in list(self.expiries.items()):
            if t <= time.time():
                try:
                    self.zones.remove_foreign_key(d, key)
                    self.log("%s: the relayed key %s expired; no longer published" % (d, describe(key)))
                    with self.lock:
                        self.expiries.pop((d, text), None)
                except ZoneError as e:
                    self.log("%s: could not drop the expired key %s: %s" % (d, describe(key), e), "warn")
                    with self.lock:
                        self.expiries[(d, text)] = (time.time() + self.timing.poll_interval, key)

    # --- helpers ---------------------------------------------------------------------------

    def addrs(self, names):
        out = []
        for n in names:
            a = self.hosts.get(n.rstrip(".").lower())
            if a is None:
                self.log("no address for name server %s" % n, "warn")
            elif a not in out:
                out.append(a)
        return out

    def delegated_here(self, domain):
        ns, _ = dnsclient.delegation(self.parent, domain)
        return bool(ns & set(self.zones.ns))

    def wait(self, m, seconds, why, state):
        margin = self.timing.margin(seconds)
        m.wake, m.state = time.time() + seconds + margin, state
        self.log("%s: %s; waiting %s + %s margin" % (m.domain, why, human(seconds), human(margin)))
        return False

    def later(self, m):
        m.wake = time.time() + m.recheck
        return False

    # --- the gaining side ------------------------------------------------------------------

    def step_start(self, m):
        """Steps 1-3: learn the state, build the zone, relay our keys."""
        d = m.domain
        info = self.epp.domain_info(d, m.token)
        if info["clid"] == self.clid:
            raise GiveUp("%s is already ours" % d)
        with self.lock:
            old = self.away.get(d)
        if old is not None:
            raise GiveUp("%s: our zone of its previous stay is not retired yet" % d)
        if self.zones.hosts(d):
            if self.delegated_here(d):
                raise GiveUp("%s: the parent still delegates it to us" % d)
            self.zones.remove_zone(d)
            self.log("%s: removed a zone left from an earlier attempt" % d, "warn")
        m.losing_ns, m.old_keys = info["ns"], info["keys"]
        losing = self.addrs(m.losing_ns)
        if not losing:
            raise GiveUp("cannot reach the losing name servers %s" % m.losing_ns)
        ds, m.ttl["ds"] = dnsclient.ds_set(self.parent, d)
        _, m.ttl["ns_parent"] = dnsclient.delegation(self.parent, d)
        theirs, signing = [], set()
        for addr in losing:
            keys, ttl = dnsclient.dnskeys(addr, d)
            theirs += [k for k in keys if not any(same_key(k, x) for x in theirs)]
            m.ttl["dnskey_losing"] = max(m.ttl["dnskey_losing"], ttl)
            largest, child_ns = dnsclient.served_ttls(addr, d, m.checks)
            m.ttl["max_losing"] = max(m.ttl["max_losing"], largest)
            m.ttl["ns_child_losing"] = max(m.ttl["ns_child_losing"], child_ns)
            signing |= dnsclient.data_signing_tags(addr, d, m.checks)
        m.recheck = self.timing.recheck(*m.ttl.values())
        m.secure = bool(ds)
        self.log("%s: read over DNS: DS TTL %ds and NS TTL %ds at the parent; DNSKEY TTL %ds, NS TTL "
                 "%ds, largest TTL %ds at the losing servers" % (
                     d, m.ttl["ds"], m.ttl["ns_parent"], m.ttl["dnskey_losing"],
                     m.ttl["ns_child_losing"], m.ttl["max_losing"]))
        if m.secure and not theirs:
            raise GiveUp("the parent has a DS for %s but the losing servers publish no DNSKEY" % d)

        if not m.secure:
            # Nothing validates this domain now: sign our zone, add our DS after the move.
            self.zones.create_zone(d, m.records)
            m.ksk = self.zones.ksk(d)
            self.log("%s: not securely delegated; moving it, then adding our DS" % d)
            m.state = "transfer"
            return True

        # Step 1: the losing side's data-signing keys, by the RRSIGs over its data.
        data_keys = [k for k in theirs if (k["alg"], dnsclient.key_tag(k)) in signing]
        if not data_keys:
            data_keys = [k for k in theirs if k["flags"] == 256] or theirs
            self.log("%s: no RRSIG over the losing data matched a DNSKEY; importing by flags" % d, "warn")
        # Step 2: a common algorithm (RFC 8901 §4): ours if they sign with it, else theirs.
        algs = sorted({k["alg"] for k in data_keys})
        alg = self.zones.algorithm if self.zones.algorithm in algs else algs[0]
        if alg != self.zones.algorithm:
            self.log("%s: the losing side signs with algorithm %d; using it too (RFC 8901 §4)" % (d, alg))
        self.zones.create_zone(d, m.records, alg)
        m.ksk = self.zones.ksk(d)
        m.zsks = self.zones.zsks(d)
        for k in data_keys:
            self.zones.add_foreign_key(d, k)
        m.imported = data_keys
        self.log("%s: zone built (KSK %s, ZSK %s); imported the losing data-signing key(s) %s" % (
            d, describe(m.ksk), ", ".join(describe(k) for k in m.zsks),
            ", ".join("%s flags %d" % (describe(k), k["flags"]) for k in data_keys)))

        # Step 3: relay our data-signing keys, valid for the whole move (RFC 8063).
        lifetime = self.relay_lifetime(m)
        self.epp.key_relay(d, m.token, m.zsks, xs_duration(lifetime))
        m.relayed, m.relay_expires = True, time.time() + lifetime
        self.log("%s: relayed our key(s) %s, expiry %s (until %s)" % (
            d, ", ".join(describe(k) for k in m.zsks), xs_duration(lifetime), stamp(m.relay_expires)))
        m.state, m.since = "await_relay", time.time()
        return self.later(m)

    def relay_lifetime(self, m):
        """How long A must publish our key: until it may publish it (RELAY_PATIENCE), then
        every wait up to the end of the move (steps 4, 6, 8, 9) with its margin, doubled for
        the registry's publication delays, which cannot be seen beforehand."""
        t = m.ttl
        waits = [t["dnskey_losing"], t["ds"], t["ns_parent"] + t["ns_child_losing"] + t["max_losing"], t["ds"]]
        return self.timing.relay_patience + 2 * sum(self.timing.with_margin(w) for w in waits)

    def losing_publish_ours(self, m):
        """Whether every losing server publishes all our relayed keys; the largest DNSKEY TTL."""
        ok, ttl = True, 0
        for addr in self.addrs(m.losing_ns):
            keys, t = dnsclient.dnskeys(addr, m.domain)
            ttl = max(ttl, t)
            ok &= all(any(same_key(z, k) for k in keys) for z in m.zsks)
        return ok, ttl

    def step_await_relay(self, m):
        """Step 4: every losing server publishes our key; caches forget the set without it."""
        published, ttl = self.losing_publish_ours(m)
        if published:
            m.ttl["dnskey_losing"] = max(m.ttl["dnskey_losing"], ttl)
            return self.wait(m, m.ttl["dnskey_losing"],
                             "every losing server publishes our key (after %s); the DNSKEY TTL"
                             % human(time.time() - m.since), "transfer")
        if time.time() - m.since > self.timing.relay_patience:
            raise GiveUp("the losing side did not publish our relayed key within %s"
                         % human(self.timing.relay_patience))
        return self.later(m)

    def step_transfer(self, m):
        """Step 5: the transfer (SIDN: immediate; a pending transfer is waited for)."""
        if self.epp.transfer_request(m.domain, m.token) == 1001:
            self.log("%s: transfer pending" % m.domain)
            m.state = "await_transfer"
            return self.later(m)
        return self.transferred(m)

    def step_await_transfer(self, m):
        if self.epp.domain_info(m.domain)["clid"] == self.clid:
            return self.transferred(m)
        return self.later(m)

    def transferred(self, m):
        m.transferred = True
        self.log("%s: transferred to us" % m.domain)
        m.state = "add_ds" if m.secure else "switch_ns"
        return True

    def step_add_ds(self, m):
        """Step 5, continued: our KSK as key data, keeping the old DS (Double-DS)."""
        self.epp.secdns_update(m.domain, add=[m.ksk])
        m.ds_added, m.changed_at = True, time.time()
        self.log("%s: added our KSK %s as key data%s" % (
            m.domain, describe(m.ksk), ", keeping the old DS" if m.secure else ""))
        m.state = "await_ds"
        return self.later(m)

    def step_await_ds(self, m):
        """Step 6: the parent serves our DS; caches forget the DS set without it."""
        ds, ttl = dnsclient.ds_set(self.parent, m.domain)
        if not any(dnsclient.ds_matches(m.domain, m.ksk, r) for r in ds):
            return self.later(m)
        m.ds_delay = time.time() - m.changed_at
        m.ttl["ds"] = max(m.ttl["ds"], ttl)
        return self.wait(m, m.ttl["ds"], "the parent serves our DS (seen %s after the update); the DS TTL"
                         % human(m.ds_delay), "switch_ns" if m.secure else "finish")

    def step_switch_ns(self, m):
        """Step 7: switch the delegation to our name servers."""
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
            rest = 2 * m.ds_delay + m.recheck + self.timing.with_margin(
                t["ns_parent"] + t["ns_child_losing"] + t["max_losing"])
            if m.relay_expires < time.time() + rest:
                raise GiveUp("the relayed key expires at %s, before the move could be over; not "
                             "switching NS" % stamp(m.relay_expires))
        mine = self.zones.ns
        self.epp.ensure_hosts(mine)
        self.epp.set_ns(d, add=[n for n in mine if n not in m.losing_ns],
                        rem=[n for n in m.losing_ns if n not in mine])
        m.changed_at = time.time()
        self.log("%s: switched NS to %s" % (d, ", ".join(mine)))
        m.state = "await_ns"
        return self.later(m)

    def step_await_ns(self, m):
        """Step 8: the parent delegates to us; caches forget the old delegation and A's data."""
        ns, ttl = dnsclient.delegation(self.parent, m.domain)
        if ns != set(self.zones.ns):
            return self.later(m)
        t = m.ttl
        t["ns_parent"] = max(t["ns_parent"], ttl)
        for addr in self.addrs(m.losing_ns):
            try:  # the losing servers still answer (they serve until caches forgot them)
                largest, child_ns = dnsclient.served_ttls(addr, m.domain, m.checks)
                t["max_losing"] = max(t["max_losing"], largest)
                t["ns_child_losing"] = max(t["ns_child_losing"], child_ns)
            except Transient as e:
                self.log("%s: %s; using the TTLs seen before" % (m.domain, e), "warn")
        wait = t["ns_parent"] + t["ns_child_losing"] + t["max_losing"]
        return self.wait(m, wait,
                         "the parent delegates to us (seen %s after the update); parent NS TTL %ds + "
                         "losing NS TTL %ds + largest losing TTL %ds" % (
                             human(time.time() - m.changed_at), t["ns_parent"],
                             t["ns_child_losing"], t["max_losing"]),
                         "remove_old_ds" if m.secure else "add_ds")

    def step_remove_old_ds(self, m):
        """Step 9: remove the old DS."""
        old = [k for k in m.old_keys if not same_key(k, m.ksk)]
        if old:
            self.epp.secdns_update(m.domain, rem=old)
        self.log("%s: removed the old DS" % m.domain)
        m.state = "await_old_ds_gone"
        return self.later(m)

    def step_await_old_ds_gone(self, m):
        ds, ttl = dnsclient.ds_set(self.parent, m.domain)
        if not ds or not all(dnsclient.ds_matches(m.domain, m.ksk, r) for r in ds):
            return self.later(m)
        m.ttl["ds"] = max(m.ttl["ds"], ttl)
        return self.wait(m, m.ttl["ds"], "the parent serves only our DS; the DS TTL", "remove_imported")

    def step_remove_imported(self, m):
        """Step 10: stop publishing the losing side's keys."""
        for k in m.imported:
            self.zones.remove_foreign_key(m.domain, k)
        self.log("%s: done; the losing side's keys are no longer published" % m.domain)
        m.state = "done"
        return False

    def step_finish(self, m):
        self.log("%s: done" % m.domain)
        m.state = "done"
        return False

    def give_up(self, m, why):
        """Stops safely: revoke the relay while the domain is still theirs; unless the domain
        is (or is about to be) delegated to us, withdraw our DS and remove our zone, so no
        half-built zone with the other side's keys is left behind."""
        self.log("%s: giving up: %s" % (m.domain, why), "error")
        m.state, m.error = "failed", why
        if m.relayed and not m.transferred:
            try:  # RFC 8063 §2.1.1: a zero relative expiry revokes the key relay
                self.epp.key_relay(m.domain, m.token, m.zsks, "P0D")
                self.log("%s: revoked our key relay" % m.domain)
            except (EppError,) + RETRY as e:
                self.log("%s: could not revoke our key relay: %s" % (m.domain, e), "warn")
        try:
            # The registry's NS set, not only the parent's: an NS change may be on its way.
            ours = set(self.zones.ns)
            keep = m.transferred and bool(set(self.epp.domain_info(m.domain)["ns"]) & ours)
            keep = keep or self.delegated_here(m.domain)
        except (EppError,) + RETRY as e:
            self.log("%s: cannot tell where it is delegated (%s); keeping our zone" % (m.domain, e), "warn")
            return
        if keep:
            self.log("%s: the domain is delegated to us; keeping our zone" % m.domain, "warn")
            return
        try:
            if m.ds_added:
                # Our DS would point at a zone nobody serves; the old DS keeps it secure.
                self.epp.secdns_update(m.domain, rem=[m.ksk])
                self.log("%s: withdrew our DS" % m.domain)
            if self.zones.hosts(m.domain):
                self.zones.remove_zone(m.domain)
                self.log("%s: removed our zone (the move did not happen)" % m.domain)
        except (ZoneError, EppError) + RETRY as e:
            self.log("%s: could not clean up: %s" % (m.domain, e), "warn")

    # --- the losing side -------------------------------------------------------------------

    def read_poll_queue(self):
        """Reads every queued message, acts on it, acknowledges it (RFC 5730 §2.9.2.3)."""
        for _ in range(1000):
            msg = self.epp.poll()
            if msg is None:
                return
            mid, text, res = msg
            if mid not in self.processed:
                try:
                    self.handle_message(text, res)
                except (GiveUp, ZoneError, EppError) + RETRY as e:
                    # Acknowledged anyway: a message that cannot be acted on would block the
                    # queue for every later one.
                    self.log("poll message %s: %s" % (mid, e), "error")
                self.processed.add(mid)
            self.epp.ack(mid)

    def handle_message(self, text, res):
        relay = res.find("keyrelay:infData", EPPNS) if res is not None else None
        transfer = next(res.iter("{%s}trnData" % EPPNS["domain"]), None) if res is not None else None
        if relay is not None:
            self.publish_relayed(relay)
        elif transfer is not None:
            name = transfer.findtext("domain:name", "", EPPNS).lower()
            gaining = transfer.findtext("domain:reID", "", EPPNS)
            losing = transfer.findtext("domain:acID", "", EPPNS)
            if losing == self.clid and gaining != self.clid:
                self.log("%s: transferred away to %s; serving it until the delegation moved" % (name, gaining))
                if self.zones.hosts(name):
                    with self.lock:
                        self.away[name] = Away(name, time.time())
            else:
                self.log("poll: %s" % text)
        else:
            self.log("poll: %s" % text)

    def publish_relayed(self, relay):
        """RFC 8063 §2.1.1 at the registrar of record: publish, update or revoke relayed keys."""
        name = relay.findtext("keyrelay:name", "", EPPNS).lower()
        sender = relay.findtext("keyrelay:reID", "?", EPPNS)
        created = relay.findtext("keyrelay:crDate", None, EPPNS)
        created = utc(parse_time(created)) if created else utc(time.time())
        if not self.zones.hosts(name):
            self.log("%s: key relayed by %s for a zone we do not host; ignored" % (name, sender), "warn")
            return
        try:
            own_algs = {k["alg"] for k in dnsclient.dnskeys(self.zones.addrs[0], name)[0]}
        except (Transient, IndexError):
            own_algs = set()
        for data in relay.findall("keyrelay:keyRelayData", EPPNS):
            key = key_from_xml(data.find("keyrelay:keyData", EPPNS))
            absolute = data.findtext("keyrelay:expiry/keyrelay:absolute", None, EPPNS)
            relative = data.findtext("keyrelay:expiry/keyrelay:relative", None, EPPNS)
            expires = (utc(parse_time(absolute)) if absolute
                       else add_xs_duration(created, relative) if relative else None)
            desc = "key %s relayed by %s" % (describe(key), sender)
            slot = (name, dnsclient.key_text(key))
            if relative and expires is None:
                self.log("%s: %s has an unreadable expiry %r; ignored" % (name, desc, relative), "warn")
            elif expires is not None and expires.timestamp() <= time.time():
                self.zones.remove_foreign_key(name, key)
                with self.lock:
                    self.expiries.pop(slot, None)
                self.log("%s: %s revoked (expiry %s)" % (name, desc, absolute or relative))
            elif own_algs and key["alg"] not in own_algs:
                self.log("%s: %s is of an algorithm our zone does not sign with; not publishing it "
                         "(RFC 4035 §2.2, RFC 8901 §4)" % (name, desc), "warn")
            else:
                self.zones.add_foreign_key(name, key, expires)
                if expires is not None and not self.zones.own_expiry:
                    with self.lock:
                        self.expiries[slot] = (expires.timestamp(), key)
                self.log("%s: publishing %s until %s" % (
                    name, desc, stamp(expires.timestamp()) if expires else "the zone is retired"))

    def check_away(self, a):
        """Retires the zone of a domain that left once no resolver can reach or hold it."""
        d = a.domain
        ns, ttl = dnsclient.delegation(self.parent, d)
        a.ns_ttl = max(a.ns_ttl, ttl)
        if ns & set(self.zones.ns):
            a.wake = time.time() + self.timing.recheck(a.ns_ttl)
            return
        if a.retire_at is None:
            largest, child_ns = 0, 0
            for addr in self.zones.addrs:
                l, c = dnsclient.served_ttls(addr, d)
                largest, child_ns = max(largest, l), max(child_ns, c)
            wait = a.ns_ttl + child_ns + largest
            a.retire_at = a.wake = time.time() + self.timing.with_margin(wait)
            self.log("%s: the parent no longer delegates to us; retiring the zone after parent NS TTL "
                     "%ds + our NS TTL %ds + our largest TTL %ds + margin, at %s" % (
                         d, a.ns_ttl, child_ns, largest, stamp(a.retire_at)))
            return
        if time.time() >= a.retire_at:
            self.zones.remove_zone(d)
            self.log("%s: retired the zone (and the relayed keys in it)" % d)
            with self.lock:
                del self.away[d]
                for slot in [s for s in self.expiries if s[0] == d]:
                    del self.expiries[slot]
