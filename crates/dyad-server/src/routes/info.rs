//! `GET /v1/info`.

use axum::extract::State;
use axum::Json;
use dyad_proto::rest::InfoResponse;
use dyad_proto::WalletType;

use crate::state::AppState;

/// Version and the ceremony public key clients encrypt to.
pub async fn info(State(state): State<AppState>) -> Json<InfoResponse> {
    Json(InfoResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        ceremony_public_key: state.ceremony_key.public(),
        wallet_types: WalletType::ALL.to_vec(),
    })
}
