//! The auditor's verifier (`buzon audit verify`, spec/tlog.md, "Verifying"):
//! fetches the signed checkpoint, proves the log only grew since the
//! checkpoint saved last time, recomputes the tree from every entry,
//! checks inclusion proofs of the deletions, then checks the policy
//! (`core::retention::check`). It needs no key to any content and sees
//! none: the log holds none.

use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::error::ClientError;
use super::http::Api;
use crate::core::retention::{self, Entry, Event, Report};
use crate::core::tlog::{self, Checkpoint, Hash, NoteVerifier};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Inclusion proofs fetched per run at most (deletions first).
const MAX_INCLUSION_CHECKS: usize = 200;
/// The longest log the verifier downloads (entries are small JSON).
const MAX_ENTRIES: u64 = 50_000_000;

/// What the auditor keeps between runs: the last checkpoint it verified,
/// and the (UTC) day of that run.
#[derive(Serialize, Deserialize)]
pub struct AuditState {
    pub v: u8,
    /// The signed note, as served.
    pub checkpoint: String,
    /// The day of the run that saved it: entries appended after it may
    /// not be dated much earlier (a backdated deletion).
    #[serde(default)]
    pub run_day: Option<crate::core::Day>,
}

/// A problem with the log itself (not with the policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// The log is shorter than the checkpoint saved last time.
    Shrank { old: u64, new: u64 },
    /// The consistency proof from the saved checkpoint fails: the log was
    /// rewritten or forked (or restored from a backup that lost entries).
    Forked { old: u64, new: u64 },
    /// The entries served do not hash to the signed root.
    RootMismatch,
    /// An entry does not decode as spec/tlog.md says (0-based index).
    BadEntry { index: u64 },
    /// The server's inclusion proof for this entry does not verify.
    Inclusion { index: u64 },
    /// The saved state file holds a checkpoint this key did not sign.
    BadState,
    /// An entry that appeared after the last run is dated more than a day
    /// before that run: a deletion (or other event) written after the fact.
    Backdated {
        index: u64,
        day: crate::core::Day,
        run_day: crate::core::Day,
    },
}

/// The outcome of one run.
pub struct Verified {
    pub checkpoint: Checkpoint,
    pub previous: Option<Checkpoint>,
    pub integrity: Vec<Integrity>,
    pub report: Report,
    /// Inclusion proofs checked.
    pub proofs: usize,
    /// Whether the state file was updated.
    pub saved: bool,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.integrity.is_empty() && self.report.violations.is_empty()
    }
}

fn hashes(list: &[String]) -> Result<Vec<Hash>, ClientError> {
    list.iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                .ok_or(ClientError::BadAnswer("proof"))
        })
        .collect()
}

#[derive(Deserialize)]
struct Proof {
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct Page {
    entries: Vec<String>,
}

/// Runs the whole verification. `now_unix` is the auditor's clock.
pub async fn verify(
    api: &Api,
    vkey: &str,
    state_path: &Path,
    now_unix: u64,
) -> Result<Verified, ClientError> {
    verify_with(api, vkey, state_path, now_unix, true).await
}

/// [`verify`]; `save` false reads the state but never writes it (a run
/// as of another date must not change the evidence).
pub async fn verify_with(
    api: &Api,
    vkey: &str,
    state_path: &Path,
    now_unix: u64,
    save: bool,
) -> Result<Verified, ClientError> {
    let verifier = NoteVerifier::parse(vkey.trim()).map_err(|_| ClientError::BadLogKey)?;
    let note = String::from_utf8(api.get_bytes("/api/v1/audit/checkpoint").await?)
        .map_err(|_| ClientError::BadAnswer("checkpoint"))?;
    let text = verifier
        .open(&note)
        .map_err(|_| ClientError::LogNotSigned)?;
    let checkpoint = Checkpoint::parse(&text).map_err(|_| ClientError::BadAnswer("checkpoint"))?;
    if checkpoint.origin != verifier.name {
        return Err(ClientError::LogNotSigned);
    }
    if checkpoint.size > MAX_ENTRIES {
        return Err(ClientError::BadAnswer("checkpoint size"));
    }
    let mut integrity = Vec::new();

    // 1. The log only grew since the last saved checkpoint.
    let mut previous = None;
    let mut last_run = None;
    // An empty file is a first run (an auditor who made it with `touch`).
    if let Some(saved) = std::fs::read_to_string(state_path)
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        let state = serde_json::from_str::<AuditState>(&saved).ok();
        last_run = state.as_ref().and_then(|s| s.run_day);
        match state
            .and_then(|s| verifier.open(&s.checkpoint).ok())
            .and_then(|t| Checkpoint::parse(&t).ok())
        {
            None => integrity.push(Integrity::BadState),
            Some(old) => {
                if old.size > checkpoint.size {
                    integrity.push(Integrity::Shrank {
                        old: old.size,
                        new: checkpoint.size,
                    });
                } else if old.size > 0 {
                    let p: Proof = api
                        .get_json(
                            &format!(
                                "/api/v1/audit/proof/consistency?old={}&new={}",
                                old.size, checkpoint.size
                            ),
                            "consistency proof",
                        )
                        .await?;
                    let proof = hashes(&p.proof)?;
                    if tlog::verify_consistency(
                        old.size,
                        checkpoint.size,
                        &old.root,
                        &checkpoint.root,
                        &proof,
                    )
                    .is_err()
                    {
                        integrity.push(Integrity::Forked {
                            old: old.size,
                            new: checkpoint.size,
                        });
                    }
                }
                previous = Some(old);
            }
        }
    }

    // 2. Every entry, hashed into the tree: the root must be the signed one.
    let mut tree = tlog::MemoryTree::new();
    let mut raw: Vec<Vec<u8>> = Vec::new();
    let mut start = 0u64;
    while start < checkpoint.size {
        let end = (start + crate::audit::MAX_PAGE).min(checkpoint.size);
        let page: Page = api
            .get_json(
                &format!("/api/v1/audit/entries?start={start}&end={end}"),
                "entries",
            )
            .await?;
        if page.entries.len() as u64 != end - start {
            return Err(ClientError::BadAnswer("entries"));
        }
        for e in page.entries {
            let bytes = B64
                .decode(e)
                .map_err(|_| ClientError::BadAnswer("entries"))?;
            tree.push(&bytes);
            raw.push(bytes);
        }
        start = end;
    }
    if tree.root() != checkpoint.root {
        integrity.push(Integrity::RootMismatch);
    }
    let mut entries = Vec::with_capacity(raw.len());
    let mut deletions = Vec::new();
    for (i, bytes) in raw.iter().enumerate() {
        match Entry::decode(bytes) {
            Ok(e) => {
                if matches!(e.event, Event::Deleted { .. }) {
                    deletions.push(i as u64);
                }
                // New since the last run, yet dated well before it: entries
                // are appended the day after their day ends (a zone away
                // from UTC at most adds one), so older means after the fact.
                if let (Some(old), Some(run)) = (&previous, last_run) {
                    let index = i as u64;
                    if index >= old.size && e.day.0.saturating_add(2) < run.0 {
                        integrity.push(Integrity::Backdated {
                            index,
                            day: e.day,
                            run_day: run,
                        });
                    }
                }
                entries.push(e);
            }
            Err(_) => integrity.push(Integrity::BadEntry { index: i as u64 }),
        }
    }

    // 3. The server's own inclusion proofs, for deletions first: what an
    //    auditor who keeps only checkpoints would rely on.
    let mut proofs = 0;
    let sample: Vec<u64> = deletions
        .iter()
        .copied()
        .chain(0..checkpoint.size)
        .take(MAX_INCLUSION_CHECKS.min(checkpoint.size as usize))
        .collect();
    for index in sample {
        let p: Proof = api
            .get_json(
                &format!(
                    "/api/v1/audit/proof/inclusion?index={index}&size={}",
                    checkpoint.size
                ),
                "inclusion proof",
            )
            .await?;
        let proof = hashes(&p.proof)?;
        let leaf = tlog::leaf_hash(
            raw.get(index as usize)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        if tlog::verify_inclusion(&leaf, index, checkpoint.size, &proof, &checkpoint.root).is_err()
        {
            integrity.push(Integrity::Inclusion { index });
        }
        proofs += 1;
    }

    // 4. The policy.
    let report = retention::check(&entries, now_unix);

    // The new checkpoint becomes the state only if the log is sound, so a
    // fork stays provable on every later run.
    let sound = !integrity.iter().any(|i| {
        matches!(
            i,
            Integrity::Shrank { .. }
                | Integrity::Forked { .. }
                | Integrity::RootMismatch
                | Integrity::BadState
                | Integrity::Backdated { .. }
        )
    });
    let mut saved = false;
    if sound && save {
        let state = AuditState {
            v: 1,
            checkpoint: note,
            run_day: Some(crate::core::Day::from_unix_seconds(now_unix)),
        };
        let tmp = state_path.with_extension("tmp");
        let json =
            serde_json::to_vec_pretty(&state).map_err(|_| ClientError::BadAnswer("state"))?;
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, state_path))
            .map_err(|e| ClientError::file(state_path, e))?;
        saved = true;
    }
    Ok(Verified {
        checkpoint,
        previous,
        integrity,
        report,
        proofs,
        saved,
    })
}
