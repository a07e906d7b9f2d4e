//! The command line: parse and dispatch, one file per noun. No
//! cryptography or storage logic lives here.

mod advisor;
mod audit;
mod backup;
mod coordinator;
mod entity;
mod report;
mod retention;
mod serve;
mod staff;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::operator::Command;

#[derive(Parser)]
#[command(
    name = "buzon",
    version,
    about = "Anonymous ethics questions and whistleblower claims, end-to-end encrypted.",
    long_about = "buzon receives anonymous ethics questions and claims from public servants, \
stores them encrypted so that only the reporter and the staff they were shown can read them, \
and keeps no identity: no IP addresses, no exact times, no accounts for reporters."
)]
pub struct Cli {
    /// Data directory (created if missing).
    #[arg(long, global = true, default_value = "buzon-data", env = "BUZON_DATA")]
    data: PathBuf,
    /// Configuration file (TOML; see README.md). Operator commands read it
    /// too, so that keys they make follow its `[tokens]` settings.
    #[arg(long, global = true, env = "BUZON_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Noun,
}

#[derive(Subcommand)]
enum Noun {
    /// Start the web server.
    Serve(serve::ServeArgs),
    /// Create the data directory, ready for entities and staff.
    Init,
    /// Print the server key clients pin with `--server-key` (spec/api.md).
    ServerKey,
    /// Manage entities (the public bodies whose servants write in).
    #[command(subcommand)]
    Entity(entity::EntityCmd),
    /// Manage staff: coordinators, advisors and entity admins.
    #[command(subcommand)]
    Staff(staff::StaffCmd),
    /// Claim tokens: issuance codes, entity policy, issuer keys, and
    /// fetching tokens from a server.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Send a question or claim, read and reply, with every seal and open
    /// done on this machine (the JSON API). Never touches the data
    /// directory.
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// Advisors who read on their own device: make a key, list, read,
    /// reply, change status.
    #[command(subcommand)]
    Advisor(advisor::StaffCmd),
    /// Coordinators who read on their own device: list, read, reply,
    /// assign and unassign advisors, change status.
    #[command(subcommand)]
    Coordinator(coordinator::CoordinatorCmd),
    /// Retention: show or set an entity's policy, run a pass now.
    #[command(subcommand)]
    Retention(retention::RetentionCmd),
    /// The audit log: verify a server's (auditors), print its key, hand
    /// out auditor access, scan storage against it (operators).
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Write an encrypted backup; its key expires on schedule
    /// (spec/retention.md, "Backups").
    Backup(backup::BackupArgs),
    /// Restore a backup into a new data directory (--data).
    Restore(backup::RestoreArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("buzon: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = cli.config.clone();
    let cfg = config.as_deref();
    let result = runtime.block_on(async {
        match cli.command {
            Noun::Serve(args) => serve::run(cli.data, cli.config, args).await,
            Noun::Init => operator(&cli.data, cfg, Command::Init).await,
            Noun::ServerKey => {
                // Never make a new data directory (and a new key) here: a
                // key printed from the wrong directory would be pinned.
                if cli.config.is_none() && !cli.data.join("db").exists() {
                    Err(format!(
                        "no data directory at {}: run this where the server keeps its data, or pass --data DIR",
                        cli.data.display()
                    ))
                } else {
                    operator(&cli.data, cfg, Command::ServerKey).await
                }
            }
            Noun::Entity(cmd) => operator(&cli.data, cfg, cmd.into_command()).await,
            Noun::Staff(cmd) => operator(&cli.data, cfg, cmd.into_command()).await,
            Noun::Token(cmd) => match cmd.into_command() {
                Ok(c) => operator(&cli.data, cfg, c).await,
                Err(fetch) => token::fetch(*fetch).await,
            },
            // Network clients: no data directory, no configuration.
            Noun::Report(cmd) => report::run(cmd).await,
            Noun::Advisor(cmd) => advisor::run_common(cmd, "advisor").await,
            Noun::Coordinator(cmd) => coordinator::run(cmd).await,
            Noun::Retention(cmd) => operator(&cli.data, cfg, cmd.into_command()).await,
            Noun::Audit(cmd) => match cmd.into_command() {
                Ok(c) => operator(&cli.data, cfg, c).await,
                Err(verify) => audit::verify(*verify).await,
            },
            Noun::Backup(args) => {
                let out = audit::absolute(args.out);
                operator(&cli.data, cfg, Command::Backup { out }).await
            }
            Noun::Restore(args) => backup::restore(&cli.data, cfg, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("buzon: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a command's answer; a closed pipe (`| head`) is not an error
/// worth a panic: the command's work is already done.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// The configuration file (or the defaults), and the data directory: the
/// file's `data` unless `--data` was given.
fn configured(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
) -> Result<(crate::config::Config, PathBuf), String> {
    let config = match config {
        Some(p) => crate::config::Config::load(p)?,
        None => crate::config::Config::default(),
    };
    let data = config
        .data
        .clone()
        .filter(|_| data.as_os_str() == "buzon-data")
        .unwrap_or_else(|| data.to_path_buf());
    Ok((config, data))
}

/// Runs an operator command on the data directory directly, or through the
/// running server's admin socket when the server holds the directory.
async fn operator(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
    cmd: Command,
) -> Result<(), String> {
    let (config, data) = configured(data, config)?;
    let data = data.as_path();
    match serve::open_service(data, &config) {
        Ok(services) => {
            let text = crate::operator::run(&services, cmd).await?;
            say(&text);
            Ok(())
        }
        Err(serve::OpenError::Locked) => {
            let sock = data.join("admin.sock");
            let reply = crate::operator::send(&sock, &cmd).await.map_err(|e| {
                format!(
                    "the data directory is in use and the server's admin socket ({}) did not answer: {e}",
                    sock.display()
                )
            })?;
            if reply.ok {
                say(&reply.text);
                Ok(())
            } else {
                Err(reply.text)
            }
        }
        Err(serve::OpenError::Other(e)) => Err(e),
    }
}
