//! `buzon audit …`: the auditor's verifier (a network client that needs no
//! data directory), and the operator's side: the log's verifier key,
//! auditor access tokens, and the host-side scan (spec/tlog.md,
//! spec/retention.md).

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Subcommand;

use crate::client::audit::{Integrity, Verified};
use crate::client::http::Api;
use crate::client::lang::{Lang, t};
use crate::core::Day;
use crate::core::retention::{EntityId, ExpectedDeadline, Rule, Violation};
use crate::operator::Command;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Verify a server's audit log: its signature, that it only grew since
    /// your last run, and that every deletion the policy requires happened
    /// on time. Exits non-zero on any problem.
    Verify {
        /// The server, e.g. http://127.0.0.1:8080 or an onion address.
        #[arg(long)]
        server: String,
        /// The log's verifier key (`name+id+key`), from the operator's
        /// `buzon audit key`, received over a channel you trust.
        #[arg(long)]
        key: String,
        /// Where to keep the last verified checkpoint between runs.
        #[arg(long)]
        state: PathBuf,
        /// File holding your auditor access token (required, unless
        /// BUZON_AUDIT_ACCESS holds it).
        #[arg(long)]
        access_file: Option<PathBuf>,
        /// Proxy, e.g. socks5h://127.0.0.1:9050 for Tor.
        #[arg(long)]
        proxy: Option<String>,
        /// Check as of this date (YYYY-MM-DD: that calendar day in every
        /// entity's zone) instead of today.
        #[arg(long)]
        date: Option<String>,
    },
    /// Print the log's verifier key, for auditors' `--key`.
    Key,
    /// Auditor access tokens.
    #[command(subcommand)]
    Access(AccessCmd),
    /// On the host: check that storage matches the log and the policy.
    Scan,
    /// Write the whole log and its signed checkpoint to a file, to keep
    /// apart from the data: a restore from an older backup re-applies
    /// what it records after the backup.
    Export {
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AccessCmd {
    /// Make a token for an auditor (printed once).
    Add {
        /// Who it is for, e.g. "Órgano Interno de Control".
        #[arg(long)]
        label: String,
    },
    /// List tokens (labels and handles, never the tokens).
    List,
    /// Revoke a token by the handle `list` shows.
    Revoke {
        /// The 8 hex digits `buzon audit access list` shows for the token.
        handle: String,
    },
}

impl AuditCmd {
    /// The operator command, or the verifier's arguments.
    pub fn into_command(self) -> Result<Command, Box<AuditCmd>> {
        match self {
            AuditCmd::Key => Ok(Command::AuditKey),
            AuditCmd::Scan => Ok(Command::AuditScan),
            AuditCmd::Export { out } => Ok(Command::AuditExport { out: absolute(out) }),
            AuditCmd::Access(AccessCmd::Add { label }) => Ok(Command::AuditAccessAdd { label }),
            AuditCmd::Access(AccessCmd::List) => Ok(Command::AuditAccessList),
            AuditCmd::Access(AccessCmd::Revoke { handle }) => {
                Ok(Command::AuditAccessRevoke { handle })
            }
            verify => Err(Box::new(verify)),
        }
    }
}

/// A path the server (over its admin socket) reads the same way.
pub fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// Parses `YYYY-MM-DD` into noon UTC of that day: the same calendar day
/// in every zone from UTC−12 to UTC+11, so each entity's "today" is the
/// date asked for.
fn end_of(date: &str) -> Option<u64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let date = jiff::civil::Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()?;
    let days = date.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
    u64::try_from(i64::from(days) * 86_400 + 43_200).ok()
}

pub async fn verify(cmd: AuditCmd) -> Result<(), String> {
    let AuditCmd::Verify {
        server,
        key,
        state,
        access_file,
        proxy,
        date,
    } = cmd
    else {
        return Err("not a verify command".into());
    };
    let lang = Lang::from_env();
    let access = match access_file {
        Some(p) => std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => std::env::var("BUZON_AUDIT_ACCESS").map_err(|_| {
            t(
                lang,
                "falta la credencial de auditoría: --access-file ARCHIVO o BUZON_AUDIT_ACCESS",
                "no auditor access token: --access-file FILE or BUZON_AUDIT_ACCESS",
            )
            .to_string()
        })?,
    };
    let now = match &date {
        Some(d) => end_of(d).ok_or_else(|| {
            t(
                lang,
                "--date espera AAAA-MM-DD",
                "--date expects YYYY-MM-DD",
            )
            .to_string()
        })?,
        None => crate::platform::Clock::unix_seconds(&crate::platform::SystemClock),
    };
    let mut api = Api::new(&server, proxy.as_deref(), lang).map_err(|e| e.message(lang))?;
    // The file may hold what `audit access add` printed around the token.
    let token = access
        .split_whitespace()
        .find(|w| w.starts_with("audit_"))
        .unwrap_or(access.trim());
    api.set_bearer(zeroize::Zeroizing::new(token.to_string()));
    // A run as of another date reads the state but never changes it.
    let v = crate::client::audit::verify_with(&api, &key, &state, now, date.is_none())
        .await
        .map_err(|e| e.message(lang))?;
    // Entity names from the public entity document, when it is there.
    let names: HashMap<[u8; 16], String> = api
        .get_json::<crate::core::api::SignedDocument>("/api/v1/entities", "entities")
        .await
        .ok()
        .and_then(|d| crate::core::api::unb64(&d.document))
        .and_then(|bytes| serde_json::from_slice::<crate::core::api::EntityDocument>(&bytes).ok())
        .map(|d| d.entities.into_iter().map(|e| (e.id.0, e.slug)).collect())
        .unwrap_or_default();
    let text = render(&v, lang, &names);
    super::say(&text);
    if v.ok() {
        Ok(())
    } else {
        Err(t(
            lang,
            "la verificación encontró problemas (arriba)",
            "verification found problems (above)",
        )
        .to_string())
    }
}

fn rule_name(lang: Lang, rule: Rule) -> &'static str {
    match rule {
        Rule::Closed => t(lang, "cerrado", "closed"),
        Rule::Inactive => t(lang, "inactivo", "inactive"),
        Rule::Cap => t(lang, "tope", "cap"),
        Rule::Withdrawn => t(lang, "retirado", "withdrawn"),
        Rule::Lost => t(lang, "perdido al restaurar", "lost in a restore"),
    }
}

fn short(h: &[u8]) -> String {
    hex::encode(h.get(..6).unwrap_or(h))
}

/// The report, as the auditor reads it.
pub fn render(v: &Verified, lang: Lang, names: &HashMap<[u8; 16], String>) -> String {
    let ent = |e: &EntityId| names.get(&e.0).cloned().unwrap_or_else(|| short(&e.0));
    let mut out = Vec::new();
    let r = &v.report;
    out.push(match lang {
        Lang::Es => format!(
            "Registro {}: {} entradas, firma válida.",
            v.checkpoint.origin, v.checkpoint.size
        ),
        Lang::En => format!(
            "Log {}: {} entries, signature valid.",
            v.checkpoint.origin, v.checkpoint.size
        ),
    });
    match &v.previous {
        Some(p) => out.push(match lang {
            Lang::Es => format!("Desde su última verificación ({} entradas) el registro solo creció: {}.", p.size, if v.integrity.iter().any(|i| matches!(i, Integrity::Forked{..} | Integrity::Shrank{..})) { "NO" } else { "sí" }),
            Lang::En => format!("Since your last run ({} entries) the log only grew: {}.", p.size, if v.integrity.iter().any(|i| matches!(i, Integrity::Forked{..} | Integrity::Shrank{..})) { "NO" } else { "yes" }),
        }),
        None => out.push(
            t(
                lang,
                "Primera verificación: se guarda este punto de control para comprobar la próxima vez que el registro solo crece.",
                "First run: this checkpoint is saved so the next run can prove the log only grew.",
            )
            .to_string(),
        ),
    }
    out.push(match lang {
        Lang::Es => format!(
            "{} hilos creados; {} borrados a tiempo (cerrado {}, inactivo {}, tope {}, retirados {}, perdidos al restaurar {}); {} abiertos dentro de plazo; {} esperan el lote diario.",
            r.threads_created, r.deleted_on_time, r.deleted_by_rule.closed, r.deleted_by_rule.inactive, r.deleted_by_rule.cap, r.deleted_by_rule.withdrawn, r.deleted_by_rule.lost, r.open_within_deadline, r.awaiting_batch
        ),
        Lang::En => format!(
            "{} threads created; {} deleted on time (closed {}, inactive {}, cap {}, withdrawn {}, lost in a restore {}); {} open within their deadline; {} await the daily batch.",
            r.threads_created, r.deleted_on_time, r.deleted_by_rule.closed, r.deleted_by_rule.inactive, r.deleted_by_rule.cap, r.deleted_by_rule.withdrawn, r.deleted_by_rule.lost, r.open_within_deadline, r.awaiting_batch
        ),
    });
    out.push(match lang {
        Lang::Es => format!(
            "{} cambios de política ({} aplicados a hilos existentes); {} eventos de llaves del personal; {} de llaves emisoras; {} pruebas de inclusión comprobadas.",
            r.policy_events, r.policy_changes_existing, r.staff_key_events, r.issuer_key_events, v.proofs
        ),
        Lang::En => format!(
            "{} policy events ({} applied to existing threads); {} staff key events; {} issuer key events; {} inclusion proofs checked.",
            r.policy_events, r.policy_changes_existing, r.staff_key_events, r.issuer_key_events, v.proofs
        ),
    });
    for s in &r.summaries {
        out.push(match (lang, s.next_deadline) {
            (Lang::Es, Some(d)) => format!(
                "  {}: {} hilos abiertos; próximo plazo {}.",
                ent(&s.entity),
                s.threads_open,
                d.iso()
            ),
            (Lang::Es, None) => format!("  {}: {} hilos abiertos.", ent(&s.entity), s.threads_open),
            (Lang::En, Some(d)) => format!(
                "  {}: {} threads open; next deadline {}.",
                ent(&s.entity),
                s.threads_open,
                d.iso()
            ),
            (Lang::En, None) => format!("  {}: {} threads open.", ent(&s.entity), s.threads_open),
        });
    }
    for rs in &r.restores {
        out.push(match lang {
            Lang::Es => format!(
                "AVISO: el servidor se restauró el {} desde un respaldo del {} cuyo registro tenía {} entradas (entrada {}).",
                rs.day.iso(), rs.backup_day.iso(), rs.size, rs.index
            ),
            Lang::En => format!(
                "NOTE: the server was restored on {} from a backup of {} whose log had {} entries (entry {}).",
                rs.day.iso(), rs.backup_day.iso(), rs.size, rs.index
            ),
        });
    }
    let problems = v.integrity.len() + r.violations.len();
    if problems == 0 {
        out.push(t(lang, "Resultado: sin problemas.", "Result: no problems.").to_string());
    } else {
        out.push(match lang {
            Lang::Es => format!("Resultado: {problems} problema(s):"),
            Lang::En => format!("Result: {problems} problem(s):"),
        });
        for i in &v.integrity {
            out.push(format!("  - {}", integrity(lang, i)));
        }
        for viol in &r.violations {
            out.push(format!("  - {}", violation(lang, viol, &ent)));
        }
    }
    out.push(
        t(
            lang,
            "Las entradas de un día aparecen al día siguiente, cuando ese día terminó en la zona horaria de la institución: el primer día el registro puede estar vacío.",
            "A day's entries appear the next day, once that day has ended in the entity's time zone: on the first day the log may be empty.",
        )
        .to_string(),
    );
    if !v.saved && !v.integrity.is_empty() {
        out.push(
            t(
                lang,
                "El archivo de estado no se actualizó: conserva la prueba del problema.",
                "The state file was not updated: it keeps the evidence of the problem.",
            )
            .to_string(),
        );
    }
    out.join("\n")
}

fn integrity(lang: Lang, i: &Integrity) -> String {
    match (lang, i) {
        (Lang::Es, Integrity::Shrank { old, new }) => format!("el registro ENCOGIÓ: tenía {old} entradas y ahora {new}; se borraron entradas del registro (o se restauró un respaldo que las perdió)"),
        (Lang::En, Integrity::Shrank { old, new }) => format!("the log SHRANK: it had {old} entries and now has {new}; entries were removed (or a backup that lost them was restored)"),
        (Lang::Es, Integrity::Forked { old, new }) => format!("el registro de {new} entradas no contiene al de {old} que verificó antes: fue reescrito o bifurcado"),
        (Lang::En, Integrity::Forked { old, new }) => format!("the log of {new} entries does not extend the {old}-entry log you verified before: it was rewritten or forked"),
        (Lang::Es, Integrity::RootMismatch) => "las entradas servidas no corresponden a la raíz firmada: alguna fue cambiada, quitada o reordenada".into(),
        (Lang::En, Integrity::RootMismatch) => "the entries served do not hash to the signed root: one was changed, removed or reordered".into(),
        (Lang::Es, Integrity::BadEntry { index }) => format!("la entrada {index} no tiene el formato de spec/tlog.md"),
        (Lang::En, Integrity::BadEntry { index }) => format!("entry {index} is not in the format of spec/tlog.md"),
        (Lang::Es, Integrity::Inclusion { index }) => format!("la prueba de inclusión del servidor para la entrada {index} no verifica"),
        (Lang::En, Integrity::Inclusion { index }) => format!("the server's inclusion proof for entry {index} does not verify"),
        (Lang::Es, Integrity::BadState) => "el archivo de estado no contiene un punto de control firmado con esta llave: si el servidor cambió de llave, eso también es un hallazgo; para empezar de nuevo a propósito, borre el archivo".into(),
        (Lang::En, Integrity::BadState) => "the state file holds no checkpoint signed by this key: if the server changed its key, that is a finding too; to start over on purpose, delete the file".into(),
        (Lang::Es, Integrity::Backdated { index, day, run_day }) => format!("la entrada {index} apareció después de su verificación del {} pero tiene fecha {}: se escribió después de los hechos", run_day.iso(), day.iso()),
        (Lang::En, Integrity::Backdated { index, day, run_day }) => format!("entry {index} appeared after your run of {} but is dated {}: it was written after the fact", run_day.iso(), day.iso()),
    }
}

fn day(d: Day) -> String {
    d.iso()
}

fn violation(lang: Lang, v: &Violation, ent: &dyn Fn(&EntityId) -> String) -> String {
    use Violation as V;
    match (lang, v) {
        (
            Lang::Es,
            V::DeletedLate {
                index,
                entity,
                thread,
                rule,
                deadline,
                deleted,
                ..
            },
        ) => format!(
            "{}: el hilo {} (regla {}) debía borrarse a más tardar al terminar el {}, y se borró el {} (entrada {index}): TARDE",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            day(Day(deadline.0.saturating_add(1))),
            day(*deleted)
        ),
        (
            Lang::En,
            V::DeletedLate {
                index,
                entity,
                thread,
                rule,
                deadline,
                deleted,
                ..
            },
        ) => format!(
            "{}: thread {} (rule {}) was due for deletion by the end of {}, and was deleted on {} (entry {index}): LATE",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            day(Day(deadline.0.saturating_add(1))),
            day(*deleted)
        ),
        (
            Lang::Es,
            V::DeletionMissing {
                entity,
                thread,
                rule,
                deadline,
                today,
                ..
            },
        ) => format!(
            "{}: el hilo {} debía borrarse (regla {}, plazo {}) y a {} el registro no muestra su borrado: FALTA",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            day(*deadline),
            day(*today)
        ),
        (
            Lang::En,
            V::DeletionMissing {
                entity,
                thread,
                rule,
                deadline,
                today,
                ..
            },
        ) => format!(
            "{}: thread {} was due for deletion (rule {}, deadline {}) and as of {} the log shows no deletion: MISSING",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            day(*deadline),
            day(*today)
        ),
        (
            Lang::Es,
            V::DeadlineMismatch {
                index,
                entity,
                thread,
                rule,
                stated,
                expected,
            },
        ) => format!(
            "{}: el borrado del hilo {} (entrada {index}) declara la regla {} con plazo {}, pero el registro da {}",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            stated.map(day).unwrap_or_else(|| "ninguno".into()),
            expected_text(lang, expected)
        ),
        (
            Lang::En,
            V::DeadlineMismatch {
                index,
                entity,
                thread,
                rule,
                stated,
                expected,
            },
        ) => format!(
            "{}: the deletion of thread {} (entry {index}) states rule {} with deadline {}, but the log gives {}",
            ent(entity),
            short(&thread.0),
            rule_name(lang, *rule),
            stated.map(day).unwrap_or_else(|| "none".into()),
            expected_text(lang, expected)
        ),
        (
            Lang::Es,
            V::ClosedRuleOnOpen {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: el hilo {} se borró por la regla «cerrado» sin estar cerrado (entrada {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::ClosedRuleOnOpen {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: thread {} was deleted under the `closed` rule while open (entry {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::PolicyMismatch {
                index,
                in_force,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: el hilo {} se creó (entrada {index}) con una política distinta de la vigente (entrada {in_force})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::PolicyMismatch {
                index,
                in_force,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: thread {} was created (entry {index}) under a policy other than the one in force (entry {in_force})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::NoPolicy {
                index,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: el hilo {} se creó (entrada {index}) sin política publicada",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::NoPolicy {
                index,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: thread {} was created (entry {index}) with no policy published",
            ent(entity),
            short(&thread.0)
        ),
        (Lang::Es, V::LongerPolicy { index, entity, .. }) => format!(
            "{}: un cambio de política aplicado a hilos existentes alarga un plazo (entrada {index})",
            ent(entity)
        ),
        (Lang::En, V::LongerPolicy { index, entity, .. }) => format!(
            "{}: a policy change applied to existing threads lengthens a limit (entry {index})",
            ent(entity)
        ),
        (Lang::Es, V::InvalidPolicy { index, entity, .. }) => {
            format!("{}: política inválida (entrada {index})", ent(entity))
        }
        (Lang::En, V::InvalidPolicy { index, entity, .. }) => {
            format!("{}: invalid policy (entry {index})", ent(entity))
        }
        (
            Lang::Es,
            V::DayBackwards {
                index,
                entity,
                day: d,
                previous,
            },
        ) => format!(
            "{}: la entrada {index} es del {} después de una del {}: orden alterado",
            ent(entity),
            day(*d),
            day(*previous)
        ),
        (
            Lang::En,
            V::DayBackwards {
                index,
                entity,
                day: d,
                previous,
            },
        ) => format!(
            "{}: entry {index} is dated {} after one dated {}: order altered",
            ent(entity),
            day(*d),
            day(*previous)
        ),
        (Lang::Es, V::Future { index, day: d, .. }) => {
            format!("la entrada {index} tiene fecha futura ({})", day(*d))
        }
        (Lang::En, V::Future { index, day: d, .. }) => {
            format!("entry {index} is dated in the future ({})", day(*d))
        }
        (Lang::Es, V::MissingEntity { entity, first }) => format!(
            "{}: no hay entrada de registro de la entidad (primera mención: entrada {first})",
            ent(entity)
        ),
        (Lang::En, V::MissingEntity { entity, first }) => format!(
            "{}: the entity was never registered in the log (first mention: entry {first})",
            ent(entity)
        ),
        (
            Lang::Es,
            V::BeforeEntity {
                index,
                entity,
                entity_at,
            },
        ) => format!(
            "{}: la entrada {index} precede al registro de la entidad (entrada {entity_at})",
            ent(entity)
        ),
        (
            Lang::En,
            V::BeforeEntity {
                index,
                entity,
                entity_at,
            },
        ) => format!(
            "{}: entry {index} comes before the entity's registration (entry {entity_at})",
            ent(entity)
        ),
        (
            Lang::Es,
            V::UnknownThread {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: la entrada {index} habla del hilo {} que nunca se creó en el registro",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::UnknownThread {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: entry {index} is about thread {}, never created in the log",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::DuplicateThread {
                index,
                first,
                entity,
                thread,
            },
        ) => format!(
            "{}: el hilo {} se crea dos veces (entradas {first} y {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::DuplicateThread {
                index,
                first,
                entity,
                thread,
            },
        ) => format!(
            "{}: thread {} is created twice (entries {first} and {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::AfterDeletion {
                index,
                deleted_at,
                entity,
                thread,
            },
        ) => format!(
            "{}: la entrada {index} sigue al borrado del hilo {} (entrada {deleted_at})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::AfterDeletion {
                index,
                deleted_at,
                entity,
                thread,
            },
        ) => format!(
            "{}: entry {index} follows the deletion of thread {} (entry {deleted_at})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::ClosedTwice {
                index,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: el hilo {} se cierra estando cerrado (entrada {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::ClosedTwice {
                index,
                entity,
                thread,
                ..
            },
        ) => format!(
            "{}: thread {} is closed while already closed (entry {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::Es,
            V::ReopenedOpen {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: el hilo {} se reabre estando abierto (entrada {index})",
            ent(entity),
            short(&thread.0)
        ),
        (
            Lang::En,
            V::ReopenedOpen {
                index,
                entity,
                thread,
            },
        ) => format!(
            "{}: thread {} is reopened while open (entry {index})",
            ent(entity),
            short(&thread.0)
        ),
    }
}

fn expected_text(lang: Lang, e: &ExpectedDeadline) -> String {
    match (lang, e) {
        (_, ExpectedDeadline::Exactly(d)) => d.iso(),
        (Lang::Es, ExpectedDeadline::Between { earliest, latest }) => {
            format!("entre {} y {}", earliest.iso(), latest.iso())
        }
        (Lang::En, ExpectedDeadline::Between { earliest, latest }) => {
            format!("between {} and {}", earliest.iso(), latest.iso())
        }
        (Lang::Es, ExpectedDeadline::Null) => "ninguno".into(),
        (Lang::En, ExpectedDeadline::Null) => "none".into(),
    }
}
