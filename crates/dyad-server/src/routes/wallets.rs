//! Pregenerated wallets: create (starts key generation), list, read, change identifier.

use std::str::FromStr;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use dyad_proto::rest::{CeremonyTicket, CreateWalletRequest, UpdateWalletRequest, WalletList};
use dyad_proto::{CeremonyId, PregenId, WalletId, WalletStatus, WalletType, WalletView};
use serde_json::json;

use super::{json_value, parse_json, parse_value, Auth, Body, Segment};
use crate::audit;
use crate::ceremony::ceremony_hash;
use crate::clock;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{CeremonyKind, CeremonyRecord, CreateOutcome, WalletRecord};

/// Parse a wallet id from the path; an unparsable one cannot exist, so it is a 404.
pub fn wallet_id(raw: &str) -> Result<WalletId, ServerError> {
    raw.parse().map_err(|_| ServerError::WalletNotFound)
}

/// Tell apart the reasons a create body failed, so each gets its own code.
fn parse_create(body: &[u8]) -> Result<CreateWalletRequest, ServerError> {
    let value = json_value(body)?;
    if let Some(obj) = value.as_object() {
        if let Some(t) = obj.get("type").and_then(|t| t.as_str()) {
            if WalletType::from_str(t).is_err() {
                return Err(ServerError::UnsupportedWalletType(format!(
                    "unsupported wallet type {t:?}: expected one of EVM, SOLANA, COSMOS, STELLAR"
                )));
            }
        }
        if let Some(p) = obj.get("pregenId") {
            if let Err(e) = serde_json::from_value::<PregenId>(p.clone()) {
                return Err(ServerError::InvalidIdentifier(format!("invalid pregenId: {e}")));
            }
        }
    }
    parse_value(value)
}

/// `POST /v1/wallets`: reserve the (type, identifier) and start key generation. The wallet is
/// invisible until the ceremony commits it.
pub async fn create(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Body(body): Body,
) -> Result<(StatusCode, Json<CeremonyTicket>), ServerError> {
    let req = parse_create(&body)?;
    let now = clock::now();
    let id = WalletId::random();
    let ceremony_id = CeremonyId::random();
    let expires_at = now + state.config.ceremony_ttl.as_secs() as i64;
    let wallet = WalletRecord {
        id,
        scope,
        wallet_type: req.wallet_type,
        scheme: req.wallet_type.scheme(),
        public_key: None,
        address: None,
        pregen_id: req.pregen_id.clone(),
        status: WalletStatus::Pending,
        key_version: 1,
        locked: false,
        created_at: now,
    };
    let ceremony = CeremonyRecord {
        id_hash: ceremony_hash(&ceremony_id),
        scope,
        wallet_id: id,
        kind: CeremonyKind::Dkg,
        expires_at,
    };
    let entry = audit::entry(
        scope,
        Some(id),
        "wallet.create_requested",
        json!({ "type": req.wallet_type, "pregenId": req.pregen_id }),
    );
    match state
        .store
        .create_pending_wallet(&wallet, &ceremony, &entry, state.config.abandoned(now))
        .await?
    {
        CreateOutcome::Created => Ok((
            StatusCode::CREATED,
            Json(CeremonyTicket {
                ceremony_id,
                wallet_id: id,
                expires_at,
                summary: None,
            }),
        )),
        CreateOutcome::Exists(existing, WalletStatus::Pending) => Err(ServerError::CeremonyInProgress(existing)),
        CreateOutcome::Exists(existing, _) => Err(ServerError::WalletExists(existing)),
    }
}

/// `GET /v1/wallets[?email=…|phone=…|…]`: at most one identifier filter.
pub async fn list(
    State(state): State<AppState>,
    Auth(scope): Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<WalletList>, ServerError> {
    // A list of pairs, not a map: `?email=a&email=b` must be refused, not half-read.
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|_| ServerError::InvalidRequest("malformed query string".into()))?;
    let filter = match query.as_slice() {
        [] => None,
        [(kind, value)] => Some(PregenId::parse(kind, value)?),
        _ => {
            return Err(ServerError::InvalidRequest(
                "give at most one identifier (email, phone, telegramUserId, farcasterUsername, xUsername, discordUsername, customId)".into(),
            ))
        }
    };
    let wallets = state.store.wallets(scope, filter.as_ref()).await?;
    Ok(Json(WalletList {
        wallets: wallets.iter().map(WalletRecord::view).collect::<Result<_, _>>()?,
    }))
}

/// `GET /v1/wallets/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
) -> Result<Json<WalletView>, ServerError> {
    let w = state
        .store
        .wallet(scope, wallet_id(&id)?)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    Ok(Json(w.view()?))
}

/// `PATCH /v1/wallets/{id}`: change the identifier, only while the wallet is unclaimed.
pub async fn update(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
    Body(body): Body,
) -> Result<Json<WalletView>, ServerError> {
    let id = wallet_id(&id)?;
    let req: UpdateWalletRequest = parse_json(&body).map_err(|e| match e {
        ServerError::InvalidRequest(m) => ServerError::InvalidIdentifier(m),
        other => other,
    })?;
    let before = state
        .store
        .wallet(scope, id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    if before.status == WalletStatus::Claimed {
        let denied = ServerError::WalletClaimed;
        return Err(audit::denied(
            state.store.as_ref(),
            scope,
            id,
            "wallet.identifier_change_denied",
            denied,
        )
        .await);
    }
    let entry = audit::entry(
        scope,
        Some(id),
        "wallet.identifier_changed",
        json!({ "from": before.pregen_id, "to": req.pregen_id }),
    );
    if !state.store.update_pregen_id(scope, id, &req.pregen_id, &entry).await? {
        return Err(ServerError::WalletClaimed);
    }
    let after = state
        .store
        .wallet(scope, id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    Ok(Json(after.view()?))
}
