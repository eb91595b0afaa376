//! Grants, as a flow: a person, in a session of another app, lets that app use wallets of
//! theirs ([`create`]), sees what they granted ([`list`]) and takes it back ([`revoke`]). Every
//! change is audited in the granted app's log. What a grant lets an app do is decided where the
//! wallet is read and signed ([`crate::model::Actor::signing_refusal`], `operation_refusal`).

use dyad_proto::grant::GrantRequest;
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::{Grant, Person};
use crate::state::AppState;

/// Grant the session's app `request`: the named wallets must be the person's own (any other id
/// is `WALLET_NOT_FOUND`), and something must be named and allowed.
pub async fn create(state: &AppState, person: &Person, request: GrantRequest) -> Result<Grant, ServerError> {
    let GrantRequest {
        mut wallets,
        mut wallet_types,
        mut operations,
    } = request;
    if wallets.is_empty() && wallet_types.is_empty() {
        return Err(ServerError::InvalidRequest(
            "name at least one wallet or wallet type".into(),
        ));
    }
    if operations.is_empty() {
        return Err(ServerError::InvalidRequest(
            "allow at least one operation (message, typed-data, transaction)".into(),
        ));
    }
    for id in &wallets {
        let owned = state
            .store
            .wallet_by_id(*id)
            .await?
            .is_some_and(|w| person.owns(&w) && w.scope.environment == person.scope.environment);
        if !owned {
            return Err(ServerError::WalletNotFound);
        }
    }
    wallets.sort();
    wallets.dedup();
    wallet_types.sort_by_key(|t| t.as_str());
    wallet_types.dedup();
    operations.sort_by_key(|o| *o as u8);
    operations.dedup();
    let grant = Grant {
        id: uuid::Uuid::new_v4(),
        user_id: person.user_id,
        scope: person.scope,
        wallets,
        wallet_types,
        operations,
        created_at: clock::now(),
    };
    let entry = audit::entry(
        person.scope,
        None,
        AuditAction::GrantCreated,
        json!({
            "grantId": grant.id,
            "userId": person.user_id,
            "wallets": grant.wallets,
            "walletTypes": grant.wallet_types,
            "operations": grant.operations,
        }),
    );
    state.store.create_grant(&grant, &entry).await?;
    Ok(grant)
}

/// The person's live grants to the session's app.
pub async fn list(state: &AppState, person: &Person) -> Result<Vec<Grant>, ServerError> {
    Ok(state.store.grants(person.user_id, person.scope).await?)
}

/// Take grant `id` back: from the next request on (and for ceremonies already authorised) the
/// app no longer sees or signs with what it named.
pub async fn revoke(state: &AppState, person: &Person, id: uuid::Uuid) -> Result<(), ServerError> {
    let entry = audit::entry(
        person.scope,
        None,
        AuditAction::GrantRevoked,
        json!({ "grantId": id, "userId": person.user_id }),
    );
    if !state
        .store
        .revoke_grant(person.user_id, person.scope, id, clock::now(), &entry)
        .await?
    {
        return Err(ServerError::GrantNotFound);
    }
    Ok(())
}
