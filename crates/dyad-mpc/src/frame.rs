//! Frames: one tag byte naming (scheme, protocol, round), then the postcard encoding of that
//! round's message.
//!
//! postcard is not self-describing, so without the tag a frame of one round could happen to
//! decode as another round's message; the tag turns every mix-up into [`MpcError::Decode`]
//! before any protocol code sees the bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{encoding, MpcError};

/// Names the message a frame carries. A changed message layout gets a new tag, never a reused
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    EcdsaDkg1 = 0x11,
    EcdsaDkg2 = 0x12,
    EcdsaDkg3 = 0x13,
    EcdsaSign1 = 0x21,
    EcdsaSign2 = 0x22,
    EcdsaSign3 = 0x23,
    EcdsaRefresh1 = 0x31,
    EcdsaRefresh2 = 0x32,
    EcdsaRefresh3 = 0x33,
    Ed25519Dkg1 = 0x41,
    Ed25519Dkg2 = 0x42,
    Ed25519Sign1 = 0x51,
    Ed25519Sign2 = 0x52,
    Ed25519Refresh1 = 0x61,
    Ed25519Refresh2 = 0x62,
}

/// Encodes `message` as a frame.
pub(crate) fn encode<T: Serialize>(tag: Tag, message: &T) -> Result<Vec<u8>, MpcError> {
    let mut frame = encoding::encode(tag as u8, message)
        .map_err(|_| MpcError::Protocol("could not encode an outgoing frame".into()))?;
    // The API hands frames out as plain vectors; taking the buffer moves it without a copy, so a
    // frame holding a secret for the peer exists once and the transport owns it.
    Ok(std::mem::take(&mut *frame))
}

/// Decodes a frame that must carry the message named by `tag`, and nothing after it.
pub(crate) fn decode<T: DeserializeOwned>(tag: Tag, frame: &[u8]) -> Result<T, MpcError> {
    // Checked before decoding so that a frame of another round is never parsed as this one's.
    if frame.first() != Some(&(tag as u8)) {
        return Err(MpcError::Decode);
    }
    let (_, message) = encoding::decode(frame).ok_or(MpcError::Decode)?;
    Ok(message)
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
        let frame = encode(Tag::EcdsaSign2, &(7u32, vec![1u8, 2, 3])).unwrap();
        assert_eq!(frame[0], Tag::EcdsaSign2 as u8);
        let back: (u32, Vec<u8>) = decode(Tag::EcdsaSign2, &frame).unwrap();
        assert_eq!(back, (7, vec![1, 2, 3]));

        // Another round's tag, trailing bytes, truncation and emptiness are all Decode.
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::EcdsaSign3, &frame),
            Err(MpcError::Decode)
        ));
        let mut longer = frame.clone();
        longer.push(0);
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::EcdsaSign2, &longer),
            Err(MpcError::Decode)
        ));
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::EcdsaSign2, &frame[..frame.len() - 1]),
            Err(MpcError::Decode)
        ));
        assert!(matches!(
            decode::<(u32, Vec<u8>)>(Tag::EcdsaSign2, &[]),
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
