//! The router: one loopback address in front of many authoritative servers (design.md §2,
//! "Addresses").
//!
//! Every server of a world listens on its own ephemeral port, but a validating resolver is
//! configured with one upstream. The router takes each query, finds the longest zone it knows
//! that contains the name (for a DS query at a zone's apex, the parent: DS lives on the parent
//! side of the cut, RFC 4035 §3.1.4.1), and forwards the query's bytes unchanged to that
//! zone's server, over the transport the query came in on. The answer goes back unchanged too,
//! so the resolver sees exactly what the authoritative server said (AA, TC, RRSIGs and all);
//! a resolver behind the router behaves as if every zone were served from one address.
//!
//! The router is not a resolver: it never recurses, caches or looks inside answers. A name in
//! no known zone is REFUSED; an upstream that does not answer in time gets no answer either
//! (over UDP) or a closed connection (over TCP), so the resolver's own timeout applies.
//!
//! For the differential test a route can also carry [`Override`]s: canned answers a server
//! must give instead of its zone's (a broken denial no honest signer produces).
//!
//! Network timeouts use tokio's timer; nothing here reads the virtual clock.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use crate::lookup::fill_from_response;
use checker::Override;

/// How long the router waits for an upstream answer. Loopback servers answer in
/// microseconds; this only bounds a server that was told to drop queries.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// A TCP connection with no query for this long is closed (RFC 7766 §6.2.3).
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Where queries go: each zone's server, and the canned answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    /// Zone apex (lowercase) → the server authoritative for it.
    pub zones: Vec<(Name, SocketAddr)>,
    /// Answers given instead of forwarding (tests only).
    pub overrides: Vec<Override>,
    /// Zones delegated to name servers none of which the world knows (a misspelt host):
    /// questions for them get SERVFAIL, as a resolver answers when no server of a delegation
    /// can be reached, instead of going to the parent.
    pub unreachable: Vec<Name>,
}

impl Routes {
    /// Routes for these zones, no overrides.
    pub fn new(zones: impl IntoIterator<Item = (Name, SocketAddr)>) -> Self {
        Self {
            zones: zones
                .into_iter()
                .map(|(z, a)| (z.to_lowercase(), a))
                .collect(),
            overrides: Vec::new(),
            unreachable: Vec::new(),
        }
    }

    /// Whether `qname`/`qtype` falls into a zone that no known server answers for (more
    /// specific than any routed zone).
    pub fn dead_end(&self, qname: &Name, qtype: RecordType) -> bool {
        let qname = qname.to_lowercase();
        let covers = |z: &Name| {
            z.zone_of(&qname) && !(qtype == RecordType::DS && *z == qname && !z.is_root())
        };
        let routed = self
            .zones
            .iter()
            .filter(|(z, _)| covers(z))
            .map(|(z, _)| z.num_labels())
            .max();
        self.unreachable
            .iter()
            .filter(|z| covers(z))
            .any(|z| routed.is_none_or(|r| z.num_labels() > r))
    }

    /// The zone (and its server) that answers `qname`/`qtype`: the longest origin containing
    /// the name, except that a DS question at a zone's apex goes to the zone above it.
    pub fn route(&self, qname: &Name, qtype: RecordType) -> Option<(&Name, SocketAddr)> {
        let qname = qname.to_lowercase();
        self.zones
            .iter()
            .filter(|(z, _)| {
                z.zone_of(&qname) && !(qtype == RecordType::DS && *z == qname && !z.is_root())
            })
            .max_by_key(|(z, _)| z.num_labels())
            .map(|(z, a)| (z, *a))
    }
}

#[derive(Debug)]
struct Shared {
    routes: RwLock<Arc<Routes>>,
}

impl Shared {
    fn routes(&self) -> Arc<Routes> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A running router on UDP and TCP (one port). Dropping it stops it.
#[derive(Debug)]
pub struct Router {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Router {
    /// Listens on `addr` (port 0: a free port, the same for UDP and TCP) with no routes.
    /// Needs a tokio runtime.
    pub async fn start(addr: SocketAddr) -> io::Result<Self> {
        let (udp, tcp) = bind_pair(addr).await?;
        let local_addr = udp.local_addr()?;
        let shared = Arc::new(Shared {
            routes: RwLock::new(Arc::new(Routes::default())),
        });
        let udp = Arc::new(udp);
        let tasks = vec![
            tokio::spawn(udp_loop(udp, shared.clone())),
            tokio::spawn(tcp_accept_loop(tcp, shared.clone())),
        ];
        Ok(Self {
            local_addr,
            shared,
            tasks,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Replaces the routes (atomically: a query is routed wholly by the old or the new set).
    pub fn set_routes(&self, routes: Routes) {
        *self
            .shared
            .routes
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(routes);
    }

    /// The routes in use.
    pub fn routes(&self) -> Arc<Routes> {
        self.shared.routes()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What to do with one query.
enum Decision {
    /// Send these bytes back (REFUSED, FORMERR, an override).
    Reply(Vec<u8>),
    /// Forward to this server.
    Forward(SocketAddr),
    /// Not a query: say nothing.
    Ignore,
}

fn decide(routes: &Routes, request: &[u8], udp: bool) -> Decision {
    let Ok(query) = Message::from_vec(request) else {
        return Decision::Ignore;
    };
    if query.metadata.message_type != hickory_proto::op::MessageType::Query {
        return Decision::Ignore;
    }
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    let Some(q) = query.queries.first().cloned() else {
        reply.metadata.response_code = ResponseCode::FormErr;
        return encode(&reply).map_or(Decision::Ignore, Decision::Reply);
    };
    reply.add_query(q.clone());
    if routes.dead_end(q.name(), q.query_type()) {
        reply.metadata.response_code = ResponseCode::ServFail;
        return encode(&reply).map_or(Decision::Ignore, Decision::Reply);
    }
    let Some((zone, server)) = routes.route(q.name(), q.query_type()) else {
        reply.metadata.response_code = ResponseCode::Refused;
        return encode(&reply).map_or(Decision::Ignore, Decision::Reply);
    };
    let qname = q.name().to_lowercase();
    let overridden = routes
        .overrides
        .iter()
        .find(|o| o.zone == *zone && o.qname == qname && o.qtype == q.query_type());
    let Some(o) = overridden else {
        return Decision::Forward(server);
    };
    reply.metadata.authoritative = true;
    fill_from_response(&mut reply, &o.response);
    if let Some(e) = query.edns.as_ref() {
        let mut edns = Edns::new();
        edns.set_dnssec_ok(e.flags().dnssec_ok);
        edns.set_max_payload(e.max_payload().max(512));
        reply.set_edns(edns);
    }
    let Some(bytes) = encode(&reply) else {
        return Decision::Ignore;
    };
    // Over UDP, an answer larger than the client can take is sent empty with TC set, so the
    // client retries over TCP (RFC 1035 §4.2.1, RFC 6891 §7), as the servers do.
    let limit = query
        .edns
        .as_ref()
        .map_or(512, |e| usize::from(e.max_payload().max(512)));
    if udp && bytes.len() > limit {
        let mut truncated = Message::response(query.metadata.id, OpCode::Query);
        truncated.add_query(q);
        truncated.metadata.truncation = true;
        truncated.metadata.authoritative = true;
        return encode(&truncated).map_or(Decision::Ignore, Decision::Reply);
    }
    Decision::Reply(bytes)
}

fn encode(m: &Message) -> Option<Vec<u8>> {
    m.to_vec().ok()
}

/// Binds UDP and TCP on the same address (with port 0, retries until both get one port).
async fn bind_pair(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..16 {
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

async fn udp_loop(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((len, client)) = socket.recv_from(&mut buf).await else {
            // ICMP errors from earlier sends surface here on some systems; keep serving.
            continue;
        };
        let request = buf[..len].to_vec();
        let socket = socket.clone();
        let routes = shared.routes();
        // Each query on its own task: a slow upstream must not hold up the others.
        tokio::spawn(async move {
            let reply = match decide(&routes, &request, true) {
                Decision::Reply(bytes) => Some(bytes),
                Decision::Forward(server) => forward_udp(server, &request).await,
                Decision::Ignore => None,
            };
            if let Some(reply) = reply {
                let _ = socket.send_to(&reply, client).await;
            }
        });
    }
}

/// Forwards one datagram and waits for the upstream's answer with the same ID.
async fn forward_udp(server: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() {
        ([127, 0, 0, 1], 0).into()
    } else {
        ([0u16, 0, 0, 0, 0, 0, 0, 1], 0).into()
    };
    let socket = UdpSocket::bind(bind).await.ok()?;
    socket.connect(server).await.ok()?;
    socket.send(request).await.ok()?;
    // Room for any datagram, but not zeroed: the router forwards one question per socket.
    let mut buf = Vec::with_capacity(65_535);
    let id = request.get(..2)?;
    let wait = async {
        loop {
            buf.clear();
            let n = socket.recv_buf(&mut buf).await.ok()?;
            if buf.get(..2) == Some(id) {
                return Some(buf[..n].to_vec());
            }
        }
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, wait)
        .await
        .ok()
        .flatten()
}

async fn tcp_accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(tcp_connection(stream, shared.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "router: tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len))
        .await
        .ok()?
        .ok()?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(buf)
}

async fn write_frame(stream: &mut TcpStream, bytes: &[u8]) -> Option<()> {
    let len = u16::try_from(bytes.len()).ok()?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.ok()
}

/// One client connection: RFC 7766 framing, queries answered in order, each forwarded over a
/// fresh TCP connection to its server.
async fn tcp_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    while let Some(request) = read_frame(&mut stream).await {
        let routes = shared.routes();
        let reply = match decide(&routes, &request, false) {
            Decision::Reply(bytes) => Some(bytes),
            Decision::Forward(server) => forward_tcp(server, &request).await,
            Decision::Ignore => None,
        };
        let Some(reply) = reply else { break };
        if write_frame(&mut stream, &reply).await.is_none() {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

async fn forward_tcp(server: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let exchange = async {
        let mut upstream = TcpStream::connect(server).await.ok()?;
        let _ = upstream.set_nodelay(true);
        write_frame(&mut upstream, request).await?;
        read_frame(&mut upstream).await
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clock::VirtualClock;
    use dnssec::query::{QueryOptions, query_with};
    use dnssec::{DnsServer, DnsServerConfig, Transport};
    use hickory_proto::op::Message;

    use super::*;
    use checker::corpus::{self, CorpusOptions};
    use checker::testbed::name;

    #[test]
    fn routes_pick_the_longest_zone_and_send_ds_to_the_parent() {
        let (a, b, c): (SocketAddr, SocketAddr, SocketAddr) = (
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            "127.0.0.1:3".parse().unwrap(),
        );
        let routes = Routes::new([
            (Name::root(), a),
            (name("NL."), b),
            (name("example.nl."), c),
        ]);
        let at = |q: &str, t| routes.route(&name(q), t).map(|(_, s)| s);
        assert_eq!(at("www.example.nl.", RecordType::A), Some(c));
        assert_eq!(at("Example.NL.", RecordType::DNSKEY), Some(c));
        assert_eq!(at("example.nl.", RecordType::DS), Some(b));
        assert_eq!(at("other.nl.", RecordType::NS), Some(b));
        assert_eq!(at("nl.", RecordType::DS), Some(a));
        assert_eq!(at(".", RecordType::DS), Some(a));
        assert_eq!(at("org.", RecordType::A), Some(a));
        assert_eq!(
            Routes::new([(name("nl."), b)]).route(&name("org."), RecordType::A),
            None
        );
    }

    async fn ask(server: SocketAddr, q: &str, t: RecordType, transport: Transport) -> Message {
        let options = QueryOptions {
            transport,
            ..QueryOptions::default()
        };
        query_with(server, &name(q), t, &options).await.unwrap()
    }

    /// Answers without the ID (which differs per query).
    fn body(m: &Message) -> String {
        let mut m = m.clone();
        m.metadata.id = 0;
        format!("{m:?}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_router_forwards_unchanged_over_udp_and_tcp_and_serves_overrides() {
        let options = CorpusOptions::default();
        let cases = corpus::generate(&options);
        let case = cases
            .iter()
            .find(|c| c.id == "bad-denial/not-covered/alg8-nsec3/nx0-a")
            .unwrap();
        let server = DnsServer::start(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(VirtualClock::new(options.now)),
            DnsServerConfig::default(),
        )
        .await
        .unwrap();
        for z in case.zone_arcs() {
            server.set_zone(Arc::clone(z));
        }
        let router = Router::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let direct = server.local_addr();
        let mut routes = Routes::new(case.zones().iter().map(|z| (z.origin().clone(), direct)));
        router.set_routes(routes.clone());
        let via = router.local_addr();
        for transport in [Transport::Udp, Transport::Tcp] {
            for (q, t) in [
                ("www.example.test.", RecordType::A),
                ("example.test.", RecordType::DS),
                ("example.test.", RecordType::DNSKEY),
                ("nx0.example.test.", RecordType::A),
                (".", RecordType::DNSKEY),
            ] {
                let (a, b) = (
                    ask(direct, q, t, transport).await,
                    ask(via, q, t, transport).await,
                );
                assert_eq!(body(&a), body(&b), "{q} {t} over {transport}");
            }
            // Outside every zone the router refuses (it does not know the server).
            router.set_routes(Routes::new([(name("test."), direct)]));
            let refused = ask(via, "example.org.", RecordType::A, transport).await;
            assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
            router.set_routes(routes.clone());
        }

        // With the case's override, the child's broken denial comes from the router.
        routes.overrides = case.overrides.clone();
        router.set_routes(routes);
        let q = case.qname.to_string();
        let got = ask(via, &q, case.qtype, Transport::Tcp).await;
        let want = checker::Response::from_message(&got, &case.qname, case.qtype);
        assert_eq!(want, case.overrides[0].response);
        assert!(got.metadata.authoritative);
        assert!(got.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok));
        // Over UDP with room for 512 octets only, it comes back truncated.
        let small = QueryOptions {
            payload: 512,
            ..QueryOptions::default()
        };
        let truncated = query_with(via, &case.qname, case.qtype, &small)
            .await
            .unwrap();
        assert!(truncated.metadata.truncation, "{truncated:?}");
        assert!(truncated.authorities.is_empty());
    }
}
