//! The end-to-end encrypted channel a ceremony runs in: Noise `NK` (the SDK knows the server's
//! static key; the client is authorised by the single-use ceremony id, which is bound into the
//! handshake as prologue). Sans-IO: these types turn frames into bytes and back; the caller moves
//! the bytes.
//!
//! Noise messages are at most 65535 bytes and a DKLs round is larger, so one frame is sealed as a
//! run of Noise messages, each prefixed with its 2-byte length; the plaintext starts with the
//! frame's 4-byte length so a dropped tail is caught. Any change to the bytes fails
//! authentication, and nonces are counters, so a replayed, reordered or missing message fails too.

use snow::params::NoiseParams;
use snow::{HandshakeState, TransportState};
use zeroize::Zeroizing;

use crate::ceremony_key::CeremonyKey;
use crate::error::ProtoError;
use crate::ids::CeremonyId;

const PATTERN: &str = "Noise_NK_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"dyad/v1/ceremony";
const NOISE_MAX: usize = 65535;
const TAG: usize = 16;
const CHUNK: usize = NOISE_MAX - TAG;
/// The largest frame a ceremony accepts (DKLs rounds are ~150 KB).
pub const MAX_FRAME: usize = 4 * 1024 * 1024;

fn params() -> NoiseParams {
    // A constant, valid pattern string: parsing cannot fail.
    PATTERN
        .parse()
        .unwrap_or_else(|_| unreachable!("constant Noise pattern"))
}

fn prologue(id: &CeremonyId) -> Vec<u8> {
    [PROLOGUE, &id.0[..]].concat()
}

/// The server's static X25519 key pair. Secret: must not be sent or logged.
pub struct ServerStaticKey {
    private: Zeroizing<[u8; 32]>,
    public: CeremonyKey,
}

impl ServerStaticKey {
    /// From 32 secret bytes (the server derives them from its master key).
    pub fn from_secret(secret: [u8; 32]) -> Result<Self, ProtoError> {
        use snow::resolvers::{CryptoResolver, DefaultResolver};
        let mut dh = DefaultResolver
            .resolve_dh(&snow::params::DHChoice::Curve25519)
            .ok_or(ProtoError::Channel("no X25519 implementation"))?;
        dh.set(&secret);
        let public: [u8; 32] = dh
            .pubkey()
            .try_into()
            .map_err(|_| ProtoError::Channel("X25519 public key of the wrong length"))?;
        Ok(Self {
            private: Zeroizing::new(secret),
            public: CeremonyKey::new(public),
        })
    }

    /// The public half, which clients pin.
    pub fn public(&self) -> CeremonyKey {
        self.public
    }
}

impl std::fmt::Debug for ServerStaticKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerStaticKey {{ public: {}, .. }}", self.public)
    }
}

/// The client side of the handshake, after sending its first message.
pub struct Initiator(HandshakeState);

impl Initiator {
    /// Start a handshake to the server whose static public key is `server`, for ceremony `id`.
    /// Returns the first handshake message to send.
    pub fn start(server: &CeremonyKey, id: &CeremonyId) -> Result<(Self, Vec<u8>), ProtoError> {
        let prologue = prologue(id);
        let mut hs = snow::Builder::new(params())
            .remote_public_key(server.as_bytes())
            .prologue(&prologue)
            .build_initiator()
            .map_err(|_| ProtoError::Channel("handshake setup failed"))?;
        let mut buf = vec![0u8; 256];
        let n = hs
            .write_message(&[], &mut buf)
            .map_err(|_| ProtoError::Channel("handshake failed"))?;
        buf.truncate(n);
        Ok((Self(hs), buf))
    }

    /// Read the server's answer; the channel is ready.
    pub fn finish(mut self, message: &[u8]) -> Result<SecureChannel, ProtoError> {
        let mut buf = vec![0u8; 256];
        self.0
            .read_message(message, &mut buf)
            .map_err(|_| ProtoError::Channel("handshake failed: wrong server key or tampered message"))?;
        SecureChannel::from_handshake(self.0)
    }
}

/// The server side of the handshake.
pub struct Responder;

impl Responder {
    /// Answer a client's first handshake message for ceremony `id`. Returns the channel and the
    /// answer to send.
    pub fn respond(
        key: &ServerStaticKey,
        id: &CeremonyId,
        message: &[u8],
    ) -> Result<(SecureChannel, Vec<u8>), ProtoError> {
        let prologue = prologue(id);
        let mut hs = snow::Builder::new(params())
            .local_private_key(&key.private[..])
            .prologue(&prologue)
            .build_responder()
            .map_err(|_| ProtoError::Channel("handshake setup failed"))?;
        let mut payload = vec![0u8; 256];
        hs.read_message(message, &mut payload)
            .map_err(|_| ProtoError::Channel("handshake failed"))?;
        let mut out = vec![0u8; 256];
        let n = hs
            .write_message(&[], &mut out)
            .map_err(|_| ProtoError::Channel("handshake failed"))?;
        out.truncate(n);
        Ok((SecureChannel::from_handshake(hs)?, out))
    }
}

/// An established channel: seals outgoing frames and opens incoming ones.
pub struct SecureChannel(TransportState);

impl std::fmt::Debug for SecureChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecureChannel { .. }")
    }
}

impl SecureChannel {
    fn from_handshake(hs: HandshakeState) -> Result<Self, ProtoError> {
        hs.into_transport_mode()
            .map(Self)
            .map_err(|_| ProtoError::Channel("handshake incomplete"))
    }

    /// Encrypt one frame into one transport message.
    pub fn seal(&mut self, frame: &[u8]) -> Result<Vec<u8>, ProtoError> {
        if frame.len() > MAX_FRAME {
            return Err(ProtoError::FrameTooLarge);
        }
        let len = u32::try_from(frame.len()).map_err(|_| ProtoError::FrameTooLarge)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(frame.len() + 4));
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(frame);
        let mut out = Vec::with_capacity(plain.len() + (plain.len() / CHUNK + 1) * (TAG + 2));
        let mut buf = vec![0u8; NOISE_MAX];
        for chunk in plain.chunks(CHUNK) {
            let n = self
                .0
                .write_message(chunk, &mut buf)
                .map_err(|_| ProtoError::Channel("encryption failed"))?;
            // n <= NOISE_MAX, so it fits in two bytes.
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }

    /// Decrypt and authenticate one transport message into the frame it carries.
    pub fn open(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtoError> {
        let mut plain = Zeroizing::new(Vec::new());
        let mut buf = Zeroizing::new(vec![0u8; NOISE_MAX]);
        let mut rest = message;
        while !rest.is_empty() {
            if rest.len() < 2 {
                return Err(ProtoError::Channel("truncated frame"));
            }
            let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            let body = rest.get(2..2 + n).ok_or(ProtoError::Channel("truncated frame"))?;
            let m = self
                .0
                .read_message(body, &mut buf)
                .map_err(|_| ProtoError::Channel("frame failed authentication"))?;
            plain.extend_from_slice(&buf[..m]);
            if plain.len() > MAX_FRAME + 4 {
                return Err(ProtoError::FrameTooLarge);
            }
            rest = &rest[2 + n..];
        }
        if plain.len() < 4 {
            return Err(ProtoError::Channel("truncated frame"));
        }
        let len = u32::from_be_bytes([plain[0], plain[1], plain[2], plain[3]]) as usize;
        if len != plain.len() - 4 {
            return Err(ProtoError::Channel("truncated frame"));
        }
        Ok(Zeroizing::new(plain[4..].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (SecureChannel, SecureChannel, ServerStaticKey, CeremonyId) {
        let key = ServerStaticKey::from_secret([7u8; 32]).unwrap();
        let id = CeremonyId::random();
        let (init, m1) = Initiator::start(&key.public(), &id).unwrap();
        let (server, m2) = Responder::respond(&key, &id, &m1).unwrap();
        let client = init.finish(&m2).unwrap();
        (client, server, key, id)
    }

    #[test]
    fn large_frames_roundtrip_both_ways() {
        let (mut c, mut s, _, _) = pair();
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let sealed = c.seal(&big).unwrap();
        assert!(!sealed.windows(64).any(|w| w == &big[1000..1064]), "plaintext visible");
        assert_eq!(&s.open(&sealed).unwrap()[..], &big[..]);
        let back = s.seal(b"ok").unwrap();
        assert_eq!(&c.open(&back).unwrap()[..], b"ok");
        assert_eq!(&c.open(&s.seal(b"").unwrap()).unwrap()[..], b"");
    }

    #[test]
    fn tampered_truncated_and_replayed_frames_fail() {
        let (mut c, mut s, _, _) = pair();
        let big = vec![3u8; 100_000];
        let mut sealed = c.seal(&big).unwrap();
        sealed[500] ^= 1;
        assert!(matches!(s.open(&sealed), Err(ProtoError::Channel(_))));

        let (mut c, mut s, _, _) = pair();
        let sealed = c.seal(&big).unwrap();
        // Drop the second Noise message: the first still authenticates, the length check catches it.
        let first_len = u16::from_be_bytes([sealed[0], sealed[1]]) as usize + 2;
        assert!(matches!(s.open(&sealed[..first_len]), Err(ProtoError::Channel(_))));

        let (mut c, mut s, _, _) = pair();
        let sealed = c.seal(b"once").unwrap();
        assert!(s.open(&sealed).is_ok());
        assert!(
            matches!(s.open(&sealed), Err(ProtoError::Channel(_))),
            "replay must fail"
        );
        assert!(matches!(
            s.open(&sealed[..sealed.len() - 1]),
            Err(ProtoError::Channel(_))
        ));
    }

    #[test]
    fn wrong_server_key_or_ceremony_fails_handshake() {
        let key = ServerStaticKey::from_secret([7u8; 32]).unwrap();
        let other = ServerStaticKey::from_secret([8u8; 32]).unwrap();
        let id = CeremonyId::random();
        let (_, m1) = Initiator::start(&other.public(), &id).unwrap();
        assert!(matches!(
            Responder::respond(&key, &id, &m1),
            Err(ProtoError::Channel(_))
        ));
        let (_, m1) = Initiator::start(&key.public(), &id).unwrap();
        assert!(matches!(
            Responder::respond(&key, &CeremonyId::random(), &m1),
            Err(ProtoError::Channel(_))
        ));
        assert!(!format!("{key:?}").contains(&hex::encode([7u8; 32])));
    }
}
