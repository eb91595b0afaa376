//! Delivering one-time codes. A [`Notifier`] takes a message for an email address or a phone
//! number. The embedded default is the [`Outbox`]: a table plus one server-log line per message
//! (recipient and text), so a developer reads the code locally and tests read it from the
//! table. A deployment that reaches real people configures SMTP and an SMS webhook instead.
//!
//! It must never be handed anything but the message meant for the recipient: no share, no key,
//! no session token.

use std::sync::Arc;

use async_trait::async_trait;

use crate::clock;
use crate::model::OutboxMessage;
use crate::store::Store;

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// To an email address.
    Email,
    /// To a phone number, by SMS.
    Sms,
}

impl Channel {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// One message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// How it travels.
    pub channel: Channel,
    /// The address or E.164 number.
    pub recipient: String,
    /// A subject line (email only).
    pub subject: String,
    /// The text.
    pub body: String,
}

/// Why a message did not go out. Never holds the message's text.
#[derive(Debug, thiserror::Error)]
#[error("delivery failed: {0}")]
pub struct NotifyError(pub String);

/// Sends messages.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Deliver `message`, or say why not.
    async fn send(&self, message: &Message) -> Result<(), NotifyError>;
}

/// The embedded default: keep every message in the database's outbox and log it.
pub struct Outbox {
    store: Arc<dyn Store>,
}

impl Outbox {
    /// An outbox in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Notifier for Outbox {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        self.store
            .write_outbox(&OutboxMessage {
                at: clock::now(),
                channel: message.channel.as_str().to_string(),
                recipient: message.recipient.clone(),
                body: message.body.clone(),
            })
            .await
            .map_err(|e| NotifyError(format!("writing the outbox: {e}")))?;
        // By design (the outbox is for development): the developer reads the code here.
        tracing::info!(channel = message.channel.as_str(), recipient = %message.recipient, text = %message.body, "outbox");
        Ok(())
    }
}

/// Email by SMTP (crate `lettre`), configured by URL: `smtp://user:pass@host:587?tls=required`
/// (STARTTLS), `smtps://…:465` (TLS), or `smtp://host:25` (plain, for a relay on the same
/// host). The URL's password must not be logged: `Debug` shows the sender only.
pub struct Smtp {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// A sender through the SMTP server `url`, writing as `from` (`Name <address>` or an
    /// address).
    pub fn from_url(url: &str, from: &str) -> Result<Self, NotifyError> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|_| NotifyError("the SMTP URL does not parse (smtp://user:pass@host:port?tls=required)".into()))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|_| NotifyError(format!("{from:?} is not a sender address")))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Notifier for Smtp {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        use lettre::AsyncTransport;
        let to = message
            .recipient
            .parse()
            .map_err(|_| NotifyError("the recipient is not an email address".into()))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.as_str())
            .body(message.body.clone())
            .map_err(|_| NotifyError("the message did not build".into()))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError(format!("SMTP: {e}")))
    }
}

/// SMS through an HTTP webhook: `POST url` with `{"to": "+1…", "body": "…"}` as JSON and, when
/// configured, `Authorization: Bearer <token>`; any 2xx counts as sent. The token must not be
/// logged.
pub struct SmsWebhook {
    url: String,
    token: Option<zeroize::Zeroizing<String>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for SmsWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsWebhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SmsWebhook {
    /// A webhook at `url`, authenticated with `token` if given.
    pub fn new(url: &str, token: Option<String>) -> Result<Self, NotifyError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(NotifyError("the SMS webhook URL must be http(s)://".into()));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|_| NotifyError("the HTTP client did not start".into()))?;
        Ok(Self {
            url: url.to_string(),
            token: token.map(zeroize::Zeroizing::new),
            http,
        })
    }
}

#[async_trait]
impl Notifier for SmsWebhook {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let mut req = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "to": message.recipient, "body": message.body }));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token.as_str());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| NotifyError(format!("SMS webhook: {}", e.without_url())))?;
        if !resp.status().is_success() {
            return Err(NotifyError(format!("SMS webhook answered {}", resp.status())));
        }
        Ok(())
    }
}

/// One notifier per channel: email through one, SMS through another (each the outbox unless
/// configured).
pub struct Channels {
    /// For [`Channel::Email`].
    pub email: Arc<dyn Notifier>,
    /// For [`Channel::Sms`].
    pub sms: Arc<dyn Notifier>,
}

#[async_trait]
impl Notifier for Channels {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        match message.channel {
            Channel::Email => self.email.send(message).await,
            Channel::Sms => self.sms.send(message).await,
        }
    }
}
