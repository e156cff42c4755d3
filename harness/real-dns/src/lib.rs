//! Real authoritative DNS servers as DNS operators: PowerDNS Authoritative 4.7 and Knot DNS
//! 3.2, started in the foreground in their own temporary directories on free loopback
//! ports, and driven through one trait, [`DnsBackend`], that the harness can also implement
//! for its built-in operator.
//!
//! These servers run on the wall clock: they sign with the real time and re-sign on their
//! own schedule. A harness judging DNSSEC over time with them must read what they serve
//! (every change returns a [`ZoneStatus`]), not assume what its own signer would do; the
//! module docs of [`pdns`] and [`knot`] list what each software does differently.
//!
//! ```no_run
//! # async fn demo() -> real_dns::Result<()> {
//! use real_dns::{Algorithm, DnsBackend, Knot, Signing, ZoneSpec};
//! let server: Box<dyn DnsBackend> = Box::new(Knot::start().await?);
//! let spec = ZoneSpec::new("example.nl", &["ns1.operator.example"], &["www 300 A 192.0.2.10"])
//!     .signed(Signing::new(Algorithm::EcdsaP256Sha256));
//! server.create_zone(&spec).await?;
//! let keys = server.own_keys("example.nl").await?;
//! println!("KSK: {}", keys.ksks[0]);
//! server.stop().await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`zone`]: what is asked for ([`ZoneSpec`], [`Signing`], [`Ttls`]) and the key type
//!   ([`DnsKey`]); knows no server.
//! - [`backend`]: the [`DnsBackend`] trait, [`Capabilities`], and the bookkeeping and
//!   waiting both servers share.
//! - [`pdns`], [`knot`]: one server software each.
//! - `process`: finding programs, free ports, the child process and its log.
//! - [`dns`]: the few DNS questions used to see what a server serves.
//! - `http`: the PowerDNS API client.
//!
//! # Errors
//!
//! One error enum, [`Error`], with a variant per failure a caller may handle differently
//! (a missing Debian package, a server that died, a change not served in time); variants
//! about the servers carry the tail of their log, so a failing test explains itself.
//!
//! **API boundary:** [`DnsBackend`], the [`zone`] types, [`Error`] and the two server types
//! with their configs are the public face; everything else may change.

#![forbid(unsafe_code)]

pub mod backend;
pub mod dns;
mod error;
mod http;
pub mod knot;
pub mod pdns;
mod process;
pub mod resolver;
pub mod zone;

pub use backend::{BoxFuture, Capabilities, DnsBackend, DnskeyTtlSource};
pub use error::{Error, Result};
pub use knot::{Knot, KnotConfig};
pub use pdns::{PowerDns, PowerDnsConfig};
pub use resolver::{Resolver, ResolverAnswer, ResolverKind, ResolverSetup, RootAnchor};
pub use zone::{
    Algorithm, Denial, DnsKey, KeyScheme, OwnKeys, SignatureTiming, Signing, Ttls, ZoneSpec,
    ZoneStatus,
};
