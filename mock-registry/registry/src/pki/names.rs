//! EPP client identifiers and passwords, checked against the EPP schema (`eppcom-1.0.xsd`,
//! `epp-1.0.xsd`).
//!
//! Both are `xs:token` values with a length range: a clID is `eppcom:clIDType` (3–16 characters),
//! a password is `epp:pwType` (6–16 characters). Parsing them once into [`ClId`] and
//! [`EppPassword`] means every later holder knows the value is one a strict EPP server accepts.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid `xs:token` of the required length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenProblem {
    /// The length, counted in characters as XML Schema does, is outside the allowed range.
    #[error("it has {chars} characters, not {min}–{max}")]
    Length {
        /// The number of characters found.
        chars: usize,
        /// The minimum the type allows.
        min: usize,
        /// The maximum the type allows.
        max: usize,
    },
    /// A tab, carriage return or line feed: `xs:token` collapses these, so they cannot be part
    /// of the value.
    #[error("it contains a tab, carriage return or line feed")]
    CollapsedWhitespace,
    /// A space at the start or the end, which `xs:token` strips.
    #[error("it starts or ends with a space")]
    EdgeSpace,
    /// Two spaces in a row, which `xs:token` collapses into one.
    #[error("it contains two spaces in a row")]
    DoubleSpace,
    /// A character XML 1.0 cannot carry at all (a control character or a non-character).
    #[error("it contains the character U+{0:04X}, which XML 1.0 cannot carry")]
    NotXmlChar(u32),
}

/// Checks that `value` is an `xs:token` whose length lies in `min..=max` characters.
///
/// A token is the whitespace-normalised form of a string: a value that would change under
/// normalisation would not survive a round trip through an XML parser, so it is refused here
/// rather than compared wrongly later.
fn check_token(value: &str, min: usize, max: usize) -> Result<(), TokenProblem> {
    for c in value.chars() {
        match c {
            '\t' | '\n' | '\r' => return Err(TokenProblem::CollapsedWhitespace),
            // XML 1.0 `Char` production, minus the three whitespace characters handled above.
            '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => {}
            other => return Err(TokenProblem::NotXmlChar(u32::from(other))),
        }
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err(TokenProblem::EdgeSpace);
    }
    if value.contains("  ") {
        return Err(TokenProblem::DoubleSpace);
    }
    let chars = value.chars().count();
    if !(min..=max).contains(&chars) {
        return Err(TokenProblem::Length { chars, min, max });
    }
    Ok(())
}

/// An EPP client identifier (`eppcom:clIDType`): the registrar's login name.
///
/// In this project a registrar's clID is also the identity carried in its TLS client
/// certificate, so the server can check that the `<clID>` of a `<login>` is the one the
/// certificate vouches for (RFC 5734 §9 leaves that policy to the server).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClId(String);

/// A string that is not a valid EPP clID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a valid EPP clID (eppcom:clIDType, a token of 3–16 characters): {problem}"
)]
pub struct ClIdError {
    /// The refused value.
    pub value: String,
    /// What is wrong with it.
    pub problem: TokenProblem,
}

impl ClId {
    /// The shortest clID the schema allows.
    pub const MIN_CHARS: usize = 3;
    /// The longest clID the schema allows.
    pub const MAX_CHARS: usize = 16;

    /// Checks `value` against `eppcom:clIDType`.
    pub fn new(value: impl Into<String>) -> Result<Self, ClIdError> {
        let value = value.into();
        match check_token(&value, Self::MIN_CHARS, Self::MAX_CHARS) {
            Ok(()) => Ok(Self(value)),
            Err(problem) => Err(ClIdError { value, problem }),
        }
    }

    /// The clID as it appears on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClId {
    type Err = ClIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for ClId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ClId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by [`ClId`] be searched with a plain `&str`; the ordering and hash are the
/// inner string's, as `Borrow` requires.
impl Borrow<str> for ClId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// An EPP password (`epp:pwType`), as given in `<login><pw>`.
///
/// Its `Debug` form hides the value, so a password never lands in a log by accident; use
/// [`expose`](Self::expose) where the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct EppPassword(String);

/// A string that is not a valid EPP password. The value itself is not repeated in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid EPP password (epp:pwType, a token of 6–16 characters): {problem}")]
pub struct PasswordError {
    /// What is wrong with it.
    pub problem: TokenProblem,
}

impl EppPassword {
    /// The shortest password the schema allows.
    pub const MIN_CHARS: usize = 6;
    /// The longest password the schema allows.
    pub const MAX_CHARS: usize = 16;

    /// The characters generated passwords are drawn from: ASCII letters and digits only, so a
    /// password needs no escaping in XML, JSON, TOML or a shell, and survives copy and paste.
    const ALPHABET: &'static [u8; 62] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// Checks `value` against `epp:pwType`.
    pub fn new(value: impl Into<String>) -> Result<Self, PasswordError> {
        let value = value.into();
        check_token(&value, Self::MIN_CHARS, Self::MAX_CHARS)
            .map_err(|problem| PasswordError { problem })?;
        Ok(Self(value))
    }

    /// A fresh random password of the maximum length (16 characters from a 62-letter
    /// alphabet, about 95 bits), drawn from the operating system's secure random source
    /// through the rustls crypto provider, so no other random-number crate is needed.
    pub fn generate() -> Result<Self, rustls::crypto::GetRandomFailed> {
        let random = rustls::crypto::ring::default_provider().secure_random;
        let mut password = String::with_capacity(Self::MAX_CHARS);
        let mut byte = [0u8; 1];
        while password.len() < Self::MAX_CHARS {
            random.fill(&mut byte)?;
            // Rejection sampling keeps the choice uniform: 248 = 4 × 62 is the largest multiple
            // of the alphabet size that fits in a byte.
            if byte[0] < 248 {
                let index = usize::from(byte[0]) % Self::ALPHABET.len();
                password.push(char::from(Self::ALPHABET[index]));
            }
        }
        Ok(Self(password))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EppPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EppPassword(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clid_follows_clidtype() {
        for good in ["abc", "registrar-a", "1234567890123456", "a b", "Ünïcödé"] {
            assert_eq!(ClId::new(good).unwrap().as_str(), good);
        }
        let problem = |s: &str| ClId::new(s).unwrap_err().problem;
        assert_eq!(
            problem("ab"),
            TokenProblem::Length {
                chars: 2,
                min: 3,
                max: 16
            }
        );
        assert!(matches!(
            problem("12345678901234567"),
            TokenProblem::Length { chars: 17, .. }
        ));
        assert_eq!(problem(" abc"), TokenProblem::EdgeSpace);
        assert_eq!(problem("abc "), TokenProblem::EdgeSpace);
        assert_eq!(problem("a  bc"), TokenProblem::DoubleSpace);
        assert_eq!(problem("ab\tc"), TokenProblem::CollapsedWhitespace);
        assert_eq!(problem("ab\u{1}c"), TokenProblem::NotXmlChar(1));
        // Length counts characters, not bytes.
        assert!(ClId::new("éééééééééééééééé").is_ok());
        let message = ClId::new("ab").unwrap_err().to_string();
        assert!(
            message.contains("\"ab\"") && message.contains("3–16"),
            "{message}"
        );
    }

    #[test]
    fn generated_passwords_are_valid_and_differ() {
        let a = EppPassword::generate().unwrap();
        let b = EppPassword::generate().unwrap();
        assert_ne!(a, b);
        for p in [&a, &b] {
            assert_eq!(p.expose().len(), EppPassword::MAX_CHARS);
            assert!(p.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
            assert_eq!(EppPassword::new(p.expose()).unwrap(), *p);
        }
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn password_follows_pwtype() {
        assert!(EppPassword::new("secret").is_ok());
        assert!(EppPassword::new("short").is_err());
        assert!(EppPassword::new("secret\n").is_err());
        assert!(EppPassword::new("12345678901234567").is_err());
        let err = EppPassword::new("hunter2\n").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
