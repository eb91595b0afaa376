//! [alloy](https://alloy.rs) signer for a Dyad EVM wallet (cargo feature `alloy`).
//!
//! [`DyadSigner`] implements [`TxSigner`] (so an
//! [`EthereumWallet`](alloy_network::EthereumWallet) built from it signs every transaction an
//! alloy provider sends) and [`Signer`] (messages, EIP-712 typed data, raw hashes). Every
//! signature is a 2-of-2 ceremony with the Dyad server, exactly like [`Dyad::sign_transaction`]:
//! the server decodes the transaction itself, audits it, and co-signs only what was asked.
//!
//! ```no_run
//! # async fn demo(dyad: dyad_sdk::Dyad, wallet_id: dyad_sdk::WalletId) -> Result<(), Box<dyn std::error::Error>> {
//! use alloy_primitives::{address, U256};
//! use alloy_provider::network::{EthereumWallet, TransactionBuilder};
//! use alloy_provider::{Provider, ProviderBuilder};
//! use dyad_sdk::alloy::DyadSigner;
//!
//! let signer = DyadSigner::new(dyad, wallet_id)?; // an EVM wallet loaded in `dyad`
//! let from = signer.address();
//! let provider = ProviderBuilder::new()
//!     .wallet(EthereumWallet::new(signer))
//!     .connect_http("http://127.0.0.1:8545".parse()?);
//! let tx = provider
//!     .transaction_request()
//!     .with_from(from)
//!     .with_to(address!("0x3535353535353535353535353535353535353535"))
//!     .with_value(U256::from(1_000_000_000u64));
//! let receipt = provider.send_transaction(tx).await?.get_receipt().await?;
//! assert!(receipt.status());
//! # Ok(()) }
//! ```
//!
//! What goes to the server for each call:
//!
//! | alloy call | Dyad call |
//! |---|---|
//! | [`TxSigner::sign_transaction`] | [`Dyad::sign_transaction`] with `encoded_for_signing()` and the chain id |
//! | [`Signer::sign_message`] | [`Dyad::sign_message`] (EIP-191 computed by both parties) |
//! | [`Signer::sign_dynamic_typed_data`] | [`Dyad::sign_typed_data`] with the typed data JSON |
//! | [`Signer::sign_hash`], [`Signer::sign_typed_data`] | [`Dyad::sign_raw`] (a server may refuse raw digests by policy) |
//!
//! Each signature is checked to recover to the wallet's address for the hash alloy computes
//! before it is handed back, so a disagreement between alloy and Dyad about what was signed is an
//! error, never a transaction from someone else.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use alloy_consensus::SignableTransaction;
use alloy_dyn_abi::TypedData;
use alloy_network::TxSigner;
use alloy_primitives::{eip191_hash_message, Address, ChainId, Signature, B256, U256};
use alloy_signer::{Error, Result, Signer};

use crate::{Dyad, SdkError, TransactionRequest, WalletId, WalletType};

/// An EVM wallet loaded in a [`Dyad`] client, as an alloy signer.
///
/// Cheap to clone (the client is shared). The chain id (none by default) is, as for alloy's own
/// signers, filled into transactions that have none and checked against those that have one; it
/// does not affect messages, typed data or hashes.
#[derive(Clone)]
pub struct DyadSigner {
    dyad: Arc<Dyad>,
    wallet_id: WalletId,
    address: Address,
    chain_id: Option<ChainId>,
}

impl fmt::Debug for DyadSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DyadSigner")
            .field("wallet_id", &self.wallet_id)
            .field("address", &self.address)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

impl DyadSigner {
    /// A signer for `wallet_id`, which must be an EVM wallet loaded in `dyad` (created by it or
    /// loaded with [`Dyad::set_user_share`]). Takes a `Dyad` or an `Arc<Dyad>`.
    ///
    /// The address is derived from the wallet's key share and must be the address the wallet
    /// claims ([`SdkError::InvalidShare`] otherwise).
    pub fn new(dyad: impl Into<Arc<Dyad>>, wallet_id: WalletId) -> Result<Self, SdkError> {
        let dyad = dyad.into();
        let (view, _) = dyad.loaded_key_of(wallet_id, WalletType::Evm)?;
        let address = Address::from_str(&view.address)
            .map_err(|_| SdkError::InvalidShare(format!("wallet {wallet_id}: malformed address")))?;
        Ok(Self {
            dyad,
            wallet_id,
            address,
            chain_id: None,
        })
    }

    /// The wallet's address (the same as [`TxSigner::address`] and [`Signer::address`], without
    /// having to pick a trait).
    pub fn address(&self) -> Address {
        self.address
    }

    /// The wallet this signer signs with.
    pub fn wallet_id(&self) -> WalletId {
        self.wallet_id
    }

    /// The client this signer signs through.
    pub fn dyad(&self) -> &Arc<Dyad> {
        &self.dyad
    }

    /// Turn Dyad's 65-byte `r ‖ s ‖ v` (v 27/28) into an alloy signature and check that it
    /// recovers to this wallet for `hash`.
    fn finish(&self, signature: &[u8], hash: &B256) -> Result<Signature> {
        let signature = parse_signature(signature)?;
        let signer = signature.recover_address_from_prehash(hash)?;
        if signer != self.address {
            return Err(Error::message(format!(
                "Dyad's signature recovers to {signer}, not to the wallet {}: the server signed \
                 something other than what alloy computed",
                self.address
            )));
        }
        Ok(signature)
    }
}

/// Dyad's EVM signature encoding (`r ‖ s ‖ v`, v 27 or 28) as an alloy [`Signature`].
pub fn parse_signature(bytes: &[u8]) -> Result<Signature> {
    let Ok(bytes) = <&[u8; 65]>::try_from(bytes) else {
        return Err(Error::message(format!(
            "expected a 65-byte EVM signature from Dyad, got {} bytes",
            bytes.len()
        )));
    };
    let (rs, v) = bytes.split_at(64);
    let (r, s) = rs.split_at(32);
    let y_parity = match v {
        [27] => false,
        [28] => true,
        _ => return Err(Error::message("Dyad's EVM signature has a v other than 27 or 28")),
    };
    Ok(Signature::new(U256::from_be_slice(r), U256::from_be_slice(s), y_parity))
}

fn sdk(error: SdkError) -> Error {
    Error::other(error)
}

#[async_trait::async_trait]
impl TxSigner<Signature> for DyadSigner {
    fn address(&self) -> Address {
        self.address
    }

    /// Sign `tx` (legacy with EIP-155, EIP-2930 or EIP-1559; Dyad refuses EIP-4844 and EIP-7702)
    /// through [`Dyad::sign_transaction`].
    async fn sign_transaction(&self, tx: &mut dyn SignableTransaction<Signature>) -> Result<Signature> {
        if let Some(chain_id) = self.chain_id {
            if !tx.set_chain_id_checked(chain_id) {
                return Err(Error::TransactionChainIdMismatch {
                    signer: chain_id,
                    tx: tx.chain_id().unwrap_or_default(),
                });
            }
        }
        // A legacy transaction without a chain id would be signed without replay protection;
        // Dyad signs only EIP-155 ones.
        let Some(chain_id) = tx.chain_id() else {
            return Err(Error::message(
                "Dyad signs EVM transactions with a chain id only: set one on the transaction or the signer",
            ));
        };
        let request = TransactionRequest {
            bytes: tx.encoded_for_signing(),
            chain_id: Some(chain_id),
            network_passphrase: None,
            cosmos_sign_mode: None,
        };
        let signed = self
            .dyad
            .sign_transaction(self.wallet_id, &request)
            .await
            .map_err(sdk)?;
        self.finish(&signed.signature, &tx.signature_hash())
    }
}

#[async_trait::async_trait]
impl Signer<Signature> for DyadSigner {
    /// Through [`Dyad::sign_raw`]: the server signs the digest as is (and may refuse by policy).
    async fn sign_hash(&self, hash: &B256) -> Result<Signature> {
        let signed = self.dyad.sign_raw(self.wallet_id, hash.0).await.map_err(sdk)?;
        self.finish(&signed.signature, hash)
    }

    /// Through [`Dyad::sign_message`]: both parties compute the EIP-191 hash of `message`.
    async fn sign_message(&self, message: &[u8]) -> Result<Signature> {
        let signed = self.dyad.sign_message(self.wallet_id, message).await.map_err(sdk)?;
        self.finish(&signed.signature, &eip191_hash_message(message))
    }

    /// Through [`Dyad::sign_typed_data`]: the server hashes the typed data itself (and refuses a
    /// domain that wallets would hash differently).
    async fn sign_dynamic_typed_data(&self, payload: &TypedData) -> Result<Signature> {
        let hash = payload.eip712_signing_hash()?;
        let json = serde_json::to_value(payload).map_err(Error::other)?;
        let signed = self.dyad.sign_typed_data(self.wallet_id, &json).await.map_err(sdk)?;
        self.finish(&signed.signature, &hash)
    }

    fn address(&self) -> Address {
        self.address
    }

    fn chain_id(&self) -> Option<ChainId> {
        self.chain_id
    }

    fn set_chain_id(&mut self, chain_id: Option<ChainId>) {
        self.chain_id = chain_id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyad_signature_encoding_becomes_an_alloy_signature() {
        let mut bytes = [0u8; 65];
        bytes[31] = 1;
        bytes[63] = 2;
        bytes[64] = 28;
        let sig = parse_signature(&bytes).unwrap();
        assert_eq!(sig.r(), U256::from(1));
        assert_eq!(sig.s(), U256::from(2));
        assert!(sig.v());
        bytes[64] = 27;
        assert!(!parse_signature(&bytes).unwrap().v());
        for v in [0u8, 1, 29, 37] {
            bytes[64] = v;
            assert!(parse_signature(&bytes).is_err(), "v = {v}");
        }
        assert!(parse_signature(&bytes[..64]).is_err());
        assert!(parse_signature(&[0u8; 66]).is_err());
    }
}
