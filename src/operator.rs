//! Operator commands (init, entity, staff), run the same way whether the
//! command line opened the data directory itself or sent the command to the
//! running server over its admin socket (`DATA/admin.sock`, mode 0600:
//! only the server's own user can connect).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::status::Kind;
use crate::core::tokens::{Policy, Scope};
use crate::saadd::{NewEntity, Role};
use crate::services::Services;

/// One operator command. Also the admin socket's request format (one JSON
/// object per line).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    Init,
    EntityAdd {
        slug: String,
        name: String,
        complaints_office: String,
        first_response_days: u16,
        answer_days: u16,
        #[serde(default)]
        zone: Option<String>,
    },
    EntityList,
    StaffAdd {
        entity: String,
        role: String,
        login: String,
        name: String,
        /// A key made on the member's own device (`buzon advisor keygen`),
        /// 64 hex digits: no password, API sign-in only (spec/api.md).
        #[serde(default)]
        public_key: Option<String>,
    },
    StaffSetKey {
        login: String,
        public_key: String,
    },
    ServerKey,
    StaffList {
        entity: String,
    },
    StaffRemove {
        login: String,
    },
    StaffResetPassword {
        login: String,
    },
    TokenCodes {
        entity: String,
        count: u32,
        tokens_per_code: u32,
        days: u32,
    },
    TokenRevoke {
        entity: String,
        codes: Vec<String>,
    },
    TokenPolicy {
        entity: String,
        policy: Option<String>,
    },
    TokenKeys,
    /// Shows an entity's retention policy (both kinds).
    RetentionShow {
        entity: String,
    },
    /// Sets a retention policy (spec/retention.md, "Policy changes").
    RetentionSet {
        entity: String,
        kind: String,
        closed: u32,
        inactive: u32,
        receipt: u32,
        cap: u32,
        existing: bool,
        /// Go ahead even if threads would be deleted at once.
        #[serde(default)]
        yes: bool,
    },
    /// One retention pass now (the server also runs one every hour).
    RetentionRun,
    /// The audit log's verifier key and its size.
    AuditKey,
    AuditAccessAdd {
        label: String,
    },
    AuditAccessList,
    AuditAccessRevoke {
        handle: String,
    },
    /// Checks that storage matches the log (spec/retention.md, "Scan").
    AuditScan,
    /// Writes the whole audit log and its checkpoint to a file.
    AuditExport {
        out: std::path::PathBuf,
    },
    /// Writes an encrypted backup (spec/retention.md, "Backups").
    Backup {
        out: std::path::PathBuf,
    },
}

/// The admin socket's reply: the text to print, or the error to show.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    pub text: String,
}

/// The entity with `slug`, or a sentence saying there is none.
fn entity_named(
    saadd: &crate::saadd::Saadd,
    slug: &str,
) -> Result<crate::saadd::EntityRecord, String> {
    saadd.entity_by_slug(slug).map_err(|e| match e {
        crate::saadd::SaaddError::NotFound => {
            format!("there is no entity {slug:?} (buzon entity list shows them)")
        }
        other => other.to_string(),
    })
}

/// Runs a command against the service and returns what to print.
pub async fn run(services: &Services, cmd: Command) -> Result<String, String> {
    let saadd = services.saadd.as_ref();
    let err = |e: crate::saadd::SaaddError| e.to_string();
    match cmd {
        Command::Init => Ok("the data directory is ready".to_owned()),
        Command::EntityAdd {
            slug,
            name,
            complaints_office,
            first_response_days,
            answer_days,
            zone,
        } => {
            let e = saadd
                .add_entity(NewEntity {
                    slug,
                    name,
                    complaints_office,
                    first_response_days,
                    answer_days,
                    zone,
                })
                .await
                .map_err(err)?;
            // Its issuer keys, so codes work at once.
            services.maintain_tokens().await?;
            Ok(format!(
                "entity created: {} ({})\nreporters write at /e/{}",
                e.name, e.slug, e.slug
            ))
        }
        Command::EntityList => {
            let list = saadd.entities().map_err(err)?;
            Ok(list
                .iter()
                .map(|e| format!("{}\t{}", e.slug, e.name))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::StaffAdd {
            entity,
            role,
            login,
            name,
            public_key: Some(public_key),
        } => {
            let e = entity_named(saadd, &entity)?;
            let role =
                Role::from_key(&role).ok_or("role must be coordinator, advisor or entity-admin")?;
            let public = parse_public_key(&public_key)?;
            let s = saadd
                .add_device_staff(e.id, role, &login, &name, public)
                .await
                .map_err(err)?;
            Ok(format!(
                "staff member created: {} ({}), {}; their key is on their own device: they sign in with `buzon {} … --login {}` (no password, no web pages)",
                s.display_name,
                s.login,
                s.role.key(),
                s.role.key(),
                s.login,
            ))
        }
        Command::StaffSetKey { login, public_key } => {
            let s = saadd.staff_by_login(&login).map_err(err)?;
            let public = parse_public_key(&public_key)?;
            saadd.replace_device_key(s.id, public).await.map_err(err)?;
            Ok(format!(
                "new device key registered for {}: a coordinator must give them access to their threads again",
                s.login
            ))
        }
        Command::ServerKey => Ok(format!(
            "server key (clients pin it with --server-key): {}",
            saadd.server_key().map_err(err)?
        )),
        Command::StaffAdd {
            entity,
            role,
            login,
            name,
            public_key: None,
        } => {
            let e = entity_named(saadd, &entity)?;
            let role =
                Role::from_key(&role).ok_or("role must be coordinator, advisor or entity-admin")?;
            let (s, password) = saadd
                .add_staff(e.id, role, &login, &name, None)
                .await
                .map_err(err)?;
            Ok(format!(
                "staff member created: {} ({}), {}\none-time password (shown once; they must change it at first sign-in): {}",
                s.display_name,
                s.login,
                s.role.key(),
                password.as_str()
            ))
        }
        Command::StaffList { entity } => {
            let e = entity_named(saadd, &entity)?;
            let list = saadd.staff_of(e.id).map_err(err)?;
            Ok(list
                .iter()
                .map(|s| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        s.login,
                        s.role.key(),
                        if s.active { "active" } else { "removed" },
                        if s.device_key.is_some() {
                            "device"
                        } else {
                            "password"
                        },
                        s.display_name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::StaffRemove { login } => {
            let s = saadd.staff_by_login(&login).map_err(err)?;
            saadd.remove_staff(s.id).await.map_err(err)?;
            Ok(format!(
                "removed {}: their access to every thread is gone and those threads get a new key at their next message",
                s.login
            ))
        }
        Command::StaffResetPassword { login } => {
            let s = saadd.staff_by_login(&login).map_err(err)?;
            let password = saadd.reset_password(s.id).await.map_err(err)?;
            Ok(format!(
                "new key and one-time password for {}: {}\na coordinator must give them access to their threads again",
                s.login,
                password.as_str()
            ))
        }
        Command::TokenCodes {
            entity,
            count,
            tokens_per_code,
            days,
        } => {
            let e = entity_named(saadd, &entity)?;
            if !(1..=crate::tokens::MAX_CODES_PER_BATCH).contains(&count) {
                return Err(format!(
                    "--count must be between 1 and {}",
                    crate::tokens::MAX_CODES_PER_BATCH
                ));
            }
            if !(1..=crate::tokens::MAX_TOKENS_PER_CODE).contains(&tokens_per_code) {
                return Err(format!(
                    "--tokens-per-code must be between 1 and {}",
                    crate::tokens::MAX_TOKENS_PER_CODE
                ));
            }
            if !(1..=3660).contains(&days) {
                return Err("--days must be between 1 and 3660".into());
            }
            let codes = services
                .tokens
                .make_codes(Scope::Entity(e.id), count, tokens_per_code, days)
                .await
                .map_err(|e| e.to_string())?;
            Ok(codes
                .iter()
                .map(|c| c.display())
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::TokenRevoke { entity, codes } => {
            let e = entity_named(saadd, &entity)?;
            let mut lines = Vec::new();
            let mut missing = 0;
            for c in &codes {
                let found = services
                    .tokens
                    .revoke_code(Scope::Entity(e.id), c)
                    .await
                    .map_err(|e| e.to_string())?;
                if found {
                    lines.push(format!("revoked {}", c.trim()));
                } else {
                    missing += 1;
                    lines.push(format!("no such code for {}: {}", e.slug, c.trim()));
                }
            }
            if missing > 0 {
                return Err(lines.join("\n"));
            }
            Ok(lines.join("\n"))
        }
        Command::TokenPolicy { entity, policy } => {
            let e = entity_named(saadd, &entity)?;
            let scope = Scope::Entity(e.id);
            if let Some(p) = policy {
                let p = Policy::from_key(&p).ok_or("the policy must be open or token")?;
                services
                    .tokens
                    .set_policy(&scope, p)
                    .await
                    .map_err(|e| e.to_string())?;
                // A `token` entity needs its keys before anyone can fetch.
                let m = services.maintain_tokens().await?;
                if m.no_room > 0 {
                    return Err(format!(
                        "{}: policy set, but its issuer keys could not be made: every one-byte truncated key id is taken (see spec/tokens.md, capacity)",
                        e.slug
                    ));
                }
            }
            let p = services.tokens.policy(&scope).map_err(|e| e.to_string())?;
            Ok(match p {
                Policy::Open => format!(
                    "{}: open (no token needed; new threads are rate-limited for everyone together)",
                    e.slug
                ),
                Policy::Token => format!(
                    "{}: token (each new thread spends one token; hand out codes with `buzon token codes`)",
                    e.slug
                ),
            })
        }
        Command::TokenKeys => {
            let m = services.maintain_tokens().await?;
            let entities = saadd.entities().map_err(err)?;
            let epochs = services.tokens.epochs();
            let mut lines = vec![format!(
                "epoch length {} days; created {} and retired {} keys just now",
                epochs.length(),
                m.created,
                m.retired
            )];
            for (k, state) in services.tokens.keys() {
                let Scope::Entity(id) = k.scope;
                let slug = entities
                    .iter()
                    .find(|e| e.id == id)
                    .map(|e| e.slug.as_str())
                    .unwrap_or("?");
                let id = crate::tokens::key_id(&k.token_key);
                lines.push(format!(
                    "{slug}\ttype {}\tkey {}\tfrom {}\t{state}",
                    k.token_type as u16,
                    hex::encode(&id[..8]),
                    crate::core::Day((k.not_before / 86_400) as u32).iso()
                ));
            }
            Ok(lines.join("\n"))
        }
        Command::RetentionShow { entity } => {
            let e = entity_named(saadd, &entity)?;
            let mut lines = vec![format!("{} (days in {}):", e.slug, e.zone().name())];
            for kind in [Kind::Question, Kind::Claim] {
                let p = saadd.policy(e.id, kind).map_err(err)?;
                lines.push(format!(
                    "  {:<9} closed {} · inactive {} · receipt {} · cap {} days",
                    kind.key(),
                    p.closed,
                    p.inactive,
                    p.receipt,
                    p.cap
                ));
            }
            Ok(lines.join("\n"))
        }
        Command::RetentionSet {
            entity,
            kind,
            closed,
            inactive,
            receipt,
            cap,
            existing,
            yes,
        } => {
            let e = entity_named(saadd, &entity)?;
            let kind = Kind::from_key(&kind)
                .ok_or_else(|| format!("unknown kind {kind:?}: question or claim"))?;
            let policy = crate::core::retention::Policy {
                closed,
                inactive,
                receipt,
                cap,
            };
            policy.validate().map_err(|e| format!("{e}"))?;
            if existing && !yes {
                let n = saadd.would_delete(e.id, kind, policy).map_err(err)?;
                if n > 0 {
                    return Err(format!(
                        "with this policy {n} existing thread(s) of {} would be past their deadline today and deleted at once, irreversibly; nothing was changed. Repeat with --yes to go ahead.",
                        e.slug
                    ));
                }
            }
            let change = saadd
                .set_policy(e.id, kind, policy, existing)
                .await
                .map_err(|e| match e {
                    crate::saadd::SaaddError::Invalid(why) => why.to_string(),
                    other => other.to_string(),
                })?;
            let pass = services.retention_pass().await?;
            Ok(format!(
                "{} {}: closed {} · inactive {} · receipt {} · cap {} days (was {} · {} · {} · {}); {}; the audit log records the change{}",
                e.slug,
                kind.key(),
                policy.closed,
                policy.inactive,
                policy.receipt,
                policy.cap,
                change.old.closed,
                change.old.inactive,
                change.old.receipt,
                change.old.cap,
                if existing {
                    format!(
                        "applied to {} existing threads from today",
                        change.applied_to
                    )
                } else {
                    "for new threads only".to_string()
                },
                if pass.deleted() > 0 {
                    format!(
                        "; {} threads were past the new deadlines and are deleted",
                        pass.deleted()
                    )
                } else {
                    String::new()
                }
            ))
        }
        Command::RetentionRun => {
            let c = services.retention_pass().await?;
            Ok(format!(
                "deleted {} (closed {}, inactive {}, cap {}); finished {} interrupted; receipts expired {}; orphan keys destroyed {}; audit entries appended {}",
                c.deleted(),
                c.closed,
                c.inactive,
                c.cap,
                c.finished,
                c.receipts,
                c.orphan_keys,
                c.logged
            ))
        }
        Command::AuditKey => {
            // Only the key, so that `--key "$(buzon audit key)"` works;
            // `buzon audit scan` tells the log's size.
            services.audit.verifier_key().map_err(|e| e.to_string())
        }
        Command::AuditAccessAdd { label } => {
            let label = label.trim();
            if label.is_empty() {
                return Err("give the auditor's name with --label".into());
            }
            let token = crate::audit::access::add(
                saadd.store().as_ref(),
                saadd.entropy().as_ref(),
                label,
                saadd.today(),
            )
            .map_err(|e| e.to_string())?;
            Ok(format!(
                "{token}\n(shown once: hand it to {label} over a channel you trust; it reads the audit log only)"
            ))
        }
        Command::AuditAccessList => {
            let list =
                crate::audit::access::list(saadd.store().as_ref()).map_err(|e| e.to_string())?;
            if list.is_empty() {
                return Ok("no auditor access tokens".into());
            }
            Ok(list
                .iter()
                .map(|(h, r)| format!("{h}\t{}\tmade {}", r.label, r.made.iso()))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::AuditAccessRevoke { handle } => {
            let n = crate::audit::access::revoke(saadd.store().as_ref(), &handle)
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(format!(
                    "no token {handle:?} (buzon audit access list shows them)"
                ));
            }
            Ok(format!("revoked {n} token(s)"))
        }
        Command::AuditExport { out } => {
            if out.exists() {
                return Err(format!("{} exists: choose a new file name", out.display()));
            }
            let export = services.audit.export().map_err(|e| e.to_string())?;
            let json = serde_json::to_vec(&export).map_err(|e| e.to_string())?;
            let tmp = out.with_extension("partial");
            std::fs::write(&tmp, json)
                .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
                .and_then(|()| std::fs::rename(&tmp, &out))
                .map_err(|e| format!("{}: {e}", out.display()))?;
            Ok(format!(
                "wrote {} log entries and their signed checkpoint to {}; keep it apart from the data: a restore from an older backup re-applies what it records",
                export.entries.len(),
                out.display()
            ))
        }
        Command::Backup { out } => {
            let settings = services
                .backup
                .clone()
                .ok_or("no backup settings (configuration)")?;
            let _k = services.backup_keys.lock().await;
            let info = crate::backup::backup(services, &settings, &out).await?;
            Ok(format!(
                "backup written to {}: {} records, {} storage keys, {} log entries, taken {}.\nIts key is in {} and is destroyed on {}; from then on this backup cannot be read by anyone (keep that directory apart from the backups).",
                out.display(),
                info.entries,
                info.keys,
                info.log_size,
                info.day.iso(),
                settings.keys_dir.display(),
                info.unreadable_from.iso()
            ))
        }
        Command::AuditScan => {
            let report = crate::audit::scan::scan(services).map_err(|e| e.to_string())?;
            if report.problems.is_empty() {
                Ok(report.summary())
            } else {
                Err(report.summary())
            }
        }
    }
}

/// Serves the admin socket until the process ends.
#[cfg(unix)]
pub async fn serve_socket(path: &Path, services: Services) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    loop {
        let (stream, _) = listener.accept().await?;
        let services = services.clone();
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(r).take(64 * 1024);
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let reply = match serde_json::from_str::<Command>(&line) {
                Ok(cmd) => match run(&services, cmd).await {
                    Ok(text) => Reply { ok: true, text },
                    Err(text) => Reply { ok: false, text },
                },
                Err(_) => Reply {
                    ok: false,
                    text: "unreadable command".to_owned(),
                },
            };
            let mut out = serde_json::to_vec(&reply).unwrap_or_default();
            out.push(b'\n');
            let _ = w.write_all(&out).await;
        });
    }
}

/// Sends a command to the running server's admin socket.
#[cfg(unix)]
pub async fn send(path: &Path, cmd: &Command) -> std::io::Result<Reply> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let stream = tokio::net::UnixStream::connect(path).await?;
    let (r, mut w) = stream.into_split();
    let mut line = serde_json::to_vec(cmd).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line).await?;
    let mut answer = String::new();
    BufReader::new(r).read_line(&mut answer).await?;
    serde_json::from_str(&answer).map_err(std::io::Error::other)
}

/// A device public key as `buzon advisor keygen` prints it: 64 hex digits.
fn parse_public_key(text: &str) -> Result<crate::core::wrap::RecipientKey, String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|_| "the public key must be 64 hex digits, as `buzon advisor keygen` prints it")?;
    Ok(crate::core::wrap::RecipientKey(out))
}
