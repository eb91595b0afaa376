//! The person's commands: `login` (the session goes to a 0600 file), `claim`, `session`, and
//! `grant`. A session file holds exactly what `export_session` returns.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use dyad_proto::grant::GrantRequest;
use dyad_sdk::{Dyad, LoggedIn, OAuthProvider};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::{ClaimArgs, Conn, GrantCommand, LoginCommand, OAuthLoginArgs, SessionCommand};
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
        LoginCommand::Telegram {
            conn,
            widget_data,
            session_file,
        } => {
            let dyad = client_for(&conn, false)?;
            share_file::check_writable(&session_file)?;
            let data: serde_json::Value = serde_json::from_str(&widget_data)
                .map_err(|e| CliError::Usage(format!("--widget-data is not JSON: {e}")))?;
            (dyad.login_telegram(data).await?, session_file, dyad)
        }
        LoginCommand::Discord(args) => oauth(OAuthProvider::Discord, args).await?,
        LoginCommand::X(args) => oauth(OAuthProvider::X, args).await?,
        LoginCommand::FarcasterNonce { conn } => {
            let nonce = client_for(&conn, false)?.farcaster_nonce().await?;
            if j {
                output::json(&json!({ "nonce": nonce }));
            } else {
                println!("{nonce}");
            }
            return Ok(());
        }
        LoginCommand::Farcaster {
            conn,
            message_file,
            signature,
            session_file,
        } => {
            let dyad = client_for(&conn, false)?;
            share_file::check_writable(&session_file)?;
            let message = std::fs::read_to_string(&message_file)
                .map_err(|e| CliError::Io(format!("reading {}: {e}", message_file.display())))?;
            (
                dyad.login_farcaster(&message, signature.trim()).await?,
                session_file,
                dyad,
            )
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

/// An OAuth login: start it, print the authorization URL, take the provider's redirect on a
/// local port (one request), and finish it with the code.
async fn oauth(provider: OAuthProvider, args: OAuthLoginArgs) -> Result<(LoggedIn, PathBuf, Dyad), CliError> {
    let dyad = client_for(&args.conn, false)?;
    share_file::check_writable(&args.session_file)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| CliError::Io(format!("listening on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener.local_addr().map_err(|e| CliError::Io(e.to_string()))?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let started = dyad.start_oauth(provider, &redirect_uri).await?;
    eprintln!("open this URL to log in with {provider}: {}", started.authorization_url);
    eprintln!("waiting for the redirect to {redirect_uri}");
    let (code, state) = redirect(&listener).await?;
    if state != started.state {
        return Err(CliError::Usage("the redirect carried another state: refused".into()));
    }
    let login = dyad.finish_oauth(provider, &state, &code).await?;
    Ok((login, args.session_file, dyad))
}

/// The first request to `/callback` on `listener`: its `code` and `state`. Answers it with a
/// line the browser shows.
async fn redirect(listener: &tokio::net::TcpListener) -> Result<(Zeroizing<String>, String), CliError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let deadline = std::time::Duration::from_secs(600);
    loop {
        let (sock, _) = tokio::time::timeout(deadline, listener.accept())
            .await
            .map_err(|_| CliError::Io("no redirect within 10 minutes".into()))?
            .map_err(|e| CliError::Io(format!("accepting the redirect: {e}")))?;
        let (read, mut write) = sock.into_split();
        let mut line = String::new();
        BufReader::new(read)
            .read_line(&mut line)
            .await
            .map_err(|e| CliError::Io(format!("reading the redirect: {e}")))?;
        // `GET /callback?code=…&state=… HTTP/1.1`
        let target = line.split_whitespace().nth(1).unwrap_or("");
        let Some(query) = target.strip_prefix("/callback?") else {
            let _ = write
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await;
            continue;
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let body = "Dyad: you can close this window and go back to the terminal.";
        let _ = write
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        return match (get("code"), get("state"), get("error")) {
            (Some(code), Some(state), None) => Ok((Zeroizing::new(code), state)),
            (_, _, Some(error)) => Err(CliError::Usage(format!("the provider refused the login: {error}"))),
            _ => Err(CliError::Usage("the redirect carried no code".into())),
        };
    }
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
