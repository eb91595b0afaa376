//! Login proofs waiting for their second half, as stored: an OAuth login between its start and
//! the provider's redirect, and a Sign In With Farcaster nonce between its issue and the signed
//! message. Each is single use and short-lived.

use dyad_proto::auth::OAuthProvider;

use super::Scope;

/// An OAuth login started and not yet finished. Only the state's SHA-256 is kept (the state
/// itself travels in the person's redirect); the PKCE verifier is derived from the state with a
/// key of the master key, so nothing here lets a database reader redeem a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthStateRecord {
    /// SHA-256 of the state.
    pub state_hash: [u8; 32],
    /// The app the login goes through.
    pub scope: Scope,
    /// The provider it went to.
    pub provider: OAuthProvider,
    /// The redirect URI the authorization request named, exactly as the app gave it (checked to
    /// be an absolute http(s) URL): the token request must repeat it byte for byte, as
    /// providers compare it as a string (RFC 6749 §4.1.3), so it is not normalised.
    pub redirect_uri: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the state is refused.
    pub expires_at: i64,
}

/// A nonce issued for one Sign In With Farcaster message. Not secret: it is in the signed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonceRecord {
    /// Alphanumeric, random.
    pub nonce: String,
    /// The app that asked for it: only a login through it may use it.
    pub scope: Scope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the nonce is refused.
    pub expires_at: i64,
}
