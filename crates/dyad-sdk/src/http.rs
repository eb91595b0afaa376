//! The REST half of the client: JSON calls with the API key and, once logged in, the session;
//! errors decoded into [`SdkError::Api`].

use std::fmt;
use std::sync::{Arc, RwLock};

use dyad_proto::{ErrorBody, SessionToken};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::SdkError;

/// The HTTP client `Dyad::new` uses: redirects are not followed (the `X-API-Key` header would
/// go along to whatever host a redirect names), and every call has a timeout.
pub fn default_client() -> reqwest::Client {
    client_builder()
        .build()
        // Building fails only if the TLS backend cannot start, and then `Client::new` fails
        // the same way; there is no client to fall back to.
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The settings every Dyad HTTP client has: no redirects, timeouts.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
}

/// An HTTP client bound to one server, one API key (may be empty: a person's client has only
/// a session) and, once logged in, one session. Clones share the session.
#[derive(Clone)]
pub struct Api {
    base: String,
    key: Zeroizing<String>,
    session: Arc<RwLock<Option<SessionToken>>>,
    http: reqwest::Client,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Api {
    /// `base` like `http://127.0.0.1:8080` (a trailing `/` is fine).
    pub fn new(base: &str, key: &str, http: reqwest::Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            key: Zeroizing::new(key.to_string()),
            session: Arc::default(),
            http,
        }
    }

    /// The session calls go with from now on (`None`: the API key alone).
    pub fn set_session(&self, session: Option<SessionToken>) {
        *self.session.write().unwrap_or_else(|p| p.into_inner()) = session;
    }

    /// The session calls go with, if any.
    pub fn session(&self) -> Option<SessionToken> {
        self.session.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The same server and API key through another HTTP client.
    #[cfg(feature = "solana")]
    pub(crate) fn with_http(&self, http: reqwest::Client) -> Self {
        Self {
            base: self.base.clone(),
            key: self.key.clone(),
            session: self.session.clone(),
            http,
        }
    }

    /// The WebSocket URL for a server path.
    pub fn ws_url(&self, path: &str) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{base}{path}")
    }

    /// A WebSocket upgrade request for a server path that authenticates with the API key (the
    /// batch connection; a ceremony's own socket needs no key, its id is the capability).
    pub fn ws_request(
        &self,
        path: &str,
    ) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, SdkError> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = self
            .ws_url(path)
            .into_client_request()
            .map_err(|e| SdkError::Http(format!("bad server URL: {e}")))?;
        let key = reqwest::header::HeaderValue::from_str(&self.key)
            .map_err(|_| SdkError::Http("the API key is not a valid header value".into()))?;
        req.headers_mut().insert("x-api-key", key);
        Ok(req)
    }

    /// Call `method path` with an optional JSON body and query; decode the JSON answer.
    pub async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<R, SdkError> {
        self.call_with(method, path, query, body, &[]).await
    }

    /// [`call`](Self::call) with extra headers.
    pub async fn call_with<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
        headers: &[(&str, String)],
    ) -> Result<R, SdkError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).query(query);
        if !self.key.is_empty() {
            req = req.header("x-api-key", self.key.as_str());
        }
        if let Some(session) = self.session() {
            req = req.bearer_auth(session.expose());
        }
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SdkError::Http(e.without_url().to_string()))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| SdkError::Http(e.without_url().to_string()))?;
        if status == StatusCode::NO_CONTENT {
            return serde_json::from_slice(b"null")
                .map_err(|e| SdkError::Http(format!("unexpected response from server: {e}")));
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| SdkError::Http(format!("unexpected response from server: {e}")));
        }
        Err(api_error(status, &bytes))
    }
}

/// The error an answer of `status` with `bytes` as its body stands for.
pub(crate) fn api_error(status: StatusCode, bytes: &[u8]) -> SdkError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(b) => SdkError::Api {
            status: status.as_u16(),
            code: b.code,
            message: b.message,
            wallet_id: b.wallet_id,
        },
        Err(_) => SdkError::Http(format!("server answered {status} without a Dyad error body")),
    }
}
