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
    /// The backup key directory (default: `[backup] keys` from --config,
    /// else `<data>-backup-keys`). The restored server must be configured
    /// with the same directory, so that its keys keep being destroyed on
    /// schedule.
    #[arg(long)]
    pub backup_keys: Option<PathBuf>,
}

/// Restores into the data directory, which must be new or empty.
pub async fn restore(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
    args: RestoreArgs,
) -> Result<(), String> {
    let (config, data) = super::configured(data, config)?;
    let data = data.as_path();
    let mut settings = config.backup_settings(data)?;
    if let Some(dir) = &args.backup_keys {
        settings.keys_dir = dir.clone();
    }
    // Fail before anything is written: the export must at least parse.
    if let Some(log) = &args.log {
        let bytes = std::fs::read(log).map_err(|e| format!("{}: {e}", log.display()))?;
        serde_json::from_slice::<crate::audit::Export>(&bytes)
            .map_err(|_| format!("{} is not a log export (buzon audit export)", log.display()))?;
    }
    let fresh = !data.exists();
    // Only a directory that was missing or empty is ever cleaned up: a
    // non-empty one is refused by `load` and must not be touched.
    let ours = fresh
        || std::fs::read_dir(data)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
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
    // A restore that fails leaves no half-made data directory behind.
    let clean = |e: String| {
        if !ours {
            return e;
        }
        if fresh {
            let _ = std::fs::remove_dir_all(data);
        } else if let Ok(entries) = std::fs::read_dir(data) {
            for entry in entries.flatten() {
                let p = entry.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        e
    };
    let loaded = crate::backup::load(&args.from, &keys, data, entropy).map_err(clean)?;
    drop(keys);
    let (info, root) = (loaded.info, loaded.root);
    let services = match super::serve::services_over(loaded.store, loaded.vault, data, &config) {
        Ok(s) => s,
        Err(super::serve::OpenError::Locked) => return Err("the data directory is in use".into()),
        Err(super::serve::OpenError::Other(e)) => return Err(clean(e)),
    };
    let info = match crate::backup::finish_restore(&services, info, root, args.log.as_deref()).await
    {
        Ok(i) => i,
        Err(e) => {
            drop(services);
            return Err(clean(e));
        }
    };
    services.saadd.store().flush().map_err(|e| e.to_string())?;
    super::say(&format!(
        "restored {} records and {} storage keys from the backup of {} into {}.\n{}The audit log records the restore (its log had {} entries); auditors will see it.\nThe next `buzon serve` deletes whatever is past its deadline before serving.\nBackup keys are in {}: give the restored server `[backup] keys = \"{}\"` in its configuration, or they stop being destroyed on schedule.",
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
        info.log_size,
        super::audit::absolute(settings.keys_dir.clone()).display(),
        super::audit::absolute(settings.keys_dir.clone()).display()
    ));
    Ok(())
}
