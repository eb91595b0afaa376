//! The Cosmos SDK protobuf messages the Cosmos module reads or writes, declared from the SDK's
//! `.proto` files (v0.50: `cosmos/tx/v1beta1/tx.proto`, `cosmos/base/v1beta1/coin.proto`,
//! `cosmos/crypto/secp256k1/keys.proto`, `cosmos/bank/v1beta1/tx.proto`,
//! `google/protobuf/any.proto`) instead of depending on a crate that generates all of the SDK.
//! `SignDoc` and `TxRaw` are re-encoded, so they are complete; the others declare only the
//! fields read here (prost skips the rest, as the Go decoder does).

/// `cosmos.tx.v1beta1.SignDoc`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SignDoc {
    #[prost(bytes = "vec", tag = "1")]
    pub body_bytes: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub auth_info_bytes: Vec<u8>,
    #[prost(string, tag = "3")]
    pub chain_id: String,
    #[prost(uint64, tag = "4")]
    pub account_number: u64,
}

/// `cosmos.tx.v1beta1.TxRaw`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct TxRaw {
    #[prost(bytes = "vec", tag = "1")]
    pub body_bytes: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub auth_info_bytes: Vec<u8>,
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub signatures: Vec<Vec<u8>>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `cosmos.tx.v1beta1.TxBody` (messages only; memo, timeout and extensions are skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct TxBody {
    #[prost(message, repeated, tag = "1")]
    pub messages: Vec<Any>,
}

/// `cosmos.tx.v1beta1.AuthInfo` (the deprecated `tip` is skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct AuthInfo {
    #[prost(message, repeated, tag = "1")]
    pub signer_infos: Vec<SignerInfo>,
    #[prost(message, optional, tag = "2")]
    pub fee: Option<Fee>,
}

/// `cosmos.tx.v1beta1.SignerInfo` (the sequence is skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SignerInfo {
    #[prost(message, optional, tag = "1")]
    pub public_key: Option<Any>,
    #[prost(message, optional, tag = "2")]
    pub mode_info: Option<ModeInfo>,
}

/// `cosmos.tx.v1beta1.ModeInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ModeInfo {
    #[prost(oneof = "ModeInfoSum", tags = "1, 2")]
    pub sum: Option<ModeInfoSum>,
}

/// The `sum` oneof of `ModeInfo`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum ModeInfoSum {
    #[prost(message, tag = "1")]
    Single(ModeInfoSingle),
    #[prost(message, tag = "2")]
    Multi(ModeInfoMulti),
}

/// `cosmos.tx.v1beta1.ModeInfo.Single` (the mode is the `SignMode` enum's number).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ModeInfoSingle {
    #[prost(int32, tag = "1")]
    pub mode: i32,
}

/// `cosmos.tx.v1beta1.ModeInfo.Multi`: only told apart from `Single`, never read (a
/// multisig key is not the wallet's key).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ModeInfoMulti {}

/// `cosmos.tx.v1beta1.Fee` (gas limit, payer and granter are skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Fee {
    #[prost(message, repeated, tag = "1")]
    pub amount: Vec<Coin>,
}

/// `cosmos.base.v1beta1.Coin`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Coin {
    #[prost(string, tag = "1")]
    pub denom: String,
    #[prost(string, tag = "2")]
    pub amount: String,
}

/// `cosmos.crypto.secp256k1.PubKey`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PubKey {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
}

/// `cosmos.bank.v1beta1.MsgSend` (`from_address` is skipped: the signer check is by key).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct MsgSend {
    #[prost(string, tag = "2")]
    pub to_address: String,
    #[prost(message, repeated, tag = "3")]
    pub amount: Vec<Coin>,
}
