//! Logging a person in through an app (Para's `verifyEmail`, `verifyPhone`, … and sessions):
//! one-time codes by email and phone, custom ids the app vouches for, the Telegram Login
//! Widget, OAuth with Discord and X, Sign In With Farcaster, and the session's own calls
//! (refresh, logout, export, import). A login yields a session for the person in the app
//! of this client's API key; from then on this client's calls act for the person.

use dyad_proto::auth::{
    CodeSent, CustomLoginRequest, EmailStartRequest, EmailVerifyRequest, FarcasterNonce, FarcasterVerifyRequest,
    LoginResponse, OAuthFinishRequest, OAuthProvider, OAuthStartRequest, OAuthStarted, PhoneStartRequest,
    PhoneVerifyRequest, SessionView, TelegramLoginRequest,
};
use dyad_proto::{PregenId, SessionToken};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::claim::ClaimedWallet;
use crate::error::SdkError;
use crate::Dyad;

/// What a login helper returns: the session, and the wallets claimed during the login when a
/// `fetch_pregen_wallets_override` handed over a share (Para's immediate claiming).
#[derive(Debug)]
pub struct LoggedIn {
    /// The session now loaded in this client.
    pub session: SessionView,
    /// Whether the login made a new account.
    pub new_user: bool,
    /// Wallets claimed as part of the login (empty without an override, or when it had no share).
    pub claimed: Vec<ClaimedWallet>,
}

/// An exported session (`export_session`): what `import_session` takes. Secret.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Exported {
    v: u32,
    session: SessionToken,
}

impl Dyad {
    /// Send a one-time code to `email` (`POST /v1/auth/email/start`).
    pub async fn start_email_login(&self, email: &str) -> Result<CodeSent, SdkError> {
        let body = EmailStartRequest { email: email.into() };
        self.api
            .call(Method::POST, "/v1/auth/email/start", &[], Some(&body))
            .await
    }

    /// Check the code sent to `email` and load the session it opens.
    pub async fn verify_email_login(&self, email: &str, code: &str) -> Result<LoggedIn, SdkError> {
        self.verify_email_login_with(email, code, async |_: &PregenId| None)
            .await
    }

    /// [`verify_email_login`](Self::verify_email_login) with Para's
    /// `fetchPregenWalletsOverride`: called with the identifier just verified, it returns the
    /// user share the app kept for it (or nothing); a share is loaded and its matching wallets
    /// claimed as part of the login.
    pub async fn verify_email_login_with(
        &self,
        email: &str,
        code: &str,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let body = EmailVerifyRequest {
            email: email.into(),
            code: code.into(),
        };
        let login = self.post_login("/v1/auth/email/verify", &body).await?;
        let id = PregenId::parse("email", email).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    /// Send a one-time code by SMS (`POST /v1/auth/phone/start`).
    pub async fn start_phone_login(&self, phone: &str) -> Result<CodeSent, SdkError> {
        let body = PhoneStartRequest { phone: phone.into() };
        self.api
            .call(Method::POST, "/v1/auth/phone/start", &[], Some(&body))
            .await
    }

    /// Check the code sent to `phone` and load the session it opens.
    pub async fn verify_phone_login(&self, phone: &str, code: &str) -> Result<LoggedIn, SdkError> {
        self.verify_phone_login_with(phone, code, async |_: &PregenId| None)
            .await
    }

    /// [`verify_phone_login`](Self::verify_phone_login) with a `fetch_pregen_wallets_override`.
    pub async fn verify_phone_login_with(
        &self,
        phone: &str,
        code: &str,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let body = PhoneVerifyRequest {
            phone: phone.into(),
            code: code.into(),
        };
        let login = self.post_login("/v1/auth/phone/verify", &body).await?;
        let id = PregenId::parse("phone", phone).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    /// Log in the app's user `custom_id`: the app vouches for them with its API key.
    pub async fn login_custom_id(&self, custom_id: &str) -> Result<LoggedIn, SdkError> {
        self.login_custom_id_with(custom_id, async |_: &PregenId| None).await
    }

    /// [`login_custom_id`](Self::login_custom_id) with a `fetch_pregen_wallets_override`.
    pub async fn login_custom_id_with(
        &self,
        custom_id: &str,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let body = CustomLoginRequest {
            custom_id: custom_id.into(),
        };
        let login = self.post_login("/v1/auth/custom", &body).await?;
        let id = PregenId::parse("customId", custom_id).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    /// Log in with what the Telegram Login Widget handed the page (its data object, as is:
    /// the server checks the bot's hash over every field).
    pub async fn login_telegram(&self, widget_data: serde_json::Value) -> Result<LoggedIn, SdkError> {
        self.login_telegram_with(widget_data, async |_: &PregenId| None).await
    }

    /// [`login_telegram`](Self::login_telegram) with a `fetch_pregen_wallets_override`.
    pub async fn login_telegram_with(
        &self,
        widget_data: serde_json::Value,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let serde_json::Value::Object(widget_data) = widget_data else {
            return Err(SdkError::InvalidInput(
                "the Telegram widget data must be a JSON object".into(),
            ));
        };
        let body = TelegramLoginRequest { widget_data };
        let login = self.post_login("/v1/auth/telegram", &body).await?;
        let id = login.identifier.clone();
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    /// Start an OAuth login with `provider`: send the person to `authorization_url`; when the
    /// provider redirects to `redirect_uri`, check its `state` is the one answered here and
    /// call [`finish_oauth`](Self::finish_oauth) with its `code`.
    pub async fn start_oauth(&self, provider: OAuthProvider, redirect_uri: &str) -> Result<OAuthStarted, SdkError> {
        let body = OAuthStartRequest {
            redirect_uri: redirect_uri.into(),
        };
        self.api
            .call(
                Method::POST,
                &format!("/v1/auth/oauth/{provider}/start"),
                &[],
                Some(&body),
            )
            .await
    }

    /// Finish an OAuth login with the `state` and `code` the provider's redirect carried, and
    /// load the session it opens (for the provider's username).
    pub async fn finish_oauth(&self, provider: OAuthProvider, state: &str, code: &str) -> Result<LoggedIn, SdkError> {
        self.finish_oauth_with(provider, state, code, async |_: &PregenId| None)
            .await
    }

    /// [`finish_oauth`](Self::finish_oauth) with a `fetch_pregen_wallets_override`.
    pub async fn finish_oauth_with(
        &self,
        provider: OAuthProvider,
        state: &str,
        code: &str,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let body = OAuthFinishRequest {
            state: state.into(),
            code: code.into(),
        };
        let login = self
            .post_login(&format!("/v1/auth/oauth/{provider}/finish"), &body)
            .await?;
        let id = login.identifier.clone();
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    /// A nonce for one Sign In With Farcaster message (single use, valid 10 minutes).
    pub async fn farcaster_nonce(&self) -> Result<String, SdkError> {
        let answer: FarcasterNonce = self
            .api
            .call::<(), _>(Method::POST, "/v1/auth/farcaster/nonce", &[], None)
            .await?;
        Ok(answer.nonce)
    }

    /// Log in with a Sign In With Farcaster message (carrying a
    /// [`farcaster_nonce`](Self::farcaster_nonce)) and its custody signature (`0x` ‖ r ‖ s ‖ v),
    /// as the Farcaster client returned them.
    pub async fn login_farcaster(&self, message: &str, signature: &str) -> Result<LoggedIn, SdkError> {
        self.login_farcaster_with(message, signature, async |_: &PregenId| None)
            .await
    }

    /// [`login_farcaster`](Self::login_farcaster) with a `fetch_pregen_wallets_override`.
    pub async fn login_farcaster_with(
        &self,
        message: &str,
        signature: &str,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        let body = FarcasterVerifyRequest {
            message: message.into(),
            signature: signature.into(),
        };
        let login = self.post_login("/v1/auth/farcaster/verify", &body).await?;
        let id = login.identifier.clone();
        self.logged_in(login, &id, fetch_pregen_wallets_override).await
    }

    async fn post_login<B: Serialize>(&self, path: &str, body: &B) -> Result<LoginResponse, SdkError> {
        self.api.call(Method::POST, path, &[], Some(body)).await
    }

    async fn logged_in(
        &self,
        login: LoginResponse,
        identifier: &PregenId,
        fetch_pregen_wallets_override: impl AsyncFn(&PregenId) -> Option<String>,
    ) -> Result<LoggedIn, SdkError> {
        self.api.set_session(Some(login.session));
        let mut claimed = Vec::new();
        if let Some(share) = fetch_pregen_wallets_override(identifier).await {
            let share = Zeroizing::new(share);
            self.set_user_share(&share).await?;
            claimed = self.claim_pregen_wallets(Some(identifier)).await?;
        }
        Ok(LoggedIn {
            session: login.view,
            new_user: login.new_user,
            claimed,
        })
    }

    /// The loaded session as the server sees it now (`GET /v1/auth/session`).
    pub async fn session(&self) -> Result<SessionView, SdkError> {
        self.require_session()?;
        self.api.call::<(), _>(Method::GET, "/v1/auth/session", &[], None).await
    }

    /// Keep the session alive for another session lifetime (Para's `keepSessionAlive`).
    pub async fn refresh_session(&self) -> Result<SessionView, SdkError> {
        self.require_session()?;
        self.api
            .call::<(), _>(Method::POST, "/v1/auth/session/refresh", &[], None)
            .await
    }

    /// End the session on the server and drop it from this client.
    pub async fn logout(&self) -> Result<(), SdkError> {
        self.require_session()?;
        let () = self
            .api
            .call::<(), _>(Method::DELETE, "/v1/auth/session", &[], None)
            .await?;
        self.api.set_session(None);
        Ok(())
    }

    /// The loaded session as a string, so a backend can act for the logged-in person (Para's
    /// `exportSession`). Secret: whoever holds it acts as the person until it expires.
    pub fn export_session(&self) -> Result<Zeroizing<String>, SdkError> {
        let session = self.require_session()?;
        let text = serde_json::to_string(&Exported { v: 1, session })
            .map_err(|_| SdkError::InvalidInput("the session does not encode".into()))?;
        Ok(Zeroizing::new(text))
    }

    /// Load a session `export_session` produced (Para's `importSession`). Checked offline for
    /// its shape only; the server refuses it if it expired.
    pub fn import_session(&self, exported: &str) -> Result<(), SdkError> {
        let parsed: Exported = serde_json::from_str(exported.trim())
            .map_err(|_| SdkError::InvalidInput("not an exported Dyad session".into()))?;
        if parsed.v != 1 || !parsed.session.expose().starts_with(SessionToken::PREFIX) {
            return Err(SdkError::InvalidInput("not an exported Dyad session".into()));
        }
        self.api.set_session(Some(parsed.session));
        Ok(())
    }

    pub(crate) fn require_session(&self) -> Result<SessionToken, SdkError> {
        self.api
            .session()
            .ok_or_else(|| SdkError::InvalidInput("no session is loaded: log in first".into()))
    }
}
