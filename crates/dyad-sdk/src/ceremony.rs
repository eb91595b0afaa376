//! The user party's side of ceremonies: connect the WebSocket, open the Noise channel to the
//! server's ceremony key, and run the same machines the server runs, as party 1.

use dyad_chains::{Account, SignRequest, SignedTransaction};
use dyad_mpc::{KeySetup, KeyShare, Role};
use dyad_proto::rest::{ceremony_path, CeremonyTicket};
use dyad_types::hex0x;
use std::sync::Arc;
use std::time::Duration;

use dyad_proto::{
    session_id, CeremonyChannel, CeremonyKey, ErrorCode, Frame, FrameTransport, KeyGeneration, Outcome, PregenId,
    ProtoError, Run, RunStart, WalletStatus, WalletType, WalletView,
};

use crate::error::SdkError;
use crate::http::Api;
use crate::share::{LoadedWallet, UserShare};
use crate::share_guard::ShareTurn;
use crate::transport::ClientSocket;
use std::future::Future;
use std::pin::Pin;

/// The ceremony's own WebSocket.
pub(crate) async fn socket(api: &Api, ticket: &CeremonyTicket) -> Result<ClientSocket, SdkError> {
    Ok(ClientSocket::connect(&api.ws_url(&ceremony_path(&ticket.ceremony_id))).await?)
}

/// The channel of a ceremony of a live wallet's share (a signature, a claim) over `io`, and the
/// share's turn: connected within [`CEREMONY_DEADLINE`], then waiting for the server under the
/// channel's own deadline, so a round that arrived in time is always processed
/// ([`CEREMONY_BACKSTOP`]). `turn` is taken only once the server says the ceremony holds the
/// wallet's lease ([`Frame::Go`]): every holder of a share's turn then holds the server's lease,
/// which waits on nothing but this side's rounds, so turns and leases never wait on each other,
/// whatever order the server grants leases in (across replicas the database lease is polled).
pub(crate) async fn connect_live<T: FrameTransport>(
    io: impl Future<Output = Result<T, SdkError>>,
    server_key: &CeremonyKey,
    ticket: &CeremonyTicket,
    turn: impl Future<Output = Result<ShareTurn, SdkError>>,
) -> Result<(CeremonyChannel<T>, ShareTurn), SdkError> {
    let connected =
        async { Ok::<_, SdkError>(CeremonyChannel::connect(io.await?, server_key, &ticket.ceremony_id).await?) };
    let mut channel = tokio::time::timeout(CEREMONY_DEADLINE, connected)
        .await
        .map_err(|_| SdkError::Ceremony(ProtoError::Timeout))??;
    let deadline = tokio::time::Instant::now() + CEREMONY_DEADLINE;
    channel.set_deadline(deadline);
    let taken = async {
        channel.wait_for_go().await?;
        // Another ceremony of this share still holds the turn only while it finishes (its
        // lease is gone) or if the server granted two leases at once.
        tokio::time::timeout_at(deadline, turn)
            .await
            .map_err(|_| SdkError::Ceremony(ProtoError::Timeout))?
    }
    .await;
    match taken {
        Ok(turn) => Ok((channel, turn)),
        Err(e) => {
            let failed = Err(e);
            goodbye(channel, &failed).await;
            failed
        }
    }
}

/// How long one whole ceremony may take on this side: longer than the server may make it wait
/// for its wallet's turn (45 s) plus the server's own deadline (120 s).
pub(crate) const CEREMONY_DEADLINE: Duration = Duration::from_secs(180);

/// The bound on a ceremony of a live wallet's share, past [`CEREMONY_DEADLINE`]. There, only
/// waiting for the server is cut short (the channel's own deadline,
/// [`CeremonyChannel::set_deadline`]): a round that arrived in time is always processed to its
/// end, so a cheat it carries is seen and the wallet retired, however the server paced its
/// rounds. This bound only ends a send the server never takes.
pub(crate) const CEREMONY_BACKSTOP: Duration = Duration::from_secs(240);

/// Where a new wallet's share goes before this side confirms it: called with the one-wallet
/// share string once both sides proved they hold a working key; the server commits the wallet
/// only if this returns `Ok` (on `Err`, the ceremony is aborted and nothing is created).
pub type KeepShare<'a> =
    Box<dyn FnOnce(UserShare) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> + Send + 'a>;

/// Generate a key with the server for a freshly started wallet; returns the loaded wallet once
/// the server has committed it. With `keep`, the share is handed to it before the confirmation.
/// With `setup` (a pooled key setup the create request named), the DKG attaches it instead of
/// setting one up.
///
/// If the connection fails after this side confirmed it holds its share, the server may have
/// committed the wallet: the wallet is then handed back in [`GenerateFailed::kept`] rather than
/// dropped, since its share may be the only copy.
///
/// `io` connects the ceremony's transport: its own WebSocket ([`socket`]) or a lane of a batch
/// connection.
pub async fn generate<T: FrameTransport>(
    io: impl Future<Output = Result<T, SdkError>>,
    server_key: CeremonyKey,
    wallet_type: WalletType,
    pregen_id: &PregenId,
    ticket: &CeremonyTicket,
    keep: Option<KeepShare<'_>>,
    setup: Option<KeySetup>,
) -> Result<LoadedWallet, GenerateFailed> {
    let mut confirmed: Option<KeyShare> = None;
    let result = tokio::time::timeout(CEREMONY_DEADLINE, async {
        let mut channel = CeremonyChannel::connect(io.await?, &server_key, &ticket.ceremony_id).await?;
        let result = generate_on(
            &mut channel,
            (wallet_type, pregen_id, ticket, server_key),
            keep,
            setup,
            &mut confirmed,
        )
        .await;
        goodbye(channel, &result).await;
        result
    })
    .await
    .unwrap_or(Err(SdkError::Ceremony(ProtoError::Timeout)));
    let failed = |error: SdkError| GenerateFailed { error, kept: None };
    match (result, confirmed) {
        (Ok(view), Some(share)) => Ok(LoadedWallet {
            view,
            server_key,
            share: Arc::new(share),
            server_misbehaved: false,
            pending_claim: None,
        }),
        (Ok(_), None) => Err(failed(
            ProtoError::UnexpectedFrame("the wallet was created without a share").into(),
        )),
        (Err(e), None) => Err(failed(e)),
        // Confirmed: the server may have committed the wallet, whatever it says now, so the
        // share is never thrown away.
        (Err(e), Some(share)) => Err(GenerateFailed {
            error: e,
            kept: Some(local_wallet((wallet_type, pregen_id, ticket, server_key), share).map_err(failed)?),
        }),
    }
}

/// What a key generation is for: the wallet's type, identifier, ticket, and the server's key.
type Generating<'a> = (WalletType, &'a PregenId, &'a CeremonyTicket, CeremonyKey);

/// The new wallet as this side knows it before the server's word: its address computed here
/// from the generated key (the server's answer must agree, or it is refused).
fn local_wallet(
    (wallet_type, pregen_id, ticket, server_key): Generating<'_>,
    share: KeyShare,
) -> Result<LoadedWallet, SdkError> {
    let public_key = share.public_key();
    let address = dyad_chains::address(wallet_type, &public_key, &dyad_chains::ChainConfig::default())
        .map_err(SdkError::Chain)?;
    Ok(LoadedWallet {
        view: WalletView {
            id: ticket.wallet_id,
            wallet_type,
            scheme: wallet_type.scheme(),
            address,
            public_key: hex0x::encode(public_key.as_bytes()),
            pregen_id: pregen_id.clone(),
            status: WalletStatus::Pregen,
            key_version: 1,
        },
        server_key,
        share: Arc::new(share),
        server_misbehaved: false,
        pending_claim: None,
    })
}

/// A key generation that did not end with the server's word.
pub struct GenerateFailed {
    /// What failed.
    pub error: SdkError,
    /// The wallet, when this side had confirmed it holds its share: the server may have
    /// committed it, so the share must be kept.
    pub kept: Option<LoadedWallet>,
}

/// How long this side spends telling the server a ceremony is over.
const GOODBYE: Duration = Duration::from_secs(5);

/// End a ceremony's channel: abort it if it `failed` (unless the server aborted it first), then
/// close. Bounded by [`GOODBYE`]: a server that stops reading must not keep a share's ask, nor
/// the caller, waiting on it.
pub(crate) async fn goodbye<T: FrameTransport, V>(mut channel: CeremonyChannel<T>, ended: &Result<V, SdkError>) {
    let goodbye = async {
        match ended {
            Err(SdkError::Ceremony(ProtoError::PeerAborted { .. })) | Ok(_) => {}
            Err(e) => channel.abort(ErrorCode::CeremonyAborted, &e.to_string()).await,
        }
        channel.into_inner().close().await;
    };
    let _ = tokio::time::timeout(GOODBYE, goodbye).await;
}

async fn generate_on<T: FrameTransport>(
    channel: &mut CeremonyChannel<T>,
    generating: Generating<'_>,
    keep: Option<KeepShare<'_>>,
    setup: Option<KeySetup>,
    confirmed: &mut Option<KeyShare>,
) -> Result<WalletView, SdkError> {
    let (wallet_type, _, ticket, _) = generating;
    let script = KeyGeneration::new(Role::User, wallet_type.scheme(), &ticket.ceremony_id);
    let share = match setup {
        Some(setup) => channel.run(script.dkg_with_setup(setup)).await?,
        None => channel.run(script.dkg()).await?,
    };
    let (test, start) = script.test_signature(share);
    let signature = channel.run(start).await?;
    let share = test
        .verify(&signature)
        .map_err(|_| SdkError::Mismatch("test signature did not verify"))?
        .into_share();

    let public_key = share.public_key();
    if let Some(keep) = keep {
        // Kept before the confirmation: a wallet the server commits always has its share kept.
        let wallet = local_wallet(generating, share.clone())?;
        let text = crate::share::encode(std::iter::once(&wallet))?;
        keep(text).await.map_err(SdkError::NotKept)?;
    }
    // From here the share is kept whatever happens: the server may commit the wallet.
    *confirmed = Some(share);
    channel.send(&Frame::Confirm).await?;
    let view = match channel.recv().await? {
        Frame::Done(Outcome::WalletCreated(view)) => view,
        _ => return Err(ProtoError::UnexpectedFrame("expected the created wallet").into()),
    };
    if view.id != ticket.wallet_id
        || view.wallet_type != wallet_type
        || view.public_key != hex0x::encode(public_key.as_bytes())
    {
        return Err(SdkError::Mismatch("created wallet differs from the generated key"));
    }
    Ok(view)
}

/// Sign `request` with a loaded wallet: this side decodes the request itself (so it signs only
/// what it understood), runs the protocol, checks the signature against the wallet's key and
/// assembles the chain forms, which must equal what the server reports.
/// `io` is the ceremony's connection: its own WebSocket ([`socket`]) or a batch lane; `turn`
/// takes the share's turn ([`connect_live`]), which ends with the ceremony.
pub(crate) async fn sign<T: FrameTransport>(
    io: impl Future<Output = Result<T, SdkError>>,
    wallet: &LoadedWallet,
    ticket: &CeremonyTicket,
    request: &SignRequest,
    turn: impl Future<Output = Result<ShareTurn, SdkError>>,
) -> Result<SignedTransaction, SdkError> {
    let view = &wallet.view;
    if ticket.wallet_id != view.id {
        return Err(SdkError::Mismatch("the server started a ceremony for another wallet"));
    }
    let public_key = wallet.share.public_key();
    let account = Account {
        wallet_type: view.wallet_type,
        public_key: &public_key,
        address: &view.address,
    };
    let prepared = request.prepare(account).map_err(SdkError::Chain)?;
    // The server said what it decoded and audited; both sides must have read the same thing
    // before this share takes part.
    // A server that does not say what it decoded is refused too: it may have audited anything.
    match &ticket.summary {
        Some(summary) if *summary == prepared.summary => {}
        Some(_) => return Err(SdkError::Mismatch("the server decoded this request differently")),
        None => return Err(SdkError::Mismatch("the server did not say what it decoded")),
    }
    let sid = session_id(&ticket.ceremony_id, Run::Sign);
    // The same share, not a copy: the protocol worker holds it while the run lasts. Its first
    // step (a DKLs one is about half a millisecond) is computed while this side waits for the
    // server's `Go` and the turn; it is sent only once the turn is held.
    let (share, machine_input) = (Arc::clone(&wallet.share), prepared.input.clone());
    let start = RunStart::sign(share, sid, machine_input).ahead();
    let (mut channel, turn) = connect_live(io, &wallet.server_key, ticket, turn).await?;
    let result = tokio::time::timeout(CEREMONY_BACKSTOP, async {
        let signature = channel.run(start).await.map_err(|e| SdkError::of_run(view.id, e))?;
        // The run ends only on a signature its last step verified with the standard verifier
        // (`PublicKey::verify`), under this share's key and for `prepared.input`: checking it
        // again here would repeat that work on every signature's critical path.
        let signed = request.finish(account, &signature).map_err(SdkError::Chain)?;
        match channel.recv().await? {
            Frame::Done(Outcome::Signed(s)) if s == signed => Ok(signed),
            Frame::Done(Outcome::Signed(_)) => Err(SdkError::Mismatch("server reported a different signature")),
            _ => Err(ProtoError::UnexpectedFrame("expected the signature").into()),
        }
    })
    .await
    .unwrap_or(Err(SdkError::Ceremony(ProtoError::Timeout)));
    // Passed on at once, the share retired first if this run caught the server cheating.
    turn.end(&result);
    goodbye(channel, &result).await;
    result
}
