//! Certificates for refusal tests: ones the registry must reject, or must accept as someone
//! other than who presents them.
//!
//! Nothing here is written to disk unless a test asks ([`Identity::write`]); nothing here is
//! used by the registry itself.

use super::{Authority, Identity, Pki, PkiError, Validity, authority::client_params};

/// What to put in a client certificate made by [`Authority::issue_client_cert`].
///
/// The fields are deliberately unchecked: a fixture may carry no clID, two different ones, or
/// one that is not a valid clID at all.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertSpec<'a> {
    /// The subject CN, if any.
    pub common_name: Option<&'a str>,
    /// The clID in a subjectAltName URI `epp-clid:…`, if any (must be ASCII).
    pub clid_uri: Option<&'a str>,
    /// Re-use this identity's key instead of a fresh one, e.g. to give registrar A a
    /// certificate naming B for A's own key.
    pub key_of: Option<&'a Identity>,
    /// Whether to include the clientAuth extended key usage; without it the certificate is for
    /// serverAuth only, which a client verifier must refuse.
    pub client_auth: bool,
    /// The validity window, e.g. one in the past for an expired certificate.
    pub validity: Validity,
}

impl<'a> ClientCertSpec<'a> {
    /// What [`Authority::issue_registrar`] makes for `clid`: CN and URI both `clid`, a fresh
    /// key, clientAuth, valid now. Change fields from here.
    pub fn for_clid(clid: &'a str) -> Self {
        Self {
            common_name: Some(clid),
            clid_uri: Some(clid),
            key_of: None,
            client_auth: true,
            validity: Validity::current(),
        }
    }
}

impl Authority {
    /// Issues a client certificate exactly as `spec` says, sensible or not.
    pub fn issue_client_cert(&self, spec: &ClientCertSpec<'_>) -> Result<Identity, PkiError> {
        let params = client_params(spec.common_name, spec.clid_uri, spec.client_auth)?;
        self.issue(
            "a fixture client certificate",
            params,
            spec.key_of,
            &spec.validity,
        )
    }
}

/// A CA that has nothing to do with any PKI on disk: certificates it issues must be refused.
pub fn unrelated_authority() -> Result<Authority, PkiError> {
    Authority::generate("unrelated test CA", &Validity::current())
}

/// A certificate for `clid` that looks right in every way except that an unrelated CA issued
/// it; returns that CA too, in case a test wants to trust it on purpose.
pub fn foreign_registrar(clid: &str) -> Result<(Authority, Identity), PkiError> {
    let ca = unrelated_authority()?;
    let identity = ca.issue_client_cert(&ClientCertSpec::for_clid(clid))?;
    Ok((ca, identity))
}

/// A certificate from `pki`'s own CA, for `holder`'s key, that names `claimed`.
///
/// TLS accepts it, and the authenticated clID is `claimed`: if `holder` then logs in with its
/// own clID, the EPP server must answer 2200 because the login clID differs from the
/// certificate's. (A CA that issued such a certificate would be mis-issuing; the test is that
/// the registry trusts the certificate's clID, not the login's.)
pub fn impersonation(pki: &Pki, holder: &str, claimed: &str) -> Result<Identity, PkiError> {
    let holder = pki.registrar(holder).ok_or_else(|| PkiError::Issue {
        what: format!("a certificate naming {claimed:?}"),
        problem: format!("the PKI has no registrar {holder:?}"),
    })?;
    pki.ca().issue_client_cert(&ClientCertSpec {
        key_of: Some(holder.identity()),
        ..ClientCertSpec::for_clid(claimed)
    })
}
