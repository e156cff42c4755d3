//! [`InlineStr`]: an immutable string kept inline when short, on the heap otherwise.
//!
//! Why it exists: the strings EPP handles in bulk are short (element names, domain names,
//! client ids, transaction ids), and a server keeps many of them for a long time. Each one on
//! the heap is an allocation when it is made and, much later, a free of memory that has long
//! left the cache. Kept inline they cost neither: the XML reader names every element with one
//! ([`tree::Name`](crate::tree::Name)), and the registry's transaction log keeps its 100,000
//! entries in them.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A string of up to `N` bytes (`N` at most 255) stored inline, longer ones on the heap. It
/// reads as a `&str`; equality, order and hash are those of the string.
#[derive(Clone)]
pub struct InlineStr<const N: usize>(Repr<N>);

#[derive(Clone)]
enum Repr<const N: usize> {
    /// The length, then the bytes (only the first `len` count).
    Inline(u8, [u8; N]),
    Heap(Box<str>),
}

impl<const N: usize> InlineStr<N> {
    /// The string as a slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(len, bytes) => std::str::from_utf8(&bytes[..usize::from(*len)])
                .expect("invariant: the bytes were copied whole from a str"),
            Repr::Heap(s) => s,
        }
    }

    /// `true` when the string is kept inline (no allocation).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(..))
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(len, bytes) => &bytes[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

impl<const N: usize> From<&str> for InlineStr<N> {
    fn from(s: &str) -> Self {
        // The length is kept in one octet.
        const { assert!(N <= 255, "InlineStr keeps at most 255 bytes inline") };
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= N => {
                let mut bytes = [0u8; N];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Self(Repr::Inline(len, bytes))
            }
            _ => Self(Repr::Heap(s.into())),
        }
    }
}

impl<const N: usize> From<String> for InlineStr<N> {
    fn from(s: String) -> Self {
        if s.len() <= N {
            Self::from(s.as_str())
        } else {
            // Already on the heap: keep that allocation.
            Self(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl<const N: usize> From<&String> for InlineStr<N> {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl<const N: usize> From<InlineStr<N>> for String {
    fn from(s: InlineStr<N>) -> Self {
        match s.0 {
            Repr::Heap(b) => b.into_string(),
            Repr::Inline(..) => s.as_str().to_string(),
        }
    }
}

impl<const N: usize> std::ops::Deref for InlineStr<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for InlineStr<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> std::borrow::Borrow<str> for InlineStr<N> {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> PartialEq for InlineStr<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for InlineStr<N> {}

impl<const N: usize> PartialOrd for InlineStr<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for InlineStr<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> Hash for InlineStr<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that `Borrow<str>` lookups find it.
        self.as_str().hash(state);
    }
}

impl<const N: usize> PartialEq<str> for InlineStr<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for InlineStr<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<InlineStr<N>> for str {
    fn eq(&self, other: &InlineStr<N>) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<InlineStr<N>> for &str {
    fn eq(&self, other: &InlineStr<N>) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    proptest! {
        /// Whatever the length, it reads back as the string it was made from, compares and
        /// hashes as that string, and is inline exactly when it fits.
        #[test]
        fn behaves_as_the_string(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let (ia, ib) = (InlineStr::<8>::from(a.as_str()), InlineStr::<8>::from(b.clone()));
            prop_assert_eq!(ia.as_str(), a.as_str());
            prop_assert_eq!(ib.as_str(), b.as_str());
            prop_assert_eq!(ia.is_inline(), a.len() <= 8);
            prop_assert_eq!(ia == ib, a == b);
            prop_assert_eq!(ia.cmp(&ib), a.cmp(&b));
            prop_assert_eq!(hash_of(&ia), hash_of(a.as_str()));
            prop_assert_eq!(String::from(ia), a);
        }
    }

    #[test]
    fn the_widest_inline_form_takes_no_more_than_its_bytes_and_two() {
        assert_eq!(std::mem::size_of::<InlineStr<30>>(), 32);
        assert_eq!(std::mem::size_of::<InlineStr<46>>(), 48);
    }
}
