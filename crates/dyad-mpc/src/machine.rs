//! The shape every protocol here has, and a runner that connects two parties in one process.

use std::fmt;

use crate::{MpcError, Scheme};

/// A sans-IO protocol step machine.
///
/// Both parties run the same machine type, and every protocol here is symmetric: each round,
/// each side sends one message and receives the peer's message for that round. `start` (on the
/// concrete machine) gives the first outgoing message; each [`receive`](Machine::receive) consumes
/// the machine, so state that must not be reused (nonces, OT state) cannot be: a machine that
/// returned an error is gone, and a retry is a new run.
pub trait Machine: Sized + Send + 'static {
    /// What the protocol produces for this party.
    type Output;

    /// Consume the peer's message for the current round. Gives either the next round's outgoing
    /// message (with the machine that waits for the peer's next message), or the result.
    fn receive(self, message: &[u8]) -> Result<Transition<Self, Self::Output>, MpcError>;

    /// Whether the peer message this machine waits for is the protocol's last: the next
    /// [`receive`](Machine::receive) gives [`Transition::Done`]. A party that must decide before
    /// its peer can finish (the server audits a signature before the client can assemble it)
    /// holds back the message it sent last until then.
    fn awaits_last_round(&self) -> bool;
}

/// The result of one [`Machine::receive`] step.
#[derive(Debug)]
pub enum Transition<M, O> {
    /// Send the message to the peer, then feed the peer's next message to the machine.
    Continue(M, Vec<u8>),
    /// The protocol is over for this party; nothing more to send.
    Done(O),
}

/// Runs both parties in one process, exchanging messages directly (tests and benchmarks: the raw
/// library cost without a network). `a` and `b` are what each party's `start` returned.
///
/// Fails with the first party's error, or with [`MpcError::Protocol`] if the two parties do not
/// finish in the same round (which would mean they are not running the same protocol).
pub fn run_local<M: Machine>(a: (M, Vec<u8>), b: (M, Vec<u8>)) -> Result<(M::Output, M::Output), MpcError> {
    let (mut machine_a, mut message_a) = a;
    let (mut machine_b, mut message_b) = b;
    loop {
        let step_a = machine_a.receive(&message_b)?;
        let step_b = machine_b.receive(&message_a)?;
        match (step_a, step_b) {
            (Transition::Continue(next_a, out_a), Transition::Continue(next_b, out_b)) => {
                machine_a = next_a;
                machine_b = next_b;
                message_a = out_a;
                message_b = out_b;
            }
            (Transition::Done(out_a), Transition::Done(out_b)) => return Ok((out_a, out_b)),
            _ => {
                return Err(MpcError::Protocol(
                    "the two parties finished in different rounds".into(),
                ))
            }
        }
    }
}

impl<M, O> Transition<M, O> {
    /// Wraps the machine of a `Continue` (the scheme-dispatching machines wrap their inner one).
    pub(crate) fn map<N>(self, f: impl FnOnce(M) -> N) -> Transition<N, O> {
        match self {
            Transition::Continue(m, message) => Transition::Continue(f(m), message),
            Transition::Done(output) => Transition::Done(output),
        }
    }
}

/// One scheme's run of a protocol, as the scheme-dispatching machines drive it.
pub(crate) trait SchemeRun: Sized {
    /// What the protocol produces for this party.
    type Output;

    /// How many rounds the protocol has: the run that waits for the peer message of this round
    /// finishes on it.
    const ROUNDS: u8;

    /// The round whose peer message this run waits for.
    fn round(&self) -> u8;

    /// Consume the peer's message for the current round (as [`Machine::receive`]).
    fn receive(self, message: &[u8]) -> Result<Transition<Self, Self::Output>, MpcError>;
}

/// The run behind a scheme-dispatching machine ([`Dkg`](crate::Dkg), [`Sign`](crate::Sign),
/// [`Refresh`](crate::Refresh)): a DKLs run or a FROST run of the same protocol.
pub(crate) enum ByScheme<E, F> {
    Dkls(E),
    Frost(F),
}

impl<E, F> ByScheme<E, F>
where
    E: SchemeRun,
    F: SchemeRun<Output = E::Output>,
{
    /// Feeds the message to whichever run this is.
    pub(crate) fn receive(self, message: &[u8]) -> Result<Transition<Self, E::Output>, MpcError> {
        Ok(match self {
            ByScheme::Dkls(m) => m.receive(message)?.map(ByScheme::Dkls),
            ByScheme::Frost(m) => m.receive(message)?.map(ByScheme::Frost),
        })
    }

    /// Whether the awaited peer message is the last one (see [`Machine::awaits_last_round`]).
    pub(crate) fn awaits_last_round(&self) -> bool {
        match self {
            ByScheme::Dkls(m) => m.round() == E::ROUNDS,
            ByScheme::Frost(m) => m.round() == F::ROUNDS,
        }
    }

    /// `Debug` for the machine called `name`: the scheme and the awaited round, never the state.
    pub(crate) fn fmt_debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, round) = match self {
            ByScheme::Dkls(m) => (Scheme::Dkls, m.round()),
            ByScheme::Frost(m) => (Scheme::Frost, m.round()),
        };
        f.debug_struct(name)
            .field("scheme", &format_args!("{scheme}"))
            .field("awaiting_round", &round)
            .finish_non_exhaustive()
    }
}
