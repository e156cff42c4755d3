//! Fixed, publicly known keys (`mock-registry/dnssec/fixtures/keys/`), never for production.
//!
//! Generating RSA keys takes a noticeable fraction of a second each, and snapshot tests need the
//! same keys every run, so tests, benchmarks and scenarios take their keys from here. Each key
//! is parsed once per process and shared.

use std::sync::OnceLock;

use super::keys::{KeyAlgorithm, KeyPair};

/// How many fixture keys there are per algorithm.
pub const KEYS_PER_ALGORITHM: usize = 14;

const RSA: [&str; KEYS_PER_ALGORITHM] = [
    include_str!("../fixtures/keys/rsasha256-1.pem"),
    include_str!("../fixtures/keys/rsasha256-2.pem"),
    include_str!("../fixtures/keys/rsasha256-3.pem"),
    include_str!("../fixtures/keys/rsasha256-4.pem"),
    include_str!("../fixtures/keys/rsasha256-5.pem"),
    include_str!("../fixtures/keys/rsasha256-6.pem"),
    include_str!("../fixtures/keys/rsasha256-7.pem"),
    include_str!("../fixtures/keys/rsasha256-8.pem"),
    include_str!("../fixtures/keys/rsasha256-9.pem"),
    include_str!("../fixtures/keys/rsasha256-10.pem"),
    include_str!("../fixtures/keys/rsasha256-11.pem"),
    include_str!("../fixtures/keys/rsasha256-12.pem"),
    include_str!("../fixtures/keys/rsasha256-13.pem"),
    include_str!("../fixtures/keys/rsasha256-14.pem"),
];
const ECDSA: [&str; KEYS_PER_ALGORITHM] = [
    include_str!("../fixtures/keys/ecdsap256sha256-1.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-2.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-3.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-4.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-5.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-6.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-7.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-8.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-9.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-10.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-11.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-12.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-13.pem"),
    include_str!("../fixtures/keys/ecdsap256sha256-14.pem"),
];
const ED25519: [&str; KEYS_PER_ALGORITHM] = [
    include_str!("../fixtures/keys/ed25519-1.pem"),
    include_str!("../fixtures/keys/ed25519-2.pem"),
    include_str!("../fixtures/keys/ed25519-3.pem"),
    include_str!("../fixtures/keys/ed25519-4.pem"),
    include_str!("../fixtures/keys/ed25519-5.pem"),
    include_str!("../fixtures/keys/ed25519-6.pem"),
    include_str!("../fixtures/keys/ed25519-7.pem"),
    include_str!("../fixtures/keys/ed25519-8.pem"),
    include_str!("../fixtures/keys/ed25519-9.pem"),
    include_str!("../fixtures/keys/ed25519-10.pem"),
    include_str!("../fixtures/keys/ed25519-11.pem"),
    include_str!("../fixtures/keys/ed25519-12.pem"),
    include_str!("../fixtures/keys/ed25519-13.pem"),
    include_str!("../fixtures/keys/ed25519-14.pem"),
];

/// Fixture key number `index` (0-based, below [`KEYS_PER_ALGORITHM`]) of `algorithm`.
///
/// # Panics
/// If `index` is out of range: a test asking for a fixture that does not exist is a bug in the
/// test.
pub fn key(algorithm: KeyAlgorithm, index: usize) -> KeyPair {
    static CACHE: OnceLock<Vec<OnceLock<KeyPair>>> = OnceLock::new();
    assert!(
        index < KEYS_PER_ALGORITHM,
        "there are only {KEYS_PER_ALGORITHM} fixture keys per algorithm"
    );
    let (slot, pem) = match algorithm {
        KeyAlgorithm::RsaSha256 => (0, RSA[index]),
        KeyAlgorithm::EcdsaP256Sha256 => (1, ECDSA[index]),
        KeyAlgorithm::Ed25519 => (2, ED25519[index]),
    };
    let cache = CACHE.get_or_init(|| {
        (0..3 * KEYS_PER_ALGORITHM)
            .map(|_| OnceLock::new())
            .collect()
    });
    cache[slot * KEYS_PER_ALGORITHM + index]
        .get_or_init(|| {
            KeyPair::from_pkcs8_pem(pem).expect("invariant: the committed fixture keys are valid")
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_loads_with_its_algorithm_and_they_differ() {
        let mut seen = std::collections::BTreeSet::new();
        for algorithm in KeyAlgorithm::ALL {
            for i in 0..KEYS_PER_ALGORITHM {
                let k = key(algorithm, i);
                assert_eq!(k.algorithm(), algorithm);
                assert!(seen.insert(k.public_key().to_vec()));
            }
        }
    }
}
