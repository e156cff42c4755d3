//! A throwaway test PKI for the mutual TLS that EPP requires (RFC 5734 §8–9).
//!
//! RFC 5734 makes client and server authentication with TLS mandatory and leaves it to the
//! server to match the certificate's identity with the client. This module makes the
//! certificates for that, writes them where any EPP client can use them, and reads them back.
//!
//! # Files
//!
//! [`Pki::init`] writes, into one directory:
//!
//! | file              | contents                                                           |
//! |-------------------|--------------------------------------------------------------------|
//! | `ca.pem`          | the CA certificate, PEM: the only trust anchor of both sides        |
//! | `ca.key`          | the CA's private key, PEM PKCS #8 (needed to add registrars later)  |
//! | `server.pem`      | the registry's certificate, PEM: DNS `localhost`, IP `127.0.0.1`, `::1` |
//! | `server.key`      | its private key, PEM PKCS #8                                       |
//! | `NAME.pem`        | registrar NAME's client certificate, PEM                           |
//! | `NAME.key`        | its private key, PEM PKCS #8                                       |
//! | `NAME.password`   | its EPP `<login>` password                                         |
//!
//! Certificates are X.509 v3 with ECDSA P-256 keys; each `.pem` holds exactly one certificate
//! (the chain is always leaf + `ca.pem`). Keys and passwords are created with mode 0600.
//!
//! A password file holds the password and nothing else: 16 ASCII letters and digits, **no
//! trailing newline**, so a program that reads the whole file gets exactly the password.
//! [`Pki::load`] also accepts one trailing `\n` or `\r\n`, in case an editor adds one.
//!
//! # How a registrar's clID is carried
//!
//! The clID (registrar NAME) is the subject CN of its certificate, and also a subjectAltName
//! URI `epp-clid:NAME`: the SAN is the modern, unambiguous place for an identity, the CN the
//! place humans and older tools look. [`clid_from_certificate`] reads the SAN first. After the
//! handshake the EPP server compares this clID with the `<clID>` of `<login>` and answers 2200
//! when they differ, so a registrar cannot log in as another even with a valid certificate.
//!
//! # Registrar names
//!
//! A NAME must be a valid EPP clID (`eppcom:clIDType`: a token of 3–16 characters) and, since
//! it names files and appears in a URI, is further limited here to ASCII letters, digits, `-`,
//! `_` and `.`, starting with a letter or digit; `server` and `root` (the trust anchor
//! `root.key` that `serve --dns` writes beside the PKI) are reserved. Names are compared
//! ignoring ASCII case when looking for duplicates, because they name files and some file
//! systems ignore case.

mod authority;
mod files;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
mod identity;
mod names;
pub(crate) mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

pub use authority::{Authority, Identity, Validity};
use files::Durability;
pub use identity::{ClientIdentityError, clid_from_certificate};
pub use names::{ClId, ClIdError, EppPassword, PasswordError, TokenProblem};

/// The CA certificate's file name.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file name.
pub const CA_KEY_FILE: &str = "ca.key";
/// The server certificate's file name.
pub const SERVER_CERT_FILE: &str = "server.pem";
/// The server key's file name.
pub const SERVER_KEY_FILE: &str = "server.key";
/// The host name clients connect to, and the one the server certificate is issued for (with
/// the loopback addresses).
pub const SERVER_DNS_NAME: &str = "localhost";
/// The prefix of the subjectAltName URI that carries a registrar's clID: `epp-clid:NAME`.
pub const CLID_URI_PREFIX: &str = "epp-clid:";

/// The common name of the CA [`Pki::init`] creates.
const CA_COMMON_NAME: &str = "mock-registry test CA";
/// The file stem reserved for the server (`ca` is reserved too, but too short to be a clID).
const RESERVED_STEM: &str = "server";
/// The file stem of the root trust anchor that `serve --dns` writes into the PKI directory by
/// default (`root.key`, a DNSKEY in presentation format, beside `root.ds` and
/// `trust-anchors.conf`; see [`crate::publish::TrustAnchor::write_files`]). Reserved, so that
/// no registrar's `NAME.key` can be overwritten by the anchor and the anchor is never taken
/// for a registrar's key.
pub const TRUST_ANCHOR_STEM: &str = "root";

/// Everything that can go wrong creating, reading or extending a PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file as the caller named it.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file that would be written exists already.
    #[error(
        "{path} already exists; refusing to overwrite part of an existing PKI (use a new \
         directory, or add registrars to the existing PKI)"
    )]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A registrar name is not a valid EPP clID.
    #[error(transparent)]
    InvalidClId(#[from] ClIdError),
    /// A registrar name is a valid clID but cannot be used to name files and a URI.
    #[error(
        "registrar name {name:?} cannot be used here: {reason} (allowed: ASCII letters, digits, \
         '-', '_' and '.', starting with a letter or digit; 'server' is reserved)"
    )]
    UnusableName {
        /// The refused name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same registrar twice (ignoring ASCII case).
    #[error("registrar {name} is given twice, or differs from an existing one only in case")]
    DuplicateRegistrar {
        /// The repeated name.
        name: String,
    },
    /// Key or certificate generation failed.
    #[error("could not generate {what}: {source}")]
    Generate {
        /// What was being generated.
        what: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
    /// A certificate could not be issued as asked.
    #[error("could not issue {what}: {problem}")]
    Issue {
        /// What was being issued.
        what: String,
        /// What stopped the certificate from being made, in words.
        problem: String,
    },
    /// The operating system's random source failed.
    #[error("the operating system's secure random source failed")]
    Random,
    /// A file's contents are not what a PKI file must hold.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file as the caller named it.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A password file does not hold a valid EPP password.
    #[error("{path}: {source}")]
    Password {
        /// The password file as the caller named it.
        path: PathBuf,
        /// What is wrong with the password.
        source: PasswordError,
    },
    /// A certificate does not verify against the CA (wrong CA, expired, wrong usage…), checked
    /// with the same verifier the TLS handshake uses.
    #[error("{path}: the certificate does not verify against {CA_CERT_FILE}: {source}")]
    Untrusted {
        /// The certificate file.
        path: PathBuf,
        /// The verifier's reason.
        source: rustls::Error,
    },
    /// A registrar certificate carries no usable clID.
    #[error("{path}: {source}")]
    Identity {
        /// The certificate file.
        path: PathBuf,
        /// Why no clID could be read.
        source: ClientIdentityError,
    },
    /// A registrar certificate carries another clID than its file name.
    #[error("{path}: the certificate is for clID {found}, not {expected} as the file name says")]
    WrongClId {
        /// The certificate file.
        path: PathBuf,
        /// The clID from the file name.
        expected: ClId,
        /// The clID in the certificate.
        found: ClId,
    },
    /// One of a registrar's three files is missing.
    #[error(
        "registrar {name}: {missing} is missing (a registrar needs NAME.pem, NAME.key and NAME.password)"
    )]
    Incomplete {
        /// The registrar's client id, the NAME of its files.
        name: String,
        /// The missing file.
        missing: PathBuf,
    },
}

/// One registrar's credentials: what an EPP client needs besides the server address and CA.
#[derive(Debug)]
pub struct RegistrarCredentials {
    clid: ClId,
    identity: Identity,
    password: EppPassword,
    cert_path: PathBuf,
    key_path: PathBuf,
    password_path: PathBuf,
}

impl RegistrarCredentials {
    /// The registrar's clID, which its certificate carries.
    pub fn clid(&self) -> &ClId {
        &self.clid
    }

    /// Its client certificate and key.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Its EPP password.
    pub fn password(&self) -> &EppPassword {
        &self.password
    }

    /// `DIR/NAME.pem`.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// `DIR/NAME.key`.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// `DIR/NAME.password`.
    pub fn password_path(&self) -> &Path {
        &self.password_path
    }

    fn paths(dir: &Path, clid: &ClId) -> [PathBuf; 3] {
        [files::CERT_EXT, files::KEY_EXT, files::PASSWORD_EXT]
            .map(|ext| dir.join(format!("{clid}.{ext}")))
    }

    fn create(
        dir: &Path,
        ca: &Authority,
        clid: ClId,
        durability: Durability,
    ) -> Result<Self, PkiError> {
        let identity = ca.issue_registrar(&clid, &Validity::current())?;
        let password = EppPassword::generate().map_err(|_| PkiError::Random)?;
        let [cert_path, key_path, password_path] = Self::paths(dir, &clid);
        for path in [&cert_path, &key_path, &password_path] {
            if path.exists() {
                return Err(PkiError::AlreadyExists { path: path.clone() });
            }
        }
        identity.write_with(dir, clid.as_str(), durability)?;
        files::write_new(
            &password_path,
            password.expose().as_bytes(),
            files::Mode::Secret,
            durability,
        )?;
        Ok(Self {
            clid,
            identity,
            password,
            cert_path,
            key_path,
            password_path,
        })
    }

    fn load(dir: &Path, ca: &Authority, clid: ClId) -> Result<Self, PkiError> {
        let [cert_path, key_path, password_path] = Self::paths(dir, &clid);
        for path in [&cert_path, &key_path, &password_path] {
            if !path.is_file() {
                return Err(PkiError::Incomplete {
                    name: clid.to_string(),
                    missing: path.clone(),
                });
            }
        }
        let identity = Identity::read(&cert_path, &key_path)?;
        verify::verify_client_certificate(ca, identity.cert_der()).map_err(|source| {
            PkiError::Untrusted {
                path: cert_path.clone(),
                source,
            }
        })?;
        let found =
            clid_from_certificate(identity.cert_der()).map_err(|source| PkiError::Identity {
                path: cert_path.clone(),
                source,
            })?;
        if found != clid {
            return Err(PkiError::WrongClId {
                path: cert_path,
                expected: clid,
                found,
            });
        }
        let text = files::read_text(&password_path)?;
        // Tolerate one line ending an editor may have added; anything else is the password.
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        let password = EppPassword::new(text).map_err(|source| PkiError::Password {
            path: password_path.clone(),
            source,
        })?;
        Ok(Self {
            clid,
            identity,
            password,
            cert_path,
            key_path,
            password_path,
        })
    }
}

/// A file of the PKI and what it holds, for telling a user what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiFile {
    /// Where it is.
    pub path: PathBuf,
    /// What it holds, e.g. "client certificate of registrar-a".
    pub description: String,
}

impl fmt::Display for PkiFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.description)
    }
}

/// A test PKI in a directory: the CA, the registry server's identity and the registrars'.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
    /// How its files are written, [`add_registrar`](Self::add_registrar)'s too.
    durability: Durability,
    ca: Authority,
    server: Identity,
    registrars: BTreeMap<ClId, RegistrarCredentials>,
}

impl Pki {
    /// Creates a new PKI in `dir` (created if missing) with the given registrars, and writes
    /// all its files (see the [module docs](self)).
    ///
    /// Every name is checked before anything is written, and no existing file is overwritten:
    /// if `dir` already holds a PKI, this fails and leaves it as it was.
    pub fn init(dir: &Path, registrars: &[&str]) -> Result<Self, PkiError> {
        Self::create(dir, registrars, Durability::Synced)
    }

    /// [`init`](Self::init) for a directory deleted with the process (a world's temporary
    /// one): the same files, not synced to disk one by one.
    pub fn init_scratch(dir: &Path, registrars: &[&str]) -> Result<Self, PkiError> {
        Self::create(dir, registrars, Durability::Scratch)
    }

    fn create(dir: &Path, registrars: &[&str], durability: Durability) -> Result<Self, PkiError> {
        let mut clids: Vec<ClId> = Vec::with_capacity(registrars.len());
        for name in registrars {
            let clid = check_registrar_name(name)?;
            if clids
                .iter()
                .any(|c| c.as_str().eq_ignore_ascii_case(clid.as_str()))
            {
                return Err(PkiError::DuplicateRegistrar {
                    name: clid.to_string(),
                });
            }
            clids.push(clid);
        }
        let mut paths = vec![
            dir.join(CA_CERT_FILE),
            dir.join(CA_KEY_FILE),
            dir.join(SERVER_CERT_FILE),
            dir.join(SERVER_KEY_FILE),
        ];
        for clid in &clids {
            paths.extend(RegistrarCredentials::paths(dir, clid));
        }
        if let Some(path) = paths.into_iter().find(|p| p.exists()) {
            return Err(PkiError::AlreadyExists { path });
        }
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
            path: dir.to_owned(),
            source,
        })?;

        let validity = Validity::current();
        let ca = Authority::generate(CA_COMMON_NAME, &validity)?;
        ca.identity().write_with(dir, "ca", durability)?;
        let server = ca.issue_server(&validity)?;
        server.write_with(dir, RESERVED_STEM, durability)?;
        let mut pki = Self {
            dir: dir.to_owned(),
            durability,
            ca,
            server,
            registrars: BTreeMap::new(),
        };
        for clid in clids {
            let credentials =
                RegistrarCredentials::create(&pki.dir, &pki.ca, clid.clone(), durability)?;
            pki.registrars.insert(clid, credentials);
        }
        Ok(pki)
    }

    /// Reads a PKI written by [`init`](Self::init) (and maybe extended by
    /// [`add_registrar`](Self::add_registrar)).
    ///
    /// Every `NAME.pem` other than `ca.pem` and `server.pem` is a registrar, which must also
    /// have `NAME.key` and `NAME.password`; a lone `NAME.key` or `NAME.password` names a
    /// registrar with missing files. `root.key` is the trust anchor `serve --dns` writes here,
    /// not a registrar's key: the stem `root` is reserved, and a `root.pem` or
    /// `root.password` is reported as a registrar with a reserved name. Each certificate is checked as the TLS handshake
    /// would check it (chains to `ca.pem`, currently valid, right usage), each key against its
    /// certificate, and each registrar certificate's clID against its file name, so a broken or
    /// mixed-up directory is reported here, by file, rather than as a failed handshake.
    /// Files with other extensions are ignored.
    pub fn load(dir: &Path) -> Result<Self, PkiError> {
        let ca_cert_path = dir.join(CA_CERT_FILE);
        let ca = Authority::from_pem(
            &files::read_text(&ca_cert_path)?,
            &files::read_text(&dir.join(CA_KEY_FILE))?,
        )
        .map_err(|problem| PkiError::Invalid {
            path: ca_cert_path,
            problem,
        })?;

        let server_cert_path = dir.join(SERVER_CERT_FILE);
        let server = Identity::read(&server_cert_path, &dir.join(SERVER_KEY_FILE))?;
        verify::verify_server_certificate(&ca, server.cert_der()).map_err(|source| {
            PkiError::Untrusted {
                path: server_cert_path,
                source,
            }
        })?;

        let mut stems = BTreeSet::new();
        let entries = std::fs::read_dir(dir).map_err(|source| PkiError::Io {
            path: dir.to_owned(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| PkiError::Io {
                    path: dir.to_owned(),
                    source,
                })?
                .path();
            let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
                continue;
            };
            let registrar_ext = [files::CERT_EXT, files::KEY_EXT, files::PASSWORD_EXT]
                .iter()
                .any(|e| ext == *e);
            if !registrar_ext || stem == "ca" || stem == RESERVED_STEM {
                continue;
            }
            // The trust anchor's DNSKEY file, not a registrar's private key. A `root.pem` or
            // `root.password` still goes on, to be refused by `check_registrar_name` below.
            if stem == TRUST_ANCHOR_STEM && ext == files::KEY_EXT {
                continue;
            }
            let stem = stem.to_str().ok_or_else(|| PkiError::Invalid {
                path: path.clone(),
                problem: "the file name is not UTF-8, so it names no registrar".to_owned(),
            })?;
            stems.insert(stem.to_owned());
        }

        let mut registrars = BTreeMap::new();
        for stem in stems {
            let clid = check_registrar_name(&stem)?;
            let credentials = RegistrarCredentials::load(dir, &ca, clid.clone())?;
            registrars.insert(clid, credentials);
        }
        Ok(Self {
            dir: dir.to_owned(),
            durability: Durability::Synced,
            ca,
            server,
            registrars,
        })
    }

    /// Issues a certificate and password for a new registrar and writes its three files.
    pub fn add_registrar(&mut self, name: &str) -> Result<&RegistrarCredentials, PkiError> {
        let clid = check_registrar_name(name)?;
        if self
            .registrars
            .keys()
            .any(|c| c.as_str().eq_ignore_ascii_case(clid.as_str()))
        {
            return Err(PkiError::DuplicateRegistrar {
                name: clid.to_string(),
            });
        }
        let credentials =
            RegistrarCredentials::create(&self.dir, &self.ca, clid.clone(), self.durability)?;
        Ok(self.registrars.entry(clid).or_insert(credentials))
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The test CA that signs the server's and every registrar's certificate.
    pub fn ca(&self) -> &Authority {
        &self.ca
    }

    /// The registry server's certificate and key.
    pub fn server(&self) -> &Identity {
        &self.server
    }

    /// A registrar's credentials, by clID.
    pub fn registrar(&self, clid: &str) -> Option<&RegistrarCredentials> {
        self.registrars.get(clid)
    }

    /// All registrars, ordered by clID.
    pub fn registrars(&self) -> impl Iterator<Item = &RegistrarCredentials> {
        self.registrars.values()
    }

    /// Every file of the PKI with a description: the CA's, the server's, then each registrar's
    /// by clID.
    pub fn files(&self) -> Vec<PkiFile> {
        let file = |name: &str, description: &str| PkiFile {
            path: self.dir.join(name),
            description: description.to_owned(),
        };
        let mut out = vec![
            file(CA_CERT_FILE, "CA certificate"),
            file(CA_KEY_FILE, "CA private key"),
            file(SERVER_CERT_FILE, "server certificate"),
            file(SERVER_KEY_FILE, "server private key"),
        ];
        for registrar in self.registrars() {
            out.extend(registrar_files(registrar));
        }
        out
    }
}

/// The three files of one registrar, described.
pub fn registrar_files(registrar: &RegistrarCredentials) -> [PkiFile; 3] {
    let clid = registrar.clid();
    [
        PkiFile {
            path: registrar.cert_path().to_owned(),
            description: format!("client certificate of {clid}"),
        },
        PkiFile {
            path: registrar.key_path().to_owned(),
            description: format!("private key of {clid}"),
        },
        PkiFile {
            path: registrar.password_path().to_owned(),
            description: format!("EPP password of {clid}"),
        },
    ]
}

/// Checks a registrar name: a valid clID (`eppcom:clIDType`), safe as a file name and in a
/// URI, and none of the reserved names. Scenario files are checked with it before a world is
/// built.
pub fn check_registrar_name(name: &str) -> Result<ClId, PkiError> {
    let clid = ClId::new(name)?;
    let unusable = |reason| PkiError::UnusableName {
        name: name.to_owned(),
        reason,
    };
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(unusable("it contains a character other than those allowed"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(unusable("it does not start with a letter or digit"));
    }
    if name.eq_ignore_ascii_case(RESERVED_STEM) {
        return Err(unusable("it is the name of the server's files"));
    }
    if name.eq_ignore_ascii_case(TRUST_ANCHOR_STEM) {
        return Err(unusable(
            "it is the name of the trust anchor files (root.key) serve --dns writes",
        ));
    }
    Ok(clid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrar_names_must_be_clids_and_file_safe() {
        assert!(check_registrar_name("registrar-a").is_ok());
        assert!(check_registrar_name("1234").is_ok());
        assert!(check_registrar_name("a.b_c").is_ok());
        assert!(matches!(
            check_registrar_name("ab"),
            Err(PkiError::InvalidClId(_))
        ));
        assert!(matches!(
            check_registrar_name("a-very-long-registrar-name"),
            Err(PkiError::InvalidClId(_))
        ));
        for bad in [
            "a b c", "../etc", "reg/a", ".hidden", "-dash", "Server", "ünï", "root", "ROOT",
        ] {
            let err = check_registrar_name(bad).unwrap_err();
            assert!(matches!(err, PkiError::UnusableName { .. }), "{bad}: {err}");
        }
    }

    /// What `serve --dns` leaves in the PKI directory is not a registrar (issue 11).
    #[test]
    fn trust_anchor_files_are_not_registrars() {
        let dir = tempfile::tempdir().unwrap();
        Pki::init(dir.path(), &["registrar-a"]).unwrap();
        for (file, text) in [
            ("root.key", ". 3600 IN DNSKEY 257 3 13 AAAA\n"),
            ("root.ds", ". 3600 IN DS 1 13 2 00\n"),
            ("trust-anchors.conf", "trust-anchors {\n};\n"),
        ] {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let mut pki = Pki::load(dir.path()).unwrap();
        let names: Vec<&str> = pki.registrars().map(|r| r.clid().as_str()).collect();
        assert_eq!(names, ["registrar-a"]);
        pki.add_registrar("registrar-b").unwrap();
        assert_eq!(Pki::load(dir.path()).unwrap().registrars().count(), 2);
        // A registrar's file under the reserved stem is still reported, not skipped.
        std::fs::write(dir.path().join("root.password"), "0123456789abcdef").unwrap();
        let err = Pki::load(dir.path()).unwrap_err();
        assert!(matches!(err, PkiError::UnusableName { .. }), "{err}");
    }

    /// A world's scratch PKI is the same PKI as a kept one: it loads, and a registrar added
    /// later is written the same way.
    #[test]
    fn a_scratch_pki_is_an_ordinary_pki() {
        let dir = tempfile::tempdir().unwrap();
        let mut pki = Pki::init_scratch(dir.path(), &["registrar-a"]).unwrap();
        pki.add_registrar("registrar-b").unwrap();
        let loaded = Pki::load(dir.path()).unwrap();
        let names: Vec<&str> = loaded.registrars().map(|r| r.clid().as_str()).collect();
        assert_eq!(names, ["registrar-a", "registrar-b"]);
        assert!(Pki::init_scratch(dir.path(), &["registrar-c"]).is_err());
    }
}
