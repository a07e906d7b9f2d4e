//! `buzon serve`: open the data directory, optionally set up the demo,
//! and serve the pages and the admin socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::config::Config;
use crate::platform::{OsEntropy, SystemClock};
use crate::saadd::{Costs, NewEntity, Role, Saadd};
use crate::services::Services;
use crate::store::{SledStore, StoreError};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default: put an onion service or
    /// a TLS proxy in front rather than exposing it directly.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// On first start, create a demo entity with a coordinator and an
    /// advisor, and print their one-time passwords.
    #[arg(long)]
    demo: bool,
}

pub enum OpenError {
    Locked,
    Other(String),
}

/// Opens (creating if needed) the data directory and the service over it.
pub fn open_service(data: &Path, config: &Config) -> Result<Services, OpenError> {
    create_private_dir(data)
        .map_err(|e| OpenError::Other(format!("cannot create {}: {e}", data.display())))?;
    let store = SledStore::open(&data.join("db")).map_err(|e| match e {
        StoreError::Locked => OpenError::Locked,
        other => OpenError::Other(other.to_string()),
    })?;
    let vault = crate::store::vault::Vault::open(&data.join("vault"), Arc::new(OsEntropy))
        .map_err(|e| OpenError::Other(format!("key vault: {e}")))?;
    services_over(store, vault, data, config)
}

/// The service over a store and key vault already open (a restore keeps
/// the ones it loaded: sled releases its lock only a moment after close).
pub fn services_over(
    store: SledStore,
    vault: crate::store::vault::Vault,
    data: &Path,
    config: &Config,
) -> Result<Services, OpenError> {
    let limits = config.limits().map_err(OpenError::Other)?;
    let tokens = config.token_settings().map_err(OpenError::Other)?;
    let backup = config.backup_settings(data).map_err(OpenError::Other)?;
    let mut services = Services::new(
        Arc::new(store),
        Arc::new(vault),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
        limits,
        Costs::V1,
        config.kdf_concurrency.unwrap_or(2).clamp(1, 16),
        tokens,
    )
    .map_err(OpenError::Other)?;
    services.backup = Some(backup);
    services
        .saadd
        .set_retention_defaults(config.retention_defaults().map_err(OpenError::Other)?);
    Ok(services)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

const DEMO_SLUG: &str = "demo";

/// Creates the demo entity and its two staff members on first start.
async fn set_up_demo(saadd: &Saadd) -> Result<Option<Vec<String>>, String> {
    if saadd.entity_by_slug(DEMO_SLUG).is_ok() {
        return Ok(None);
    }
    let e = saadd
        .add_entity(NewEntity {
            slug: DEMO_SLUG.into(),
            name: "Secretaría de Ejemplo (demostración)".into(),
            complaints_office:
                "Órgano Interno de Control de la Secretaría de Ejemplo (demostración)".into(),
            first_response_days: 3,
            answer_days: 10,
            zone: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (role, login, name) in [
        (
            Role::Coordinator,
            "coordinacion",
            "Coordinación de Ética (demo)",
        ),
        (Role::Advisor, "asesoria", "Asesoría en Ética (demo)"),
    ] {
        let (_, pw) = saadd
            .add_staff(e.id, role, login, name, None)
            .await
            .map_err(|e| e.to_string())?;
        lines.push(format!(
            "  {:<12} user {:<13} one-time password {}",
            role.key(),
            login,
            pw.as_str()
        ));
    }
    Ok(Some(lines))
}

/// Logs what a retention pass did: counts only.
pub fn log_retention(c: &crate::saadd::retention::SweepCounts) {
    if c.deleted() + c.finished + c.receipts + c.orphan_keys + c.adopted + c.backup_keys > 0
        || c.logged > 0
    {
        tracing::info!(
            deleted_closed = c.closed,
            deleted_inactive = c.inactive,
            deleted_cap = c.cap,
            finished = c.finished,
            receipts_expired = c.receipts,
            orphan_keys = c.orphan_keys,
            adopted = c.adopted,
            logged = c.logged,
            backup_keys_destroyed = c.backup_keys,
            "retention pass"
        );
    }
}

/// The sweeper and the audit log's daily batch, every hour: a deletion
/// is then at most an hour after its deadline day begins, well inside the
/// end of the following day that spec/retention.md promises.
fn spawn_retention(services: Services) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.tick().await;
        loop {
            tick.tick().await;
            match services.retention_pass().await {
                Ok(c) => log_retention(&c),
                Err(e) => tracing::error!(error = %e, "retention pass failed"),
            }
        }
    });
}

pub async fn run(data: PathBuf, config: Option<PathBuf>, args: ServeArgs) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(crate::logging::filter(
            std::env::var("BUZON_LOG").ok().as_deref(),
        ))
        .with_target(false)
        .without_time()
        .init();
    let config = match &config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let data = config
        .data
        .clone()
        .filter(|_| data.as_os_str() == "buzon-data")
        .unwrap_or(data);
    let listen = args
        .listen
        .or(config.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let services = match open_service(&data, &config) {
        Ok(s) => s,
        Err(OpenError::Locked) => {
            return Err(format!(
                "{} is in use by another buzon process (only one server per data directory)",
                data.display()
            ));
        }
        Err(OpenError::Other(e)) => return Err(e),
    };
    let saadd = services.saadd.clone();
    // Retention runs before the first request: a thread past its deadline
    // (the server was down, or a backup was just restored) is never served.
    services.prepare_retention().await?;
    log_retention(&services.retention_pass().await?);
    spawn_retention(services.clone());
    let swept = saadd.sweep_orphan_chunks().map_err(|e| e.to_string())?;
    if swept > 0 {
        tracing::info!(
            count = swept,
            "removed chunks of uploads that never completed"
        );
    }
    // And every ten minutes: a request cut off (client gone, timeout)
    // leaves its chunks behind; uploads still in progress hold a ticket.
    {
        let saadd = saadd.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            tick.tick().await;
            loop {
                tick.tick().await;
                let s = saadd.clone();
                match tokio::task::spawn_blocking(move || s.sweep_orphan_chunks()).await {
                    Ok(Ok(n)) if n > 0 => {
                        tracing::info!(count = n, "removed chunks of uploads that never completed")
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "orphan chunk sweep failed"),
                    _ => {}
                }
            }
        });
    }
    let demo = if args.demo {
        set_up_demo(&saadd).await?
    } else {
        None
    };
    let keys = services.maintain_tokens().await?;
    if keys.created + keys.retired > 0 {
        tracing::info!(
            created = keys.created,
            retired = keys.retired,
            "token issuer keys updated"
        );
    }
    spawn_token_maintenance(services.clone());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let mut state = crate::web::AppState::new(&services, Arc::new(OsEntropy))?;
    state.new_threads_per_hour = config.limits.new_threads_per_hour.unwrap_or(60).max(1);
    if let Some(name) = &config.site_name {
        state.site_name = Arc::from(name.as_str());
    }
    state.secure_cookies = !config.dangerous_cookies_without_secure;
    crate::web::spawn_session_sweeper(state.sessions.clone(), state.api_sessions.clone());
    #[cfg(unix)]
    {
        let sock = data.join("admin.sock");
        let s = services.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::operator::serve_socket(&sock, s).await {
                tracing::error!(error = %e, "admin socket stopped");
            }
        });
    }
    let base = format!("http://{listen}");
    println!("buzon is listening on {base}");
    println!("  data directory: {}", data.display());
    match state.saadd.server_key() {
        Ok(k) => println!("  server key (command-line clients pin it with --server-key): {k}"),
        Err(e) => tracing::error!(error = %e, "the server's signing key cannot be read"),
    }
    match services.audit.verifier_key() {
        Ok(k) => println!("  audit log key (auditors verify with `buzon audit verify --key`): {k}"),
        Err(e) => tracing::error!(error = %e, "the audit log's key cannot be read"),
    }
    if args.demo {
        println!("  reporter pages: {base}/   (demo entity: {base}/e/{DEMO_SLUG})");
        println!("  staff sign-in:  {base}/staff/login");
        match demo {
            Some(lines) => {
                println!(
                    "  demo staff (passwords are shown only now; each must choose a new one at first sign-in):"
                );
                for l in lines {
                    println!("{l}");
                }
            }
            None => println!(
                "  demo staff were created at first start; to get a new one-time password: buzon staff reset-password --login coordinacion"
            ),
        }
    }
    let app = crate::web::router(state);
    let header_timeout = config
        .header_read_timeout_secs
        .map(|s| std::time::Duration::from_secs(s.clamp(1, 600)))
        .unwrap_or(crate::web::HEADER_READ_TIMEOUT);
    crate::web::serve(listener, app, shutdown(), header_timeout)
        .await
        .map_err(|e| format!("server stopped: {e}"))?;
    saadd.store().flush().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(data.join("admin.sock"));
    Ok(())
}

/// Checks issuer keys every hour: a new epoch gets its keys within the
/// hour, and expired keys (with their spent sets) go.
fn spawn_token_maintenance(services: Services) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.tick().await;
        loop {
            tick.tick().await;
            match services.maintain_tokens().await {
                Ok(m) if m.created + m.retired > 0 => tracing::info!(
                    created = m.created,
                    retired = m.retired,
                    pruned = m.pruned_spent,
                    "token issuer keys updated"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "token key maintenance failed"),
            }
        }
    });
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
