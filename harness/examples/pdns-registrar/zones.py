"""Where the registrar keeps its zones: one interface, two DNS operators.

- `PowerDnsZones`: its own PowerDNS, through the HTTP API. Every change is checked over DNS
  before the call returns, so what the registrar does next starts from what is served.
- `HostedZones`: the DNS operator the harness hosts, through the adapter protocol's `operator`
  requests. A registrar uses it for the domains it sponsors when a scenario starts (their zones
  are already there, signed, with a DS at the parent).

Keys are dicts with the secDNS keyData fields: flags, protocol, alg, pub_key (base64).
"""

import time
from datetime import timezone

import dnsclient
from powerdns import ALGORITHMS, PowerDnsError


class ZoneError(Exception):
    """The operator refused or failed a change."""


def absolute(name, domain):
    domain = domain.rstrip(".").lower()
    if name == "@":
        return domain + "."
    if name.endswith("."):
        return name.lower()
    return "%s.%s." % (name.lower(), domain)


# Which field of the data is a domain name, by type (relative names are made absolute).
NAME_FIELD = {"CNAME": 0, "NS": 0, "PTR": 0, "DNAME": 0, "MX": 1, "SRV": 3}


def parse_records(domain, lines, default_ttl):
    """The registrant's relative presentation lines ("www 300 A 192.0.2.10", "@ MX 10 mail")
    as PowerDNS rrsets: {(owner, type): (ttl, [content])}, every name absolute."""
    sets = {}
    for line in lines:
        tokens = line.split()
        if len(tokens) < 3:
            raise ZoneError("record %r: expected OWNER [TTL] [IN] TYPE DATA" % line)
        owner = absolute(tokens.pop(0), domain)
        ttl = default_ttl
        if tokens[0].isdigit():
            ttl = int(tokens.pop(0))
        if tokens and tokens[0].upper() == "IN":
            tokens.pop(0)
        if len(tokens) < 2:
            raise ZoneError("record %r: no type or no data" % line)
        rtype = tokens.pop(0).upper()
        if rtype in ("SOA", "DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "DS") or (
                rtype == "NS" and owner == absolute("@", domain)):
            raise ZoneError("record %r: the operator's own record, not the registrant's" % line)
        field = NAME_FIELD.get(rtype)
        if field is not None:
            if field >= len(tokens):
                raise ZoneError("record %r: %s needs a name in field %d" % (line, rtype, field + 1))
            tokens[field] = absolute(tokens[field], domain)
        key = (owner, rtype)
        prev_ttl, contents = sets.get(key, (ttl, []))
        contents.append(" ".join(tokens))
        sets[key] = (min(prev_ttl, ttl), contents)
    return sets


class PowerDnsZones:
    """The registrar's zones in its own PowerDNS (see powerdns.py for what PowerDNS does).

    `keys` is how it signs them: "ksk-zsk" or "csk" (one key, flags 257, signs everything).
    `ttls` sizes the zones: `dnskey` becomes the SOA MINIMUM (PowerDNS serves the DNSKEY set
    with it), `negative` the SOA TTL (negative answers get min(SOA TTL, MINIMUM)), `ns` the apex
    NS TTL and `data` the registrant's records without a TTL of their own."""

    own_expiry = False  # PowerDNS keeps a stored DNSKEY until it is removed

    def __init__(self, server, ns, algorithm, keys, ttls, change_timeout=10.0):
        self.server = server
        self.ns = [n.rstrip(".").lower() for n in ns]
        self.algorithm = algorithm
        if keys not in ("ksk-zsk", "csk"):
            raise ValueError("keys: ksk-zsk or csk, not %r" % keys)
        self.keys = keys
        self.ttls = ttls
        self.change_timeout = change_timeout

    @property
    def addrs(self):
        return [self.server.dns_addr]

    def _zone(self, domain):
        return "/zones/%s." % domain.rstrip(".").lower()

    def _wait(self, domain, what, done):
        """Polls the server over DNS until `done(rcode, records of DNSKEY)` holds."""
        deadline = time.monotonic() + self.change_timeout
        while True:
            try:
                rcode, rrs = dnsclient.query(self.server.dns_addr, domain, dnsclient.DNSKEY, timeout=1)
                if done(rcode, rrs):
                    return
            except dnsclient.Transient:
                pass
            if time.monotonic() > deadline:
                raise ZoneError("%s: PowerDNS did not serve %s within %.0fs; its log ends with:\n%s"
                                % (domain, what, self.change_timeout, self.server.log_tail()))
            time.sleep(0.02)

    def _serves_keys(self, domain, keys):
        want = {dnsclient.key_text(k) for k in keys}

        def done(rcode, rrs):
            got = {dnsclient.key_text(dnsclient.key_of_rdata(r.rdata))
                   for r in rrs if r.section == "answer" and r.rtype == dnsclient.DNSKEY}
            signed = any(r.rtype == dnsclient.RRSIG for r in rrs if r.section == "answer")
            return rcode == dnsclient.NOERROR and got == want and signed
        self._wait(domain, "the DNSKEY set %s" % ", ".join(dnsclient.describe(k) for k in keys), done)

    def _api(self, method, path, body=None):
        try:
            return self.server.api(method, path, body)
        except PowerDnsError as e:
            raise ZoneError(str(e))

    def hosts(self, domain):
        try:
            self.server.api("GET", self._zone(domain))
            return True
        except PowerDnsError as e:
            if "HTTP 404" in str(e) or "HTTP 422" in str(e):
                return False
            raise ZoneError(str(e))

    def create_zone(self, domain, records, algorithm=None):
        """A signed zone (KSK + ZSK of `algorithm`, or one CSK; NSEC) with the registrant's
        records."""
        alg = algorithm or self.algorithm
        if alg not in ALGORITHMS:
            raise ZoneError("PowerDNS here signs with %s, not algorithm %d"
                            % (", ".join(map(str, sorted(ALGORITHMS))), alg))
        apex = absolute("@", domain)
        t = self.ttls
        rrsets = [
            {"name": apex, "type": "SOA", "ttl": t["negative"], "records": [{
                "content": "%s. hostmaster.%s 1 3600 900 1209600 %d" % (self.ns[0], apex, t["dnskey"]),
                "disabled": False}]},
            {"name": apex, "type": "NS", "ttl": t["ns"],
             "records": [{"content": n + ".", "disabled": False} for n in self.ns]},
        ]
        for (owner, rtype), (ttl, contents) in sorted(parse_records(domain, records, t["data"]).items()):
            rrsets.append({"name": owner, "type": rtype, "ttl": ttl,
                           "records": [{"content": c, "disabled": False} for c in contents]})
        self._api("POST", "/zones", {"name": apex, "kind": "Native", "nameservers": [],
                                     "soa_edit_api": "INCREASE", "api_rectify": True,
                                     "rrsets": rrsets})
        try:
            for role in ("csk",) if self.keys == "csk" else ("ksk", "zsk"):
                key = {"keytype": role, "active": True, "published": True,
                       "algorithm": ALGORITHMS[alg]}
                if alg == 8:
                    key["bits"] = 2048
                self._api("POST", self._zone(domain) + "/cryptokeys", key)
            self._api("PUT", self._zone(domain) + "/rectify")
            own = self._keys(domain)
            self._serves_keys(domain, own["ksk"] + [k for k in own["zsk"] if k not in own["ksk"]])
        except ZoneError:
            self._api("DELETE", self._zone(domain))  # no half-made zone left behind
            raise

    def _keys(self, domain):
        out = {"ksk": [], "zsk": []}
        for k in self._api("GET", self._zone(domain) + "/cryptokeys") or []:
            if not k.get("active") or not k.get("published", True):
                continue
            key = dnsclient.key_of_text(k["dnskey"])
            if k["keytype"] in ("ksk", "csk"):
                out["ksk"].append(key)
            if k["keytype"] in ("zsk", "csk"):
                out["zsk"].append(key)
        return out

    def ksk(self, domain):
        ksks = self._keys(domain)["ksk"]
        if not ksks:
            raise ZoneError("%s has no active KSK" % domain)
        return ksks[0]

    def zsks(self, domain):
        return self._keys(domain)["zsk"]

    def foreign_keys(self, domain):
        """The DNSKEY records stored in the zone: other operators' keys (direct-dnskey)."""
        zone = self._api("GET", self._zone(domain))
        return [dnsclient.key_of_text(r["content"])
                for s in zone.get("rrsets", []) if s["type"] == "DNSKEY"
                for r in s["records"] if not r.get("disabled")]

    def _set_foreign(self, domain, keys):
        apex = absolute("@", domain)
        if keys:
            change = {"name": apex, "type": "DNSKEY", "changetype": "REPLACE",
                      # Served with the SOA MINIMUM whatever is stored; store the same.
                      "ttl": self.ttls["dnskey"],
                      "records": [{"content": dnsclient.key_text(k), "disabled": False} for k in keys]}
        else:
            change = {"name": apex, "type": "DNSKEY", "changetype": "DELETE"}
        self._api("PATCH", self._zone(domain), {"rrsets": [change]})
        self._api("PUT", self._zone(domain) + "/rectify")
        own = self._keys(domain)
        self._serves_keys(domain, own["ksk"] + [k for k in own["zsk"] if k not in own["ksk"]] + keys)

    def add_foreign_key(self, domain, key, expires=None):
        keys = self.foreign_keys(domain)
        if not any(dnsclient.same_key(key, k) for k in keys):
            self._set_foreign(domain, keys + [key])

    def remove_foreign_key(self, domain, key):
        keys = self.foreign_keys(domain)
        rest = [k for k in keys if not dnsclient.same_key(key, k)]
        if len(rest) != len(keys):
            self._set_foreign(domain, rest)

    def remove_zone(self, domain):
        try:
            self.server.api("DELETE", self._zone(domain))
        except PowerDnsError as e:
            if "HTTP 404" not in str(e) and "HTTP 422" not in str(e):
                raise ZoneError(str(e))
        self._wait(domain, "REFUSED (the zone removed)", lambda rcode, _: rcode == dnsclient.REFUSED)


class HostedZones:
    """The harness's hosted operator, through `operator` requests (adapter protocol).
    `call(op, **args)` sends one request and returns its `operator_result`."""

    own_expiry = True  # a foreign key added with `expires` is dropped by the operator then

    def __init__(self, call, ns, algorithm, hosts):
        self.call = call
        self.ns = [n.rstrip(".").lower() for n in ns]
        self.algorithm = algorithm
        self._hosts = hosts

    @property
    def addrs(self):
        out = []
        for n in self.ns:
            a = self._hosts.get(n)
            if a and a not in out:
                out.append(a)
        return out

    def _op(self, op, **args):
        answer = self.call(op, **args)
        if not answer.get("ok"):
            raise ZoneError("operator %s: %s" % (op, answer.get("error")))
        return answer

    def hosts(self, domain):
        return bool(self._op("hosts", domain=domain).get("hosted"))

    def create_zone(self, domain, records, algorithm=None):
        self._op("create_zone", domain=domain, records=records, signed=True,
                 algorithm=algorithm or self.algorithm)

    def ksk(self, domain):
        return self._op("ksk", domain=domain)["keys"][0]

    def zsks(self, domain):
        return self._op("zsks", domain=domain)["keys"]

    def foreign_keys(self, domain):
        return self._op("foreign_keys", domain=domain)["keys"]

    def add_foreign_key(self, domain, key, expires=None):
        self._op("add_foreign_key", domain=domain, key=key,
                 expires=expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                 if expires else None)

    def remove_foreign_key(self, domain, key):
        self._op("remove_foreign_key", domain=domain, key=key)

    def remove_zone(self, domain):
        self._op("remove_zone", domain=domain)
