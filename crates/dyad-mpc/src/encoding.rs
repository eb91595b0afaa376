//! The byte layout shared by messages and stored shares: one header byte (a message tag or a format
//! version), then postcard.
//!
//! Both carry secrets at times, so encoding goes through a buffer that wipes every allocation it
//! outgrows instead of leaving copies behind in freed memory, and decoding refuses trailing bytes
//! so that one value has one encoding.

use postcard::ser_flavors::Flavor;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

/// Encodes `header` then `value`.
pub(crate) fn encode<T: Serialize + ?Sized>(header: u8, value: &T) -> Result<Zeroizing<Vec<u8>>, postcard::Error> {
    let mut buf = WipingBuf(Zeroizing::new(Vec::new()));
    buf.try_push(header)?;
    postcard::serialize_with_flavor(value, buf)
}

/// Splits off the header byte and decodes the rest as exactly one `T`. `None` for an empty
/// input, bytes that do not decode, or bytes left over.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<(u8, T)> {
    let (&header, body) = bytes.split_first()?;
    let (value, rest) = postcard::take_from_bytes(body).ok()?;
    rest.is_empty().then_some((header, value))
}

/// A postcard output buffer that grows by copying into a fresh allocation and wiping the old one.
struct WipingBuf(Zeroizing<Vec<u8>>);

impl WipingBuf {
    fn reserve(&mut self, extra: usize) {
        let needed = self.0.len().saturating_add(extra);
        if needed <= self.0.capacity() {
            return;
        }
        let capacity = needed.max(self.0.capacity().saturating_mul(2)).max(256);
        let mut bigger = Zeroizing::new(Vec::with_capacity(capacity));
        bigger.extend_from_slice(&self.0);
        // The old allocation is wiped when `Zeroizing` drops it here.
        self.0 = bigger;
    }
}

impl Flavor for WipingBuf {
    type Output = Zeroizing<Vec<u8>>;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.reserve(data.len());
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.reserve(1);
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Self::Output> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_postcard_and_strict_decode() {
        let value = (7u32, vec![9u8; 1000]);
        let bytes = encode(0xA5, &value).unwrap();
        assert_eq!(bytes[0], 0xA5);
        assert_eq!(&bytes[1..], postcard::to_allocvec(&value).unwrap().as_slice());
        assert_eq!(decode::<(u32, Vec<u8>)>(&bytes), Some((0xA5, value)));

        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(decode::<(u32, Vec<u8>)>(&longer), None);
        assert_eq!(decode::<(u32, Vec<u8>)>(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode::<(u32, Vec<u8>)>(&[]), None);
    }
}
