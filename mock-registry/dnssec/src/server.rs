//! The project's authoritative DNS server: signed snapshots over UDP and TCP on loopback.
//!
//! hickory-server cannot serve pre-signed data, nor sign with separate KSK/ZSK roles, and sets
//! AA on referrals without DS (hickory-dns #801, #2810), so this server is written on
//! hickory-proto's message types alone. It serves [`SignedZone`] snapshots, several per server
//! (root and TLD together, say), swapped in atomically with [`DnsServer::set_zone`]: a query
//! sees one consistent set of snapshots, never a half-applied change. How a query is answered
//! is in [`answer`]'s documentation; this module adds the sockets, the request history and the
//! fault knobs.
//!
//! - UDP: a few tasks share one socket, each answering datagrams as they come.
//! - TCP: RFC 7766 framing (two-octet length), any number of queries per connection, answered
//!   in order; a connection idle for [`DnsServerConfig::tcp_idle_timeout`] is closed.
//! - History: every request, with the time read from the injected clock, the client, the
//!   question, the transport, the RCODE and which zone and serial answered, so tests and the
//!   harness can tell which version of the data a resolver could have seen.
//! - Faults ([`Faults`]): serve a frozen (stale) set of snapshots, strip RRSIGs, substitute a
//!   snapshot (e.g. one signed with an expired window), prove denials wrongly, or stop
//!   answering.
//!
//! The server is stopped when its [`DnsServer`] is dropped.
//!
//! **Architecture Invariant:** the server never signs and never reads the wall clock for what it
//! answers; the clock only timestamps the history. Network timeouts use tokio's timer.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use crate::signed::SignedZone;
use clock::SharedClock;

pub use crate::answer;

use crate::answer::{Handled, Served};
use answer::DEFAULT_MAX_UDP_PAYLOAD;
pub use answer::{AnswerKind, Transport};

/// Server settings, with defaults fit for tests and `mock-registry serve`.
#[derive(Debug, Clone)]
pub struct DnsServerConfig {
    /// The largest UDP response sent, whatever the client advertises (and the payload size
    /// the server advertises in its OPT record).
    pub max_udp_payload: u16,
    /// Tasks answering UDP on the one socket.
    pub udp_workers: usize,
    /// A TCP connection with no query for this long is closed (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: Duration,
    /// Requests kept in the history, oldest dropped first (0: keep none).
    pub history_capacity: usize,
}

impl Default for DnsServerConfig {
    fn default() -> Self {
        Self {
            max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
            udp_workers: 2,
            tcp_idle_timeout: Duration::from_secs(10),
            history_capacity: 100_000,
        }
    }
}

/// Deliberate misbehaviour a scenario can switch on and off while the server runs.
///
/// All off by default. Faults apply to every zone of the server, or only to the zones in
/// [`scope`](Self::scope); substitutes replace one zone each.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Keep serving the snapshots served when this was switched on (stale data): later
    /// [`DnsServer::set_zone`] calls are remembered and served once it is switched off. A zone
    /// first set while frozen is served at once (there is nothing stale to serve).
    pub frozen: bool,
    /// Leave every RRSIG out of answers, even when the query set DO.
    pub strip_rrsigs: bool,
    /// Answer nothing (the history still records the queries, as dropped).
    pub drop_queries: bool,
    /// Prove every negative answer (NXDOMAIN, NODATA, no DS at a referral is not affected)
    /// with the apex's NSEC or NSEC3: genuine signed records that do not deny the name asked,
    /// so validators must find the denial bogus.
    pub wrong_denial: bool,
    /// Serve these snapshots instead of the ones set for their origins; e.g. a zone signed with
    /// an expired window ([`SigningFaults::window`](crate::SigningFaults::window)) to
    /// serve expired signatures.
    pub substitutes: Vec<Arc<SignedZone>>,
    /// The zones (origins) the other faults apply to; empty: every zone. With one server for
    /// root, TLD and child, a scenario can break only the child.
    pub scope: Vec<Name>,
}

/// One request the server received, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRecord {
    /// When, on the injected clock.
    pub time: Timestamp,
    /// Source address and port of the request, to tell the resolvers and checkers apart.
    pub client: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// The message ID (None for requests shorter than a header).
    pub id: Option<u16>,
    /// The question's name, as asked (None if it could not be decoded).
    pub qname: Option<Name>,
    /// The question's type.
    pub qtype: Option<RecordType>,
    /// Whether the query set the DO bit.
    pub dnssec_ok: bool,
    /// The RCODE sent (None: no answer was sent).
    pub rcode: Option<ResponseCode>,
    /// What kind of answer it was.
    pub kind: AnswerKind,
    /// Whether AA was set.
    pub authoritative: bool,
    /// Whether the answer was truncated (TC) to fit the UDP payload size.
    pub truncated: bool,
    /// The origin of the zone that answered.
    pub zone: Option<Name>,
    /// The serial of the snapshot that answered.
    pub serial: Option<u32>,
}

/// What the zones and faults are now; changed under a lock, read through `served`.
#[derive(Debug, Default)]
struct State {
    /// The newest snapshot per origin, as set.
    latest: BTreeMap<Name, Arc<SignedZone>>,
    /// While frozen: the snapshots being served.
    frozen: Option<BTreeMap<Name, Arc<SignedZone>>>,
    faults: Faults,
}

#[derive(Debug)]
struct History {
    records: VecDeque<QueryRecord>,
    capacity: usize,
    total: u64,
}

#[derive(Debug)]
struct Shared {
    clock: SharedClock,
    config: DnsServerConfig,
    state: Mutex<State>,
    /// What queries are answered from: replaced whole, so each query sees one consistent set.
    served: RwLock<Arc<Served>>,
    history: Mutex<History>,
}

impl Shared {
    fn served(&self) -> Arc<Served> {
        self.served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a consistent value (every write is one
        // assignment), so keep going with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rebuilds what is served from the state (call with the state locked).
    fn publish(&self, state: &State) {
        let mut zones = state.latest.clone();
        if let Some(frozen) = &state.frozen {
            for (origin, zone) in frozen {
                zones.insert(origin.clone(), zone.clone());
            }
        }
        for s in &state.faults.substitutes {
            zones.insert(s.origin().clone(), s.clone());
        }
        let mut served = Served::new(zones.into_values().collect(), self.config.max_udp_payload);
        served.strip_rrsigs = state.faults.strip_rrsigs;
        served.drop_queries = state.faults.drop_queries;
        served.wrong_denial = state.faults.wrong_denial;
        served.fault_scope = state.faults.scope.clone();
        *self.served.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(served);
    }

    fn respond(&self, request: &[u8], client: SocketAddr, transport: Transport) -> Option<Vec<u8>> {
        let served = self.served();
        // The responder is fuzzed not to panic; should it ever, one request goes unanswered
        // instead of a UDP worker or TCP connection dying with it.
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            answer::handle(&served, request, transport)
        }))
        .unwrap_or_else(|_| {
            tracing::error!(%client, %transport, "the responder panicked; request dropped");
            Handled::dropped()
        });
        self.record(client, transport, &handled);
        handled.reply
    }

    fn record(&self, client: SocketAddr, transport: Transport, h: &Handled) {
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history.total += 1;
        if history.capacity == 0 {
            return;
        }
        if history.records.len() == history.capacity {
            history.records.pop_front();
        }
        let (zone, serial) = match &h.zone {
            Some((z, s)) => (Some(z.clone()), Some(*s)),
            None => (None, None),
        };
        history.records.push_back(QueryRecord {
            time: self.clock.now(),
            client,
            transport,
            id: h.id,
            qname: h.qname.clone(),
            qtype: h.qtype,
            dnssec_ok: h.dnssec_ok,
            rcode: if h.reply.is_some() { h.rcode } else { None },
            kind: if h.reply.is_some() {
                h.kind
            } else {
                AnswerKind::Dropped
            },
            authoritative: h.authoritative,
            truncated: h.truncated,
            zone,
            serial,
        });
    }
}

/// A running authoritative server. Dropping it closes its sockets and connections.
#[derive(Debug)]
pub struct DnsServer {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl DnsServer {
    /// Listens on `addr` over UDP and TCP (the same port for both; port 0 picks a free one)
    /// and serves no zone until [`set_zone`](Self::set_zone) is called. Needs a tokio runtime.
    pub async fn start(
        addr: SocketAddr,
        clock: SharedClock,
        config: DnsServerConfig,
    ) -> io::Result<Self> {
        let (udp, tcp) = bind_pair(addr).await?;
        let local_addr = udp.local_addr()?;
        let shared = Arc::new(Shared {
            clock,
            served: RwLock::new(Arc::new(Served::new(Vec::new(), config.max_udp_payload))),
            history: Mutex::new(History {
                records: VecDeque::new(),
                capacity: config.history_capacity,
                total: 0,
            }),
            state: Mutex::new(State::default()),
            config,
        });
        let udp = Arc::new(udp);
        let mut tasks: Vec<_> = (0..shared.config.udp_workers.max(1))
            .map(|_| tokio::spawn(udp_loop(udp.clone(), shared.clone())))
            .collect();
        tasks.push(tokio::spawn(tcp_accept_loop(tcp, shared.clone())));
        // Known to this process from the start (for `served_version`); answering in-process
        // queries waits for `answer_in_process`.
        in_process::register(local_addr, &shared, false);
        Ok(Self {
            local_addr,
            shared,
            tasks,
        })
    }

    /// Where it listens (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Also answers queries made in this process to its address without a socket: the
    /// one-question client ([`query_with`](crate::query::query_with)) hands the bytes to the
    /// same responder, as if they came over UDP or TCP, history and faults included; a
    /// dropped request fails at once instead of after the client's timeout. Sockets still
    /// serve everyone else (a registrar process, a real resolver). Worth it where a run asks
    /// thousands of questions and the kernel's loopback is most of the cost (`harness
    /// explore`).
    pub fn answer_in_process(&self, on: bool) {
        in_process::register(self.local_addr, &self.shared, on);
    }

    /// Serves `zone` from now on, replacing any snapshot of the same origin (atomically: a
    /// query is answered wholly from the old or wholly from the new). While the server is
    /// frozen the snapshot is kept and served once it thaws.
    pub fn set_zone(&self, zone: Arc<SignedZone>) {
        let mut state = self.shared.state();
        state.latest.insert(zone.origin().clone(), zone);
        self.shared.publish(&state);
    }

    /// Stops serving the zone at `origin`; returns whether it was served.
    pub fn remove_zone(&self, origin: &Name) -> bool {
        let mut state = self.shared.state();
        let removed = state.latest.remove(origin).is_some();
        self.shared.publish(&state);
        removed
    }

    /// The snapshots being served now (after faults), most specific origin first.
    pub fn zones(&self) -> Vec<Arc<SignedZone>> {
        self.shared.served().zones.clone()
    }

    /// Switches faults on or off; see [`Faults`]. Takes effect for the next query.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.shared.state();
        if faults.frozen && state.frozen.is_none() {
            let in_scope = |origin: &Name| faults.scope.is_empty() || faults.scope.contains(origin);
            state.frozen = Some(
                state
                    .latest
                    .iter()
                    .filter(|(origin, _)| in_scope(origin))
                    .map(|(o, z)| (o.clone(), z.clone()))
                    .collect(),
            );
        } else if !faults.frozen {
            state.frozen = None;
        }
        state.faults = faults;
        self.shared.publish(&state);
    }

    /// The faults switched on.
    pub fn faults(&self) -> Faults {
        self.shared.state().faults.clone()
    }

    /// The requests received, oldest first (at most the configured capacity).
    pub fn history(&self) -> Vec<QueryRecord> {
        let history = self
            .shared
            .history
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        history.records.iter().cloned().collect()
    }

    /// Requests received since the server started, including those no longer in the history.
    pub fn requests_received(&self) -> u64 {
        self.shared
            .history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .total
    }

    /// Answers one request without a socket, exactly as if it had arrived from `client` over
    /// `transport` (recorded in the history too). None: no answer. For routers that forward
    /// queries, and for tests.
    pub fn respond(
        &self,
        request: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        self.shared.respond(request, client, transport)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        in_process::unregister(self.local_addr, &self.shared);
    }
}

/// The servers of this process, by address: every one tells what it answers a name from
/// ([`served_version`]), and those switched to it answer in-process queries. An address is
/// unique while its sockets are bound, so a query to it can only mean that server.
pub(crate) mod in_process {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex, OnceLock, Weak};

    use super::{Shared, Transport};

    /// Per address: the server, and whether it answers in-process queries.
    type Table = HashMap<SocketAddr, (Weak<Shared>, bool)>;

    fn table() -> &'static Mutex<Table> {
        static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
        TABLE.get_or_init(|| Mutex::new(HashMap::new()))
    }

    /// Lists the server at `addr` (answering in-process queries or not).
    pub(super) fn register(addr: SocketAddr, shared: &Arc<Shared>, answers: bool) {
        table()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(addr, (Arc::downgrade(shared), answers));
    }

    pub(super) fn unregister(addr: SocketAddr, shared: &Arc<Shared>) {
        let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
        if t.get(&addr)
            .is_some_and(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(shared)))
        {
            t.remove(&addr);
        }
    }

    /// The server at `addr`, if it is one of this process (and, with `answering`, switched
    /// to answer in-process queries).
    fn find(addr: SocketAddr, answering: bool) -> Option<Arc<Shared>> {
        let t = table().lock().unwrap_or_else(|e| e.into_inner());
        let (weak, answers) = t.get(&addr)?;
        if answering && !answers {
            return None;
        }
        weak.upgrade()
    }

    /// What the server at `addr` answers questions about `qname` from, if it is a server of
    /// this process.
    pub(crate) fn version(
        addr: SocketAddr,
        qname: &hickory_proto::rr::Name,
    ) -> Option<super::ServedVersion> {
        let served = find(addr, false)?.served();
        let zones: Vec<_> = served
            .zones
            .iter()
            .filter(|z| z.origin().zone_of(qname))
            .cloned()
            .collect();
        // The faults shape only the answers of the zones they apply to.
        let faults = zones
            .iter()
            .map(|z| {
                let on = served.faulty(z.origin());
                [
                    on && served.strip_rrsigs,
                    on && served.drop_queries,
                    on && served.wrong_denial,
                ]
            })
            .collect();
        Some(super::ServedVersion {
            zones,
            faults,
            max_udp_payload: served.max_udp_payload,
        })
    }

    /// The answer of the server at `addr`, if it takes in-process queries: `Some(None)` when
    /// it drops the request (a fault), `None` when no such server is in this process.
    pub(crate) fn exchange(
        addr: SocketAddr,
        request: &[u8],
        transport: Transport,
    ) -> Option<Option<Vec<u8>>> {
        let shared = find(addr, true)?;
        // The history names the client: this process, on no port.
        let client = SocketAddr::new(addr.ip(), 0);
        Some(shared.respond(request, client, transport))
    }
}

/// What a server of this process answers every question about one name from: the
/// snapshots whose zones contain the name (the responder picks among those and reads no
/// other), and the faults that shape its answers.
///
/// While two versions are equal, so is every answer about that name, save the message ID: an
/// observer that recorded the answers need not ask again (a run asks its servers after every
/// change, and most changes touch one zone of one server). Snapshots compare by identity,
/// and a version holds them, so a new snapshot can never reuse an old one's address.
#[derive(Clone)]
pub struct ServedVersion {
    zones: Vec<Arc<SignedZone>>,
    /// Per zone: the faults that apply to it (strip RRSIGs, drop queries, wrong denial).
    faults: Vec<[bool; 3]>,
    max_udp_payload: u16,
}

impl PartialEq for ServedVersion {
    fn eq(&self, other: &Self) -> bool {
        self.zones.len() == other.zones.len()
            && self
                .zones
                .iter()
                .zip(&other.zones)
                .all(|(a, b)| Arc::ptr_eq(a, b))
            && self.faults == other.faults
            && self.max_udp_payload == other.max_udp_payload
    }
}

/// The zones by origin and serial (a snapshot's records would bury the rest).
impl std::fmt::Debug for ServedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let zones: Vec<String> = self
            .zones
            .iter()
            .map(|z| {
                format!(
                    "{} serial {} at {:p}",
                    z.origin(),
                    z.serial(),
                    Arc::as_ptr(z)
                )
            })
            .collect();
        f.debug_struct("ServedVersion")
            .field("zones", &zones)
            .field("faults", &self.faults)
            .field("max_udp_payload", &self.max_udp_payload)
            .finish()
    }
}

impl Eq for ServedVersion {}

/// What the server at `addr` answers questions about `qname` from, if it is a [`DnsServer`]
/// of this process (over its sockets or in-process); None for any other server, whose
/// answers only asking can tell.
pub fn served_version(addr: SocketAddr, qname: &Name) -> Option<ServedVersion> {
    in_process::version(addr, qname)
}

/// Binds UDP and TCP on the same address; with port 0, the TCP port must match the UDP one,
/// so retry with a new UDP port when that TCP port is taken.
async fn bind_pair(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    const ATTEMPTS: usize = 16;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let udp = UdpSocket::bind(addr).await?;
        let bound = udp.local_addr()?;
        match TcpListener::bind(bound).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if addr.port() == 0 && e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("could not bind UDP and TCP on one port")))
}

/// The largest UDP datagram there is; requests are never bigger.
const MAX_DATAGRAM: usize = 65_535;

async fn udp_loop(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, client) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(error) => {
                // ICMP errors from earlier sends surface here on some systems; keep serving.
                tracing::debug!(%error, "udp receive failed");
                continue;
            }
        };
        if let Some(reply) = shared.respond(&buf[..len], client, Transport::Udp)
            && let Err(error) = socket.send_to(&reply, client).await
        {
            tracing::debug!(%client, %error, "udp send failed");
        }
    }
}

async fn tcp_accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, client)) => {
                    connections.spawn(tcp_connection(stream, client, shared.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "dns tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One TCP connection: length-prefixed queries answered in order until the client closes,
/// sends garbage framing, or stays idle too long.
async fn tcp_connection(mut stream: TcpStream, client: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let idle = shared.config.tcp_idle_timeout;
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(idle, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => break,
        }
        let len = usize::from(u16::from_be_bytes(len));
        buf.resize(len, 0);
        match tokio::time::timeout(idle, stream.read_exact(&mut buf)).await {
            Ok(Ok(_)) => {}
            _ => break,
        }
        let Some(reply) = shared.respond(&buf, client, Transport::Tcp) else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            break;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests;
