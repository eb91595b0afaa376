//! Running each subcommand.

use std::sync::Arc;

use dyad_sdk::{Dyad, SdkError, WalletView};
use dyad_server::config::{FarcasterConfig, OAuthClient, Secret, Url};
use dyad_server::notify::{Channels, Notifier, Outbox, SmsWebhook, Smtp};
use dyad_server::{AppState, DataDir, DatabaseUrl, MasterKey, ServerConfig, SqlStore, Store};
use serde_json::json;

use base64::Engine;
use dyad_proto::{CeremonyKey, WalletType};
use dyad_sdk::TransactionRequest;
use dyad_types::hex0x;

use crate::args::{
    AppCommand, Cli, Command, Conn, KeyCommand, LoginArgs, PregenCommand, ServeArgs, SignCommand, SignTarget, Storage,
    VaultCommand,
};
use crate::keep::{self, Kept};
use crate::{demo, output, people, share_file, CliError};

/// `dyad migrate`: open both (which brings each schema up to date), then copy.
async fn migrate(args: crate::args::MigrateArgs, j: bool) -> Result<(), CliError> {
    let DatabaseUrl::Sqlite(path) = &args.from else {
        return Err(CliError::Usage("--from must be a SQLite database (sqlite:PATH)".into()));
    };
    // Opening would create an empty database where a typo names none.
    if !path.is_file() {
        return Err(CliError::Usage(format!("--from {} does not exist", path.display())));
    }
    if args.from == args.to {
        return Err(CliError::Usage("--from and --to name the same database".into()));
    }
    let from = SqlStore::open_url(&args.from).await?;
    let to = SqlStore::open_url(&args.to).await?;
    let report = from.copy_into(&to).await?;
    from.close().await;
    to.close().await;
    if j {
        let tables: serde_json::Map<String, serde_json::Value> =
            report.tables.iter().map(|(t, n)| (t.to_string(), json!(n))).collect();
        output::json(&json!({ "from": args.from.to_string(), "to": args.to.to_string(), "rows": tables }));
    } else {
        for (table, n) in &report.tables {
            println!("{table}: {n}");
        }
        println!(
            "copied {} wallets from {} to {}",
            report.rows("wallets"),
            args.from,
            args.to
        );
    }
    Ok(())
}

/// Open the store and master key a storage argument names.
pub async fn open_storage(storage: &Storage) -> Result<(Arc<dyn Store>, MasterKey), CliError> {
    let dir = DataDir::new(&storage.data_dir)?;
    let master = dir.master_key_from_env_or_file()?;
    let store = dir.open_store_at(storage.database_url.as_ref()).await?;
    Ok((store, master))
}

/// The server settings `dyad serve` runs with: the defaults, and the login proofs `logins`
/// turns on. `env` reads an environment variable (a parameter, so tests need not set any).
/// `client` with the endpoints `--oauth-{flag}-endpoints` names, if any.
fn with_endpoints(mut client: OAuthClient, endpoints: Option<&str>, flag: &str) -> Result<OAuthClient, CliError> {
    let Some(text) = endpoints else {
        return Ok(client);
    };
    let urls: Vec<&str> = text.split(',').map(str::trim).collect();
    let bad = || {
        CliError::Usage(format!(
            "--oauth-{flag}-endpoints takes AUTHORIZE_URL,TOKEN_URL,USERINFO_URL"
        ))
    };
    let [authorize, token, userinfo] = urls.as_slice() else {
        return Err(bad());
    };
    let parse = |u: &str| Url::parse(u).map_err(|_| bad());
    client.authorize_url = parse(authorize)?;
    client.token_url = parse(token)?;
    client.userinfo_url = parse(userinfo)?;
    Ok(client)
}

pub fn serve_config(logins: &LoginArgs, env: impl Fn(&str) -> Option<String>) -> Result<ServerConfig, CliError> {
    let telegram_bot_token = secret(
        logins.telegram_bot_token_file.as_deref(),
        "DYAD_TELEGRAM_BOT_TOKEN",
        &env,
    )?;
    let oauth = |id: &Option<String>, file: &Option<std::path::PathBuf>, env_name: &str, flag: &str| {
        let secret = secret(file.as_deref(), env_name, &env)?;
        match (id.as_deref().map(str::trim).filter(|i| !i.is_empty()), secret) {
            (Some(id), Some(secret)) => Ok(Some((id.to_string(), secret))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(CliError::Usage(format!(
                "--oauth-{flag}-client-id needs the client secret: --oauth-{flag}-client-secret-file or {env_name}"
            ))),
            (None, Some(_)) => Err(CliError::Usage(format!(
                "a {flag} client secret was given without --oauth-{flag}-client-id"
            ))),
        }
    };
    let oauth_discord = oauth(
        &logins.oauth_discord_client_id,
        &logins.oauth_discord_client_secret_file,
        "DYAD_OAUTH_DISCORD_CLIENT_SECRET",
        "discord",
    )?
    .map(|(id, secret)| OAuthClient::discord(id, secret))
    .map(|c| with_endpoints(c, logins.oauth_discord_endpoints.as_deref(), "discord"))
    .transpose()?;
    let oauth_x = oauth(
        &logins.oauth_x_client_id,
        &logins.oauth_x_client_secret_file,
        "DYAD_OAUTH_X_CLIENT_SECRET",
        "x",
    )?
    .map(|(id, secret)| OAuthClient::x(id, secret))
    .map(|c| with_endpoints(c, logins.oauth_x_endpoints.as_deref(), "x"))
    .transpose()?;
    let farcaster = match (&logins.farcaster_domain, &logins.farcaster_lookup_url) {
        (Some(domain), Some(url)) => Some(FarcasterConfig {
            domain: domain.trim().to_string(),
            lookup_url: Url::parse(url.trim())
                .map_err(|e| CliError::Usage(format!("--farcaster-lookup-url is not a URL: {e}")))?,
        }),
        (None, None) => None,
        _ => {
            return Err(CliError::Usage(
                "Sign In With Farcaster needs both --farcaster-domain and --farcaster-lookup-url".into(),
            ))
        }
    };
    Ok(ServerConfig {
        telegram_bot_token,
        telegram_max_age: std::time::Duration::from_secs(logins.telegram_max_age),
        oauth_discord,
        oauth_x,
        farcaster,
        ..ServerConfig::default()
    })
}

/// A secret from `file` or the environment variable `env_name` (not both), without the
/// newline an editor leaves at the end. The error names where it looked, never the secret.
fn secret(
    file: Option<&std::path::Path>,
    env_name: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, CliError> {
    let from_env = env(env_name)
        .map(zeroize::Zeroizing::new)
        .filter(|v| !v.trim().is_empty());
    let (text, source) = match (file, from_env) {
        (Some(path), Some(_)) => {
            return Err(CliError::Usage(format!(
                "give the secret in {} or in {env_name}, not both",
                path.display()
            )))
        }
        (Some(path), None) => (
            zeroize::Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| CliError::Io(format!("reading {}: {e}", path.display())))?,
            ),
            path.display().to_string(),
        ),
        (None, Some(text)) => (text, env_name.to_string()),
        (None, None) => return Ok(None),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CliError::Usage(format!("{source} is empty")));
    }
    Ok(Some(Secret::new(trimmed)))
}

fn client(conn: &Conn) -> Result<Dyad, CliError> {
    client_for(conn, false)
}

/// A client of `conn`; the API key may be left out only where a session will act
/// (`session_only`).
pub fn client_for(conn: &Conn, session_only: bool) -> Result<Dyad, CliError> {
    if conn.api_key.trim().is_empty() && !session_only {
        return Err(CliError::Usage("no API key: pass --api-key or set DYAD_API_KEY".into()));
    }
    pinned(conn, Dyad::new(&conn.url, &conn.api_key))
}

/// Pin the ceremony key `--server-key` / `DYAD_SERVER_KEY` names, if any.
fn pinned(conn: &Conn, dyad: Dyad) -> Result<Dyad, CliError> {
    Ok(match pinned_key(conn)? {
        Some(key) => dyad.with_ceremony_key(key),
        None => dyad,
    })
}

/// The ceremony key `--server-key` / `DYAD_SERVER_KEY` names, if any.
pub fn pinned_key(conn: &Conn) -> Result<Option<CeremonyKey>, CliError> {
    let Some(text) = conn.server_key.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(|_| {
        CliError::Usage("--server-key / DYAD_SERVER_KEY must be 0x and 64 hex digits, as `dyad serve` prints it".into())
    })
}

fn print_wallet(json_out: bool, w: &WalletView) {
    if json_out {
        output::json(w);
    } else {
        output::wallets(std::slice::from_ref(w));
    }
}

/// Load the share file into `dyad` if it has one.
pub async fn load_share(dyad: &Dyad, path: &std::path::Path, required: bool) -> Result<(), CliError> {
    let share = if required {
        Some(share_file::read_required(path)?)
    } else {
        share_file::read(path)?
    };
    if let Some(s) = share {
        dyad.set_user_share(&s).await?;
    }
    Ok(())
}

pub fn save_share(dyad: &Dyad, path: &std::path::Path) -> Result<(), CliError> {
    share_file::write(path, &dyad.get_user_share()?)
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let j = cli.json;
    match cli.command {
        Command::Serve(args) => {
            let (store, master) = open_storage(&args.storage).await?;
            let config = ServerConfig {
                session_ttl: std::time::Duration::from_secs(args.session_ttl_minutes.max(1) * 60),
                ..serve_config(&args.logins, |name| std::env::var(name).ok())?
            };
            let notifier = notifier(&args, &store)?;
            let state = AppState::with_notifier(store, &master, config, notifier).await?;
            drop(master);
            let ceremony_key = state.ceremony_key.public();
            let server = dyad_server::spawn(state, &args.listen)
                .await
                .map_err(|e| CliError::Io(format!("listening on {}: {e}", args.listen)))?;
            eprintln!("dyad ceremony key {ceremony_key} (clients pin it with DYAD_SERVER_KEY)");
            eprintln!("dyad listening on {}", server.url());
            tokio::select! {
                r = server.wait() => r.map_err(|e| CliError::Io(e.to_string()))?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::Demo(args) => demo::run(args, j).await,
        Command::App(AppCommand::Create { storage, name, env }) => {
            let (store, _master) = open_storage(&storage).await?;
            let (app, key) = dyad_server::api_key::create_app(store.as_ref(), &name, env).await?;
            if j {
                output::json(
                    &json!({ "appId": app.id, "name": app.name, "environment": app.environment, "apiKey": key.expose() }),
                );
            } else {
                println!("app {} ({}) created in {}", app.name, app.id, app.environment);
                println!("API key (shown once, store it now): {}", key.expose());
            }
            Ok(())
        }
        Command::App(AppCommand::List { storage }) => {
            let (store, _master) = open_storage(&storage).await?;
            let apps = store.apps().await?;
            if j {
                let list: Vec<_> = apps
                    .iter()
                    .map(|a| {
                        json!({
                            "appId": a.id, "name": a.name, "environment": a.environment, "createdAt": a.created_at,
                            "allowRawSigning": a.settings.allow_raw_signing,
                        })
                    })
                    .collect();
                output::json(&list);
            } else {
                let rows: Vec<Vec<String>> = apps
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.name.clone(),
                            a.environment.to_string(),
                            on_off(a.settings.allow_raw_signing),
                        ]
                    })
                    .collect();
                output::table(&["APP", "NAME", "ENV", "RAW SIGNING"], &rows);
            }
            Ok(())
        }
        Command::App(AppCommand::Update {
            storage,
            app,
            allow_raw_signing,
        }) => {
            let (store, _master) = open_storage(&storage).await?;
            let (app, old) =
                dyad_server::api_key::set_allow_raw_signing(store.as_ref(), app, allow_raw_signing).await?;
            if j {
                output::json(&json!({
                    "appId": app.id, "name": app.name, "environment": app.environment,
                    "allowRawSigning": app.settings.allow_raw_signing, "previous": { "allowRawSigning": old },
                }));
            } else {
                println!(
                    "app {} ({}): raw signing {} (was {})",
                    app.name,
                    app.id,
                    on_off(app.settings.allow_raw_signing),
                    on_off(old)
                );
            }
            Ok(())
        }
        Command::App(AppCommand::Key(cmd)) => app_key(cmd, j).await,
        Command::Info(conn) => {
            let dyad = pinned(&conn, Dyad::new(&conn.url, &conn.api_key))?;
            let info = dyad.info().await?;
            // With a pin, say so if the server presents another key.
            if conn.server_key.is_some() {
                dyad.verify_ceremony_key().await?;
            }
            if j {
                output::json(&info);
            } else {
                println!("dyad {} — ceremony key {}", info.version, info.ceremony_public_key);
            }
            Ok(())
        }
        Command::Pregen(cmd) => pregen(cmd, j).await,
        Command::Sign(cmd) => sign(cmd, j).await,
        Command::Login(cmd) => people::login(cmd, j).await,
        Command::Claim(args) => people::claim(args, j).await,
        Command::Session(cmd) => people::session(cmd, j).await,
        Command::Grant(cmd) => people::grant(cmd, j).await,
        Command::Vault(cmd) => vault(cmd, j).await,
        Command::Migrate(args) => migrate(args, j).await,
        Command::Agent(args) => crate::agent::run(args, j).await,
    }
}

/// Where login codes go: SMTP and the SMS webhook when configured, the outbox otherwise.
fn notifier(args: &ServeArgs, store: &Arc<dyn Store>) -> Result<Arc<dyn Notifier>, CliError> {
    let outbox: Arc<dyn Notifier> = Arc::new(Outbox::new(store.clone()));
    let email: Arc<dyn Notifier> = match &args.smtp_url {
        Some(url) => Arc::new(Smtp::from_url(url, &args.smtp_from).map_err(|e| CliError::Usage(e.0))?),
        None => outbox.clone(),
    };
    let sms: Arc<dyn Notifier> = match &args.sms_webhook_url {
        Some(url) => Arc::new(SmsWebhook::new(url, args.sms_webhook_token.clone()).map_err(|e| CliError::Usage(e.0))?),
        None => outbox,
    };
    Ok(Arc::new(Channels { email, sms }))
}

/// `dyad vault …`.
async fn vault(cmd: VaultCommand, j: bool) -> Result<(), CliError> {
    let record_json = |r: &dyad_vault::VaultRecord| {
        json!({
            "walletId": r.wallet_id, "keyVersion": r.key_version, "type": r.wallet_type,
            "pregenId": r.identifier, "address": r.address, "createdAt": r.created_at,
        })
    };
    match cmd {
        VaultCommand::List { vault } => {
            let records = keep::open_vault(&vault)
                .await?
                .list()
                .await
                .map_err(keep::vault_error)?;
            if j {
                output::json(&records.iter().map(record_json).collect::<Vec<_>>());
            } else {
                let rows: Vec<Vec<String>> = records
                    .iter()
                    .map(|r| {
                        vec![
                            r.wallet_id.to_string(),
                            r.key_version.to_string(),
                            r.wallet_type.to_string(),
                            r.address.clone(),
                        ]
                    })
                    .collect();
                output::table(&["WALLET", "VERSION", "TYPE", "ADDRESS"], &rows);
            }
        }
        VaultCommand::Get { vault, wallet } => {
            let (_, text) = keep::open_vault(&vault)
                .await?
                .get(wallet)
                .await
                .map_err(keep::vault_error)?
                .ok_or_else(|| CliError::Usage(format!("the vault holds no share of wallet {wallet}")))?;
            println!("{}", text.as_str());
        }
        VaultCommand::Export { vault } => {
            for (r, text) in keep::open_vault(&vault)
                .await?
                .export()
                .await
                .map_err(keep::vault_error)?
            {
                let mut line = record_json(&r);
                line["share"] = json!(text.as_str());
                output::json(&line);
            }
        }
        VaultCommand::Rekey { vault, new_key_file } => {
            let new = match share_file::read(&new_key_file)? {
                Some(text) => dyad_vault::VaultKey::from_base64(&text).map_err(|e| CliError::Usage(e.to_string()))?,
                None => {
                    let key = dyad_vault::VaultKey::random();
                    share_file::write_secret(&new_key_file, &key.to_base64())?;
                    key
                }
            };
            let id = new.id();
            let opened = keep::open_vault(&vault).await?;
            let count = opened.list().await.map_err(keep::vault_error)?.len();
            opened.rekey(new).await.map_err(keep::vault_error)?;
            if j {
                output::json(&json!({ "records": count, "keyId": id }));
            } else {
                println!(
                    "{count} records re-sealed under vault key {id} ({})",
                    new_key_file.display()
                );
            }
        }
    }
    Ok(())
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

fn key_json(k: &dyad_server::model::ApiKeyRecord) -> serde_json::Value {
    json!({ "appId": k.app_id, "keyId": k.key_id, "createdAt": k.created_at, "revokedAt": k.revoked_at })
}

async fn app_key(cmd: KeyCommand, j: bool) -> Result<(), CliError> {
    use dyad_server::api_key;
    match cmd {
        KeyCommand::Create { storage, app } => {
            let (store, _master) = open_storage(&storage).await?;
            let (record, key) = api_key::create_key(store.as_ref(), app).await?;
            if j {
                let mut out = key_json(&record);
                out["apiKey"] = json!(key.expose());
                output::json(&out);
            } else {
                println!("key {} created for app {}", record.key_id, record.app_id);
                println!("API key (shown once, store it now): {}", key.expose());
            }
        }
        KeyCommand::List { storage, app } => {
            let (store, _master) = open_storage(&storage).await?;
            let keys = api_key::list_keys(store.as_ref(), app).await?;
            if j {
                output::json(&keys.iter().map(key_json).collect::<Vec<_>>());
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.key_id.clone(),
                            output::time(k.created_at),
                            k.revoked_at.map(output::time).unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                output::table(&["KEY", "CREATED", "REVOKED"], &rows);
            }
        }
        KeyCommand::Revoke { storage, app, key } => {
            let (store, _master) = open_storage(&storage).await?;
            let record = api_key::revoke_key(store.as_ref(), app, &key).await?;
            if j {
                output::json(&key_json(&record));
            } else {
                println!("key {} of app {} revoked", record.key_id, record.app_id);
            }
        }
    }
    Ok(())
}

/// A client with the target's share file loaded.
async fn signer(target: &SignTarget) -> Result<Dyad, CliError> {
    let dyad = match &target.session_file {
        Some(path) => crate::people::with_session(&target.conn, path)?,
        None => client(&target.conn)?,
    };
    Kept::open(&target.keep, &target.vault_key)
        .await?
        .load(&dyad, target.wallet)
        .await?;
    Ok(dyad)
}

/// A server that cheated retires the wallet in the client; the share file keeps that, so no
/// later run of the CLI lets this share take part again.
fn retire_on_misbehaviour<T>(dyad: &Dyad, target: &SignTarget, result: Result<T, SdkError>) -> Result<T, CliError> {
    if let Err(SdkError::ServerMisbehaved { .. }) = &result {
        let Some(path) = &target.keep.share_file else {
            // A vault record is replaced only by a new key version; the retirement lives in
            // the process until the wallet's keys are refreshed.
            eprintln!("warning: the server misbehaved; the vault's copy of this share is not marked retired");
            return Ok(result?);
        };
        if let Err(e) = save_share(dyad, path) {
            eprintln!("warning: could not mark the wallet retired in its share file: {e}");
        }
    }
    Ok(result?)
}

async fn sign(cmd: SignCommand, j: bool) -> Result<(), CliError> {
    // `signed_tx` is Some for the transaction command (itself None where the chain has no
    // signed form, e.g. Cosmos amino), None for the others.
    let (wallet, signature, signed_tx): (_, _, Option<Option<String>>) = match cmd {
        SignCommand::Message {
            target,
            message,
            message_base64,
        } => {
            let bytes = match (message, message_base64) {
                (Some(m), None) => m.into_bytes(),
                (None, Some(b)) => dyad_proto::rest::decode_base64(&b)
                    .ok_or_else(|| CliError::Usage("--message-base64 is not valid base64".into()))?,
                _ => return Err(CliError::Usage("give --message or --message-base64".into())),
            };
            let dyad = signer(&target).await?;
            let r = retire_on_misbehaviour(&dyad, &target, dyad.sign_message(target.wallet, &bytes).await)?;
            (r.wallet_id, r.signature, None)
        }
        SignCommand::Transaction {
            target,
            tx,
            chain_id,
            network_passphrase,
            sign_mode,
        } => {
            let bytes = dyad_proto::rest::decode_hex_or_base64(&tx)
                .ok_or_else(|| CliError::Usage("--tx must be 0x-prefixed hex or base64".into()))?;
            let dyad = signer(&target).await?;
            let wallet_type = dyad
                .loaded_wallets()
                .iter()
                .find(|w| w.id == target.wallet)
                .map(|w| w.wallet_type);
            let request = TransactionRequest {
                bytes,
                chain_id,
                network_passphrase,
                cosmos_sign_mode: sign_mode,
            };
            let r = retire_on_misbehaviour(&dyad, &target, dyad.sign_transaction(target.wallet, &request).await)?;
            // EVM tooling passes raw transactions as hex; the others as base64.
            let encoded = r.signed_transaction.map(|t| match wallet_type {
                Some(WalletType::Evm) => hex0x::encode(&t),
                _ => base64::engine::general_purpose::STANDARD.encode(t),
            });
            (r.wallet_id, r.signature, Some(encoded))
        }
        SignCommand::TypedData { target, json_file } => {
            let text = std::fs::read_to_string(&json_file)
                .map_err(|e| CliError::Io(format!("reading {}: {e}", json_file.display())))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{} is not JSON: {e}", json_file.display())))?;
            let dyad = signer(&target).await?;
            let r = retire_on_misbehaviour(&dyad, &target, dyad.sign_typed_data(target.wallet, &value).await)?;
            (r.wallet_id, r.signature, None)
        }
        SignCommand::Raw { target, digest } => {
            let digest = dyad_proto::rest::decode_digest(&digest)
                .ok_or_else(|| CliError::Usage("--digest must be 32 bytes of 0x-prefixed hex".into()))?;
            let dyad = signer(&target).await?;
            let r = retire_on_misbehaviour(&dyad, &target, dyad.sign_raw(target.wallet, digest).await)?;
            (r.wallet_id, r.signature, None)
        }
    };
    if j {
        let mut out = json!({ "walletId": wallet, "signature": hex0x::encode(&signature) });
        if let Some(t) = &signed_tx {
            out["signedTransaction"] = json!(t);
        }
        output::json(&out);
    } else {
        println!("{}", hex0x::encode(&signature));
        if let Some(Some(t)) = signed_tx {
            println!("{t}");
        }
    }
    Ok(())
}

async fn pregen(cmd: PregenCommand, j: bool) -> Result<(), CliError> {
    match cmd {
        PregenCommand::Has { conn, id, wallet_type } => {
            let exists = client(&conn)?.has_pregen_wallet(&id.parse()?, wallet_type).await?;
            if j {
                output::json(&json!({ "exists": exists }));
            } else {
                println!("{}", if exists { "yes" } else { "no" });
            }
        }
        PregenCommand::Create {
            conn,
            id,
            wallet_type,
            keep,
            vault_key,
        } => {
            let dyad = client(&conn)?;
            let kept = Kept::open(&keep, &vault_key).await?;
            kept.prepare_create(&dyad).await?;
            let result = dyad.create_pregen_wallet(wallet_type, &id.parse()?).await;
            // An unconfirmed wallet's share is loaded too: keep it before reporting anything.
            if !dyad.loaded_wallets().is_empty() {
                kept.save(&dyad).await?;
            }
            let w = result?;
            print_wallet(j, &w);
        }
        PregenCommand::CreatePerType {
            conn,
            id,
            types,
            keep,
            vault_key,
        } => {
            let dyad = client(&conn)?;
            let kept = Kept::open(&keep, &vault_key).await?;
            kept.prepare_create(&dyad).await?;
            let result = dyad.create_pregen_wallet_per_type(&types, &id.parse()?).await;
            // Whatever was created before a failure must not be lost with the error.
            if !dyad.loaded_wallets().is_empty() {
                kept.save(&dyad).await?;
            }
            let list = result?;
            if j {
                output::json(&list);
            } else {
                output::wallets(&list);
            }
        }
        PregenCommand::Bulk {
            conn,
            csv,
            types,
            vault,
            concurrency,
            setup_pool,
        } => {
            // The same checks as every command's client, then one with the pool asked for.
            client(&conn)?;
            let dyad = pinned(
                &conn,
                Dyad::builder(&conn.url, &conn.api_key)
                    .setup_pool(usize::from(setup_pool))
                    .build(),
            )?;
            let vault = keep::open_vault(&vault).await?;
            dyad.fill_setup_pool().await?;
            let summary = crate::bulk::run(dyad, &csv, &types, vault, usize::from(concurrency)).await?;
            if j {
                output::json(&summary);
            } else {
                println!(
                    "created {}, skipped {}, failed {} in {:.1}s",
                    summary.created,
                    summary.skipped,
                    summary.failed.len(),
                    summary.seconds
                );
                for f in &summary.failed {
                    let t = f.wallet_type.map(|t| format!(" {}", t.as_str())).unwrap_or_default();
                    println!("row {}{t}: {}", f.row, f.error);
                }
            }
            if !summary.failed.is_empty() {
                return Err(CliError::Usage(format!(
                    "{} of the CSV's rows or wallets failed (listed in the summary); run the same command again to retry",
                    summary.failed.len()
                )));
            }
        }
        PregenCommand::List { conn, id } => {
            let dyad = client(&conn)?;
            let list = match id.parse_optional()? {
                Some(id) => dyad.get_pregen_wallets(&id).await?,
                None => dyad.get_all_pregen_wallets().await?,
            };
            if j {
                output::json(&list);
            } else {
                output::wallets(&list);
            }
        }
        PregenCommand::UpdateId {
            conn,
            wallet,
            share_file,
            id,
        } => {
            let dyad = client(&conn)?;
            load_share(&dyad, &share_file, true).await?;
            let w = dyad.update_pregen_wallet_identifier(wallet, &id.parse()?).await?;
            save_share(&dyad, &share_file)?;
            print_wallet(j, &w);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logins() -> LoginArgs {
        LoginArgs {
            telegram_bot_token_file: None,
            telegram_max_age: 3600,
            oauth_discord_client_id: None,
            oauth_discord_client_secret_file: None,
            oauth_discord_endpoints: None,
            oauth_x_client_id: None,
            oauth_x_client_secret_file: None,
            oauth_x_endpoints: None,
            farcaster_domain: None,
            farcaster_lookup_url: None,
        }
    }

    #[test]
    fn serve_turns_on_only_the_logins_it_is_given_secrets_from_files_or_the_environment() {
        let none = |_: &str| None;
        let off = serve_config(&logins(), none).unwrap();
        assert!(off.telegram_bot_token.is_none() && off.oauth_discord.is_none() && off.farcaster.is_none());

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bot-token");
        std::fs::write(&file, "123:bot-token-text\n").unwrap();
        let args = LoginArgs {
            telegram_bot_token_file: Some(file.clone()),
            oauth_x_client_id: Some("x-id".into()),
            farcaster_domain: Some("app.example".into()),
            farcaster_lookup_url: Some("https://lookup.example/v1".into()),
            ..logins()
        };
        let env = |name: &str| (name == "DYAD_OAUTH_X_CLIENT_SECRET").then(|| "x-secret-text".to_string());
        let on = serve_config(&args, env).unwrap();
        assert_eq!(
            on.telegram_bot_token.as_ref().map(|t| t.expose()),
            Some("123:bot-token-text")
        );
        assert_eq!(on.telegram_max_age.as_secs(), 3600);
        let x = on.oauth_x.as_ref().unwrap();
        assert_eq!(
            (x.client_id.as_str(), x.client_secret.expose()),
            ("x-id", "x-secret-text")
        );
        assert_eq!(
            on.farcaster.as_ref().unwrap().lookup_url.as_str(),
            "https://lookup.example/v1"
        );
        assert!(!format!("{on:?}").contains("secret-text") && !format!("{on:?}").contains("bot-token-text"));

        // A client id without its secret, a secret given twice, an empty file: refused, and
        // no error names a secret.
        let no_secret = LoginArgs {
            oauth_discord_client_id: Some("d-id".into()),
            ..logins()
        };
        assert!(matches!(serve_config(&no_secret, none), Err(CliError::Usage(_))));
        let twice = LoginArgs {
            telegram_bot_token_file: Some(file),
            ..logins()
        };
        let both = |name: &str| (name == "DYAD_TELEGRAM_BOT_TOKEN").then(|| "env-token-text".to_string());
        let e = serve_config(&twice, both).unwrap_err().to_string();
        assert!(e.contains("not both") && !e.contains("token-text"), "{e}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let empty_file = LoginArgs {
            telegram_bot_token_file: Some(empty),
            ..logins()
        };
        assert!(matches!(serve_config(&empty_file, none), Err(CliError::Usage(_))));
    }
}
