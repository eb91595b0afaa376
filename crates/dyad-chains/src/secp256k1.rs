//! secp256k1 ECDSA signatures in the canonical form EVM and Cosmos accept.

use alloy_primitives::{uint, B256, U256};

use crate::ChainError;

/// The order n of the secp256k1 group.
const SECP256K1_N: U256 = uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

/// `(r, s)` with `y_parity` made canonical: both scalars checked to be in `[1, n-1]`, and a high
/// `s` replaced by `n - s` with the parity flipped (the same signature's low-s twin, which is
/// the only one Ethereum (EIP-2) and Cosmos accept).
pub(crate) fn low_s(r: &[u8; 32], s: &[u8; 32], y_parity: bool) -> Result<alloy_primitives::Signature, ChainError> {
    for (name, value) in [("r", r), ("s", s)] {
        let scalar = U256::from_be_bytes(*value);
        // Out-of-range scalars are not signatures; normalizing them would wrap around.
        if scalar.is_zero() || scalar >= SECP256K1_N {
            return Err(ChainError::InvalidSignature(format!("{name} is not in [1, n-1]")));
        }
    }
    let signature = alloy_primitives::Signature::from_scalars_and_parity(B256::from(*r), B256::from(*s), y_parity);
    Ok(signature.normalized_s())
}

/// A finished MPC signature as the chain's canonical ECDSA signature: it must be ECDSA
/// ([`ChainError::KeyMismatch`] otherwise) with recovery id 0 or 1 (2 and 3 mean `r` overflowed
/// the group order, which neither `v` nor `yParity` can express), then [`low_s`].
pub(crate) fn canonical(signature: &crate::Signature) -> Result<alloy_primitives::Signature, ChainError> {
    let crate::Signature::Secp256k1 { r, s, recovery_id } = signature else {
        return Err(ChainError::KeyMismatch);
    };
    let y_parity = match recovery_id {
        0 => false,
        1 => true,
        _ => return Err(ChainError::InvalidSignature("a secp256k1 recovery id is 0 or 1".into())),
    };
    low_s(r, s, y_parity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n_minus(k: u64) -> [u8; 32] {
        (SECP256K1_N - U256::from(k)).to_be_bytes()
    }

    #[test]
    fn the_order_is_the_published_constant() {
        // SEC 2, section 2.4.1: n of secp256k1.
        assert_eq!(
            hex::encode(SECP256K1_N.to_be_bytes::<32>()),
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
        );
    }

    #[test]
    fn low_s_is_kept_and_high_s_is_flipped() {
        let r = [7u8; 32];
        let low = U256::from(5u64).to_be_bytes::<32>();
        let kept = low_s(&r, &low, true).unwrap();
        assert_eq!(kept.s(), U256::from(5u64));
        assert!(kept.v());

        // n - 5 is high; its twin is 5 with the other parity.
        let flipped = low_s(&r, &n_minus(5), true).unwrap();
        assert_eq!(flipped.s(), U256::from(5u64));
        assert!(!flipped.v());
        assert_eq!(flipped.r(), U256::from_be_bytes(r));

        // n/2 is the largest low s; n/2 + 1 the smallest high one.
        let half: U256 = SECP256K1_N >> 1usize;
        assert_eq!(low_s(&r, &half.to_be_bytes(), false).unwrap().s(), half);
        let above = (half + U256::from(1u64)).to_be_bytes();
        assert_eq!(low_s(&r, &above, false).unwrap().s(), half);
    }

    #[test]
    fn out_of_range_scalars_are_rejected() {
        let one = U256::from(1u64).to_be_bytes::<32>();
        let n = SECP256K1_N.to_be_bytes::<32>();
        for (r, s) in [
            ([0u8; 32], one),
            (one, [0u8; 32]),
            (n, one),
            (one, n),
            ([0xff; 32], one),
        ] {
            assert!(matches!(low_s(&r, &s, false), Err(ChainError::InvalidSignature(_))));
        }
        assert!(low_s(&n_minus(1), &n_minus(1), false).is_ok());
    }
}
