//! What each sign method asks for: the sign route, its JSON body, and the [`SignRequest`] this
//! side decodes and signs. Built once, so a signature over its own REST call and one on a batch
//! lane send the same body and sign the same thing.

use base64::Engine;
use dyad_chains::Digest;
use dyad_chains::{SignRequest, TransactionRequest};
use dyad_proto::batch::SignRoute;
use dyad_proto::rest::{
    typed_data_text, SignMessageRequest, SignRawRequest, SignTransactionRequest, SignTypedDataRequest,
};
use dyad_types::hex0x;

use crate::error::SdkError;

/// One signature to ask for.
pub(crate) struct SignCall {
    /// Which sign route.
    pub route: SignRoute,
    /// That route's body.
    pub body: serde_json::Value,
    /// What this side decodes and signs.
    pub request: SignRequest,
}

fn json<T: serde::Serialize>(body: &T) -> Result<serde_json::Value, SdkError> {
    serde_json::to_value(body).map_err(|e| SdkError::Http(format!("encoding the request: {e}")))
}

impl SignCall {
    /// `sign-message`.
    pub fn message(message: &[u8]) -> Result<Self, SdkError> {
        let body = SignMessageRequest {
            message_base64: base64::engine::general_purpose::STANDARD.encode(message),
        };
        Ok(SignCall {
            route: SignRoute::Message,
            body: json(&body)?,
            request: SignRequest::Message(message.to_vec()),
        })
    }

    /// `sign-transaction`.
    pub fn transaction(request: &TransactionRequest) -> Result<Self, SdkError> {
        let body = SignTransactionRequest {
            // `0x` hex: base64 can itself start with "0x" and would be read as hex.
            transaction: hex0x::encode(&request.bytes),
            chain_id: request.chain_id,
            network_passphrase: request.network_passphrase.clone(),
            sign_mode: request.cosmos_sign_mode,
        };
        Ok(SignCall {
            route: SignRoute::Transaction,
            body: json(&body)?,
            request: SignRequest::Transaction(request.clone()),
        })
    }

    /// `sign-typed-data`.
    pub fn typed_data(typed_data: &serde_json::Value) -> Result<Self, SdkError> {
        let text = typed_data_text(typed_data);
        let body = SignTypedDataRequest {
            typed_data: serde_json::Value::String(text.clone()),
        };
        Ok(SignCall {
            route: SignRoute::TypedData,
            body: json(&body)?,
            request: SignRequest::TypedData(text),
        })
    }

    /// `sign-raw`.
    pub fn raw(digest: Digest) -> Result<Self, SdkError> {
        let body = SignRawRequest {
            digest: hex0x::encode(digest),
        };
        Ok(SignCall {
            route: SignRoute::Raw,
            body: json(&body)?,
            request: SignRequest::Raw(digest),
        })
    }
}
