//! `/v1/grants`: a person's grants to the app of their session (create, list, revoke).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dyad_proto::grant::{GrantList, GrantRequest, GrantView};

use super::{parse_json, Body, Segment, SessionAuth};
use crate::error::ServerError;
use crate::grant;
use crate::model::Grant;
use crate::state::AppState;

/// `POST /v1/grants {wallets?, walletTypes?, operations}`.
pub async fn create(
    State(state): State<AppState>,
    session: SessionAuth,
    Body(body): Body,
) -> Result<(StatusCode, Json<GrantView>), ServerError> {
    let req: GrantRequest = parse_json(&body)?;
    let g = grant::create(&state, &session.person, req).await?;
    Ok((StatusCode::CREATED, Json(g.view())))
}

/// `GET /v1/grants`.
pub async fn list(State(state): State<AppState>, session: SessionAuth) -> Result<Json<GrantList>, ServerError> {
    let grants = grant::list(&state, &session.person).await?;
    Ok(Json(GrantList {
        grants: grants.iter().map(Grant::view).collect(),
    }))
}

/// `DELETE /v1/grants/{id}`.
pub async fn revoke(
    State(state): State<AppState>,
    session: SessionAuth,
    Segment(id): Segment,
) -> Result<StatusCode, ServerError> {
    let id = id.parse().map_err(|_| ServerError::GrantNotFound)?;
    grant::revoke(&state, &session.person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
