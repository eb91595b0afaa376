//! Pregenerated wallets over HTTP: create (starts key generation, [`keygen`]), list, read and
//! change identifier ([`pregen`]). Handlers parse and answer; the flows decide.

use std::str::FromStr;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use dyad_proto::rest::{CeremonyTicket, CreateWalletRequest, UpdateWalletRequest, WalletCursor, WalletList};
use dyad_proto::{PregenId, WalletId, WalletType, WalletView};

use super::{json_value, parse_json, parse_value, Auth, Body, Segment, SessionAuth, Who};
use crate::error::ServerError;
use crate::model::{Caller, Wallet};
use crate::state::AppState;
use crate::{claim as claim_flow, keygen, pregen};

/// Parse a wallet id from the path; an unparsable one cannot exist, so it is a 404.
pub fn wallet_id(raw: &str) -> Result<WalletId, ServerError> {
    raw.parse().map_err(|_| ServerError::WalletNotFound)
}

/// Tell apart the reasons a create body failed, so each gets its own code. The batch
/// connection's `create` is parsed by this too.
pub(crate) fn parse_create(value: serde_json::Value) -> Result<CreateWalletRequest, ServerError> {
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
    let req = parse_create(json_value(&body)?)?;
    let ticket = keygen::start(&state, scope, req.wallet_type, req.pregen_id, req.key_setup_id).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// `GET /v1/wallets[?email=…|phone=…|…]`: at most one identifier filter. Without one, an
/// app's listing comes in pages (`limit`, at most 1000, the default; `cursor` from the previous
/// page's `nextCursor`).
pub async fn list(
    State(state): State<AppState>,
    Who(caller): Who,
    RawQuery(query): RawQuery,
) -> Result<Json<WalletList>, ServerError> {
    // A list of pairs, not a map: `?email=a&email=b` must be refused, not half-read.
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|_| ServerError::InvalidRequest("malformed query string".into()))?;
    let (paging, filters): (Vec<_>, Vec<_>) = query.iter().partition(|(k, _)| k == "cursor" || k == "limit");
    let filter = match filters.as_slice() {
        [] => None,
        [(kind, value)] => Some(PregenId::parse(kind, value)?),
        _ => {
            return Err(ServerError::InvalidRequest(
                "give at most one identifier (email, phone, telegramUserId, farcasterUsername, xUsername, discordUsername, customId)".into(),
            ))
        }
    };
    let one = |name: &str| -> Result<Option<&String>, ServerError> {
        let mut values = paging.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(ServerError::InvalidRequest(format!("give {name} once")));
        }
        Ok(first)
    };
    let cursor = one("cursor")?
        .map(|c| {
            WalletCursor::parse(c)
                .ok_or_else(|| ServerError::InvalidRequest("cursor is not one this server gave".into()))
        })
        .transpose()?;
    let limit = one("limit")?
        .map(|l| {
            l.parse::<u32>()
                .ok()
                .filter(|n| (1..=pregen::MAX_PAGE).contains(n))
                .ok_or_else(|| ServerError::InvalidRequest(format!("limit must be 1 to {}", pregen::MAX_PAGE)))
        })
        .transpose()?;
    let (wallets, next) = match (&caller, filter) {
        (Caller::App(scope), None) => pregen::page(&state, *scope, cursor, limit.unwrap_or(pregen::MAX_PAGE)).await?,
        (_, filter) => {
            if !paging.is_empty() {
                return Err(ServerError::InvalidRequest(
                    "cursor and limit page an app's whole listing; this one is not paged".into(),
                ));
            }
            (pregen::list(&state, &caller, filter.as_ref()).await?, None)
        }
    };
    Ok(Json(WalletList {
        wallets: wallets.iter().map(Wallet::view).collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

/// `GET /v1/wallets/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Who(caller): Who,
    Segment(id): Segment,
) -> Result<Json<WalletView>, ServerError> {
    Ok(Json(pregen::get(&state, &caller, wallet_id(&id)?).await?.view()))
}

/// `POST /v1/wallets/{id}/claim` (a person's session): start the claim ceremony that rotates
/// the shares and makes the wallet theirs.
pub async fn claim(
    State(state): State<AppState>,
    session: SessionAuth,
    Segment(id): Segment,
) -> Result<(StatusCode, Json<CeremonyTicket>), ServerError> {
    let ticket = claim_flow::start(&state, &session.person, wallet_id(&id)?).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
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
    Ok(Json(
        pregen::change_identifier(&state, scope, id, req.pregen_id)
            .await?
            .view(),
    ))
}
