//! The PKI on disk: reading it back, extending it, and refusing broken directories.

use std::fs;

use mock_registry::pki::{EppPassword, Pki, PkiError};
use mock_registry::tls;

use crate::support;

#[test]
fn load_reads_back_what_init_wrote() {
    let (dir, written) = support::pki();
    let read = Pki::load(dir.path()).unwrap();
    assert_eq!(read.ca().cert_pem(), written.ca().cert_pem());
    assert_eq!(read.server().cert_pem(), written.server().cert_pem());
    assert_eq!(read.server().key_pem(), written.server().key_pem());
    let names: Vec<_> = read.registrars().map(|r| r.clid().to_string()).collect();
    assert_eq!(names, support::REGISTRARS);
    for w in written.registrars() {
        let r = read.registrar(w.clid().as_str()).unwrap();
        assert_eq!(r.identity().cert_pem(), w.identity().cert_pem());
        assert_eq!(r.identity().key_pem(), w.identity().key_pem());
        assert_eq!(r.password(), w.password());
        assert_eq!(r.cert_path(), dir.path().join(format!("{}.pem", w.clid())));
    }
    assert_eq!(read.files(), written.files());
}

/// A registrar added to a PKI read back from disk is signed by the same CA (rebuilt from
/// `ca.pem` and `ca.key`), so the registry's server configuration accepts it.
#[tokio::test]
async fn a_registrar_added_after_loading_can_connect() {
    let (dir, _) = support::pki();
    let mut pki = Pki::load(dir.path()).unwrap();
    let added = pki.add_registrar("late-comer").unwrap();
    assert!(added.password_path().is_file());
    let again = Pki::load(dir.path()).unwrap();
    assert!(again.registrar("late-comer").is_some());
    let outcome = support::connect_once(
        tls::server_config(&again).unwrap(),
        tls::client_config(&again, "late-comer").unwrap(),
    )
    .await;
    assert_eq!(outcome.server.unwrap().as_str(), "late-comer");
    assert!(matches!(
        pki.add_registrar("Late-Comer"),
        Err(PkiError::DuplicateRegistrar { .. })
    ));
}

#[test]
fn init_refuses_bad_names_duplicates_and_existing_pkis() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("pki");
    assert!(matches!(
        Pki::init(&target, &["ab"]),
        Err(PkiError::InvalidClId(_))
    ));
    assert!(matches!(
        Pki::init(&target, &["../escape"]),
        Err(PkiError::UnusableName { .. })
    ));
    assert!(matches!(
        Pki::init(&target, &["registrar-a", "REGISTRAR-A"]),
        Err(PkiError::DuplicateRegistrar { .. })
    ));
    // Nothing was written by the refused attempts.
    assert!(!target.exists());

    Pki::init(&target, &["registrar-a"]).unwrap();
    let before = fs::read(target.join("ca.pem")).unwrap();
    assert!(matches!(
        Pki::init(&target, &["registrar-b"]),
        Err(PkiError::AlreadyExists { .. })
    ));
    assert_eq!(fs::read(target.join("ca.pem")).unwrap(), before);
    assert!(!target.join("registrar-b.pem").exists());
}

#[test]
fn password_files_hold_the_password_only() {
    let (dir, pki) = support::pki();
    for registrar in pki.registrars() {
        let bytes = fs::read(registrar.password_path()).unwrap();
        assert_eq!(bytes, registrar.password().expose().as_bytes());
        assert_eq!(bytes.len(), EppPassword::MAX_CHARS);
        assert!(bytes.iter().all(u8::is_ascii_alphanumeric));
    }
    // A newline added by an editor is tolerated; anything else is not.
    let path = dir.path().join("registrar-a.password");
    fs::write(&path, "edited-password\n").unwrap();
    let pki = Pki::load(dir.path()).unwrap();
    assert_eq!(
        pki.registrar("registrar-a").unwrap().password().expose(),
        "edited-password"
    );
    fs::write(&path, "short\n").unwrap();
    assert!(matches!(
        Pki::load(dir.path()),
        Err(PkiError::Password { .. })
    ));
}

#[cfg(unix)]
#[test]
fn keys_and_passwords_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = support::pki();
    for entry in fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let secret = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("key" | "password")
        );
        assert_eq!(mode & 0o077 == 0, secret, "{}: {mode:o}", path.display());
    }
}

#[test]
fn load_reports_broken_directories_by_file() {
    // A key that belongs to another certificate.
    let (dir, _) = support::pki();
    fs::copy(
        dir.path().join("registrar-b.key"),
        dir.path().join("registrar-a.key"),
    )
    .unwrap();
    let error = Pki::load(dir.path()).unwrap_err();
    assert!(
        matches!(&error, PkiError::Invalid { path, problem }
            if path.ends_with("registrar-a.pem") && problem.contains("does not belong")),
        "{error}"
    );

    // A registrar without a password.
    let (dir, _) = support::pki();
    fs::remove_file(dir.path().join("registrar-b.password")).unwrap();
    let error = Pki::load(dir.path()).unwrap_err();
    assert!(
        matches!(&error, PkiError::Incomplete { name, .. } if name == "registrar-b"),
        "{error}"
    );

    // A certificate under another registrar's name.
    let (dir, _) = support::pki();
    for ext in ["pem", "key", "password"] {
        fs::copy(
            dir.path().join(format!("registrar-a.{ext}")),
            dir.path().join(format!("registrar-c.{ext}")),
        )
        .unwrap();
    }
    let error = Pki::load(dir.path()).unwrap_err();
    assert!(
        matches!(&error, PkiError::WrongClId { expected, found, .. }
            if expected.as_str() == "registrar-c" && found.as_str() == "registrar-a"),
        "{error}"
    );

    // A registrar certificate from another PKI's CA.
    let (dir, _) = support::pki();
    let (other, _) = support::pki();
    for ext in ["pem", "key"] {
        fs::copy(
            other.path().join(format!("registrar-a.{ext}")),
            dir.path().join(format!("registrar-a.{ext}")),
        )
        .unwrap();
    }
    let error = Pki::load(dir.path()).unwrap_err();
    assert!(matches!(&error, PkiError::Untrusted { .. }), "{error}");

    // No PKI at all.
    let empty = tempfile::tempdir().unwrap();
    let error = Pki::load(empty.path()).unwrap_err();
    assert!(
        matches!(&error, PkiError::Io { path, .. } if path.ends_with("ca.pem")),
        "{error}"
    );
}
