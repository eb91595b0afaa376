//! Discord and X logins: OAuth 2.0 authorization code with PKCE (RFC 6749, RFC 7636 S256).
//!
//! [`start`] makes a random state, keeps its SHA-256 (with the app, the provider and the
//! redirect URI, for `login_proof_ttl`) and answers the provider's authorization URL carrying
//! the state and the PKCE challenge. The PKCE verifier is derived from the state with a key of
//! the master key (`seal::PkceKey`), so it is never stored. When the provider redirects back,
//! [`finish`] spends the state (exactly one caller wins; unknown, expired, used, another app's
//! or another provider's state is `LOGIN_REJECTED`), exchanges the code and the verifier at the
//! token endpoint (form POST, client authenticated with HTTP Basic), reads the user info with
//! the access token and takes the configured username field: `discordUsername` or `xUsername`.
//!
//! It must never put the client secret, the verifier, the code or the access token in a log,
//! an audit entry or an error, nor follow a provider's redirect, nor read an answer without a
//! size bound.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dyad_proto::auth::{LoginResponse, OAuthProvider, OAuthStarted};
use dyad_proto::PregenId;
use rand_core::{OsRng, RngCore};
use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;
use zeroize::Zeroizing;

use super::Method;
use crate::clock;
use crate::config::OAuthClient;
use crate::error::ServerError;
use crate::model::{OAuthStateRecord, Person, Scope, VerifiedId};
use crate::state::AppState;

/// The largest answer read from a provider.
const MAX_ANSWER: usize = 64 * 1024;
/// The longest redirect URI or authorization code accepted.
const MAX_PARAM: usize = 2048;

/// The provider a path segment names; an unknown one is `LOGIN_METHOD_UNAVAILABLE`.
pub fn provider(segment: &str) -> Result<OAuthProvider, ServerError> {
    OAuthProvider::parse(segment).ok_or_else(|| {
        ServerError::LoginMethodUnavailable(format!(
            "unknown OAuth provider {segment:?}: this server knows {}",
            OAuthProvider::ALL.map(|p| p.as_str()).join(" and ")
        ))
    })
}

fn method(provider: OAuthProvider) -> Method {
    match provider {
        OAuthProvider::Discord => Method::DiscordOAuth,
        OAuthProvider::X => Method::XOAuth,
    }
}

/// The identifier kind a provider proves.
fn kind(provider: OAuthProvider) -> &'static str {
    match provider {
        OAuthProvider::Discord => "discordUsername",
        OAuthProvider::X => "xUsername",
    }
}

fn configured(state: &AppState, provider: OAuthProvider) -> Result<&OAuthClient, ServerError> {
    state.config.oauth(provider).ok_or_else(|| {
        ServerError::LoginMethodUnavailable(format!(
            "{provider} logins are off on this server: an operator turns them on with the client id and secret \
             the provider gave (dyad serve --oauth-{provider}-client-id …)"
        ))
    })
}

/// A redirect URI as RFC 6749 §3.1.2 allows one: absolute, `http(s)`, no fragment. Kept as
/// the app wrote it (trimmed), since the provider compares it with the registered one as text.
fn redirect_uri(raw: &str) -> Result<String, ServerError> {
    let bad = |why: &str| ServerError::InvalidRequest(format!("redirectUri: {why}"));
    let text = raw.trim();
    if text.len() > MAX_PARAM {
        return Err(bad("too long"));
    }
    let url = Url::parse(text).map_err(|_| bad("not an absolute URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(bad("must be an http(s) URL"));
    }
    if url.fragment().is_some() || text.contains('#') {
        return Err(bad("must not have a fragment"));
    }
    Ok(text.to_string())
}

fn state_hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// RFC 7636 S256: base64url (no padding) of SHA-256 of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Start a login at `provider` through `scope`'s app: the URL to send the person to, and the
/// state the redirect back will carry.
pub async fn start(
    state: &AppState,
    scope: Scope,
    provider: OAuthProvider,
    raw_redirect_uri: &str,
) -> Result<OAuthStarted, ServerError> {
    let client = configured(state, provider)?;
    let redirect = redirect_uri(raw_redirect_uri)?;
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let verifier = state.pkce_key.verifier(&token);
    let now = clock::now();
    let record = OAuthStateRecord {
        state_hash: state_hash(&token),
        scope,
        provider,
        redirect_uri: redirect.clone(),
        created_at: now,
        expires_at: now + state.config.login_proof_ttl.as_secs() as i64,
    };
    state.store.insert_oauth_state(&record).await?;
    let mut url = client.authorize_url.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", &client.scopes.join(" "))
        .append_pair("state", &token)
        .append_pair("code_challenge", &code_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(OAuthStarted {
        authorization_url: url.into(),
        state: token,
    })
}

/// Finish a login the provider redirected back from with `state` and `code`, and open a
/// session (or link the username to `linking`).
pub async fn finish(
    state: &AppState,
    scope: Scope,
    provider: OAuthProvider,
    state_token: &str,
    code: &str,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    let client = configured(state, provider)?;
    if code.is_empty() || code.len() > MAX_PARAM {
        return Err(ServerError::InvalidRequest(format!(
            "code: must be 1 to {MAX_PARAM} characters"
        )));
    }
    let method = method(provider);
    let started = state
        .store
        .consume_oauth_state(&state_hash(state_token), scope, provider, clock::now())
        .await?;
    let Some(started) = started else {
        let e = ServerError::LoginRejected(
            "the OAuth state is unknown, expired or used, or was started through another app: start the login again"
                .into(),
        );
        return Err(super::denied(state, scope, method, e).await);
    };
    let verifier = state.pkce_key.verifier(state_token);
    let proved = match identify(&state.http, client, &started.redirect_uri, code, &verifier).await {
        Ok(username) => PregenId::parse(kind(provider), &username)
            .map_err(|_| ServerError::ProviderUnavailable("the provider's username is not a usable identifier".into())),
        Err(e) => Err(e),
    };
    let id = match proved {
        Ok(id) => id,
        Err(e) => return Err(super::denied(state, scope, method, e).await),
    };
    super::verified(state, scope, VerifiedId::new(id, scope), method, linking).await
}

/// The token endpoint's answer (RFC 6749 §5.1). The token is wiped on drop.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Zeroizing<String>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Exchange the code for an access token and read the username with it.
async fn identify(
    http: &reqwest::Client,
    client: &OAuthClient,
    redirect: &str,
    code: &str,
    verifier: &str,
) -> Result<String, ServerError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
        ("client_id", client.client_id.as_str()),
    ];
    let answer = http
        .post(client.token_url.clone())
        .basic_auth(&client.client_id, Some(client.client_secret.expose()))
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| unreachable_provider("token endpoint", &e))?;
    match answer.status() {
        s if s.is_success() => {}
        // RFC 6749 §5.2: a bad, used or expired code (or a verifier that does not match the
        // challenge) is `invalid_grant`, with 400.
        StatusCode::BAD_REQUEST => {
            return Err(ServerError::LoginRejected(
                "the provider refused the authorization code".into(),
            ))
        }
        s => {
            return Err(ServerError::ProviderUnavailable(format!(
                "the token endpoint answered HTTP {}",
                s.as_u16()
            )))
        }
    }
    let token: TokenAnswer = serde_json::from_slice(&read_capped(answer, "token endpoint").await?)
        .map_err(|_| ServerError::ProviderUnavailable("the token endpoint's answer has no access_token".into()))?;
    if token
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(ServerError::ProviderUnavailable(
            "the token endpoint gave a token that is not a bearer token".into(),
        ));
    }
    let answer = http
        .get(client.userinfo_url.clone())
        .bearer_auth(token.access_token.as_str())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| unreachable_provider("user info endpoint", &e))?;
    if !answer.status().is_success() {
        return Err(ServerError::ProviderUnavailable(format!(
            "the user info endpoint answered HTTP {}",
            answer.status().as_u16()
        )));
    }
    let info: serde_json::Value = serde_json::from_slice(&read_capped(answer, "user info endpoint").await?)
        .map_err(|_| ServerError::ProviderUnavailable("the user info answer is not JSON".into()))?;
    client.username_field.find(&info).map(str::to_string).ok_or_else(|| {
        ServerError::ProviderUnavailable(format!(
            "the user info answer has no username at {}",
            client.username_field
        ))
    })
}

/// Why a provider could not be reached, in words that hold nothing of the request (reqwest's
/// own message names the URL, which an operator may have given credentials in).
pub(crate) fn unreachable_provider(what: &str, e: &reqwest::Error) -> ServerError {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be connected to"
    } else {
        "failed"
    };
    ServerError::ProviderUnavailable(format!("the {what} {why}"))
}

/// An answer's body, at most [`MAX_ANSWER`] bytes; wiped on drop (it may hold a token).
pub(crate) async fn read_capped(mut answer: reqwest::Response, what: &str) -> Result<Zeroizing<Vec<u8>>, ServerError> {
    let too_large = || ServerError::ProviderUnavailable(format!("the {what}'s answer is over {MAX_ANSWER} bytes"));
    if answer.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
        return Err(too_large());
    }
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = answer.chunk().await.map_err(|e| unreachable_provider(what, &e))? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636 appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn providers_and_redirect_uris_are_parsed_at_the_edge() {
        assert_eq!(provider("discord").unwrap(), OAuthProvider::Discord);
        assert_eq!(provider("x").unwrap(), OAuthProvider::X);
        assert!(matches!(
            provider("github"),
            Err(ServerError::LoginMethodUnavailable(_))
        ));
        assert!(redirect_uri("https://app.example/callback?x=1").is_ok());
        // Not normalised (no slash added): the provider compares it as text.
        assert_eq!(redirect_uri(" https://app.example ").unwrap(), "https://app.example");
        for bad in [
            "/callback",
            "ftp://app.example/cb",
            "https://app.example/cb#frag",
            "not a url",
        ] {
            assert!(
                matches!(redirect_uri(bad), Err(ServerError::InvalidRequest(_))),
                "{bad}"
            );
        }
    }
}
