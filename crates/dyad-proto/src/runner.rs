//! The one async runner both parties use: it moves a protocol run's frames over any transport
//! that carries whole binary messages (a WebSocket on either side), sealed by the Noise
//! channel, each protocol step on the tokio blocking pool or, for a scheme whose steps are light,
//! in place (see [`RunStart`]). The transport only moves bytes; the channel seals
//! frames; the machine from `dyad-mpc` does the protocol; which runs a ceremony consists of is
//! the script's (`keygen`), not the runner's. Its one timing rule, [`PEER_TIMEOUT`], is the
//! wire's: how long either side waits for the other's next message.

use std::future::Future;
use std::time::Duration;

use std::borrow::Borrow;

use dyad_mpc::{KeyShare, Machine, MpcError, SessionId, Sign, SignInput, Transition};
use dyad_types::Scheme;

use crate::ceremony_key::CeremonyKey;
use crate::channel::{Initiator, Responder, SecureChannel, ServerStaticKey};
use crate::error::{ErrorCode, ProtoError};
use crate::frame::{Frame, RoundMessage};
use crate::ids::CeremonyId;

/// Moves whole binary messages. Implemented over a WebSocket by the server and by the SDK.
pub trait FrameTransport: Send {
    /// Send one binary message.
    fn send(&mut self, message: Vec<u8>) -> impl Future<Output = Result<(), ProtoError>> + Send;
    /// Receive the next binary message; `Err(Transport)` when the peer went away.
    fn recv(&mut self) -> impl Future<Output = Result<Vec<u8>, ProtoError>> + Send;
    /// Tell the peer this side is done (best effort: the peer may be gone already).
    fn close(&mut self) -> impl Future<Output = ()> + Send;
    /// Who seals what this transport carries: the ceremony, in a Noise channel of its own (a
    /// WebSocket of its own), or the connection it is a lane of. No default: a transport that
    /// wraps a lane must say so, or its ceremony would run a handshake the peer does not expect.
    fn sealing(&self) -> Sealing;
}

/// Where a ceremony's frames are sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sealing {
    /// In the ceremony's own Noise channel, whose handshake binds the ceremony id: the
    /// transport carries sealed bytes.
    PerCeremony,
    /// In the channel of the connection the transport is a lane of, which the server with this
    /// ceremony key answered and which seals every message of the connection: the transport
    /// carries the frames themselves, and the connection seals them.
    ByConnection(CeremonyKey),
}

/// Why a ceremony's transport failed when it closed before the peer's first message, which on
/// the client is always the server's Noise handshake answer: the server could not answer the
/// handshake (it does not hold the ceremony key the client encrypted to), or the connection
/// broke then.
pub const CLOSED_DURING_HANDSHAKE: &str = "the server closed the connection during the Noise handshake";

/// How long either side waits for the peer's next message before giving up. A DKLs DKG round
/// costs the peer under a second of CPU, so this is generous.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(60);

/// The start of a protocol run, for the runner to call: its first step, and the scheme, which
/// says where every step of the run is computed.
pub struct RunStart<M> {
    light: bool,
    first: First<M>,
}

/// What a run's first step gives: the machine waiting for the peer, and the message to send.
type Started<M> = Result<(M, Vec<u8>), MpcError>;

/// A run's first step: still to compute, or being computed already ([`RunStart::ahead`]).
enum First<M> {
    Step(Box<dyn FnOnce() -> Started<M> + Send + 'static>),
    Ahead(tokio::sync::oneshot::Receiver<Started<M>>),
}

/// What a first step computed ahead gives when its worker is gone without an answer (it
/// panicked).
fn worker_failed<M>() -> Started<M> {
    Err(MpcError::Protocol("protocol worker failed".into()))
}

impl<M> RunStart<M> {
    /// A run of `scheme` that begins with `first`.
    pub fn new(scheme: Scheme, first: impl FnOnce() -> Result<(M, Vec<u8>), MpcError> + Send + 'static) -> Self {
        Self {
            light: steps_are_light(scheme),
            first: First::Step(Box::new(first)),
        }
    }

    /// Take the first step here and now, for a caller that drives the run itself (tests, the
    /// raw-library benchmark) rather than through [`CeremonyChannel::run`]. A step computed
    /// [`ahead`](Self::ahead) is waited for, blocking the thread: not on an async worker.
    pub fn begin(self) -> Result<(M, Vec<u8>), MpcError> {
        match self.first {
            First::Step(first) => first(),
            First::Ahead(made) => made.blocking_recv().unwrap_or_else(|_| worker_failed()),
        }
    }

    /// The first step, computed where the scheme says (see [`step`]), or waited for if it was
    /// computed ahead.
    async fn first_step(self) -> Started<M>
    where
        M: Send + 'static,
    {
        match self.first {
            First::Step(first) => step(self.light, first).await,
            First::Ahead(made) => made.await.unwrap_or_else(|_| worker_failed()),
        }
    }

    /// Start computing the first step now, on the blocking pool, while the caller still waits
    /// (the user party, for its share's turn): the run takes what it made when it is driven,
    /// and sends it only then, so nothing of this session reaches the peer before the turn.
    /// Dropped unsent if the run never starts; a session's state is never used for another.
    /// For a scheme whose steps are light this changes nothing. Call it inside a tokio runtime.
    pub fn ahead(self) -> Self
    where
        M: Send + 'static,
    {
        let first = match self.first {
            First::Step(first) if !self.light => first,
            first => return Self { first, ..self },
        };
        let (made, taken) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            // Nobody waits for it any more once the run was given up: then it is dropped.
            let _ = made.send(first());
        });
        Self {
            light: false,
            first: First::Ahead(taken),
        }
    }
}

impl RunStart<Sign> {
    /// A signing run with `share` (owned, or shared with its holder through an `Arc`: never
    /// copied) over `input`, under session id `sid`.
    pub fn sign<S>(share: S, sid: SessionId, input: SignInput) -> Self
    where
        S: Borrow<KeyShare> + Send + 'static,
    {
        let scheme = share.borrow().scheme();
        Self::new(scheme, move || Sign::start(share.borrow(), &sid, &input))
    }
}

impl<M> std::fmt::Debug for RunStart<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStart")
            .field("light", &self.light)
            .finish_non_exhaustive()
    }
}

/// Whether `scheme`'s protocol steps are cheap enough to compute on the async thread that
/// drives the run. A DKLs step is up to hundreds of milliseconds of CPU and must go to the
/// blocking pool; a FROST step is a few scalar multiplications (well under a millisecond), for
/// which the pool's two thread hand-offs, and the extra runnable threads when many ceremonies
/// run at once, cost more than the step itself.
fn steps_are_light(scheme: Scheme) -> bool {
    match scheme {
        Scheme::Dkls => false,
        Scheme::Frost => true,
    }
}

/// An encrypted ceremony connection: a transport plus the Noise channel over it.
pub struct CeremonyChannel<T> {
    io: T,
    channel: Seal,
    deadline: Option<tokio::time::Instant>,
}

/// Who seals a ceremony's frames (see [`Sealing`]).
enum Seal {
    /// The ceremony's own channel.
    Own(SecureChannel),
    /// The connection the transport is a lane of.
    Connection,
}

/// Whether `io` is a lane of a connection whose channel seals its frames, with the server whose
/// ceremony key is `server` (a lane of a connection to another key is refused: its ceremony is
/// not for that server).
fn sealed_by_connection_with<T: FrameTransport>(io: &T, server: &CeremonyKey) -> Result<bool, ProtoError> {
    match io.sealing() {
        Sealing::PerCeremony => Ok(false),
        Sealing::ByConnection(key) if key == *server => Ok(true),
        Sealing::ByConnection(_) => Err(ProtoError::Channel(
            "handshake failed: the batch connection is to another ceremony key",
        )),
    }
}

impl<T: FrameTransport> CeremonyChannel<T> {
    /// Client side: handshake with the server whose ceremony key is `server`.
    /// On a lane of a batch connection there is no handshake: the connection's, to the same
    /// key, was done once for all its lanes.
    pub async fn connect(mut io: T, server: &CeremonyKey, id: &CeremonyId) -> Result<Self, ProtoError> {
        if sealed_by_connection_with(&io, server)? {
            return Ok(Self::sealed_by_connection(io));
        }
        let (init, m1) = Initiator::start(server, id)?;
        io.send(m1).await?;
        let m2 = recv_timeout(&mut io, None).await?;
        let channel = Seal::Own(init.finish(&m2)?);
        Ok(Self {
            io,
            channel,
            deadline: None,
        })
    }

    fn sealed_by_connection(io: T) -> Self {
        Self {
            io,
            channel: Seal::Connection,
            deadline: None,
        }
    }

    /// Server side: answer the client's handshake, by `deadline` at the latest. A failed
    /// handshake gives the transport back, so the caller can record the failure before the
    /// peer sees the connection end. On a lane of a batch connection there is no handshake:
    /// the connection's was answered once for all its lanes.
    pub async fn accept(
        mut io: T,
        key: &ServerStaticKey,
        id: &CeremonyId,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Self, (ProtoError, T)> {
        match sealed_by_connection_with(&io, &key.public()) {
            Ok(true) => return Ok(Self::sealed_by_connection(io)),
            Ok(false) => {}
            Err(e) => return Err((e, io)),
        }
        let answered = async {
            let m1 = recv_timeout(&mut io, deadline).await?;
            let (channel, m2) = Responder::respond(key, id, &m1)?;
            let until = deadline.unwrap_or_else(|| tokio::time::Instant::now() + PEER_TIMEOUT);
            tokio::time::timeout_at(until, io.send(m2))
                .await
                .map_err(|_| ProtoError::Timeout)??;
            Ok(channel)
        }
        .await;
        match answered {
            Ok(channel) => Ok(Self {
                io,
                channel: Seal::Own(channel),
                deadline: None,
            }),
            Err(e) => Err((e, io)),
        }
    }

    /// From now on, waiting for any peer message ends with [`ProtoError::Timeout`] at
    /// `deadline`. Only waiting is cut short: a peer frame that arrived in time is always
    /// processed to its end, so a cheat it carries is never lost to the clock.
    pub fn set_deadline(&mut self, deadline: tokio::time::Instant) {
        self.deadline = Some(deadline);
    }

    /// Seal and send one frame.
    pub async fn send(&mut self, frame: &Frame) -> Result<(), ProtoError> {
        let plain = frame.to_bytes();
        match &mut self.channel {
            Seal::Own(channel) => {
                // Some rounds carry secrets (DKLs DKG round 1, FROST DKG round 2): wipe the
                // plaintext.
                let plain = zeroize::Zeroizing::new(plain);
                let sealed = channel.seal(&plain)?;
                self.io.send(sealed).await
            }
            // The lane takes the plaintext as it is (moved, not copied) and wipes it once the
            // connection has sealed it.
            Seal::Connection => self.io.send(plain).await,
        }
    }

    /// Receive and open one frame. A peer's `Abort` becomes `Err(PeerAborted)`.
    pub async fn recv(&mut self) -> Result<Frame, ProtoError> {
        let received = recv_timeout(&mut self.io, self.deadline).await?;
        let plain = match &mut self.channel {
            Seal::Own(channel) => channel.open(&received)?,
            // Opened by the connection already.
            Seal::Connection => zeroize::Zeroizing::new(received),
        };
        match Frame::from_bytes(&plain)? {
            Frame::Abort { code, message } => Err(ProtoError::PeerAborted { code, message }),
            f => Ok(f),
        }
    }

    /// Wait for the cloud party's [`Frame::Go`]: the user party, in a ceremony of a live
    /// wallet's share, before it takes its share's turn and its first round.
    pub async fn wait_for_go(&mut self) -> Result<(), ProtoError> {
        match self.recv().await? {
            Frame::Go => Ok(()),
            _ => Err(ProtoError::UnexpectedFrame("expected the server's go-ahead")),
        }
    }

    /// Tell the peer the ceremony is over for good (best effort: the peer may be gone already).
    pub async fn abort(&mut self, code: ErrorCode, message: &str) {
        let frame = Frame::Abort {
            code,
            message: message.to_string(),
        };
        let _ = self.send(&frame).await;
    }

    /// Run one protocol to its end: send the first round, then answer each peer round, until the
    /// machine yields its output. Heavy protocol steps run on the blocking pool (a DKLs round is
    /// hundreds of milliseconds of CPU; see [`RunStart`]). Any error leaves the machine dropped:
    /// there is no resume.
    pub async fn run<M>(&mut self, start: RunStart<M>) -> Result<M::Output, ProtoError>
    where
        M: Machine,
        M::Output: Send + 'static,
    {
        let (output, _) = self.drive(start, false).await?;
        Ok(output)
    }

    /// Like [`run`](Self::run), but the frame that would let the peer finish is held back: the
    /// peer's last frame is received and the output computed first, and the held frame is
    /// returned beside it for the caller to [`release`](Self::release) once it has decided (the
    /// server verifies and audits a signature before the client can assemble it, so no
    /// signature exists that the audit log calls failed). Dropping the held frame instead ends
    /// the run without the peer ever finishing. Only one side of a run may hold back, or both
    /// would wait for ever.
    pub async fn run_holding_last<M>(&mut self, start: RunStart<M>) -> Result<(M::Output, HeldFrame), ProtoError>
    where
        M: Machine,
        M::Output: Send + 'static,
    {
        match self.drive(start, true).await? {
            (output, Some(held)) => Ok((output, held)),
            (_, None) => Err(ProtoError::UnexpectedFrame("the protocol ended before its last round")),
        }
    }

    /// The one loop behind `run` and `run_holding_last`.
    async fn drive<M>(
        &mut self,
        start: RunStart<M>,
        hold_last: bool,
    ) -> Result<(M::Output, Option<HeldFrame>), ProtoError>
    where
        M: Machine,
        M::Output: Send + 'static,
    {
        let light = start.light;
        let (mut machine, mut out) = start.first_step().await.map_err(ProtoError::Mpc)?;
        loop {
            let held = if hold_last && machine.awaits_last_round() {
                Some(HeldFrame(out.into()))
            } else {
                self.send(&Frame::Protocol(out.into())).await?;
                None
            };
            let round = self.recv_protocol().await?;
            match step(light, move || machine.receive(round.as_bytes()))
                .await
                .map_err(ProtoError::PeerRound)?
            {
                Transition::Continue(next, next_out) if held.is_none() => {
                    machine = next;
                    out = next_out;
                }
                Transition::Continue(..) => {
                    return Err(ProtoError::UnexpectedFrame("the protocol went on past its last round"))
                }
                Transition::Done(output) => return Ok((output, held)),
            }
        }
    }

    /// Send a frame that [`run_holding_last`](Self::run_holding_last) held back.
    pub async fn release(&mut self, held: HeldFrame) -> Result<(), ProtoError> {
        self.send(&Frame::Protocol(held.0)).await
    }

    async fn recv_protocol(&mut self) -> Result<RoundMessage, ProtoError> {
        match self.recv().await? {
            Frame::Protocol(bytes) => Ok(bytes),
            _ => Err(ProtoError::UnexpectedFrame("expected a protocol round")),
        }
    }

    /// The transport, e.g. to close it.
    pub fn into_inner(self) -> T {
        self.io
    }
}

/// This party's last protocol frame, held back by [`CeremonyChannel::run_holding_last`] until
/// the caller lets the peer finish. `Debug` shows its length only.
pub struct HeldFrame(RoundMessage);

impl std::fmt::Debug for HeldFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeldFrame({} bytes)", self.0.len())
    }
}

/// Runs a protocol step: in place if it is `light`, else on the blocking pool. Its error is the
/// step's own, for the caller to attribute (our step, or the peer's frame).
async fn step<R, F>(light: bool, f: F) -> Result<R, MpcError>
where
    R: Send + 'static,
    F: FnOnce() -> Result<R, MpcError> + Send + 'static,
{
    if light {
        // A panicking step fails its run, as one on the pool does, rather than the caller's task.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err(MpcError::Protocol("protocol worker failed".into())));
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| MpcError::Protocol("protocol worker failed".into()))?
}

/// The next message, waiting at most `PEER_TIMEOUT` and never past `deadline`.
async fn recv_timeout<T: FrameTransport>(
    io: &mut T,
    deadline: Option<tokio::time::Instant>,
) -> Result<Vec<u8>, ProtoError> {
    let mut until = tokio::time::Instant::now() + PEER_TIMEOUT;
    if let Some(d) = deadline {
        until = until.min(d);
    }
    tokio::time::timeout_at(until, io.recv())
        .await
        .map_err(|_| ProtoError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen::KeyGeneration;
    use crate::session::{session_id, Run};
    use dyad_mpc::{run_local, Digest, Role};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_step_computed_ahead_is_the_one_its_run_takes() {
        let ceremony = CeremonyId::random();
        let (user, cloud) = (
            KeyGeneration::new(Role::User, Scheme::Dkls, &ceremony),
            KeyGeneration::new(Role::Cloud, Scheme::Dkls, &ceremony),
        );
        let (u, c) = run_local(user.dkg().begin().unwrap(), cloud.dkg().begin().unwrap()).unwrap();
        let public_key = u.public_key();
        let sid = session_id(&ceremony, Run::Sign);
        let input = SignInput::Digest(Digest::new([7; 32]));
        let ahead = RunStart::sign(u, sid, input.clone()).ahead();
        let later = RunStart::sign(c, sid, input.clone());
        // Taking a step computed ahead waits for it: off the async workers, as the runner does.
        let (a, b) = tokio::task::spawn_blocking(move || run_local(ahead.begin()?, later.begin()?))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a, b);
        public_key.verify(&input, &a).unwrap();
    }
}
