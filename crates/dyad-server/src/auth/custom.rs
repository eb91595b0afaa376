//! Custom ids: the app, by its API key, vouches that a person is its user with this id (the app
//! maps custom ids to people, as in Para). The id is the app's own: another app's custom id of
//! the same spelling is another person.

use dyad_proto::auth::LoginResponse;
use dyad_proto::PregenId;

use super::Method;
use crate::error::ServerError;
use crate::model::{Person, Scope, VerifiedId};
use crate::state::AppState;

/// Open a session for the app's user `custom_id`.
pub async fn login(
    state: &AppState,
    scope: Scope,
    custom_id: &str,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    let id = PregenId::parse("customId", custom_id)?;
    super::verified(state, scope, VerifiedId::new(id, scope), Method::AppVouched, linking).await
}
