//! The person's commands: `login` (the session goes to a 0600 file), `claim`, `session`, and
//! `grant`. A session file holds exactly what `export_session` returns.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use dyad_proto::grant::GrantRequest;
use dyad_sdk::{Dyad, LoggedIn};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::{ClaimArgs, Conn, GrantCommand, LoginCommand, SessionCommand};
use crate::commands::{client_for, load_share, save_share};
use crate::{output, share_file, CliError};

/// A client of `conn` with the session of `path` loaded.
pub fn with_session(conn: &Conn, path: &Path) -> Result<Dyad, CliError> {
    let dyad = client_for(conn, true)?;
    let text = share_file::read(path)?.ok_or_else(|| {
        CliError::Usage(format!(
            "session file {} is missing or empty: log in first",
            path.display()
        ))
    })?;
    dyad.import_session(&text)?;
    Ok(dyad)
}

fn save_session(dyad: &Dyad, path: &Path) -> Result<(), CliError> {
    share_file::write_secret(path, &dyad.export_session()?)
}

/// The code the person types: one line of standard input, with a prompt on a terminal.
fn read_code(to: &str) -> Result<Zeroizing<String>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("code sent to {to}; enter it: ");
    } else {
        eprintln!("code sent to {to}; reading it from standard input");
    }
    let _ = std::io::stderr().flush();
    let mut line = Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Io(format!("reading the code: {e}")))?;
    let code = Zeroizing::new(line.trim().to_string());
    if code.is_empty() {
        return Err(CliError::Usage("no code was entered".into()));
    }
    Ok(code)
}

fn print_login(j: bool, login: &LoggedIn, path: &Path) {
    if j {
        output::json(&json!({
            "userId": login.session.user_id,
            "newUser": login.new_user,
            "identifiers": login.session.identifiers,
            "expiresAt": login.session.expires_at,
            "sessionFile": path,
        }));
    } else {
        println!(
            "logged in as {} ({}); session written to {}",
            login.session.user_id,
            if login.new_user {
                "new account"
            } else {
                "existing account"
            },
            path.display()
        );
    }
}

/// `dyad login …`.
pub async fn login(cmd: LoginCommand, j: bool) -> Result<(), CliError> {
    let (login, path, dyad) = match cmd {
        LoginCommand::Email {
            conn,
            email,
            session_file,
        } => {
            let dyad = client_for(&conn, false)?;
            share_file::check_writable(&session_file)?;
            let sent = dyad.start_email_login(&email).await?;
            let code = read_code(sent.identifier.value())?;
            (dyad.verify_email_login(&email, &code).await?, session_file, dyad)
        }
        LoginCommand::Phone {
            conn,
            phone,
            session_file,
        } => {
            let dyad = client_for(&conn, false)?;
            share_file::check_writable(&session_file)?;
            let sent = dyad.start_phone_login(&phone).await?;
            let code = read_code(sent.identifier.value())?;
            (dyad.verify_phone_login(&phone, &code).await?, session_file, dyad)
        }
        LoginCommand::Custom {
            conn,
            custom_id,
            session_file,
        } => {
            let dyad = client_for(&conn, false)?;
            share_file::check_writable(&session_file)?;
            (dyad.login_custom_id(&custom_id).await?, session_file, dyad)
        }
    };
    save_session(&dyad, &path)?;
    print_login(j, &login, &path);
    Ok(())
}

/// `dyad claim`.
pub async fn claim(args: ClaimArgs, j: bool) -> Result<(), CliError> {
    let dyad = with_session(&args.conn, &args.session_file)?;
    load_share(&dyad, &args.share_file, true).await?;
    share_file::check_writable(&args.share_file)?;
    let result = dyad.claim_pregen_wallets(args.id.parse_optional()?.as_ref()).await;
    // Whatever was claimed (or is pending) must reach the file before anything is reported.
    save_share(&dyad, &args.share_file)?;
    let claimed = result?;
    if j {
        let list: Vec<_> = claimed
            .iter()
            .map(|c| {
                json!({
                    "wallet": c.wallet,
                    "recoverySecret": c.recovery_secret.expose().as_str(),
                })
            })
            .collect();
        output::json(&json!({ "claimed": list, "shareFile": args.share_file }));
    } else {
        for c in &claimed {
            println!(
                "claimed {} {} {} (key version {})",
                c.wallet.wallet_type, c.wallet.id, c.wallet.address, c.wallet.key_version
            );
            println!(
                "  recovery secret (shown once, keep it safe): {}",
                c.recovery_secret.expose().as_str()
            );
        }
        println!("the new user share is in {}", args.share_file.display());
    }
    Ok(())
}

/// `dyad session …`.
pub async fn session(cmd: SessionCommand, j: bool) -> Result<(), CliError> {
    match cmd {
        SessionCommand::Refresh { conn, session_file } => {
            let dyad = with_session(&conn, &session_file)?;
            let view = dyad.refresh_session().await?;
            if j {
                output::json(&view);
            } else {
                println!(
                    "session of {} valid until {}",
                    view.user_id,
                    output::time(view.expires_at)
                );
            }
        }
        SessionCommand::Logout { conn, session_file } => {
            let dyad = with_session(&conn, &session_file)?;
            dyad.logout().await?;
            std::fs::remove_file(&session_file)
                .map_err(|e| CliError::Io(format!("removing {}: {e}", session_file.display())))?;
            if j {
                output::json(&json!({ "loggedOut": true }));
            } else {
                println!("logged out; {} removed", session_file.display());
            }
        }
        SessionCommand::Export { session_file } => {
            let text = share_file::read_required(&session_file)?;
            println!("{}", text.as_str());
        }
        SessionCommand::Import { session_file } => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::Io(format!("reading the session: {e}")))?;
            // Checked for its shape before it is written.
            Dyad::new("http://127.0.0.1", "").import_session(&line)?;
            share_file::write_secret(&session_file, line.trim())?;
            if j {
                output::json(&json!({ "sessionFile": session_file }));
            } else {
                println!("session written to {}", session_file.display());
            }
        }
    }
    Ok(())
}

/// `dyad grant …`.
pub async fn grant(cmd: GrantCommand, j: bool) -> Result<(), CliError> {
    match cmd {
        GrantCommand::Create {
            conn,
            session_file,
            wallets,
            types,
            operations,
        } => {
            let dyad = with_session(&conn, &session_file)?;
            let g = dyad
                .create_grant(&GrantRequest {
                    wallets,
                    wallet_types: types,
                    operations,
                })
                .await?;
            if j {
                output::json(&g);
            } else {
                println!("grant {} to app {}", g.id, g.app_id);
            }
        }
        GrantCommand::List { conn, session_file } => {
            let grants = with_session(&conn, &session_file)?.list_grants().await?;
            if j {
                output::json(&grants);
            } else {
                let rows: Vec<Vec<String>> = grants
                    .iter()
                    .map(|g| {
                        vec![
                            g.id.to_string(),
                            g.wallets.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(","),
                            g.wallet_types
                                .iter()
                                .map(|t| t.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                            serde_json::to_string(&g.operations).unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["GRANT", "WALLETS", "TYPES", "OPERATIONS"], &rows);
            }
        }
        GrantCommand::Revoke {
            conn,
            session_file,
            grant,
        } => {
            with_session(&conn, &session_file)?.revoke_grant(grant).await?;
            if j {
                output::json(&json!({ "revoked": grant }));
            } else {
                println!("grant {grant} revoked");
            }
        }
    }
    Ok(())
}
