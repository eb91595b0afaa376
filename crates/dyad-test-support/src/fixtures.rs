//! Published test vectors that several test files use, spelled out once.

use serde_json::{json, Value};

/// EIP-155's example transaction (ethereum/EIPs, EIPS/eip-155.md, "Example"), unsigned, in its
/// 9-field signing form (`…, chainId = 1, 0, 0`): the spec's "signing data". Its EIP-155 signing
/// hash is keccak256 of these very bytes ([`EIP155_SIGNING_HASH`]). A legacy transfer of 1 ether
/// to `0x3535…35`, nonce 9, gas price 20 gwei, gas 21000.
pub const EIP155_UNSIGNED: &str =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";

/// EIP-155 example: "signing hash" (keccak256 of [`EIP155_UNSIGNED`]).
pub const EIP155_SIGNING_HASH: &str = "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";

/// [`EIP155_UNSIGNED`] as bytes.
pub fn eip155_unsigned() -> Vec<u8> {
    hex::decode(EIP155_UNSIGNED).unwrap()
}

/// [`EIP155_SIGNING_HASH`] as bytes.
pub fn eip155_signing_hash() -> [u8; 32] {
    hex::decode(EIP155_SIGNING_HASH).unwrap().try_into().unwrap()
}

/// EIP-712's "Mail" example (ethereum/EIPs, EIPS/eip-712.md and assets/eip-712/Example.js), as
/// `eth_signTypedData_v4` takes it. Its digest is [`MAIL_DIGEST`].
pub fn mail_typed_data() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                { "name": "name", "type": "string" },
                { "name": "version", "type": "string" },
                { "name": "chainId", "type": "uint256" },
                { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [
                { "name": "name", "type": "string" },
                { "name": "wallet", "type": "address" }
            ],
            "Mail": [
                { "name": "from", "type": "Person" },
                { "name": "to", "type": "Person" },
                { "name": "contents", "type": "string" }
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
        }
    })
}

/// EIP-712 Example.js: `signHash()` of [`mail_typed_data`], hex.
pub const MAIL_DIGEST_HEX: &str = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";

/// [`MAIL_DIGEST_HEX`] as bytes.
pub const MAIL_DIGEST: [u8; 32] = [
    0xbe, 0x60, 0x9a, 0xee, 0x34, 0x3f, 0xb3, 0xc4, 0xb2, 0x8e, 0x1d, 0xf9, 0xe6, 0x32, 0xfc, 0xa6, 0x4f, 0xcf, 0xae,
    0xde, 0x20, 0xf0, 0x2e, 0x86, 0x24, 0x4e, 0xfd, 0xdf, 0x30, 0x95, 0x7b, 0xd2,
];

/// Trust Wallet wallet-core, tests/chains/Solana/TransactionTests.cpp, `TransferMessageData`: the
/// message of a 42-lamport transfer from `6eoo7i1khGhVm8tLBMAdq4ax2FxkKP4G7mCcfHyr3STN`, hex as
/// published.
pub const WALLET_CORE_SOLANA_TRANSFER_MESSAGE: &str = concat!(
    "0100010353f9d600fe925083bb399907ea648d23a6a081fc7e9059202fd725f7edd281dd3cc1ff9ba3c7a876c8",
    "082df2f8a36ea9342ce3819dd4b6fa72d4a18e04a5363a00000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000010202",
    "00010c020000002a00000000000000"
);

/// [`WALLET_CORE_SOLANA_TRANSFER_MESSAGE`] as bytes.
pub fn wallet_core_solana_transfer_message() -> Vec<u8> {
    hex::decode(WALLET_CORE_SOLANA_TRANSFER_MESSAGE).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Keccak256};

    #[test]
    fn the_constants_agree_with_each_other() {
        assert_eq!(hex::encode(MAIL_DIGEST), MAIL_DIGEST_HEX);
        let hash: [u8; 32] = Keccak256::digest(eip155_unsigned()).into();
        assert_eq!(hash, eip155_signing_hash());
    }
}
