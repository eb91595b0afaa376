//! Command-line arguments.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use dyad_chains::CosmosSignMode;
use dyad_proto::grant::Operation;
use dyad_proto::{AppId, Environment, PregenId, WalletId, WalletType};
use dyad_server::DatabaseUrl;

use crate::CliError;

/// Dyad: self-hosted 2-of-2 MPC wallets you can pregenerate, sign with, and hand over.
#[derive(Debug, Parser)]
#[command(name = "dyad", version)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Start an embedded server, pregenerate one wallet of each type, sign with each, verify.
    Demo(DemoArgs),
    /// Manage apps (runs against the data folder directly).
    #[command(subcommand)]
    App(AppCommand),
    /// Show the server's version and ceremony key.
    Info(Conn),
    /// Pregenerated wallets.
    #[command(subcommand)]
    Pregen(PregenCommand),
    /// Signing.
    #[command(subcommand)]
    Sign(SignCommand),
    /// Log a person in through an app; the session is written to a file (0600).
    #[command(subcommand)]
    Login(LoginCommand),
    /// Claim the pregenerated wallets of a share file as the logged-in person: the shares are
    /// rotated (same addresses), the file is rewritten with the new share, and each wallet's
    /// recovery secret is printed once.
    Claim(ClaimArgs),
    /// A session file: refresh, log out, export, import.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Grants: let the app of a session use wallets of the person's.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// The share vault: user shares sealed under the app's key.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Move a deployment's database (every app, key, wallet, sealed cloud share, person,
    /// session and audit entry) into an empty one, in one transaction: `dyad migrate --from
    /// sqlite:./dyad-data/dyad.db --to postgres://…`. Stop the servers first; the new
    /// deployment needs the same master key.
    Migrate(MigrateArgs),
    /// Run the user party as a local service in Para's REST shapes (`dyad agent --listen
    /// 127.0.0.1:8700 --vault V --keys agent.keys`), or make its caller keys (`dyad agent key
    /// create --keys agent.keys`).
    Agent(AgentArgs),
}

/// `dyad agent`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentArgs {
    /// `key create`; without it, run the agent.
    #[command(subcommand)]
    pub command: Option<AgentCommand>,
    #[command(flatten)]
    pub run: AgentRunArgs,
}

/// `dyad agent` (running it).
#[derive(Debug, Args)]
pub struct AgentRunArgs {
    /// Where to listen: loopback only unless --allow-non-loopback.
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: std::net::SocketAddr,
    /// Listen on a non-loopback address (put a TLS-terminating proxy in front: the agent
    /// speaks plain HTTP).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// The file of the agent's caller keys (their hashes), as `dyad agent key create` writes it.
    #[arg(long, env = "DYAD_AGENT_KEYS")]
    pub keys: Option<PathBuf>,
    /// The vault of the app's user shares: a file (created 0600), or a PostgreSQL URL.
    #[arg(long)]
    pub vault: Option<PathBuf>,
    /// The vault key, base64 of 32 bytes, in a file (else DYAD_VAULT_KEY).
    #[arg(long)]
    pub vault_key_file: Option<PathBuf>,
    /// Allow `GET /v1/wallets/{id}/user-share`: hand a wallet's user share to a caller, for its
    /// person to claim it from their own client (each hand-over audited in the state file).
    #[arg(long)]
    pub allow_share_export: bool,
    /// The app's Dyad API key in a file (instead of DYAD_API_KEY / --api-key; a mounted secret).
    #[arg(long)]
    pub api_key_file: Option<PathBuf>,
    /// The agent's own state (answers kept for Idempotency-Key, 24 h; its audit log): a SQLite
    /// file, created 0600.
    #[arg(long, env = "DYAD_AGENT_STATE", default_value = "dyad-agent.db")]
    pub state: PathBuf,
    #[command(flatten)]
    pub conn: Conn,
}

/// `dyad agent key …`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// The agent's caller keys.
    #[command(subcommand)]
    Key(AgentKeyCommand),
}

/// `dyad agent key …`.
#[derive(Debug, Subcommand)]
pub enum AgentKeyCommand {
    /// Make a caller key: its hash is appended to the keys file (created 0600), the key itself
    /// printed once.
    Create {
        /// The keys file.
        #[arg(long, env = "DYAD_AGENT_KEYS")]
        keys: PathBuf,
    },
}

/// `dyad migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The database to copy from: `sqlite:PATH` (it is only read).
    #[arg(long)]
    pub from: DatabaseUrl,
    /// The empty database to copy into: `postgres://…` (its tables are made if missing).
    #[arg(long)]
    pub to: DatabaseUrl,
}

/// `dyad login …`.
#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Send a code to an email address, read it from standard input (a prompt on a terminal),
    /// and write the session.
    Email {
        #[command(flatten)]
        conn: Conn,
        /// The address.
        #[arg(long)]
        email: String,
        /// Where to write the session (0600).
        #[arg(long)]
        session_file: PathBuf,
    },
    /// The same by SMS.
    Phone {
        #[command(flatten)]
        conn: Conn,
        /// The number.
        #[arg(long)]
        phone: String,
        /// Where to write the session (0600).
        #[arg(long)]
        session_file: PathBuf,
    },
    /// Telegram Login Widget: the data the widget handed the page (JSON).
    Telegram {
        #[command(flatten)]
        conn: Conn,
        /// The widget's data: `{"id":…, "auth_date":…, "hash":"…", …}`.
        #[arg(long)]
        widget_data: String,
        /// Where to write the session (0600).
        #[arg(long)]
        session_file: PathBuf,
    },
    /// Discord (OAuth 2.0 with PKCE): prints the authorization URL, waits for the provider's
    /// redirect on a local port, and writes the session.
    Discord(OAuthLoginArgs),
    /// X (OAuth 2.0 with PKCE), as for Discord.
    X(OAuthLoginArgs),
    /// Print a Sign In With Farcaster nonce for the message to sign.
    FarcasterNonce {
        #[command(flatten)]
        conn: Conn,
    },
    /// Sign In With Farcaster: the signed message (a file) and its signature.
    Farcaster {
        #[command(flatten)]
        conn: Conn,
        /// The EIP-4361 message, as signed.
        #[arg(long)]
        message_file: PathBuf,
        /// The custody address's signature, 0x hex.
        #[arg(long)]
        signature: String,
        /// Where to write the session (0600).
        #[arg(long)]
        session_file: PathBuf,
    },
    /// The app vouches for its user `--custom-id` (needs the app's API key).
    Custom {
        #[command(flatten)]
        conn: Conn,
        /// The app's id for the person.
        #[arg(long)]
        custom_id: String,
        /// Where to write the session (0600).
        #[arg(long)]
        session_file: PathBuf,
    },
}

/// An OAuth login from the command line.
#[derive(Debug, Args)]
pub struct OAuthLoginArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Where to write the session (0600).
    #[arg(long)]
    pub session_file: PathBuf,
    /// The local port the provider redirects to (`http://127.0.0.1:PORT/callback`, which must
    /// be registered with the provider); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// One identifier (at most one; the commands that need one say so when none is given).
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct Identifier {
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number (E.164).
    #[arg(long)]
    pub phone: Option<String>,
    /// Telegram user id.
    #[arg(long)]
    pub telegram_user_id: Option<String>,
    /// Farcaster username.
    #[arg(long)]
    pub farcaster_username: Option<String>,
    /// X username.
    #[arg(long)]
    pub x_username: Option<String>,
    /// Discord username.
    #[arg(long)]
    pub discord_username: Option<String>,
    /// Your own id.
    #[arg(long)]
    pub custom_id: Option<String>,
}

impl Identifier {
    /// The parsed, normalised identifier, which must be given.
    pub fn parse(&self) -> Result<PregenId, CliError> {
        self.parse_optional()?
            .ok_or_else(|| CliError::Usage("give one identifier, e.g. --email".into()))
    }

    /// The identifier, if one was given.
    pub fn parse_optional(&self) -> Result<Option<PregenId>, CliError> {
        let pairs = [
            ("email", &self.email),
            ("phone", &self.phone),
            ("telegramUserId", &self.telegram_user_id),
            ("farcasterUsername", &self.farcaster_username),
            ("xUsername", &self.x_username),
            ("discordUsername", &self.discord_username),
            ("customId", &self.custom_id),
        ];
        pairs
            .iter()
            .find_map(|(k, v)| v.as_ref().map(|v| (*k, v)))
            .map(|(kind, value)| PregenId::parse(kind, value).map_err(|e| CliError::Usage(e.to_string())))
            .transpose()
    }
}

/// `dyad claim`.
#[derive(Debug, Args)]
pub struct ClaimArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// The share file the app handed over; rewritten with the new share.
    #[arg(long)]
    pub share_file: PathBuf,
    /// The logged-in person's session file.
    #[arg(long)]
    pub session_file: PathBuf,
    /// Claim only the wallets of this identifier.
    #[command(flatten)]
    pub id: Identifier,
}

/// `dyad session …`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Keep the session alive for another session lifetime.
    Refresh {
        #[command(flatten)]
        conn: Conn,
        /// The session file.
        #[arg(long)]
        session_file: PathBuf,
    },
    /// End the session on the server and delete the file.
    Logout {
        #[command(flatten)]
        conn: Conn,
        /// The session file.
        #[arg(long)]
        session_file: PathBuf,
    },
    /// Print the session for a backend to import (secret: whoever holds it acts as the person).
    Export {
        /// The session file.
        #[arg(long)]
        session_file: PathBuf,
    },
    /// Read an exported session from standard input into a session file (0600).
    Import {
        /// The session file to write.
        #[arg(long)]
        session_file: PathBuf,
    },
}

/// `dyad grant …`.
#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Let the session's app use wallets of the person's.
    Create {
        #[command(flatten)]
        conn: Conn,
        /// The person's session in the app to grant.
        #[arg(long)]
        session_file: PathBuf,
        /// A wallet id (repeatable).
        #[arg(long = "wallet", value_parser = parse_wallet)]
        wallets: Vec<WalletId>,
        /// Every wallet of these types (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_type)]
        types: Vec<WalletType>,
        /// What the app may sign: message, typed-data, transaction (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_operation, required = true)]
        operations: Vec<Operation>,
    },
    /// The person's grants to the session's app.
    List {
        #[command(flatten)]
        conn: Conn,
        /// The session file.
        #[arg(long)]
        session_file: PathBuf,
    },
    /// Take a grant back.
    Revoke {
        #[command(flatten)]
        conn: Conn,
        /// The session file.
        #[arg(long)]
        session_file: PathBuf,
        /// The grant's id.
        #[arg(long)]
        grant: uuid::Uuid,
    },
}

fn parse_operation(s: &str) -> Result<Operation, String> {
    Operation::from_name(s.trim())
        .ok_or_else(|| format!("unknown operation {s:?}: expected message, typed-data or transaction"))
}

/// Where the server keeps its data.
#[derive(Debug, Args)]
pub struct Storage {
    /// Data folder: SQLite file `dyad.db` and `master.key` (created on first run, 0700 / 0600;
    /// refused if group or others can use it). The master key can come from DYAD_MASTER_KEY (64
    /// hex characters) instead.
    #[arg(long, env = "DYAD_DATA_DIR", default_value = "./dyad-data")]
    pub data_dir: PathBuf,
    /// A database URL instead of the data folder's SQLite file: `sqlite:PATH` or
    /// `postgres://user@host/db` (shared by any number of `dyad serve` replicas; the master key
    /// then comes from DYAD_MASTER_KEY or the data folder, the same on every replica).
    #[arg(long, env = "DYAD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
}

/// `dyad serve`. `Debug` leaves the secrets out.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
    /// How long a login session lives unless refreshed, in minutes.
    #[arg(long, env = "DYAD_SESSION_TTL_MINUTES", default_value_t = 90)]
    pub session_ttl_minutes: u64,
    /// Send login codes by email through this SMTP server
    /// (`smtp://user:pass@host:587?tls=required`, `smtps://…:465`). Without it codes go to the
    /// outbox (a table, and a server-log line per message).
    #[arg(long, env = "DYAD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of login emails.
    #[arg(long, env = "DYAD_SMTP_FROM", default_value = "Dyad <no-reply@localhost>")]
    pub smtp_from: String,
    /// Send login codes by SMS through this webhook (`POST {"to", "body"}`). Without it SMS
    /// go to the outbox.
    #[arg(long, env = "DYAD_SMS_WEBHOOK_URL")]
    pub sms_webhook_url: Option<String>,
    /// Bearer token for the SMS webhook.
    #[arg(long, env = "DYAD_SMS_WEBHOOK_TOKEN", hide_env_values = true)]
    pub sms_webhook_token: Option<String>,
    /// Login proofs.
    #[command(flatten)]
    pub logins: LoginArgs,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("storage", &self.storage)
            .field("smtp", &self.smtp_url.is_some())
            .field("sms_webhook_url", &self.sms_webhook_url)
            .field("logins", &self.logins)
            .finish_non_exhaustive()
    }
}

/// Which login proofs `dyad serve` accepts beyond one-time codes and custom ids: each is off
/// unless configured. Secrets (the bot token, client secrets) come from a file or an
/// environment variable, never from the command line, which every local user can read.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Telegram Login Widget: a file holding the bot's token (from @BotFather). Or set
    /// DYAD_TELEGRAM_BOT_TOKEN.
    #[arg(long, value_name = "FILE")]
    pub telegram_bot_token_file: Option<PathBuf>,
    /// The oldest Telegram login (its auth_date) accepted, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 24 * 3600)]
    pub telegram_max_age: u64,
    /// Discord OAuth: the application's client id (its secret from
    /// --oauth-discord-client-secret-file or DYAD_OAUTH_DISCORD_CLIENT_SECRET). Discord's own
    /// endpoints, scope `identify`.
    #[arg(long, env = "DYAD_OAUTH_DISCORD_CLIENT_ID", value_name = "ID")]
    pub oauth_discord_client_id: Option<String>,
    /// A file holding the Discord client secret.
    #[arg(long, value_name = "FILE")]
    pub oauth_discord_client_secret_file: Option<PathBuf>,
    /// Discord's endpoints instead of discord.com's: `AUTHORIZE_URL,TOKEN_URL,USERINFO_URL`
    /// (a compatible provider, or a stand-in for tests).
    #[arg(long, value_name = "URLS")]
    pub oauth_discord_endpoints: Option<String>,
    /// X (Twitter) OAuth 2.0: the app's client id (its secret from
    /// --oauth-x-client-secret-file or DYAD_OAUTH_X_CLIENT_SECRET). X's own endpoints, scopes
    /// `users.read tweet.read`.
    #[arg(long, env = "DYAD_OAUTH_X_CLIENT_ID", value_name = "ID")]
    pub oauth_x_client_id: Option<String>,
    /// A file holding the X client secret.
    #[arg(long, value_name = "FILE")]
    pub oauth_x_client_secret_file: Option<PathBuf>,
    /// X's endpoints instead of x.com's: `AUTHORIZE_URL,TOKEN_URL,USERINFO_URL`.
    #[arg(long, value_name = "URLS")]
    pub oauth_x_endpoints: Option<String>,
    /// Sign In With Farcaster: the domain the messages must name (the app's web domain).
    #[arg(
        long,
        env = "DYAD_FARCASTER_DOMAIN",
        value_name = "DOMAIN",
        requires = "farcaster_lookup_url"
    )]
    pub farcaster_domain: Option<String>,
    /// The fid lookup Sign In With Farcaster asks: `GET {URL}/fid/{fid}` must answer
    /// `{"username": "…", "custodyAddress": "0x…"}`.
    #[arg(
        long,
        env = "DYAD_FARCASTER_LOOKUP_URL",
        value_name = "URL",
        requires = "farcaster_domain"
    )]
    pub farcaster_lookup_url: Option<String>,
}

/// `dyad demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
    /// Whom the demo wallets are for.
    #[arg(long, default_value = "demo@example.com")]
    pub email: String,
    /// The message each wallet signs.
    #[arg(long, default_value = "Hello from Dyad")]
    pub message: String,
}

/// `dyad app …`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app and its API key (shown once).
    Create {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
        /// App name.
        #[arg(long)]
        name: String,
        /// BETA or PROD.
        #[arg(long, default_value = "beta", value_parser = parse_env)]
        env: Environment,
    },
    /// List apps.
    List {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
    },
    /// Change an app's settings (audited as `app.updated`).
    Update {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
        /// App id.
        #[arg(long, value_parser = parse_app)]
        app: AppId,
        /// Allow `sign-raw` (a bare 32-byte digest, which can be the hash of any transaction or
        /// authorization): true or false. Off for every new app.
        #[arg(long, action = ArgAction::Set, required = true)]
        allow_raw_signing: bool,
    },
    /// An app's API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `dyad app key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create another API key for the app (shown once, stored hashed; audited).
    Create {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
        /// App id.
        #[arg(long, value_parser = parse_app)]
        app: AppId,
    },
    /// List the app's keys: id, created, revoked (never a secret).
    List {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
        /// App id.
        #[arg(long, value_parser = parse_app)]
        app: AppId,
    },
    /// Revoke a key: it gets 401 from the next request on (audited).
    Revoke {
        /// Storage.
        #[command(flatten)]
        storage: Storage,
        /// App id.
        #[arg(long, value_parser = parse_app)]
        app: AppId,
        /// The key id (16 hex digits, as `dyad app key list` shows it).
        #[arg(long)]
        key: String,
    },
}

/// How to reach a server. `Debug` leaves the API key out.
#[derive(Args)]
pub struct Conn {
    /// Server URL.
    #[arg(
        long,
        visible_alias = "server",
        env = "DYAD_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The app's API key.
    #[arg(long, env = "DYAD_API_KEY", hide_env_values = true, default_value = "")]
    pub api_key: String,
    /// Pin the server's ceremony key (0x + 64 hex digits, as `dyad serve` prints it): a server
    /// presenting another is refused before any share is used. Without it the key is taken from
    /// the server's /v1/info.
    #[arg(long, env = "DYAD_SERVER_KEY")]
    pub server_key: Option<String>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("url", &self.url)
            .field("server_key", &self.server_key)
            .finish_non_exhaustive()
    }
}

/// Where user shares are kept: a share file, or a share vault (`--vault`, sealed under
/// `DYAD_VAULT_KEY` or `--vault-key-file`).
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "keep")]
pub struct Keep {
    /// File holding the user share (created 0600 if missing; wallets accumulate in it).
    #[arg(long, group = "keep")]
    pub share_file: Option<PathBuf>,
    /// A share vault instead: a file (created 0600 if missing) or a PostgreSQL URL.
    #[arg(long, group = "keep")]
    pub vault: Option<PathBuf>,
}

/// The key of a `--vault`.
#[derive(Debug, Args)]
pub struct VaultKeyFile {
    /// The vault key, base64 of 32 bytes, in a file (else DYAD_VAULT_KEY).
    #[arg(long)]
    pub vault_key_file: Option<PathBuf>,
}

/// A share vault and its key.
#[derive(Debug, Args)]
pub struct VaultArgs {
    /// The vault: a file (created 0600), or a PostgreSQL URL (`postgres://…`).
    #[arg(long)]
    pub vault: PathBuf,
    /// The vault key, base64 of 32 bytes, in a file (else DYAD_VAULT_KEY).
    #[arg(long)]
    pub vault_key_file: Option<PathBuf>,
}

/// `dyad vault …`.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// The vault's records (wallet, key version, type, identifier, address; never a share).
    List {
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Print one wallet's share (secret), as `set_user_share` takes it.
    Get {
        #[command(flatten)]
        vault: VaultArgs,
        /// Wallet id.
        #[arg(long, value_parser = parse_wallet)]
        wallet: WalletId,
    },
    /// Print every record with its share (secret), one JSON object per line.
    Export {
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Re-seal every share under the key in `--new-key-file` (a new random key is written there,
    /// 0600, if the file does not exist); all or nothing.
    Rekey {
        #[command(flatten)]
        vault: VaultArgs,
        /// The new key's file.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

/// `dyad pregen …`.
#[derive(Debug, Subcommand)]
pub enum PregenCommand {
    /// Is there a wallet for this identifier?
    Has {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        id: Identifier,
        /// Only this type.
        #[arg(long = "type", value_parser = parse_type)]
        wallet_type: Option<WalletType>,
    },
    /// Pregenerate a wallet; its user share is added to the share file.
    Create {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        id: Identifier,
        /// EVM, SOLANA, COSMOS or STELLAR.
        #[arg(long = "type", value_parser = parse_type)]
        wallet_type: WalletType,
        /// Where the new share goes.
        #[command(flatten)]
        keep: Keep,
        #[command(flatten)]
        vault_key: VaultKeyFile,
    },
    /// Pregenerate one wallet per type.
    CreatePerType {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        id: Identifier,
        /// Comma-separated types.
        #[arg(long, value_delimiter = ',', value_parser = parse_type, required = true)]
        types: Vec<WalletType>,
        /// Where the new shares go.
        #[command(flatten)]
        keep: Keep,
        #[command(flatten)]
        vault_key: VaultKeyFile,
    },
    /// A wallet of each type for every person of a CSV (a header row naming identifier
    /// columns: email, phone, custom_id, x_username, …; a row's first non-empty one is the
    /// person), each share sealed into the vault before its wallet is confirmed. People who
    /// have a wallet of a type are skipped, so a killed run is resumed by running it again.
    /// Ends with a summary; bad rows are reported by row number and do not stop the run.
    Bulk {
        #[command(flatten)]
        conn: Conn,
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Comma-separated types.
        #[arg(long, value_delimiter = ',', value_parser = parse_type, required = true)]
        types: Vec<WalletType>,
        /// The vault the shares go to.
        #[command(flatten)]
        vault: VaultArgs,
        /// Wallets made at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
        /// Make this many DKLs key setups before the run starts (the warm setup pool) and keep the
        /// pool topped up in the background while it goes on; EVM and Cosmos keys use them. The
        /// run's `seconds` do not count the first fill. 0: none.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=256))]
        setup_pool: u16,
    },
    /// List the wallets of an identifier, or (without one) every wallet of the app.
    List {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        id: Identifier,
    },
    /// Change a wallet's identifier (and the share file's copy of it).
    UpdateId {
        #[command(flatten)]
        conn: Conn,
        /// Wallet id.
        #[arg(long, value_parser = parse_wallet)]
        wallet: WalletId,
        /// File holding the user share.
        #[arg(long)]
        share_file: PathBuf,
        #[command(flatten)]
        id: Identifier,
    },
}

/// `dyad sign …`.
#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a message (EVM: EIP-191; COSMOS: ADR-036; STELLAR: SEP-53; SOLANA: the bytes,
    /// unless they decode as a transaction).
    Message {
        #[command(flatten)]
        target: SignTarget,
        /// The message as text.
        #[arg(long, conflicts_with = "message_base64", required_unless_present = "message_base64")]
        message: Option<String>,
        /// The message as base64.
        #[arg(long)]
        message_base64: Option<String>,
    },
    /// Sign an unsigned transaction; prints the signature and the signed transaction.
    Transaction {
        #[command(flatten)]
        target: SignTarget,
        /// The unsigned transaction: 0x-prefixed hex, or base64.
        #[arg(long)]
        tx: String,
        /// EVM: the chain id to sign for.
        #[arg(long)]
        chain_id: Option<u64>,
        /// STELLAR: the network passphrase.
        #[arg(long)]
        network_passphrase: Option<String>,
        /// COSMOS: direct (a protobuf SignDoc) or amino (the amino JSON sign doc).
        #[arg(long, value_parser = parse_sign_mode)]
        sign_mode: Option<CosmosSignMode>,
    },
    /// Sign EIP-712 typed data from a JSON file (EVM).
    TypedData {
        #[command(flatten)]
        target: SignTarget,
        /// The typed data, as eth_signTypedData_v4 takes it.
        #[arg(long)]
        json_file: PathBuf,
    },
    /// Sign a 32-byte digest as is (EVM, COSMOS). Dangerous: it can be any transaction's hash.
    Raw {
        #[command(flatten)]
        target: SignTarget,
        /// The digest, 0x-prefixed hex.
        #[arg(long)]
        digest: String,
    },
}

/// The shared arguments of every sign command.
#[derive(Debug, Args)]
pub struct SignTarget {
    #[command(flatten)]
    pub conn: Conn,
    /// Wallet id.
    #[arg(long, value_parser = parse_wallet)]
    pub wallet: WalletId,
    /// Where the share is.
    #[command(flatten)]
    pub keep: Keep,
    #[command(flatten)]
    pub vault_key: VaultKeyFile,
    /// Sign as the logged-in person of this session file (a claimed wallet; the API key is not
    /// needed then).
    #[arg(long)]
    pub session_file: Option<PathBuf>,
}

fn parse_type(s: &str) -> Result<WalletType, String> {
    s.parse()
        .map_err(|_| format!("unknown wallet type {s:?}: expected EVM, SOLANA, COSMOS or STELLAR"))
}

fn parse_sign_mode(s: &str) -> Result<CosmosSignMode, String> {
    match s.to_ascii_lowercase().as_str() {
        "direct" => Ok(CosmosSignMode::Direct),
        "amino" => Ok(CosmosSignMode::Amino),
        _ => Err(format!("unknown sign mode {s:?}: expected direct or amino")),
    }
}

fn parse_env(s: &str) -> Result<Environment, String> {
    s.parse().map_err(|e: dyad_proto::ProtoError| e.to_string())
}

fn parse_app(s: &str) -> Result<AppId, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not an app id (see `dyad app list`)"))
}

fn parse_wallet(s: &str) -> Result<WalletId, String> {
    s.parse().map_err(|_| format!("{s:?} is not a wallet id"))
}
