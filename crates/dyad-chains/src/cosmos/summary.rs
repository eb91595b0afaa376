//! The [`TxSummary`] of a Cosmos sign doc, collected the same way in both sign modes.

use std::collections::HashMap;

use alloy_primitives::U256;

use super::transaction::invalid;
use crate::transaction::TxSummary;
use crate::{ChainError, WalletType};

/// What both modes collect for the [`TxSummary`].
#[derive(Default)]
pub(super) struct SummaryBuilder {
    pub(super) recipients: Vec<String>,
    pub(super) value: CoinTotals,
    pub(super) programs: Vec<String>,
}

impl SummaryBuilder {
    pub(super) fn program(&mut self, name: &str) {
        if !self.programs.iter().any(|p| p == name) {
            self.programs.push(name.to_owned());
        }
    }

    pub(super) fn recipient(&mut self, address: &str) {
        if !self.recipients.iter().any(|r| r == address) {
            self.recipients.push(address.to_owned());
        }
    }

    pub(super) fn finish(self, kind: &str, chain_id: String, fee: &CoinTotals) -> TxSummary {
        TxSummary {
            chain: Some(WalletType::Cosmos),
            kind: kind.to_owned(),
            chain_id: Some(chain_id),
            recipients: self.recipients,
            value: self.value.render(),
            contract: None,
            function_selector: None,
            programs: self.programs,
            fee: fee.render(),
        }
    }
}

/// Coin amounts summed per denom, in the order denoms first appear.
#[derive(Default)]
pub(super) struct CoinTotals {
    totals: Vec<(String, U256)>,
    /// Where each denom's total is in `totals`, so adding a coin does not scan them.
    index: HashMap<String, usize>,
}

impl CoinTotals {
    /// Adds one coin after checking it the way the Cosmos SDK does (`sdk.ValidateDenom`; an
    /// amount is a non-negative integer of at most 256 bits), so `"<amount><denom>"` cannot be
    /// read two ways.
    pub(super) fn add(&mut self, denom: &str, amount: &str, what: &str) -> Result<(), ChainError> {
        if !is_valid_denom(denom) {
            return Err(invalid(format!(
                "{what}: the denom is not a valid Cosmos denom ([a-zA-Z][a-zA-Z0-9/:._-]{{2,127}})"
            )));
        }
        let bad_amount = || invalid(format!("{what}: the amount must be a decimal integer below 2^256"));
        // ruint's parser would also take '_' separators; Cosmos amounts are plain digits.
        if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_amount());
        }
        let amount = U256::from_str_radix(amount, 10).map_err(|_| bad_amount())?;
        let existing = self.index.get(denom).copied();
        match existing.and_then(|i| self.totals.get_mut(i)) {
            Some((_, total)) => {
                *total = total
                    .checked_add(amount)
                    .ok_or_else(|| invalid(format!("{what}: the {denom} total does not fit in 256 bits")))?;
            }
            None => {
                self.index.insert(denom.to_owned(), self.totals.len());
                self.totals.push((denom.to_owned(), amount));
            }
        }
        Ok(())
    }

    /// `"<amount><denom>"` per denom, joined by `,`; `None` when there are no coins.
    pub(super) fn render(&self) -> Option<String> {
        if self.totals.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .totals
            .iter()
            .map(|(denom, amount)| format!("{amount}{denom}"))
            .collect();
        Some(parts.join(","))
    }
}

/// The Cosmos SDK's default denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
fn is_valid_denom(denom: &str) -> bool {
    let bytes = denom.as_bytes();
    (3..=128).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_totals_validate_and_sum() {
        let mut totals = CoinTotals::default();
        totals.add("uatom", "5", "t").unwrap();
        totals
            .add(
                "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
                "7",
                "t",
            )
            .unwrap();
        totals.add("uatom", "0010", "t").unwrap();
        assert_eq!(
            totals.render().unwrap(),
            "15uatom,7ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
        assert_eq!(CoinTotals::default().render(), None);
        for (denom, amount) in [
            ("uatom", ""),
            ("uatom", "-1"),
            ("uatom", "1_000"),
            ("uatom", "1.5"),
            ("uatom", " 1"),
            ("ua", "1"),
            ("1atom", "1"),
            ("uatom,5x", "1"),
            ("", "1"),
        ] {
            assert!(
                CoinTotals::default().add(denom, amount, "t").is_err(),
                "{denom:?} {amount:?}"
            );
        }
        // 2^256 - 1 fits; once more overflows, and so does a 79-digit amount.
        let max = U256::MAX.to_string();
        let mut totals = CoinTotals::default();
        totals.add("uatom", &max, "t").unwrap();
        assert!(totals.add("uatom", "1", "t").is_err());
        assert!(CoinTotals::default().add("uatom", &format!("{max}0"), "t").is_err());
    }
}
