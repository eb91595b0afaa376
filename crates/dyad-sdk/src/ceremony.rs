//! The user party's side of ceremonies: connect the WebSocket, open the Noise channel to the
//! server's ceremony key, and run the same machines the server runs, as party 1.

use dyad_chains::{encode_signature, message_sign_input};
use dyad_mpc::{Dkg, KeyShare, Role, Sign};
use dyad_proto::rest::{ceremony_path, CeremonyTicket};
use dyad_proto::{
    confirmation_input, session_id, CeremonyChannel, ErrorCode, Frame, Outcome, ProtoError, WalletType, WalletView,
};

use crate::error::SdkError;
use crate::http::Api;
use crate::share::LoadedWallet;
use crate::transport::ClientSocket;

async fn open(
    api: &Api,
    server_key: &[u8; 32],
    ticket: &CeremonyTicket,
) -> Result<CeremonyChannel<ClientSocket>, SdkError> {
    let socket = ClientSocket::connect(&api.ws_url(&ceremony_path(&ticket.ceremony_id))).await?;
    Ok(CeremonyChannel::connect(socket, server_key, &ticket.ceremony_id).await?)
}

/// Generate a key with the server for a freshly started wallet; returns the loaded wallet once
/// the server has committed it.
pub async fn generate(
    api: &Api,
    server_key: [u8; 32],
    wallet_type: WalletType,
    ticket: &CeremonyTicket,
) -> Result<LoadedWallet, SdkError> {
    let mut channel = open(api, &server_key, ticket).await?;
    let result = generate_on(&mut channel, wallet_type, ticket).await;
    if let Err(e) = &result {
        if !matches!(e, SdkError::Ceremony(ProtoError::PeerAborted { .. })) {
            channel.abort(ErrorCode::CeremonyAborted, &e.to_string()).await;
        }
    }
    channel.into_inner().close().await;
    let (view, share) = result?;
    Ok(LoadedWallet {
        view,
        server_key,
        share,
    })
}

async fn generate_on(
    channel: &mut CeremonyChannel<ClientSocket>,
    wallet_type: WalletType,
    ticket: &CeremonyTicket,
) -> Result<(WalletView, KeyShare), SdkError> {
    let id = ticket.ceremony_id;
    let scheme = wallet_type.scheme();
    let sid = session_id(&id, "dkg");
    let share = channel.run(move || Dkg::start(scheme, Role::User, &sid)).await?;

    let input = confirmation_input(scheme, &id);
    let sid = session_id(&id, "confirm");
    let (test_share, test_input) = (share.clone(), input.clone());
    let signature = channel.run(move || Sign::start(&test_share, &sid, &test_input)).await?;
    share
        .public_key()
        .verify(&input, &signature)
        .map_err(|_| SdkError::Mismatch("test signature did not verify"))?;

    channel.send(&Frame::Confirm).await?;
    let view = match channel.recv().await? {
        Frame::Done(Outcome::WalletCreated(view)) => view,
        _ => return Err(ProtoError::UnexpectedFrame("expected the created wallet").into()),
    };
    if view.id != ticket.wallet_id
        || view.wallet_type != wallet_type
        || view.public_key != format!("0x{}", hex::encode(share.public_key().as_bytes()))
    {
        return Err(SdkError::Mismatch("created wallet differs from the generated key"));
    }
    Ok((view, share))
}

/// Sign `message` with a loaded wallet under the `signMessage` convention of its type; returns
/// the chain-encoded signature, checked against the wallet's public key.
pub async fn sign_message(
    api: &Api,
    wallet: &LoadedWallet,
    ticket: &CeremonyTicket,
    message: &[u8],
) -> Result<Vec<u8>, SdkError> {
    let view = &wallet.view;
    let input = message_sign_input(view.wallet_type, &view.address, message)
        .map_err(|e| SdkError::InvalidInput(format!("cannot sign this message: {e}")))?;
    let mut channel = open(api, &wallet.server_key, ticket).await?;
    let sid = session_id(&ticket.ceremony_id, "sign");
    let (share, machine_input) = (wallet.share.clone(), input.clone());
    let result = async {
        let signature = channel.run(move || Sign::start(&share, &sid, &machine_input)).await?;
        wallet
            .share
            .public_key()
            .verify(&input, &signature)
            .map_err(|_| SdkError::Mismatch("signature did not verify"))?;
        let encoded = encode_signature(view.wallet_type, &signature)
            .map_err(|e| SdkError::InvalidInput(format!("encoding signature: {e}")))?;
        match channel.recv().await? {
            Frame::Done(Outcome::Signed(s)) if s == encoded => Ok(encoded),
            Frame::Done(Outcome::Signed(_)) => Err(SdkError::Mismatch("server reported a different signature")),
            _ => Err(ProtoError::UnexpectedFrame("expected the signature").into()),
        }
    }
    .await;
    channel.into_inner().close().await;
    result
}
