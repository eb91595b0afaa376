//! The `dyad` command: runs the server, administers apps, and exposes every SDK method as a
//! subcommand (`--json` on all), plus a demo that does the whole pregenerate-and-sign flow.
//!
//! It must never print a share or an API key except where the command's job is to hand it over
//! (`app create` shows the new key once; share files are written 0600), and never put a secret
//! in an error message.

pub mod agent;
pub mod args;
pub mod bulk;
pub mod commands;
pub mod demo;
pub mod keep;
pub mod output;
pub mod people;
pub mod share_file;

/// What a command failed with; printed as one line, exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the SDK.
    #[error(transparent)]
    Sdk(#[from] dyad_sdk::SdkError),
    /// From the embedded server.
    #[error(transparent)]
    Server(#[from] dyad_server::ServerError),
    /// The embedded server cannot start on this data.
    #[error(transparent)]
    Setup(#[from] dyad_server::SetupError),
    /// The embedded server's storage (operator commands run against it directly).
    #[error(transparent)]
    Store(#[from] dyad_server::StoreError),
    /// Bad arguments the parser could not catch.
    #[error("{0}")]
    Usage(String),
    /// Files and sockets.
    #[error("{0}")]
    Io(String),
}
