//! 2-of-2 ECDSA over secp256k1 with DKLs23 (crate `dkls23`, paper <https://eprint.iacr.org/2023/765>).
//!
//! The library's own phase functions are driven with state this crate owns, one named type per
//! round, instead of `DkgSession`/`SignSession` borrowing a `Party`: a machine must be `'static`
//! so that it can wait for the peer's message across an await point.

use dkls23::curve::DklsCurve;
use dkls23::protocols::PartyIndex;
use dkls23::utilities::hashes::{point_to_bytes, scalar_to_bytes};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::message::{self, Tag};
use crate::{MpcError, PublicKey, Role, Scheme};

pub(crate) mod dkg;
pub(crate) mod refresh;
pub(crate) mod setup;
pub(crate) mod sign;

/// Recovers the curve type parameters from a concrete `Party`.
///
/// `dkls23` names secp256k1 only through `k256` 0.14, which this crate does not otherwise need
/// (the standard verifiers here are `k256` 0.13). Reading the curve off the library's own alias
/// keeps the two from ever disagreeing.
pub(crate) trait CurveOf {
    type Curve: DklsCurve;
    type Scalar;
}

impl<C: DklsCurve> CurveOf for dkls23::protocols::Party<C> {
    type Curve = C;
    type Scalar = C::Scalar;
}

/// secp256k1 as `dkls23` sees it.
pub(crate) type Curve = <dkls23::secp256k1::Party as CurveOf>::Curve;
/// A secp256k1 scalar as `dkls23` sees it.
pub(crate) type Scalar = <dkls23::secp256k1::Party as CurveOf>::Scalar;
/// One party's DKLs key share: its secret point, the OT/multiplication state with the peer, and
/// the zero-share seeds. Secret; zeroized on drop by the library.
pub(crate) type Party = dkls23::protocols::Party<Curve>;

/// The DKLs party index of a role.
pub(crate) fn party_index(role: Role) -> Result<PartyIndex, MpcError> {
    // Indices 1 and 2 are never 0, so this cannot fail; the error path only keeps it panic-free.
    PartyIndex::new(role.index()).map_err(|_| MpcError::Protocol("invalid party index".into()))
}

/// The 2-of-2 parameters every key here uses.
pub(crate) fn parameters() -> Result<dkls23::protocols::Parameters, MpcError> {
    dkls23::protocols::Parameters::new(2, 2).map_err(|_| MpcError::Protocol("invalid threshold parameters".into()))
}

/// The group public key of a party, as the standard encoding.
pub(crate) fn public_key(party: &Party) -> Result<PublicKey, MpcError> {
    PublicKey::from_bytes(Scheme::Dkls, &point_to_bytes::<Curve>(&party.pk)).map_err(MpcError::from)
}

/// Checks that a party (just produced by a protocol, or just decoded from storage) is a usable
/// 2-of-2 share, and gives its role and public key. Everything is `InvalidShare`: the caller
/// only needs to know the share is unusable, not which part of it is wrong.
pub(crate) fn validate(party: &Party) -> Result<(Role, PublicKey), MpcError> {
    if party.parameters.threshold != 2 || party.parameters.share_count != 2 {
        return Err(MpcError::InvalidShare);
    }
    let role = Role::from_index(party.party_index.as_u8()).ok_or(MpcError::InvalidShare)?;
    let peer = party_index(role.peer()).map_err(|_| MpcError::InvalidShare)?;

    // Signing needs the multiplication state with the peer in both directions, and nothing else.
    let sender = party.mul_senders.get(&peer).ok_or(MpcError::InvalidShare)?;
    let receiver = party.mul_receivers.get(&peer).ok_or(MpcError::InvalidShare)?;
    if party.mul_senders.len() != 1 || party.mul_receivers.len() != 1 {
        return Err(MpcError::InvalidShare);
    }
    sender.check_state().map_err(|_| MpcError::InvalidShare)?;
    receiver.check_state(None).map_err(|_| MpcError::InvalidShare)?;

    let secret = Zeroizing::new(scalar_to_bytes::<Curve>(&party.poly_point));
    if secret.iter().all(|&b| b == 0) {
        return Err(MpcError::InvalidShare);
    }

    let public_key = public_key(party).map_err(|_| MpcError::InvalidShare)?;
    Ok((role, public_key))
}

/// Round 1 of the DKG and of the refresh: the sender's polynomial (a zero-constant one in a
/// refresh) evaluated at the receiver's index.
/// **Secret**: only for the peer, over an encrypted channel.
#[derive(Serialize, Deserialize)]
struct Fragment {
    fragment: Scalar,
}

impl Drop for Fragment {
    fn drop(&mut self) {
        self.fragment.zeroize();
    }
}

/// Splits the fragments phase 1 of the DKG or refresh (`protocol`, for the error) gave: party
/// i keeps p_i(i) and sends p_i(j) to party j (1-based indices). Gives our fragment and the
/// round-1 message carrying the peer's.
pub(crate) fn send_fragment(
    tag: Tag,
    fragments: &[Scalar],
    role: Role,
    protocol: &str,
) -> Result<(Zeroizing<Scalar>, Vec<u8>), MpcError> {
    let at = |r: Role| {
        fragments
            .get(usize::from(r.index()) - 1)
            .copied()
            .ok_or_else(|| MpcError::Protocol(format!("{protocol} phase 1 gave too few fragments")))
    };
    let own_fragment = Zeroizing::new(at(role)?);
    let out = message::encode(
        tag,
        &Fragment {
            fragment: at(role.peer())?,
        },
    )?;
    Ok((own_fragment, out))
}

/// Decodes the peer's round-1 message: both fragments at our index, ours first, as phase 2 takes
/// them.
pub(crate) fn receive_fragment(
    tag: Tag,
    message: &[u8],
    own_fragment: &Scalar,
) -> Result<Zeroizing<[Scalar; 2]>, MpcError> {
    let peer: Fragment = message::decode(tag, message)?;
    Ok(Zeroizing::new([*own_fragment, peer.fragment]))
}

/// Refuses a peer message in which any of the `named` senders is not the peer.
pub(crate) fn check_senders(peer: PartyIndex, named: &[PartyIndex]) -> Result<(), MpcError> {
    if named.iter().any(|&sender| sender != peer) {
        return Err(MpcError::Protocol("peer message names the wrong sender".into()));
    }
    Ok(())
}

/// Maps the library's abort type.
pub(crate) fn abort(abort: dkls23::protocols::Abort) -> MpcError {
    MpcError::from_dkls(abort)
}
