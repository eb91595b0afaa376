//! Grants, the person's side: in a session of another app, let that app use wallets of theirs
//! (by id or type, for some operations), list and revoke what was granted.

use dyad_proto::grant::{GrantList, GrantRequest, GrantView};
use reqwest::Method;

use crate::error::SdkError;
use crate::Dyad;

impl Dyad {
    /// Let the app of this client's session use the wallets `request` names (`POST /v1/grants`).
    pub async fn create_grant(&self, request: &GrantRequest) -> Result<GrantView, SdkError> {
        self.require_session()?;
        self.api.call(Method::POST, "/v1/grants", &[], Some(request)).await
    }

    /// The session's person's live grants to this app.
    pub async fn list_grants(&self) -> Result<Vec<GrantView>, SdkError> {
        self.require_session()?;
        let list: GrantList = self.api.call::<(), _>(Method::GET, "/v1/grants", &[], None).await?;
        Ok(list.grants)
    }

    /// Take a grant back: the app no longer sees or signs with what it named.
    pub async fn revoke_grant(&self, id: uuid::Uuid) -> Result<(), SdkError> {
        self.require_session()?;
        self.api
            .call::<(), ()>(Method::DELETE, &format!("/v1/grants/{id}"), &[], None)
            .await
    }
}
