//! The services one data directory runs: SAADD threads and claim tokens,
//! over one store, clock and random source.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::core::tokens::{Policy, Scope};
use crate::platform::{Clock, Entropy};
use crate::saadd::retention::SweepCounts;
use crate::saadd::{Costs, Limits, Saadd};
use crate::store::Store;
use crate::store::keys::KeyVault;
use crate::tokens::{Maintained, TokenSettings, Tokens};

#[derive(Clone)]
pub struct Services {
    pub saadd: Arc<Saadd>,
    pub tokens: Arc<Tokens>,
    pub audit: Arc<AuditLog>,
    /// Backup keys' place and lifetime; one user of the key directory at
    /// a time (`backup_keys`).
    pub backup: Option<crate::backup::BackupSettings>,
    pub backup_keys: Arc<tokio::sync::Mutex<()>>,
}

impl Services {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        limits: Limits,
        costs: Costs,
        kdf_concurrency: usize,
        token_settings: TokenSettings,
    ) -> Result<Services, String> {
        let tokens = Tokens::new(
            store.clone(),
            clock.clone(),
            entropy.clone(),
            token_settings,
        )
        .map_err(|e| e.to_string())?;
        let audit = AuditLog::new(store.clone(), entropy.clone());
        let saadd = Saadd::new(store, vault, clock, entropy, limits, costs, kdf_concurrency);
        Ok(Services {
            saadd: Arc::new(saadd),
            tokens: Arc::new(tokens),
            audit: Arc::new(audit),
            backup: None,
            backup_keys: Arc::default(),
        })
    }

    /// Every scope that needs issuer keys, with its public name: each
    /// entity whose policy is `token`, named by its slug. Open entities
    /// take no key: RFC 9578's one-byte truncated key ids are few.
    pub fn scopes(&self) -> Result<Vec<(Scope, String)>, String> {
        let mut out = Vec::new();
        for e in self.saadd.entities().map_err(|e| e.to_string())? {
            let scope = Scope::Entity(e.id);
            // An unreadable policy counts as `token` here: keys cost little.
            if self.tokens.policy(&scope).unwrap_or(Policy::Token) == Policy::Token {
                out.push((scope, e.slug.clone()));
            }
        }
        Ok(out)
    }

    /// Creates this epoch's issuer keys and retires expired ones.
    pub async fn maintain_tokens(&self) -> Result<Maintained, String> {
        let scopes = self.scopes()?;
        let saadd = self.saadd.clone();
        let log = move |b: &mut crate::store::Batch, scope: Scope, key: [u8; 32], added: bool| {
            let Scope::Entity(entity) = scope;
            saadd.log_issuer_key(b, entity, key, added);
        };
        let done = self
            .tokens
            .maintain(&scopes, &log)
            .await
            .map_err(|e| e.to_string())?;
        if done.no_room > 0 {
            tracing::error!(
                keys = done.no_room,
                "issuer keys not made: every one-byte truncated key id is taken (spec/tokens.md, capacity)"
            );
        }
        Ok(done)
    }

    /// Finishes what start-up needs before serving: storage keys moved out
    /// of sled, every entity registered in the audit log.
    pub async fn prepare_retention(&self) -> Result<(), String> {
        let moved = self
            .saadd
            .migrate_sled_keys()
            .await
            .map_err(|e| e.to_string())?;
        if moved > 0 {
            tracing::info!(
                count = moved,
                "storage keys moved from sled to the key vault"
            );
        }
        self.saadd
            .register_entities()
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// One retention pass: the sweeper, then the audit log's daily batch
    /// of every entry whose day has ended. Logs counts only.
    pub async fn retention_pass(&self) -> Result<SweepCounts, String> {
        let mut counts = self.saadd.sweep().await.map_err(|e| e.to_string())?;
        let saadd = self.saadd.clone();
        let audit = self.audit.clone();
        let now = self.saadd.clock().unix_seconds();
        let appended = tokio::task::spawn_blocking(move || {
            let zone_of = |id: &crate::core::envelope::Id| {
                saadd
                    .entity(*id)
                    .map(|e| e.zone())
                    .unwrap_or_else(|_| crate::core::zone::Zone::default_zone())
            };
            audit.append_due(now, &zone_of)
        })
        .await
        .map_err(|_| "audit batch stopped".to_string())?
        .map_err(|e| e.to_string())?;
        counts.logged = appended.entries;
        // Backup keys past their destroy day go too, when their directory
        // is here (it may live on storage only mounted for backups).
        if let Some(b) = self.backup.as_ref().filter(|b| b.keys_dir.exists()) {
            let _k = self.backup_keys.lock().await;
            let keys = crate::backup::open_keys(b, self.saadd.entropy().clone())?;
            counts.backup_keys = crate::backup::destroy_expired(&keys, self.saadd.today())?;
        }
        Ok(counts)
    }
}
