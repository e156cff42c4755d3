//! Whether 32 octets are the encoding of a point of edwards25519: the decoding of RFC 8032
//! §5.1.3, done only as far as deciding success.
//!
//! ring checks an Ed25519 public key only when it verifies a signature, and the registry has
//! no signature to verify, so the decoding is done here, with arithmetic modulo
//! p = 2^255 − 19 on four 64-bit limbs. Nothing here is secret (public keys only), so nothing
//! needs to run in constant time.

/// An element of GF(p), as little-endian 64-bit limbs, always reduced (below p).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fe([u64; 4]);

/// p = 2^255 − 19.
const P: [u64; 4] = [
    0xffff_ffff_ffff_ffed,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
    0x7fff_ffff_ffff_ffff,
];

/// d = −121665/121666 mod p, the curve constant (RFC 8032 §5.1).
const D: Fe = Fe([
    0x75eb_4dca_1359_78a3,
    0x0070_0a4d_4141_d8ab,
    0x8cc7_4079_7779_e898,
    0x5203_6cee_2b6f_fe73,
]);

/// (p − 5)/8 = 2^252 − 3, the exponent of the square root candidate (RFC 8032 §5.1.3 step 3).
const SQRT_EXPONENT: [u64; 4] = [
    0xffff_ffff_ffff_fffd,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
    0x0fff_ffff_ffff_ffff,
];

const ZERO: Fe = Fe([0; 4]);
const ONE: Fe = Fe([1, 0, 0, 0]);

/// `a ≥ b` for 256-bit little-endian numbers.
fn at_least(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a − b` and whether it borrowed.
fn sub_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// `a + b` and the carry out of 256 bits.
fn add_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

impl Fe {
    /// The element for a number below p.
    fn from_limbs(limbs: [u64; 4]) -> Option<Self> {
        (!at_least(&limbs, &P)).then_some(Self(limbs))
    }

    fn add(self, other: Self) -> Self {
        // Both are below p < 2^255, so the sum fits in 256 bits.
        let (sum, _) = add_limbs(&self.0, &other.0);
        Self::reduce_once(sum)
    }

    fn sub(self, other: Self) -> Self {
        let (diff, borrow) = sub_limbs(&self.0, &other.0);
        if borrow {
            // The difference wrapped modulo 2^256; adding p brings it back into [0, p).
            let (back, _) = add_limbs(&diff, &P);
            Self(back)
        } else {
            Self(diff)
        }
    }

    fn neg(self) -> Self {
        ZERO.sub(self)
    }

    fn mul(self, other: Self) -> Self {
        // Schoolbook product in eight limbs.
        let mut wide = [0u64; 8];
        for i in 0..4 {
            let mut carry: u128 = 0;
            for j in 0..4 {
                let cur = u128::from(wide[i + j])
                    + u128::from(self.0[i]) * u128::from(other.0[j])
                    + carry;
                wide[i + j] = cur as u64;
                carry = cur >> 64;
            }
            wide[i + 4] = carry as u64;
        }
        // 2^256 ≡ 38 (mod p): fold the high half onto the low one.
        let mut folded = [0u64; 4];
        let mut carry: u128 = 0;
        for i in 0..4 {
            let cur = u128::from(wide[i]) + u128::from(wide[i + 4]) * 38 + carry;
            folded[i] = cur as u64;
            carry = cur >> 64;
        }
        // What is left above 2^256 is at most 38, so once more, and any carry of that is tiny.
        let mut extra = carry * 38;
        while extra != 0 {
            let mut c = extra;
            for limb in &mut folded {
                let cur = u128::from(*limb) + c;
                *limb = cur as u64;
                c = cur >> 64;
            }
            extra = c * 38;
        }
        Self::reduce_once(Self::reduce_once(folded).0)
    }

    fn square(self) -> Self {
        self.mul(self)
    }

    /// `self^exponent` by square and multiply.
    fn pow(self, exponent: &[u64; 4]) -> Self {
        let mut acc = ONE;
        for limb in exponent.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (limb >> bit) & 1 == 1 {
                    acc = acc.mul(self);
                }
            }
        }
        acc
    }

    /// A number below 2^256 taken modulo p, when it is below 2p (one subtraction).
    fn reduce_once(limbs: [u64; 4]) -> Self {
        if at_least(&limbs, &P) {
            Self(sub_limbs(&limbs, &P).0)
        } else {
            Self(limbs)
        }
    }
}

/// `true` when `encoded` decodes to a point of edwards25519 (RFC 8032 §5.1.3).
///
/// 1. The encoding is y, little-endian, with the sign of x in bit 255; y must be below p.
/// 2. x² = u/v with u = y² − 1 and v = d·y² + 1.
/// 3. The candidate root is x = u·v³·(u·v⁷)^((p−5)/8).
/// 4. If v·x² = u, x is a root; if v·x² = −u, x·√−1 is; otherwise there is no point with
///    this y and decoding fails.
/// 5. If x = 0 (y = ±1) the sign bit must be 0.
pub(crate) fn is_point(encoded: &[u8; 32]) -> bool {
    let mut limbs = [0u64; 4];
    for (i, chunk) in encoded.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        limbs[i] = u64::from_le_bytes(word);
    }
    let x_0 = limbs[3] >> 63 == 1;
    limbs[3] &= 0x7fff_ffff_ffff_ffff;
    let Some(y) = Fe::from_limbs(limbs) else {
        return false;
    };
    let y2 = y.square();
    let u = y2.sub(ONE);
    let v = D.mul(y2).add(ONE);
    let v3 = v.square().mul(v);
    let v7 = v3.square().mul(v);
    let x = u.mul(v3).mul(u.mul(v7).pow(&SQRT_EXPONENT));
    let vx2 = v.mul(x.square());
    if vx2 != u && vx2 != u.neg() {
        return false;
    }
    // x = 0 exactly when u = 0 (v is never 0: d is not a square).
    !(u == ZERO && x_0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The field arithmetic against u128 arithmetic for small numbers and against identities.
    #[test]
    fn field_arithmetic() {
        let small = |n: u64| Fe([n, 0, 0, 0]);
        assert_eq!(small(7).mul(small(6)), small(42));
        assert_eq!(small(3).sub(small(5)), Fe([P[0] - 2, P[1], P[2], P[3]]));
        assert_eq!(small(3).sub(small(5)).add(small(2)), ZERO);
        // (p − 1)² = 1.
        let minus_one = ONE.neg();
        assert_eq!(minus_one.square(), ONE);
        // Fermat: a^(p−1) = 1.
        let p_minus_one = [P[0] - 1, P[1], P[2], P[3]];
        assert_eq!(D.pow(&p_minus_one), ONE);
        // d·121666 = −121665.
        assert_eq!(D.mul(small(121_666)), small(121_665).neg());
    }

    proptest! {
        /// Multiplication distributes and commutes for arbitrary reduced elements.
        #[test]
        fn multiplication_is_a_ring_operation(a in any::<[u64; 4]>(), b in any::<[u64; 4]>(), c in any::<[u64; 4]>()) {
            let fe = |mut l: [u64; 4]| { l[3] &= 0x3fff_ffff_ffff_ffff; Fe(l) };
            let (a, b, c) = (fe(a), fe(b), fe(c));
            prop_assert_eq!(a.mul(b), b.mul(a));
            prop_assert_eq!(a.mul(b.add(c)), a.mul(b).add(a.mul(c)));
            prop_assert_eq!(a.mul(b).mul(c), a.mul(b.mul(c)));
            prop_assert_eq!(a.sub(b).add(b), a);
        }
    }
}
