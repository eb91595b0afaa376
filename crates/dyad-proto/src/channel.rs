//! The end-to-end encrypted channels ceremonies run in: Noise `NK` (the SDK knows the server's
//! static key). A ceremony on a WebSocket of its own has a channel of its own ([`SecureChannel`]):
//! the client is authorised by the single-use ceremony id, which is bound into the handshake as
//! prologue. A batch connection has one channel for all its ceremonies ([`Initiator::start_connection`],
//! [`Responder::respond_connection`]): the client is authorised by the API key on the upgrade,
//! and every message of the connection, control or ceremony frame, is sealed in it (see
//! `batch`). Sans-IO: these types turn frames into bytes and back; the caller moves the bytes.
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
/// A batch connection's prologue: not a ceremony's, so neither handshake passes for the other.
const CONNECTION_PROLOGUE: &[u8] = b"dyad/v1/batch-connection";
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

/// Start an `NK` handshake to `server` under `prologue`: the state and the first message.
fn initiate(server: &CeremonyKey, prologue: &[u8]) -> Result<(HandshakeState, Vec<u8>), ProtoError> {
    let mut hs = snow::Builder::new(params())
        .remote_public_key(server.as_bytes())
        .prologue(prologue)
        .build_initiator()
        .map_err(|_| ProtoError::Channel("handshake setup failed"))?;
    let mut buf = vec![0u8; 256];
    let n = hs
        .write_message(&[], &mut buf)
        .map_err(|_| ProtoError::Channel("handshake failed"))?;
    buf.truncate(n);
    Ok((hs, buf))
}

/// Read the server's answer to an `NK` handshake.
fn finish(mut hs: HandshakeState, message: &[u8]) -> Result<HandshakeState, ProtoError> {
    let mut buf = vec![0u8; 256];
    hs.read_message(message, &mut buf)
        .map_err(|_| ProtoError::Channel("handshake failed: wrong server key or tampered message"))?;
    Ok(hs)
}

/// Answer a client's first `NK` message under `prologue`: the state and the answer.
fn respond(key: &ServerStaticKey, prologue: &[u8], message: &[u8]) -> Result<(HandshakeState, Vec<u8>), ProtoError> {
    let mut hs = snow::Builder::new(params())
        .local_private_key(&key.private[..])
        .prologue(prologue)
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
    Ok((hs, out))
}

/// The client side of the handshake, after sending its first message.
pub struct Initiator(HandshakeState);

impl Initiator {
    /// Start a handshake to the server whose static public key is `server`, for ceremony `id`.
    /// Returns the first handshake message to send.
    pub fn start(server: &CeremonyKey, id: &CeremonyId) -> Result<(Self, Vec<u8>), ProtoError> {
        let (hs, m1) = initiate(server, &prologue(id))?;
        Ok((Self(hs), m1))
    }

    /// Read the server's answer; the channel is ready.
    pub fn finish(self, message: &[u8]) -> Result<SecureChannel, ProtoError> {
        SecureChannel::from_handshake(finish(self.0, message)?)
    }

    /// Start a batch connection's handshake to the server whose static public key is `server`.
    /// Returns the first handshake message to send.
    pub fn start_connection(server: &CeremonyKey) -> Result<(ConnectionInitiator, Vec<u8>), ProtoError> {
        let (hs, m1) = initiate(server, CONNECTION_PROLOGUE)?;
        Ok((ConnectionInitiator(hs), m1))
    }
}

/// The client side of a batch connection's handshake, after sending its first message.
pub struct ConnectionInitiator(HandshakeState);

impl ConnectionInitiator {
    /// Read the server's answer; the connection's channel is ready.
    pub fn finish(self, message: &[u8]) -> Result<ConnectionChannel, ProtoError> {
        ConnectionChannel::from_handshake(finish(self.0, message)?)
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
        let (hs, answer) = respond(key, &prologue(id), message)?;
        Ok((SecureChannel::from_handshake(hs)?, answer))
    }

    /// Answer a batch connection's first handshake message. Returns the connection's channel
    /// and the answer to send.
    pub fn respond_connection(
        key: &ServerStaticKey,
        message: &[u8],
    ) -> Result<(ConnectionChannel, Vec<u8>), ProtoError> {
        let (hs, answer) = respond(key, CONNECTION_PROLOGUE, message)?;
        Ok((ConnectionChannel::from_handshake(hs)?, answer))
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
        seal_with(frame, |chunk, out| self.0.write_message(chunk, out))
    }

    /// Decrypt and authenticate one transport message into the frame it carries.
    pub fn open(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtoError> {
        open_with(message, |body, out| self.0.read_message(body, out))
    }
}

/// A batch connection's channel, once its handshake is done: split into its two directions, so
/// the connection's writer seals while its reader opens.
pub struct ConnectionChannel {
    /// What this side sends.
    pub sealer: ConnectionSealer,
    /// What this side receives.
    pub opener: ConnectionOpener,
}

impl ConnectionChannel {
    fn from_handshake(hs: HandshakeState) -> Result<Self, ProtoError> {
        let state = std::sync::Arc::new(
            hs.into_stateless_transport_mode()
                .map_err(|_| ProtoError::Channel("handshake incomplete"))?,
        );
        Ok(Self {
            sealer: ConnectionSealer(Direction::new(state.clone())),
            opener: ConnectionOpener(Direction::new(state)),
        })
    }
}

/// One direction of a connection's channel: the keys (shared with the other direction, which
/// uses the other key) and this direction's next nonce. Each direction counts its own nonces,
/// one per Noise message, from 0 and never back: a message is never sealed, nor accepted, under
/// a nonce already used. Once a message fails, the direction is done for good.
struct Direction {
    state: std::sync::Arc<snow::StatelessTransportState>,
    next: u64,
    failed: bool,
}

impl Direction {
    fn new(state: std::sync::Arc<snow::StatelessTransportState>) -> Self {
        Self {
            state,
            next: 0,
            failed: false,
        }
    }

    /// The nonce for the next Noise message, used up.
    fn nonce(&mut self) -> Result<u64, snow::Error> {
        if self.failed {
            return Err(snow::Error::State(snow::error::StateProblem::Exhausted));
        }
        let nonce = self.next;
        self.next = nonce
            .checked_add(1)
            .ok_or(snow::Error::State(snow::error::StateProblem::Exhausted))?;
        Ok(nonce)
    }

    /// `result`, remembering a failure for good.
    fn settle<R>(&mut self, result: Result<R, ProtoError>) -> Result<R, ProtoError> {
        self.failed |= result.is_err();
        result
    }
}

/// The sending half of a connection's channel. Secret: must not be sent or logged.
pub struct ConnectionSealer(Direction);

impl ConnectionSealer {
    /// Encrypt one message of the connection (a control or a lane's frame, see `batch`).
    pub fn seal(&mut self, message: &[u8]) -> Result<Vec<u8>, ProtoError> {
        let d = &mut self.0;
        let sealed = seal_with(message, |chunk, out| {
            let nonce = d.nonce()?;
            d.state.write_message(nonce, chunk, out)
        });
        d.settle(sealed)
    }
}

/// The receiving half of a connection's channel. Secret: must not be sent or logged.
pub struct ConnectionOpener(Direction);

impl ConnectionOpener {
    /// Decrypt and authenticate the connection's next message. Any failure (a changed, replayed,
    /// reordered or missing message) is the connection's end: every later call fails too.
    pub fn open(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtoError> {
        let d = &mut self.0;
        let opened = open_with(message, |body, out| {
            let nonce = d.nonce()?;
            d.state.read_message(nonce, body, out)
        });
        d.settle(opened)
    }
}

impl std::fmt::Debug for ConnectionSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionSealer { .. }")
    }
}

impl std::fmt::Debug for ConnectionOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionOpener { .. }")
    }
}

/// Seal `frame` as a run of Noise messages, each encrypted by `write` (which uses up a nonce),
/// each prefixed with its 2-byte length; the plaintext starts with the frame's 4-byte length.
fn seal_with(
    frame: &[u8],
    mut write: impl FnMut(&[u8], &mut [u8]) -> Result<usize, snow::Error>,
) -> Result<Vec<u8>, ProtoError> {
    if frame.len() > MAX_FRAME {
        return Err(ProtoError::FrameTooLarge);
    }
    let len = u32::try_from(frame.len()).map_err(|_| ProtoError::FrameTooLarge)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(frame.len() + 4));
    plain.extend_from_slice(&len.to_be_bytes());
    plain.extend_from_slice(frame);
    let mut out = Vec::with_capacity(plain.len() + (plain.len() / CHUNK + 1) * (TAG + 2));
    let mut buf = vec![0u8; (plain.len() + TAG).min(NOISE_MAX)];
    for chunk in plain.chunks(CHUNK) {
        let n = write(chunk, &mut buf).map_err(|_| ProtoError::Channel("encryption failed"))?;
        // n <= NOISE_MAX, so it fits in two bytes.
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// Open what [`seal_with`] made, each Noise message decrypted and authenticated by `read`.
fn open_with(
    message: &[u8],
    mut read: impl FnMut(&[u8], &mut [u8]) -> Result<usize, snow::Error>,
) -> Result<Zeroizing<Vec<u8>>, ProtoError> {
    let mut plain = Zeroizing::new(Vec::with_capacity(message.len()));
    let mut buf = Zeroizing::new(vec![0u8; message.len().min(NOISE_MAX)]);
    let mut rest = message;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(ProtoError::Channel("truncated frame"));
        }
        let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let body = rest.get(2..2 + n).ok_or(ProtoError::Channel("truncated frame"))?;
        let m = read(body, &mut buf).map_err(|_| ProtoError::Channel("frame failed authentication"))?;
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
    // In place: the zeroizing buffer wipes its whole capacity when dropped.
    plain.drain(..4);
    Ok(plain)
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

    #[test]
    fn a_connection_handshake_is_no_ceremony_handshake_and_needs_the_right_key() {
        let key = ServerStaticKey::from_secret([7u8; 32]).unwrap();
        let other = ServerStaticKey::from_secret([8u8; 32]).unwrap();
        let id = CeremonyId::random();
        // Each prologue is its own: neither first message passes for the other.
        let (_, ceremony_m1) = Initiator::start(&key.public(), &id).unwrap();
        assert!(matches!(
            Responder::respond_connection(&key, &ceremony_m1),
            Err(ProtoError::Channel(_))
        ));
        let (_, connection_m1) = Initiator::start_connection(&key.public()).unwrap();
        assert!(matches!(
            Responder::respond(&key, &id, &connection_m1),
            Err(ProtoError::Channel(_))
        ));
        // To another server's key: that server cannot answer; a forged answer fails.
        let (init, m1) = Initiator::start_connection(&other.public()).unwrap();
        assert!(Responder::respond_connection(&key, &m1).is_err());
        let (_, forged) =
            Responder::respond_connection(&key, &Initiator::start_connection(&key.public()).unwrap().1).unwrap();
        assert!(matches!(init.finish(&forged), Err(ProtoError::Channel(_))));

        // Both directions, large messages too, each direction with its own nonces.
        let (init, m1) = Initiator::start_connection(&key.public()).unwrap();
        let (mut server, m2) = Responder::respond_connection(&key, &m1).unwrap();
        let mut client = init.finish(&m2).unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let sealed = client.sealer.seal(&big).unwrap();
        assert!(!sealed.windows(64).any(|w| w == &big[1000..1064]), "plaintext visible");
        assert_eq!(&server.opener.open(&sealed).unwrap()[..], &big[..]);
        assert_eq!(
            &client.opener.open(&server.sealer.seal(b"ok").unwrap()).unwrap()[..],
            b"ok"
        );
        assert_eq!(&server.opener.open(&client.sealer.seal(b"").unwrap()).unwrap()[..], b"");
        // A message sealed for one direction does not open in the other.
        let mine = client.sealer.seal(b"to the server").unwrap();
        assert!(client.opener.open(&mine).is_err());
        // That failure was the client's receiving side's end: even a good message fails now.
        assert!(client.opener.open(&server.sealer.seal(b"late").unwrap()).is_err());
        assert!(!format!("{:?}{:?}", client.sealer, client.opener).contains("state"));
    }
}
