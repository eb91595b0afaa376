//! Sign In With Farcaster: the person's Farcaster client signs an EIP-4361 message with the
//! fid's custody key, naming this deployment's domain and a nonce this server issued.
//!
//! [`nonce`] issues a random nonce (single use, `login_proof_ttl`, for the asking app only).
//! [`verify`] parses the message ([`SiwfMessage`]), refuses another domain, a version other
//! than 1, a chain other than 10 (OP Mainnet, where Farcaster's registry lives), an expired or
//! not-yet-valid message; recovers the signer from the EIP-191 signature and requires it to be
//! the message's address; spends the nonce (exactly one caller wins: a replay is
//! `LOGIN_REJECTED`); then looks the fid up (`GET {lookup_url}/fid/{fid}` →
//! `{"username": "…", "custodyAddress": "0x…"}`) and requires the signer to be the fid's custody
//! address. The account proved is `farcasterUsername` = the lookup's username.
//!
//! Everything local is checked before the nonce is spent, and the nonce before any call leaves
//! the server, so a stranger cannot use the lookup through this server. It must never trust the
//! username or the address a message claims without the lookup.

use dyad_proto::auth::{FarcasterNonce, LoginResponse};
use dyad_proto::PregenId;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use rand_core::{OsRng, RngCore};
use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use serde::Deserialize;
use sha3::{Digest, Keccak256};

use super::oauth::{read_capped, unreachable_provider};
use super::Method;
use crate::clock;
use crate::config::FarcasterConfig;
use crate::error::ServerError;
use crate::model::{NonceRecord, Person, Scope, VerifiedId};
use crate::state::AppState;

/// How far in the future `Issued At` and `Not Before` may be (clocks differ a little).
pub const CLOCK_SKEW_SECS: i64 = 5 * 60;
/// The longest message accepted.
const MAX_MESSAGE: usize = 8 * 1024;
/// The chain Farcaster's id registry is on (OP Mainnet), which SIWF messages name.
const CHAIN_ID: u64 = 10;
/// What the first line says after the domain.
const HEADER: &str = " wants you to sign in with your Ethereum account:";
/// The resource naming the fid.
const FID_RESOURCE: &str = "farcaster://fid/";

/// A 20-byte Ethereum address.
pub type Address = [u8; 20];

/// A Sign In With Farcaster message, parsed (EIP-4361 layout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiwfMessage {
    /// The domain asking (the first line), without a scheme.
    pub domain: String,
    /// The address the message says signs it.
    pub address: Address,
    /// The human-readable statement, if any.
    pub statement: Option<String>,
    /// `URI:`.
    pub uri: String,
    /// `Version:` (always "1" once parsed).
    pub version: String,
    /// `Chain ID:`.
    pub chain_id: u64,
    /// `Nonce:`.
    pub nonce: String,
    /// `Issued At:`, Unix seconds.
    pub issued_at: i64,
    /// `Expiration Time:`, Unix seconds.
    pub expiration_time: Option<i64>,
    /// `Not Before:`, Unix seconds.
    pub not_before: Option<i64>,
    /// `Request ID:`.
    pub request_id: Option<String>,
    /// The fid of the `farcaster://fid/<fid>` resource.
    pub fid: u64,
    /// Every resource, the fid's included.
    pub resources: Vec<String>,
}

impl SiwfMessage {
    /// Parse the message text exactly as signed (lines end in `\n`; nothing may follow the
    /// last field or resource). Why it does not parse, in words.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains('\r') {
            return Err("lines must end with \\n alone".into());
        }
        let lines: Vec<&str> = text.split('\n').collect();
        let mut at = 0;
        let mut next = |what: &str| -> Result<&str, String> {
            let line = lines.get(at).copied().ok_or_else(|| format!("it ends before {what}"))?;
            at += 1;
            Ok(line)
        };
        let header = next("the domain line")?;
        let authority = header
            .strip_suffix(HEADER)
            .ok_or("the first line is not \"<domain> wants you to sign in with your Ethereum account:\"")?;
        let domain = authority.split_once("://").map_or(authority, |(_, d)| d);
        if domain.is_empty() || domain.contains(char::is_whitespace) {
            return Err("the domain is empty or has spaces".into());
        }
        let address = parse_address(next("the address")?).ok_or("the second line is not an address")?;
        if !next("the blank line after the address")?.is_empty() {
            return Err("the address is not followed by a blank line".into());
        }
        // Without a statement EIP-4361 has two blank lines; early versions of it one.
        let mut statement = None;
        let mut line = next("URI")?;
        if line.is_empty() {
            line = next("URI")?;
        } else if !line.starts_with("URI: ") {
            statement = Some(line.to_string());
            if !next("the blank line after the statement")?.is_empty() {
                return Err("the statement is not followed by a blank line".into());
            }
            line = next("URI")?;
        }
        let uri = field(line, "URI")?;
        let version = field(next("Version")?, "Version")?;
        if version != "1" {
            return Err(format!("version {version:?} is not 1"));
        }
        let chain_id = field(next("Chain ID")?, "Chain ID")?
            .parse::<u64>()
            .map_err(|_| "the chain id is not a number")?;
        let nonce = field(next("Nonce")?, "Nonce")?;
        if nonce.len() < 8 || nonce.len() > 128 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("the nonce is not 8 or more letters and digits".into());
        }
        let issued_at = time(&field(next("Issued At")?, "Issued At")?)?;
        let rest = &lines[at..];
        let mut i = 0;
        let mut optional = |name: &str| -> Result<Option<String>, String> {
            match rest.get(i) {
                Some(l) if l.starts_with(&format!("{name}: ")) => {
                    i += 1;
                    field(l, name).map(Some)
                }
                _ => Ok(None),
            }
        };
        let expiration_time = optional("Expiration Time")?.map(|t| time(&t)).transpose()?;
        let not_before = optional("Not Before")?.map(|t| time(&t)).transpose()?;
        let request_id = optional("Request ID")?;
        let mut resources = Vec::new();
        if rest.get(i) == Some(&"Resources:") {
            i += 1;
            while let Some(r) = rest.get(i).and_then(|l| l.strip_prefix("- ")) {
                resources.push(r.to_string());
                i += 1;
            }
        }
        if let Some(extra) = rest.get(i) {
            return Err(format!(
                "unexpected line {:?}",
                extra.chars().take(40).collect::<String>()
            ));
        }
        let mut fids = resources.iter().filter_map(|r| r.strip_prefix(FID_RESOURCE));
        let fid = match (fids.next(), fids.next()) {
            (Some(f), None) => f.parse::<u64>().map_err(|_| "the fid is not a number")?,
            (None, _) => return Err(format!("no {FID_RESOURCE}<fid> resource")),
            (Some(_), Some(_)) => return Err("more than one fid resource".into()),
        };
        Ok(Self {
            domain: domain.to_string(),
            address,
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            expiration_time,
            not_before,
            request_id,
            fid,
            resources,
        })
    }

    /// Refuse a message for another domain or chain, expired, or not valid yet at `now`.
    pub fn check(&self, domain: &str, now: i64) -> Result<(), String> {
        if !self.domain.eq_ignore_ascii_case(domain) {
            return Err(format!("the message is for {:?}, not this app's domain", self.domain));
        }
        if self.chain_id != CHAIN_ID {
            return Err(format!("the chain id is {}, not {CHAIN_ID}", self.chain_id));
        }
        if self.expiration_time.is_some_and(|t| t <= now) {
            return Err("the message has expired".into());
        }
        if self.not_before.is_some_and(|t| t > now + CLOCK_SKEW_SECS) {
            return Err("the message is not valid yet".into());
        }
        if self.issued_at > now + CLOCK_SKEW_SECS {
            return Err("the message is issued in the future".into());
        }
        Ok(())
    }
}

/// `"<name>: <value>"` → value.
fn field(line: &str, name: &str) -> Result<String, String> {
    line.strip_prefix(name)
        .and_then(|l| l.strip_prefix(": "))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("expected \"{name}: …\""))
}

fn time(text: &str) -> Result<i64, String> {
    rfc3339(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))
}

/// `0x` and 40 hex digits, either case (the lookup decides, not the checksum).
fn parse_address(text: &str) -> Option<Address> {
    let hex_digits = text.strip_prefix("0x")?;
    if hex_digits.len() != 40 {
        return None;
    }
    hex::decode(hex_digits).ok()?.try_into().ok()
}

/// An RFC 3339 date-time (`2024-05-01T12:00:00Z`, `…T12:00:00.123+02:00`) as Unix seconds
/// (fractions dropped); `None` if it is not one.
pub fn rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = text.get(from..from + len)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 (H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// EIP-191 `personal_sign` digest: keccak256("\x19Ethereum Signed Message:\n" ‖ decimal length ‖
/// message).
pub fn eip191_digest(message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(format!("\x19Ethereum Signed Message:\n{}", message.len()).as_bytes());
    h.update(message);
    h.finalize().into()
}

/// The address whose key made `signature` (`0x` ‖ r ‖ s ‖ v, v 27/28 or 0/1) over `message`'s
/// EIP-191 digest. A high-s signature is read as its low-s twin, as Ethereum's `ecrecover` does.
pub fn recover_signer(message: &[u8], signature: &str) -> Result<Address, String> {
    let bytes = signature
        .trim()
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() == 65)
        .ok_or("the signature is not 0x and 130 hex digits")?;
    let v = match bytes[64] {
        27 | 28 => bytes[64] - 27,
        0 | 1 => bytes[64],
        _ => return Err("the signature's v is not 27 or 28".into()),
    };
    let mut sig = Signature::from_slice(&bytes[..64]).map_err(|_| "the signature's r or s is out of range")?;
    let mut recovery = RecoveryId::from_byte(v).ok_or("the signature's v is not 27 or 28")?;
    if let Some(low) = sig.normalize_s() {
        sig = low;
        recovery = RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced());
    }
    let key = VerifyingKey::recover_from_prehash(&eip191_digest(message), &sig, recovery)
        .map_err(|_| "no key made this signature")?;
    Ok(address_of(&key))
}

/// The Ethereum address of a key: the last 20 bytes of keccak256 of its uncompressed point.
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let hash: [u8; 32] = Keccak256::digest(&point.as_bytes()[1..]).into();
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// What the fid lookup answers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FidAnswer {
    username: String,
    custody_address: String,
}

fn configured(state: &AppState) -> Result<&FarcasterConfig, ServerError> {
    state.config.farcaster.as_ref().ok_or_else(|| {
        ServerError::LoginMethodUnavailable(
            "Sign In With Farcaster is off on this server: an operator turns it on with the app's domain and an fid \
             lookup (dyad serve --farcaster-domain … --farcaster-lookup-url …)"
                .into(),
        )
    })
}

/// Issue a nonce for one Sign In With Farcaster message through `scope`'s app.
pub async fn nonce(state: &AppState, scope: Scope) -> Result<FarcasterNonce, ServerError> {
    configured(state)?;
    let mut raw = [0u8; 16];
    OsRng.fill_bytes(&mut raw);
    let now = clock::now();
    let record = NonceRecord {
        nonce: hex::encode(raw),
        scope,
        created_at: now,
        expires_at: now + state.config.login_proof_ttl.as_secs() as i64,
    };
    state.store.insert_nonce(&record).await?;
    Ok(FarcasterNonce { nonce: record.nonce })
}

/// Check a signed Sign In With Farcaster message and open a session for the fid's username (or
/// link it to `linking`).
pub async fn verify(
    state: &AppState,
    scope: Scope,
    message: &str,
    signature: &str,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    let config = configured(state)?;
    if message.len() > MAX_MESSAGE {
        return Err(ServerError::InvalidRequest(format!(
            "message: longer than {MAX_MESSAGE} bytes"
        )));
    }
    match proved(state, config, scope, message, signature).await {
        Ok(id) => super::verified(state, scope, VerifiedId::new(id, scope), Method::Farcaster, linking).await,
        Err(e) => Err(super::denied(state, scope, Method::Farcaster, e).await),
    }
}

/// The username the message proves, or why it proves nothing.
async fn proved(
    state: &AppState,
    config: &FarcasterConfig,
    scope: Scope,
    message: &str,
    signature: &str,
) -> Result<PregenId, ServerError> {
    let rejected = |why: String| ServerError::LoginRejected(why);
    let parsed =
        SiwfMessage::parse(message).map_err(|why| rejected(format!("not a Sign In With Farcaster message: {why}")))?;
    parsed.check(&config.domain, clock::now()).map_err(rejected)?;
    let signer = recover_signer(message.as_bytes(), signature).map_err(rejected)?;
    if signer != parsed.address {
        return Err(rejected("the signature is not by the message's address".into()));
    }
    if !state.store.consume_nonce(scope, &parsed.nonce, clock::now()).await? {
        return Err(rejected(
            "the nonce is unknown, expired or used, or was issued to another app: ask for a new one".into(),
        ));
    }
    let answer = lookup(&state.http, config, parsed.fid).await?;
    let custody = parse_address(answer.custody_address.trim())
        .ok_or_else(|| ServerError::ProviderUnavailable("the fid lookup's custodyAddress is not an address".into()))?;
    if custody != signer {
        return Err(rejected(
            "the message is not signed by the fid's custody address".into(),
        ));
    }
    PregenId::parse("farcasterUsername", &answer.username)
        .map_err(|_| ServerError::ProviderUnavailable("the fid lookup's username is not a usable identifier".into()))
}

/// `GET {lookup_url}/fid/{fid}`.
async fn lookup(http: &reqwest::Client, config: &FarcasterConfig, fid: u64) -> Result<FidAnswer, ServerError> {
    let mut url = config.lookup_url.clone();
    url.path_segments_mut()
        .map_err(|_| ServerError::ProviderUnavailable("the fid lookup URL cannot take a path".into()))?
        .pop_if_empty()
        .push("fid")
        .push(&fid.to_string());
    let answer = http
        .get(url)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| unreachable_provider("fid lookup", &e))?;
    match answer.status() {
        s if s.is_success() => {}
        StatusCode::NOT_FOUND => return Err(ServerError::LoginRejected(format!("there is no fid {fid}"))),
        s => {
            return Err(ServerError::ProviderUnavailable(format!(
                "the fid lookup answered HTTP {}",
                s.as_u16()
            )))
        }
    }
    serde_json::from_slice(&read_capped(answer, "fid lookup").await?).map_err(|_| {
        ServerError::ProviderUnavailable("the fid lookup's answer is not {username, custodyAddress}".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &str = "app.example wants you to sign in with your Ethereum account:\n\
        0x8ba1f109551bD432803012645Ac136ddd64DBA72\n\
        \n\
        Farcaster Auth\n\
        \n\
        URI: https://app.example/login\n\
        Version: 1\n\
        Chain ID: 10\n\
        Nonce: abcdef0123456789\n\
        Issued At: 2023-11-14T22:13:20Z\n\
        Expiration Time: 2023-11-14T22:23:20.000Z\n\
        Resources:\n\
        - farcaster://fid/1234";

    #[test]
    fn a_siwf_message_parses_into_its_fields() {
        let m = SiwfMessage::parse(MESSAGE).unwrap();
        assert_eq!(m.domain, "app.example");
        assert_eq!(hex::encode(m.address), "8ba1f109551bd432803012645ac136ddd64dba72");
        assert_eq!(m.statement.as_deref(), Some("Farcaster Auth"));
        assert_eq!(m.uri, "https://app.example/login");
        assert_eq!((m.chain_id, m.fid), (10, 1234));
        assert_eq!(m.nonce, "abcdef0123456789");
        assert_eq!(m.issued_at, 1_700_000_000);
        assert_eq!(m.expiration_time, Some(1_700_000_600));
        assert!(m.check("APP.example", 1_700_000_100).is_ok());
        assert!(m.check("evil.example", 1_700_000_100).is_err());
        assert!(m.check("app.example", 1_700_000_600).is_err(), "expired");
        // No statement: two blank lines, as EIP-4361 writes it.
        let bare = MESSAGE.replace("\nFarcaster Auth\n", "\n");
        assert_eq!(SiwfMessage::parse(&bare).unwrap().statement, None);
    }

    #[test]
    fn malformed_messages_do_not_parse() {
        for bad in [
            MESSAGE.replace("Version: 1", "Version: 2"),
            MESSAGE.replace(" wants you", " would like you"),
            MESSAGE.replace("- farcaster://fid/1234", "- https://app.example"),
            format!("{MESSAGE}\n- farcaster://fid/99"),
            format!("{MESSAGE}\nextra"),
            MESSAGE.replace("Nonce: abcdef0123456789", "Nonce: short"),
            MESSAGE.replace("2023-11-14T22:13:20Z", "yesterday"),
            MESSAGE.replace('\n', "\r\n"),
            MESSAGE.replace("0x8ba1f109551bD432803012645Ac136ddd64DBA72", "0x1234"),
        ] {
            assert!(SiwfMessage::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_times_are_unix_seconds() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(rfc3339("2023-11-15T00:13:20.5+02:00"), Some(1_700_000_000));
        assert_eq!(rfc3339("2023-11-14T20:13:20-02:00"), Some(1_700_000_000));
        assert_eq!(rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20",
            "2023-13-01T00:00:00Z",
        ] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_signer_is_recovered_from_an_eip191_signature() {
        use k256::ecdsa::SigningKey;
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let (sig, recovery) = key.sign_prehash_recoverable(&eip191_digest(b"hello")).unwrap();
        let mut bytes = sig.to_bytes().to_vec();
        bytes.push(27 + recovery.to_byte());
        let text = format!("0x{}", hex::encode(&bytes));
        let me = address_of(key.verifying_key());
        assert_eq!(recover_signer(b"hello", &text).unwrap(), me);
        assert_ne!(recover_signer(b"hullo", &text).unwrap(), me);
        bytes[64] = 29;
        assert!(recover_signer(b"hello", &format!("0x{}", hex::encode(&bytes))).is_err());
        assert!(recover_signer(b"hello", "0x1234").is_err());
    }
}
