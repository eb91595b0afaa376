//! Printing results: JSON (one line) with `--json`, a readable table otherwise.

use dyad_proto::WalletView;
use serde::Serialize;

/// Print `value` as one line of JSON.
pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: encoding output: {e}"),
    }
}

/// A plain-text table with a header row; columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Wallets as a table.
pub fn wallets(list: &[WalletView]) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|w| {
            vec![
                w.id.to_string(),
                w.wallet_type.to_string(),
                w.address.clone(),
                w.pregen_id.to_string(),
                w.status.as_str().to_string(),
            ]
        })
        .collect();
    table(&["ID", "TYPE", "ADDRESS", "FOR", "STATUS"], &rows);
}
