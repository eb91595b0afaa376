//! `dyad agent`: run the user party as a local service (`dyad-agent`), and make its caller keys.

use dyad_agent::{Agent, AgentKey, AgentKeys, AgentState, Audit, Exposure, Idempotency};
use serde_json::json;

use crate::args::{AgentArgs, AgentCommand, AgentKeyCommand, AgentRunArgs, VaultArgs};
use crate::commands::pinned_key;
use crate::keep::open_vault;
use crate::{output, CliError};

/// Run `dyad agent …`.
pub async fn run(args: AgentArgs, json_out: bool) -> Result<(), CliError> {
    match args.command {
        Some(AgentCommand::Key(AgentKeyCommand::Create { keys })) => {
            let key = AgentKey::create_in(&keys).map_err(agent_error)?;
            if json_out {
                output::json(&json!({ "agentKey": key.expose(), "keys": keys }));
            } else {
                println!("{}", key.expose());
                eprintln!(
                    "agent key made; its hash is in {} (the key is shown only now: give it to your backend as X-API-Key)",
                    keys.display()
                );
            }
            Ok(())
        }
        None => serve(args.run).await,
    }
}

async fn serve(args: AgentRunArgs) -> Result<(), CliError> {
    let exposure = if args.allow_non_loopback {
        Exposure::Public
    } else {
        Exposure::Loopback
    };
    // Refused before anything is opened: a wrong address must not wait for the server.
    dyad_agent::listen::check(args.listen, exposure).map_err(agent_error)?;
    let keys_path = args.keys.ok_or_else(|| {
        CliError::Usage("give --keys FILE (or DYAD_AGENT_KEYS), as `dyad agent key create` makes it".into())
    })?;
    let keys = AgentKeys::load(&keys_path).map_err(agent_error)?;
    let vault = args
        .vault
        .ok_or_else(|| CliError::Usage("give --vault (a file or a PostgreSQL URL) for the user shares".into()))?;
    let api_key = match &args.api_key_file {
        Some(path) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| CliError::Io(format!("reading the API key file {}: {e}", path.display())))?,
            );
            zeroize::Zeroizing::new(text.trim().to_string())
        }
        None => zeroize::Zeroizing::new(args.conn.api_key.trim().to_string()),
    };
    if api_key.is_empty() {
        return Err(CliError::Usage(
            "no Dyad API key: set DYAD_API_KEY, or pass --api-key-file or --api-key".into(),
        ));
    }
    let vault = open_vault(&VaultArgs {
        vault,
        vault_key_file: args.vault_key_file,
    })
    .await?;
    let state = AgentState::open(&args.state).await.map_err(agent_error)?;
    let mut agent = Agent::connect(&args.conn.url, &api_key, vault, pinned_key(&args.conn)?)
        .await
        .map_err(agent_error)?;
    if args.allow_share_export {
        agent = agent.with_share_export(Audit::new(&state));
    }
    let idempotency = Idempotency::open(&state).await.map_err(agent_error)?;
    let running = dyad_agent::spawn(agent, keys, idempotency, args.listen, exposure)
        .await
        .map_err(agent_error)?;
    eprintln!("dyad agent for {} listening on {}", args.conn.url, running.url());
    // On Ctrl-C or SIGTERM, stop taking calls and give the running ones DRAIN to finish (a
    // create cut short is still safe: its share is kept before its confirmation).
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(());
    });
    running
        .wait_or_stop(stop_rx, DRAIN)
        .await
        .map_err(|e| CliError::Io(e.to_string()))
}

/// How long the agent waits for running calls once told to stop.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Ctrl-C, or SIGTERM where there is one. A handler that cannot be installed never fires
/// (rather than stopping the agent at once).
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    ctrl_c.await;
}

fn agent_error(e: dyad_agent::AgentError) -> CliError {
    CliError::Io(format!("agent: {e}"))
}
