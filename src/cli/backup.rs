//! `buzon backup` and `buzon restore` (spec/retention.md, "Backups").

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct BackupArgs {
    /// The file to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    pub from: PathBuf,
    /// A log export newer than the backup (`buzon audit export`): what it
    /// records after the backup is re-applied before the server serves.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

/// Restores into the data directory, which must be new or empty.
pub async fn restore(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
    args: RestoreArgs,
) -> Result<(), String> {
    let config = match config {
        Some(p) => crate::config::Config::load(p)?,
        None => crate::config::Config::default(),
    };
    let data = config
        .data
        .as_deref()
        .filter(|_| data.as_os_str() == "buzon-data")
        .unwrap_or(data);
    let settings = config.backup_settings(data)?;
    let entropy: std::sync::Arc<dyn crate::platform::Entropy> =
        std::sync::Arc::new(crate::platform::OsEntropy);
    if !settings.keys_dir.exists() {
        return Err(format!(
            "no backup key directory at {} ([backup] keys in the configuration names it)",
            settings.keys_dir.display()
        ));
    }
    let keys = crate::backup::open_keys(&settings, entropy.clone())?;
    // Keys past their day go first: an expired backup stays unreadable.
    crate::backup::destroy_expired(
        &keys,
        crate::platform::Clock::today(&crate::platform::SystemClock),
    )?;
    let loaded = crate::backup::load(&args.from, &keys, data, entropy)?;
    drop(keys);
    let (info, root) = (loaded.info, loaded.root);
    let services = match super::serve::services_over(loaded.store, loaded.vault, data, &config) {
        Ok(s) => s,
        Err(super::serve::OpenError::Locked) => return Err("the data directory is in use".into()),
        Err(super::serve::OpenError::Other(e)) => return Err(e),
    };
    let info = crate::backup::finish_restore(&services, info, root, args.log.as_deref()).await?;
    services.saadd.store().flush().map_err(|e| e.to_string())?;
    super::say(&format!(
        "restored {} records and {} storage keys from the backup of {} into {}.\n{}The audit log records the restore (its log had {} entries); auditors will see it.\nThe next `buzon serve` deletes whatever is past its deadline before serving.",
        info.entries,
        info.keys,
        info.backup_day.iso(),
        data.display(),
        if args.log.is_some() {
            format!(
                "From the log export: {} later entries re-applied: {} threads deleted again, {} threads created after the backup logged as lost, {} policy changes set again, {} staff removed again, {} staff whose key changed after the backup lost access and need a new key (buzon staff reset-password or set-key).\n",
                info.imported,
                info.deleted,
                info.lost,
                info.policies,
                info.staff_removed,
                info.staff_rekey
            )
        } else {
            "No log export given: anything deleted after the backup is back until its deadline, and auditors will see the log fork.\n".to_string()
        },
        info.log_size
    ));
    Ok(())
}
