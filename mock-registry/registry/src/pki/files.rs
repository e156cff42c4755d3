//! The PKI's files on disk: names, and writing that never clobbers.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::PkiError;

/// Extension of certificate files (PEM).
pub(crate) const CERT_EXT: &str = "pem";
/// Extension of private key files (PEM, PKCS #8).
pub(crate) const KEY_EXT: &str = "key";
/// Extension of EPP password files.
pub(crate) const PASSWORD_EXT: &str = "password";

/// Who may read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Certificates: anyone.
    Public,
    /// Keys and passwords: the owner only (mode 0600 on Unix). It is a test PKI, but a key
    /// lying around world-readable teaches the wrong habit and upsets some TLS clients.
    Secret,
}

/// Whether each file is flushed to disk before the next is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Synced: a PKI a user keeps, which a crash must not leave with an empty key file.
    Synced,
    /// Left to the page cache: a directory deleted when the process ends (a world's), where a
    /// sync per file only costs time.
    Scratch,
}

/// Writes a new file, failing if it exists: a PKI is never silently replaced, since that would
/// invalidate every certificate handed out from it.
pub(crate) fn write_new(
    path: &Path,
    contents: &[u8],
    mode: Mode,
    durability: Durability,
) -> Result<(), PkiError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match mode {
            Mode::Public => 0o644,
            Mode::Secret => 0o600,
        });
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            PkiError::AlreadyExists {
                path: path.to_owned(),
            }
        } else {
            PkiError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    file.write_all(contents)
        .and_then(|()| match durability {
            Durability::Synced => file.sync_all(),
            Durability::Scratch => Ok(()),
        })
        .map_err(|source| PkiError::Io {
            path: path.to_owned(),
            source,
        })
}

/// Reads a whole text file.
pub(crate) fn read_text(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}
