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
