//! The configuration file (TOML). Every field is optional; the command line
//! overrides `listen` and `data`. See README.md, "Configuration".

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::saadd::Limits;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`: loopback only).
    pub listen: Option<SocketAddr>,
    /// Data directory (default `./buzon-data`).
    pub data: Option<PathBuf>,
    /// Name shown in page titles.
    pub site_name: Option<String>,
    /// Argon2id derivations allowed at once (default 2; each uses up to 256 MiB).
    pub kdf_concurrency: Option<usize>,
    /// Seconds a client may take to send a request's headers (default 20).
    pub header_read_timeout_secs: Option<u64>,
    /// Size and count limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Sends session cookies without `Secure`, so they also travel over
    /// plain HTTP on a non-loopback address. Only for closed test networks:
    /// on a real network cookies then cross it in the clear.
    #[serde(default)]
    pub dangerous_cookies_without_secure: bool,
    /// Claim tokens (spec/tokens.md).
    #[serde(default)]
    pub tokens: TokensConfig,
    /// Encrypted backups and their expiring keys (spec/retention.md).
    #[serde(default)]
    pub backup: BackupConfig,
    /// The retention policy new entities start with, per kind
    /// (spec/retention.md); `buzon retention set` changes an entity's.
    #[serde(default)]
    pub retention: RetentionConfig,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    pub question: Option<crate::core::retention::Policy>,
    pub claim: Option<crate::core::retention::Policy>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Directory of backup keys (default `<data>-backup-keys` beside the
    /// data directory). Keep it on other storage: a restore needs it.
    pub keys: Option<PathBuf>,
    /// Days one backup key is used (default 7; 1 to 90).
    pub key_days: Option<u32>,
    /// Days a backup key is kept after its last day of use (default 30;
    /// 0 to 365). Backups are readable at most key_days + keep_days.
    pub keep_days: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    /// The issuer name in every TokenChallenge (default `buzon`; set it to
    /// the service's host name). Keys keep the name they were made with,
    /// so a change applies from the next key epoch on.
    pub issuer_name: Option<String>,
    /// Days per issuer key epoch (default 30; 1 to 366).
    pub epoch_days: Option<u32>,
    /// Token types issued: 1 (VOPRF P-384) and/or 2 (blind RSA 2048).
    pub types: Option<Vec<u16>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub message_chars: Option<usize>,
    pub attachment_mib: Option<u64>,
    pub attachments_per_message: Option<usize>,
    pub attachments_per_thread: Option<u32>,
    pub messages_per_thread: Option<u32>,
    /// New threads per hour an entity with the `open` policy accepts from
    /// everyone together (default 60).
    pub new_threads_per_hour: Option<u32>,
}

impl Config {
    /// The token issuer's settings, defaults filled in.
    pub fn token_settings(&self) -> Result<crate::tokens::TokenSettings, String> {
        use privacypass::TokenType;
        let d = crate::tokens::TokenSettings::default();
        let t = &self.tokens;
        let types = match &t.types {
            None => d.types,
            Some(list) => {
                let mut out = Vec::new();
                for n in list {
                    let ty = match n {
                        1 => TokenType::PrivateP384,
                        2 => TokenType::Public,
                        _ => {
                            return Err(format!(
                                "tokens.types: {n} is not a supported token type (1 or 2)"
                            ));
                        }
                    };
                    if !out.contains(&ty) {
                        out.push(ty);
                    }
                }
                if out.is_empty() {
                    return Err("tokens.types must name at least one token type".into());
                }
                out
            }
        };
        let issuer_name = t.issuer_name.clone().unwrap_or(d.issuer_name);
        if issuer_name.is_empty() || issuer_name.len() > 255 {
            return Err("tokens.issuer_name must have 1 to 255 characters".into());
        }
        let epoch_days = t.epoch_days.unwrap_or(d.epoch_days);
        if !(1..=366).contains(&epoch_days) {
            return Err("tokens.epoch_days must be between 1 and 366".into());
        }
        Ok(crate::tokens::TokenSettings {
            issuer_name,
            epoch_days,
            types,
        })
    }

    /// Reads and checks a configuration file.
    /// The policies new entities start with: `[retention.question]` and
    /// `[retention.claim]`, else the built-in defaults.
    pub fn retention_defaults(&self) -> Result<[crate::core::retention::Policy; 2], String> {
        use crate::core::retention::Policy;
        use crate::core::status::Kind;
        let q = self
            .retention
            .question
            .unwrap_or(Policy::default_for(Kind::Question));
        let c = self
            .retention
            .claim
            .unwrap_or(Policy::default_for(Kind::Claim));
        for (name, p) in [("question", q), ("claim", c)] {
            p.validate()
                .map_err(|e| format!("[retention.{name}]: {e}"))?;
        }
        Ok([q, c])
    }

    /// Backup settings for the data directory `data`.
    pub fn backup_settings(
        &self,
        data: &std::path::Path,
    ) -> Result<crate::backup::BackupSettings, String> {
        let mut s = crate::backup::BackupSettings::default_for(data);
        if let Some(k) = &self.backup.keys {
            s.keys_dir = k.clone();
        }
        if let Some(d) = self.backup.key_days {
            if !(1..=90).contains(&d) {
                return Err("[backup] key_days must be 1 to 90".into());
            }
            s.key_days = d;
        }
        if let Some(d) = self.backup.keep_days {
            if d > 365 {
                return Err("[backup] keep_days must be 0 to 365".into());
            }
            s.keep_days = d;
        }
        Ok(s)
    }

    pub fn load(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The limits, defaults filled in and bounds enforced.
    pub fn limits(&self) -> Result<Limits, String> {
        let d = Limits::default();
        let l = &self.limits;
        let out = Limits {
            message_chars: l.message_chars.unwrap_or(d.message_chars),
            attachment_bytes: l
                .attachment_mib
                .map(|m| m.saturating_mul(1024 * 1024))
                .unwrap_or(d.attachment_bytes),
            attachments_per_message: l
                .attachments_per_message
                .unwrap_or(d.attachments_per_message),
            attachments_per_thread: l.attachments_per_thread.unwrap_or(d.attachments_per_thread),
            messages_per_thread: l.messages_per_thread.unwrap_or(d.messages_per_thread),
        };
        if !(1..=50_000).contains(&out.message_chars) {
            return Err("limits.message_chars must be between 1 and 50000 (the largest padding bucket holds 50000 four-byte characters)".into());
        }
        if !(1..=1024).contains(&l.attachment_mib.unwrap_or(10)) {
            return Err("limits.attachment_mib must be between 1 and 1024".into());
        }
        if !(0..=20).contains(&out.attachments_per_message) {
            return Err("limits.attachments_per_message must be between 0 and 20".into());
        }
        Ok(out)
    }
}
