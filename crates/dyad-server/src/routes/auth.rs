//! Logging in over HTTP (`/v1/auth/…`): one-time codes by email and phone, app-vouched custom
//! ids, the Telegram Login Widget, OAuth with Discord and X, Sign In With Farcaster, and the
//! session's own calls (read, refresh, end). Every login goes through an app's API
//! key; a session sent along links the new identifier to that person.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dyad_proto::auth::{
    CodeSent, CustomLoginRequest, EmailStartRequest, EmailVerifyRequest, FarcasterNonce, FarcasterVerifyRequest,
    LoginResponse, OAuthFinishRequest, OAuthStartRequest, OAuthStarted, PhoneStartRequest, PhoneVerifyRequest,
    SessionView, TelegramLoginRequest,
};

use super::{parse_json, Auth, Body, ClientIp, Segment, SessionAuth};
use crate::auth::code::{self, CodeChannel};
use crate::auth::{custom as custom_login, farcaster, oauth, session as sessions, telegram as telegram_login};
use crate::error::ServerError;
use crate::state::AppState;

type Login = Result<(StatusCode, Json<LoginResponse>), ServerError>;

fn created(login: LoginResponse) -> (StatusCode, Json<LoginResponse>) {
    (StatusCode::CREATED, Json(login))
}

/// `POST /v1/auth/email/start {email}`.
pub async fn email_start(
    State(state): State<AppState>,
    Auth(scope): Auth,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Json<CodeSent>, ServerError> {
    let req: EmailStartRequest = parse_json(&body)?;
    Ok(Json(
        code::start(&state, scope, CodeChannel::Email, &req.email, &ip).await?,
    ))
}

/// `POST /v1/auth/email/verify {email, code}`.
pub async fn email_verify(
    State(state): State<AppState>,
    Auth(scope): Auth,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let req: EmailVerifyRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        code::verify(&state, scope, CodeChannel::Email, &req.email, &req.code, person).await?,
    ))
}

/// `POST /v1/auth/phone/start {phone}`.
pub async fn phone_start(
    State(state): State<AppState>,
    Auth(scope): Auth,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Json<CodeSent>, ServerError> {
    let req: PhoneStartRequest = parse_json(&body)?;
    Ok(Json(
        code::start(&state, scope, CodeChannel::Phone, &req.phone, &ip).await?,
    ))
}

/// `POST /v1/auth/phone/verify {phone, code}`.
pub async fn phone_verify(
    State(state): State<AppState>,
    Auth(scope): Auth,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let req: PhoneVerifyRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        code::verify(&state, scope, CodeChannel::Phone, &req.phone, &req.code, person).await?,
    ))
}

/// `POST /v1/auth/custom {customId}`: the app vouches for its user.
pub async fn custom(
    State(state): State<AppState>,
    Auth(scope): Auth,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let req: CustomLoginRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        custom_login::login(&state, scope, &req.custom_id, person).await?,
    ))
}

/// `POST /v1/auth/telegram {widgetData}`: the Telegram Login Widget's signed data.
pub async fn telegram(
    State(state): State<AppState>,
    Auth(scope): Auth,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let req: TelegramLoginRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        telegram_login::login(&state, scope, &req.widget_data, person).await?,
    ))
}

/// `POST /v1/auth/oauth/{provider}/start {redirectUri}`: where to send the person.
pub async fn oauth_start(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(provider): Segment,
    Body(body): Body,
) -> Result<Json<OAuthStarted>, ServerError> {
    let provider = oauth::provider(&provider)?;
    let req: OAuthStartRequest = parse_json(&body)?;
    Ok(Json(oauth::start(&state, scope, provider, &req.redirect_uri).await?))
}

/// `POST /v1/auth/oauth/{provider}/finish {state, code}`: what the provider's redirect carried.
pub async fn oauth_finish(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(provider): Segment,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let provider = oauth::provider(&provider)?;
    let req: OAuthFinishRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        oauth::finish(&state, scope, provider, &req.state, &req.code, person).await?,
    ))
}

/// `POST /v1/auth/farcaster/nonce`: a nonce for one Sign In With Farcaster message.
pub async fn farcaster_nonce(
    State(state): State<AppState>,
    Auth(scope): Auth,
) -> Result<(StatusCode, Json<FarcasterNonce>), ServerError> {
    Ok((StatusCode::CREATED, Json(farcaster::nonce(&state, scope).await?)))
}

/// `POST /v1/auth/farcaster/verify {message, signature}`: the signed message.
pub async fn farcaster_verify(
    State(state): State<AppState>,
    Auth(scope): Auth,
    linking: Option<SessionAuth>,
    Body(body): Body,
) -> Login {
    let req: FarcasterVerifyRequest = parse_json(&body)?;
    let person = linking.as_ref().map(|s| &s.person);
    Ok(created(
        farcaster::verify(&state, scope, &req.message, &req.signature, person).await?,
    ))
}

/// `GET /v1/auth/session`: who the session is.
pub async fn session(session: SessionAuth) -> Json<SessionView> {
    Json(sessions::view(&session.person))
}

/// `POST /v1/auth/session/refresh`: keep it alive for another session lifetime.
pub async fn refresh(State(state): State<AppState>, session: SessionAuth) -> Result<Json<SessionView>, ServerError> {
    Ok(Json(sessions::refresh(&state, &session.person, &session.token).await?))
}

/// `DELETE /v1/auth/session`: log out.
pub async fn logout(State(state): State<AppState>, session: SessionAuth) -> Result<StatusCode, ServerError> {
    sessions::logout(&state, &session.person, &session.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
