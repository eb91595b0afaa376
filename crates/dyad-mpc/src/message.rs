//! Round messages on the wire: one tag byte naming (scheme, protocol, round), then the postcard
//! encoding of that round's payload.
//!
//! postcard is not self-describing, so without the tag the payload of one round could happen to
//! decode as another round's; the tag turns every mix-up into [`MpcError::Decode`]
//! before any protocol code sees the bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{encoding, MpcError};

/// Names the payload a round message carries. A changed message layout gets a new tag, never a reused
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    DklsDkg1 = 0x11,
    DklsDkg2 = 0x12,
    DklsDkg3 = 0x13,
    /// Round 3 of a DKG whose multiplication was set up ahead of time: no base OTs.
    DklsDkgWithSetup3 = 0x14,
    DklsSetup1 = 0x15,
    DklsSign1 = 0x21,
    DklsSign2 = 0x22,
    DklsSign3 = 0x23,
    DklsRefresh1 = 0x31,
    DklsRefresh2 = 0x32,
    DklsRefresh3 = 0x33,
    FrostDkg1 = 0x41,
    FrostDkg2 = 0x42,
    FrostSign1 = 0x51,
    FrostSign2 = 0x52,
    FrostRefresh1 = 0x61,
    FrostRefresh2 = 0x62,
}

/// Encodes `payload` as the round message named by `tag`.
pub(crate) fn encode<T: Serialize>(tag: Tag, payload: &T) -> Result<Vec<u8>, MpcError> {
    let mut message = encoding::encode(tag as u8, payload)
        .map_err(|_| MpcError::Protocol("could not encode an outgoing message".into()))?;
    // The API hands messages out as plain vectors; taking the buffer moves it without a copy, so a
    // message holding a secret for the peer exists once and the transport owns it.
    Ok(std::mem::take(&mut *message))
}

/// Decodes a round message that must carry the payload named by `tag`, and nothing after it.
pub(crate) fn decode<T: DeserializeOwned>(tag: Tag, message: &[u8]) -> Result<T, MpcError> {
    // Checked before decoding so that a message of another round is never parsed as this one's.
    if message.first() != Some(&(tag as u8)) {
        return Err(MpcError::Decode);
    }
    let (_, payload) = encoding::decode(message).ok_or(MpcError::Decode)?;
    Ok(payload)
}

/// Takes the only element of a list the libraries build per counterparty. With one
/// counterparty there is exactly one; anything else means our own state is wrong.
pub(crate) fn single<T>(items: Vec<T>) -> Result<T, MpcError> {
    let mut items = items.into_iter();
    match (items.next(), items.next()) {
        (Some(item), None) => Ok(item),
        _ => Err(MpcError::Protocol("expected exactly one message for the peer".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_rejections() {
        let message = encode(Tag::DklsSign2, &(7u32, vec![1u8, 2, 3])).unwrap();
        assert_eq!(message[0], Tag::DklsSign2 as u8);
        let back: (u32, Vec<u8>) = decode(Tag::DklsSign2, &message).unwrap();
        assert_eq!(back, (7, vec![1, 2, 3]));

        // Another round's tag, trailing bytes, truncation and emptiness are all Decode.
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::DklsSign3, &message),
            Err(MpcError::Decode)
        ));
        let mut longer = message.clone();
        longer.push(0);
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::DklsSign2, &longer),
            Err(MpcError::Decode)
        ));
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::DklsSign2, &message[..message.len() - 1]),
            Err(MpcError::Decode)
        ));
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::DklsSign2, &[]),
            Err(MpcError::Decode)
        ));
    }

    #[test]
    fn single_requires_exactly_one() {
        assert_eq!(single(vec![5]).unwrap(), 5);
        assert!(single::<u8>(vec![]).is_err());
        assert!(single(vec![1, 2]).is_err());
    }
}
