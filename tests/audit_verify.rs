//! The auditor's verifier against a real server (issue 5; spec/tlog.md,
//! "Verifying"). A realistic log is built through the services with an
//! injected clock — threads created, closed, reopened, withdrawn and
//! deleted under the `closed`, `inactive` and `cap` rules, a staff member
//! added and removed, a daily batch each day — and then verified over HTTP
//! with `client::audit::verify` and with the `buzon audit verify` binary.
//!
//! Each thing a dishonest server could do is caught with its own variant:
//! an entry changed, removed or reordered (with and without a new
//! signature), a checkpoint from a forked log, a deletion missing, late or
//! stating the wrong deadline, another log key, no access token. The
//! checkpoint the server serves is also read by an independent
//! implementation (`signed_note`, `tlog_tiles`, as in tests/tlog_interop.rs).
//!
//! Tampering writes to the store's audit tables directly, as an operator
//! with the data directory could.

mod common;

use std::process::Output;
use std::sync::Arc;

use buzon::client::audit::{Integrity, Verified, verify};
use buzon::client::error::ClientError;
use buzon::client::http::Api;
use buzon::client::lang::Lang;
use buzon::core::Day;
use buzon::core::envelope::Id;
use buzon::core::retention::{Entry, Event, ExpectedDeadline, Policy, Rule, Violation};
use buzon::core::status::{Kind, Status};
use buzon::core::tlog::{Checkpoint, MemoryTree, Nodes, NoteSigner};
use buzon::core::zone::Zone;
use buzon::platform::OsEntropy;
use buzon::saadd::{NewEntity, Role, Submitted};
use buzon::store::{Batch, Table};
use common::{STAFF_PASSWORD, TestClock, TestServer, fixture};
use zeroize::Zeroizing;

/// Day 0 of every scenario: a Monday, noon in Mexico City (the entity's
/// default zone).
const DAY0: &str = "2026-03-02";

/// Short policies so that every rule fires within two weeks. For
/// questions `inactive == cap`, so the cap (ties go to it) always sets the
/// deadline of an open question; claims go by inactivity first.
const QUESTIONS: Policy = Policy {
    closed: 3,
    inactive: 8,
    receipt: 8,
    cap: 8,
};
const CLAIMS: Policy = Policy {
    closed: 5,
    inactive: 4,
    receipt: 4,
    cap: 12,
};

/// Noon in Mexico City of day `n` after [`DAY0`], as the auditor's clock.
fn noon(n: u64) -> u64 {
    TestClock::at(DAY0).unix() + n * 86_400
}

/// Day `n` after [`DAY0`] in the entity's zone.
fn day(n: u32) -> Day {
    Day(Zone::default_zone().day(noon(0)).0 + n)
}

/// A server with a log in it, an auditor's token and the log's key.
struct World {
    server: TestServer,
    clock: Arc<TestClock>,
    entity: Id,
    /// Every thread the server ever had: no report may name one.
    threads: Vec<Id>,
    token: String,
    vkey: String,
    /// Where the auditor keeps state files.
    home: tempfile::TempDir,
}

impl World {
    /// The shared fixture's entity (America/Mexico_City, four staff) with
    /// the short policies, on day 0; and the coordinators a reporter picks.
    async fn start() -> (World, Vec<Id>) {
        World::start_in(None).await
    }

    /// With a `zone`, an entity of its own there, with one coordinator.
    async fn start_in(zone: Option<&str>) -> (World, Vec<Id>) {
        let clock = TestClock::at(DAY0);
        let server =
            TestServer::start_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
        let saadd = server.saadd.clone();
        let entity = match zone {
            None => fixture(&saadd).await.entity,
            Some(zone) => {
                let e = saadd
                    .add_entity(NewEntity {
                        slug: "oficina".into(),
                        name: "Oficina de Ejemplo".into(),
                        complaints_office: "Inspección".into(),
                        first_response_days: 3,
                        answer_days: 10,
                        zone: Some(zone.into()),
                    })
                    .await
                    .unwrap();
                saadd
                    .add_staff(
                        e.id,
                        Role::Coordinator,
                        "coord-a",
                        "Coordinación A",
                        Some(STAFF_PASSWORD),
                    )
                    .await
                    .unwrap();
                e.id
            }
        };
        saadd
            .set_policy(entity, Kind::Question, QUESTIONS, false)
            .await
            .unwrap();
        saadd
            .set_policy(entity, Kind::Claim, CLAIMS, false)
            .await
            .unwrap();
        let token = buzon::audit::access::add(
            saadd.store().as_ref(),
            &OsEntropy,
            "Órgano Interno de Control",
            day(0),
        )
        .unwrap();
        let vkey = server.services.audit.verifier_key().unwrap();
        let readers: Vec<Id> = saadd
            .coordinators(entity)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        let world = World {
            server,
            clock,
            entity,
            threads: Vec::new(),
            token,
            vkey,
            home: tempfile::tempdir().unwrap(),
        };
        (world, readers)
    }

    async fn submit(&mut self, readers: &[Id], kind: Kind, text: &str) -> Submitted {
        let saadd = &self.server.saadd;
        let s = saadd
            .submit(
                self.entity,
                kind,
                text,
                readers,
                saadd.begin_thread(),
                vec![],
            )
            .await
            .unwrap();
        self.threads.push(s.thread);
        s
    }

    async fn coordinator(&self) -> buzon::saadd::StaffLogin {
        self.server
            .saadd
            .staff_login("coord-a", STAFF_PASSWORD)
            .await
            .unwrap()
    }

    /// The next day: the server's retention pass (sweeper, then the daily
    /// batch of every entry whose day has ended), as its schedule runs it.
    async fn next_day(&self) {
        self.clock.advance_days(1);
        self.server.services.retention_pass().await.unwrap();
    }

    /// Only the daily batch, no sweeper: a server whose sweeper is off.
    async fn next_day_batch_only(&self) {
        self.clock.advance_days(1);
        self.server
            .services
            .audit
            .append_due(self.clock.unix(), &|_| Zone::default_zone())
            .unwrap();
    }

    fn api(&self) -> Api {
        let mut api = Api::new(&self.server.base, None, Lang::En).unwrap();
        api.set_bearer(Zeroizing::new(self.token.clone()));
        api
    }

    fn state(&self, name: &str) -> std::path::PathBuf {
        self.home.path().join(name)
    }

    /// One run of the auditor's verifier with its clock at `now`.
    async fn verify_at(&self, state: &str, now: u64) -> Verified {
        verify(&self.api(), &self.vkey, &self.state(state), now)
            .await
            .unwrap()
    }

    /// One run as of the server's today.
    async fn verify(&self, state: &str) -> Verified {
        self.verify_at(state, self.clock.unix()).await
    }

    fn size(&self) -> u64 {
        self.server.services.audit.size().unwrap()
    }

    /// The log as stored, entry by entry.
    fn entries(&self) -> Vec<Vec<u8>> {
        self.server.services.audit.all_entries().unwrap()
    }

    /// Overwrites one stored entry, leaving the tree's nodes and the
    /// signed checkpoint as they were.
    fn put_entry(&self, index: u64, bytes: Vec<u8>) {
        let store = self.server.saadd.store();
        let mut b = Batch::new();
        b.put(Table::AuditEntry, index.to_be_bytes(), bytes);
        store.apply(b).unwrap();
        store.flush().unwrap();
    }

    /// What a server does to hide a rewrite: replaces its whole log with
    /// `entries`, rebuilds every stored node of the new tree, and signs a
    /// checkpoint of it with its own log key.
    fn rewrite_log(&self, entries: &[Vec<u8>]) {
        let store = self.server.saadd.store();
        let mut b = Batch::new();
        for table in [Table::AuditEntry, Table::AuditNode] {
            for k in store.scan_keys(table, &[], usize::MAX).unwrap() {
                b.delete(table, k);
            }
        }
        store.apply(b).unwrap();
        let mut tree = MemoryTree::new();
        let mut b = Batch::new();
        for (i, e) in entries.iter().enumerate() {
            tree.push(e);
            b.put(Table::AuditEntry, (i as u64).to_be_bytes(), e.clone());
        }
        let size = tree.size();
        for level in 0..64u8 {
            let width = 1u64 << level;
            if width > size {
                break;
            }
            for index in 0..size / width {
                let mut key = vec![level];
                key.extend_from_slice(&index.to_be_bytes());
                b.put(
                    Table::AuditNode,
                    key,
                    tree.node(level, index).unwrap().to_vec(),
                );
            }
        }
        let signer = self.server.services.audit.signer().unwrap();
        let body = Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root: tree.root(),
            extensions: Vec::new(),
        }
        .body();
        b.put(Table::Meta, b"audit-size", size.to_be_bytes().to_vec());
        b.put(
            Table::Meta,
            b"audit-checkpoint",
            signer.sign(&body).unwrap().into_bytes(),
        );
        store.apply(b).unwrap();
        store.flush().unwrap();
    }

    /// Runs `buzon audit verify` against the server as an auditor would.
    async fn cli(&self, lang: &str, key: &str, state: &str, date: &str) -> Output {
        self.cli_with_token(lang, key, state, date, &self.token)
            .await
    }

    async fn cli_with_token(
        &self,
        lang: &str,
        key: &str,
        state: &str,
        date: &str,
        token: &str,
    ) -> Output {
        let access = self.home.path().join("access");
        std::fs::write(&access, format!("{token}\n")).unwrap();
        tokio::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
            .args([
                "audit",
                "verify",
                "--server",
                self.server.base.as_str(),
                "--key",
                key,
            ])
            .arg("--state")
            .arg(self.state(state))
            .arg("--access-file")
            .arg(&access)
            .args(["--date", date])
            .env("LANG", lang)
            .env_remove("LC_ALL")
            .env_remove("BUZON_AUDIT_ACCESS")
            .output()
            .await
            .unwrap()
    }

    /// No thread id, whole or as the 6-byte prefix reports print, in `text`.
    fn assert_no_thread_id(&self, text: &str) {
        for t in &self.threads {
            let hex = t.hex();
            assert!(
                !text.contains(&hex[..12]),
                "the output names thread {hex}:\n{text}"
            );
        }
    }
}

/// The realistic log, from day 0 to day 9 (the server's today):
///
/// - day 0: the entity and its four staff; short policies; five threads;
///   two of them closed;
/// - day 1: one reopened, one withdrawn by its reporter, an advisor added;
/// - day 2: the reopened one closed again, the advisor removed;
/// - day 3: the first closed thread deleted (`closed`, deadline day 3);
/// - day 4: the idle claim deleted (`inactive`, deadline day 4);
/// - day 5: the twice-closed thread deleted (`closed`, deadline day 5);
/// - day 6: a sixth thread, which stays open (cap day 14);
/// - day 8: the open question deleted (`cap`, deadline day 8);
/// - day 9: day 8's batch appended.
async fn realistic_log() -> World {
    let (mut w, readers) = World::start().await;
    let saadd = w.server.saadd.clone();
    let closed_early = w
        .submit(&readers, Kind::Question, "Pregunta que se cierra pronto")
        .await;
    let reopened = w
        .submit(&readers, Kind::Question, "Pregunta que se reabre")
        .await;
    let _capped = w
        .submit(&readers, Kind::Question, "Pregunta que llega al tope")
        .await;
    let withdrawn = w
        .submit(&readers, Kind::Question, "Pregunta que se retira")
        .await;
    let _idle = w
        .submit(&readers, Kind::Claim, "Denuncia sin más mensajes")
        .await;
    let coord = w.coordinator().await;
    for t in [&closed_early, &reopened] {
        saadd
            .set_status(t.thread, &coord, Status::Closed)
            .await
            .unwrap();
    }

    w.next_day().await; // day 1
    saadd
        .set_status(reopened.thread, &coord, Status::InProgress)
        .await
        .unwrap();
    saadd
        .withdraw(withdrawn.thread, &withdrawn.secret)
        .await
        .unwrap();
    let (temp, _) = saadd
        .add_staff(
            w.entity,
            Role::Advisor,
            "asesor-3",
            "Asesoría Tres",
            Some(STAFF_PASSWORD),
        )
        .await
        .unwrap();

    w.next_day().await; // day 2
    saadd
        .set_status(reopened.thread, &coord, Status::Closed)
        .await
        .unwrap();
    saadd.remove_staff(temp.id).await.unwrap();

    for _ in 3..=6 {
        w.next_day().await;
    }
    // day 6
    w.submit(&readers, Kind::Question, "Pregunta que sigue abierta")
        .await;
    for _ in 7..=9 {
        w.next_day().await;
    }
    assert_eq!(
        w.server.saadd.entity_day(w.entity).unwrap(),
        day(9),
        "the scenario ends on day 9"
    );
    assert_eq!(
        w.server.services.audit.pending_count().unwrap(),
        0,
        "every entry is in the log"
    );
    w
}

/// The index of the first entry whose event `pick` accepts.
fn find(entries: &[Vec<u8>], pick: impl Fn(&Event) -> bool) -> usize {
    entries
        .iter()
        .position(|e| pick(&Entry::decode(e).unwrap().event))
        .expect("no such entry in the log")
}

fn is_closed_deletion(e: &Event) -> bool {
    matches!(
        e,
        Event::Deleted {
            rule: Rule::Closed,
            ..
        }
    )
}

/// The entry with its stated deadline moved by `days`, re-encoded
/// canonically (so it still decodes: only the tree can tell).
fn move_deadline(bytes: &[u8], days: i64) -> (Vec<u8>, Day) {
    let mut e = Entry::decode(bytes).unwrap();
    let Event::Deleted {
        deadline: Some(d), ..
    } = &mut e.event
    else {
        panic!("not a deletion with a deadline");
    };
    let stated = *d;
    *d = Day(u32::try_from(i64::from(d.0) + days).unwrap());
    let out = e.encode();
    assert_eq!(Entry::decode(&out).unwrap(), e, "canonical");
    (out, stated)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_honest_log_verifies_and_the_next_run_proves_it_only_grew() {
    let w = realistic_log().await;
    let v = w.verify("state.json").await;
    assert_eq!(v.integrity, vec![]);
    assert_eq!(v.report.violations, vec![]);
    assert!(v.ok());
    assert!(v.previous.is_none());
    assert!(v.saved);
    let r = &v.report;
    assert_eq!(v.checkpoint.size, w.size());
    assert_eq!(r.entries as u64, w.size());
    assert_eq!(r.entities, 1);
    assert_eq!(r.threads_created, 6);
    assert_eq!(
        (
            r.deleted_by_rule.closed,
            r.deleted_by_rule.inactive,
            r.deleted_by_rule.cap,
            r.deleted_by_rule.withdrawn
        ),
        (2, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(r.deleted_on_time, 5);
    assert_eq!(r.deleted_late, 0);
    assert_eq!(r.open_within_deadline, 1);
    assert_eq!((r.awaiting_batch, r.deletions_missing), (0, 0));
    // Four staff at the start, one added and removed.
    assert_eq!(r.staff_key_events, 6);
    // The entity's registration (default policies) and the short ones.
    assert_eq!(r.policy_events, 4);
    assert_eq!(r.summaries.len(), 1);
    assert_eq!(r.summaries[0].threads_open, 1);
    assert_eq!(r.summaries[0].next_deadline, Some(day(14)));
    assert!(v.proofs >= 5, "the deletions' inclusion proofs at least");

    // The same checkpoint again: nothing to prove, nothing wrong.
    let again = w.verify("state.json").await;
    assert!(again.ok(), "{:?} {:?}", again.integrity, again.report);
    assert_eq!(again.previous.as_ref().map(|p| p.size), Some(w.size()));

    // The log grows (the open thread is closed on day 9, appended on day
    // 10): the second run proves the new tree extends the saved one.
    let old = w.size();
    let coord = w.coordinator().await;
    w.server
        .saadd
        .set_status(*w.threads.last().unwrap(), &coord, Status::Closed)
        .await
        .unwrap();
    w.next_day().await;
    assert_eq!(w.size(), old + 1);
    let grown = w.verify("state.json").await;
    assert_eq!(grown.integrity, vec![]);
    assert_eq!(grown.report.violations, vec![]);
    assert_eq!(grown.previous.as_ref().map(|p| p.size), Some(old));
    assert_eq!(grown.checkpoint.size, old + 1);
    assert!(grown.saved);
    // The open thread's deadline is now its closed one: day 9 + 3.
    assert_eq!(grown.report.summaries[0].next_deadline, Some(day(12)));

    // A control for the tampering tests: the rewrite helper, given the
    // honest entries, rebuilds the very same signed tree.
    let cp = w.server.services.audit.checkpoint().unwrap();
    w.rewrite_log(&w.entries());
    assert_eq!(w.server.services.audit.checkpoint().unwrap(), cp);
    assert!(w.verify("state.json").await.ok());
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_entry_breaks_the_signed_root_and_a_resigned_one_is_a_fork() {
    let w = realistic_log().await;
    assert!(w.verify("state.json").await.ok());
    let saved = std::fs::read(w.state("state.json")).unwrap();
    let n = w.size();
    let honest = w.entries();
    let i = find(&honest, is_closed_deletion);
    let (changed, _) = move_deadline(&honest[i], 2);

    // The entry's bytes change; the tree and the signature stay.
    w.put_entry(i as u64, changed.clone());
    for state in ["state.json", "fresh.json"] {
        let v = w.verify(state).await;
        assert!(
            v.integrity.contains(&Integrity::RootMismatch),
            "{state}: {:?}",
            v.integrity
        );
        assert!(
            !v.saved,
            "a log that does not hash to its root is not saved"
        );
        assert!(!v.ok());
    }
    assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);
    assert!(!w.state("fresh.json").exists());

    // The server rebuilds its tree over the changed entry and signs it:
    // same size, another history.
    let mut rewritten = honest.clone();
    rewritten[i] = changed;
    w.rewrite_log(&rewritten);
    let v = w.verify("state.json").await;
    assert_eq!(v.integrity, vec![Integrity::Forked { old: n, new: n }]);
    assert!(!v.saved);
    assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_entry_is_a_shrunk_log_and_a_missing_deletion() {
    let w = realistic_log().await;
    assert!(w.verify("state.json").await.ok());
    let saved = std::fs::read(w.state("state.json")).unwrap();
    let n = w.size();
    let mut entries = w.entries();
    let i = find(&entries, is_closed_deletion);
    entries.remove(i);
    w.rewrite_log(&entries);
    assert_eq!(w.size(), n - 1);

    // Against the saved checkpoint: the log shrank, every run, and the
    // state keeps the evidence.
    for _ in 0..2 {
        let v = w.verify("state.json").await;
        assert_eq!(v.integrity, vec![Integrity::Shrank { old: n, new: n - 1 }]);
        assert!(!v.saved);
        assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);
    }

    // An auditor with no saved state still sees a thread past its closed
    // deadline (+3 days) with no deletion.
    let v = w.verify("fresh.json").await;
    assert_eq!(v.integrity, vec![]);
    assert!(
        matches!(
            v.report.violations.as_slice(),
            [Violation::DeletionMissing {
                rule: Rule::Closed,
                ..
            }]
        ),
        "{:?}",
        v.report.violations
    );
    assert_eq!(v.report.deletions_missing, 1);
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reordered_entries_break_the_root_or_fork_the_log() {
    let w = realistic_log().await;
    assert!(w.verify("state.json").await.ok());
    let saved = std::fs::read(w.state("state.json")).unwrap();
    let n = w.size();
    let honest = w.entries();
    // Two staff key entries of day 0: swapping them says nothing the
    // policy check could see; only the tree can tell.
    let staff: Vec<usize> = (0..honest.len())
        .filter(|&i| {
            matches!(
                Entry::decode(&honest[i]).unwrap().event,
                Event::StaffKey { .. }
            )
        })
        .collect();
    let (a, b) = (staff[0], staff[1]);
    assert_ne!(honest[a], honest[b]);

    // Swapped in place, not signed again.
    w.put_entry(a as u64, honest[b].clone());
    w.put_entry(b as u64, honest[a].clone());
    let v = w.verify("fresh.json").await;
    assert!(
        v.integrity.contains(&Integrity::RootMismatch),
        "{:?}",
        v.integrity
    );
    assert!(!v.saved);

    // Swapped and signed again: a valid log, but not the one saved.
    let mut swapped = honest.clone();
    swapped.swap(a, b);
    w.rewrite_log(&swapped);
    let v = w.verify("state.json").await;
    assert_eq!(v.integrity, vec![Integrity::Forked { old: n, new: n }]);
    assert!(!v.saved);
    assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);
    // Without a saved checkpoint nothing can tell: that is what the state
    // file is for.
    assert!(w.verify("another.json").await.ok());
    // Unless the swap crosses days: a day-0 entry after the last one (of
    // day 8) puts the entity's days backwards.
    let mut across = honest.clone();
    let last = across.len() - 1;
    across.swap(a, last);
    w.rewrite_log(&across);
    let v = w.verify("another.json").await;
    assert_eq!(v.integrity, vec![Integrity::Forked { old: n, new: n }]);
    assert!(
        v.report
            .violations
            .iter()
            .any(|v| matches!(v, Violation::DayBackwards { index, .. } if *index == last)),
        "{:?}",
        v.report.violations
    );
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forked_checkpoint_is_reported_on_every_run_and_never_saved() {
    let w = realistic_log().await;
    assert!(w.verify("state.json").await.ok());
    let saved = std::fs::read(w.state("state.json")).unwrap();
    let n = w.size();
    let honest = w.entries();

    // A fork with more entries than the saved log: a deletion dropped, and
    // two entries more, signed with the log's key.
    let mut fork = honest.clone();
    fork.remove(find(&fork, is_closed_deletion));
    let extra = fork[0].clone();
    fork.push(extra.clone());
    fork.push(extra);
    w.rewrite_log(&fork);
    assert_eq!(w.size(), n + 1);
    for _ in 0..3 {
        let v = w.verify("state.json").await;
        // The duplicated first entry is also dated long before the run.
        assert!(
            v.integrity
                .contains(&Integrity::Forked { old: n, new: n + 1 }),
            "{:?}",
            v.integrity
        );
        assert!(!v.saved);
        assert_eq!(
            std::fs::read(w.state("state.json")).unwrap(),
            saved,
            "the state file must keep the checkpoint the fork contradicts"
        );
    }

    // The same size, another history.
    let mut same = honest.clone();
    let i = find(&same, is_closed_deletion);
    same[i] = move_deadline(&same[i], -1).0;
    w.rewrite_log(&same);
    let v = w.verify("state.json").await;
    assert_eq!(v.integrity, vec![Integrity::Forked { old: n, new: n }]);
    assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);

    // Back to the honest log: the saved checkpoint is its own again.
    w.rewrite_log(&honest);
    let v = w.verify("state.json").await;
    assert!(v.ok(), "{:?} {:?}", v.integrity, v.report.violations);
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_stating_the_wrong_deadline_is_a_mismatch() {
    let w = realistic_log().await;
    let mut entries = w.entries();
    let i = find(&entries, is_closed_deletion);
    let (changed, stated) = move_deadline(&entries[i], 2);
    entries[i] = changed;
    // Signed as is, for an auditor who never saw the honest log.
    w.rewrite_log(&entries);
    let v = w.verify("fresh.json").await;
    assert_eq!(v.integrity, vec![]);
    assert_eq!(
        v.report.violations,
        vec![Violation::DeadlineMismatch {
            index: i,
            entity: buzon::core::retention::EntityId(w.entity.0),
            thread: match Entry::decode(&entries[i]).unwrap().event {
                Event::Deleted { thread, .. } => thread,
                _ => unreachable!(),
            },
            rule: Rule::Closed,
            stated: Some(Day(stated.0 + 2)),
            expected: ExpectedDeadline::Exactly(stated),
        }]
    );
    // The log is sound: the state moves on, the violation stays in the log.
    assert!(v.saved);
    assert!(!v.ok());

    // A cap deletion a day early, and an inactivity deadline past the cap.
    let cap = find(&entries, |e| {
        matches!(
            e,
            Event::Deleted {
                rule: Rule::Cap,
                ..
            }
        )
    });
    let inactive = find(&entries, |e| {
        matches!(
            e,
            Event::Deleted {
                rule: Rule::Inactive,
                ..
            }
        )
    });
    let mut entries = w.entries();
    entries[i] = move_deadline(&entries[i], -2).0; // honest again
    entries[cap] = move_deadline(&entries[cap], -1).0;
    entries[inactive] = move_deadline(&entries[inactive], 30).0;
    w.rewrite_log(&entries);
    let v = w.verify("other.json").await;
    let mismatched: Vec<(usize, Rule)> = v
        .report
        .violations
        .iter()
        .map(|v| match v {
            Violation::DeadlineMismatch { index, rule, .. } => (*index, *rule),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut expected = vec![(cap, Rule::Cap), (inactive, Rule::Inactive)];
    expected.sort_by_key(|(i, _)| *i);
    assert_eq!(mismatched, expected);
    w.server.stop().await;
}

/// A shorter life: two questions on day 0, one closed (deadline day 3),
/// one open (cap day 8). The daily batch runs; the sweeper never does.
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_missing_is_reported_from_deadline_plus_three_not_before() {
    let (mut w, readers) = World::start().await;
    let closed = w.submit(&readers, Kind::Question, "Se cierra").await;
    w.submit(&readers, Kind::Question, "Queda abierta").await;
    let coord = w.coordinator().await;
    w.server
        .saadd
        .set_status(closed.thread, &coord, Status::Closed)
        .await
        .unwrap();
    w.next_day_batch_only().await;
    assert_eq!(w.server.services.audit.pending_count().unwrap(), 0);

    // Through the end of day 4 the deletion may still happen on time.
    for n in [3, 4] {
        let v = w.verify_at("state.json", noon(n)).await;
        assert!(v.ok(), "day {n}: {:?}", v.report.violations);
        assert_eq!(v.report.open_within_deadline, 2);
    }
    // Day 5: deleted on day 4 at the latest, its entry would come with
    // today's batch: awaiting, not a violation.
    let v = w.verify_at("state.json", noon(5)).await;
    assert!(v.ok(), "{:?}", v.report.violations);
    assert_eq!(v.report.awaiting_batch, 1);
    assert_eq!(v.report.deletions_missing, 0);
    // Day 6: missing.
    let v = w.verify_at("state.json", noon(6)).await;
    assert_eq!(v.integrity, vec![]);
    assert!(
        matches!(
            v.report.violations.as_slice(),
            [Violation::DeletionMissing { rule: Rule::Closed, deadline, today, .. }]
                if *deadline == day(3) && *today == day(6)
        ),
        "{:?}",
        v.report.violations
    );
    assert_eq!(v.report.deletions_missing, 1);
    assert!(!v.ok());
    // Day 11: the open one's cap (day 8) has passed too.
    let v = w.verify_at("state.json", noon(11)).await;
    let mut missing: Vec<(Rule, Day)> = v
        .report
        .violations
        .iter()
        .map(|v| match v {
            Violation::DeletionMissing { rule, deadline, .. } => (*rule, *deadline),
            other => panic!("{other:?}"),
        })
        .collect();
    missing.sort_by_key(|(_, d)| *d);
    assert_eq!(missing, vec![(Rule::Closed, day(3)), (Rule::Cap, day(8))]);
    w.server.stop().await;
}

/// Two questions closed on days 0 and 2 (deadlines days 3 and 5); the
/// sweeper first runs on day 6: three days late for one, on time (the day
/// after) for the other.
#[tokio::test(flavor = "multi_thread")]
async fn a_late_deletion_is_reported_and_the_day_after_the_deadline_is_on_time() {
    let (mut w, readers) = World::start().await;
    let late = w.submit(&readers, Kind::Question, "Se borra tarde").await;
    let on_time = w
        .submit(&readers, Kind::Question, "Se borra a tiempo")
        .await;
    let coord = w.coordinator().await;
    let saadd = w.server.saadd.clone();
    saadd
        .set_status(late.thread, &coord, Status::Closed)
        .await
        .unwrap();
    w.next_day_batch_only().await; // day 1
    w.next_day_batch_only().await; // day 2
    saadd
        .set_status(on_time.thread, &coord, Status::Closed)
        .await
        .unwrap();
    for _ in 3..=6 {
        w.next_day_batch_only().await;
    }
    // Day 6: the sweeper at last.
    let pass = w.server.services.retention_pass().await.unwrap();
    assert_eq!(pass.closed, 2, "{pass:?}");
    w.next_day().await; // day 7: day 6's batch
    let v = w.verify("state.json").await;
    assert_eq!(v.integrity, vec![]);
    assert!(
        matches!(
            v.report.violations.as_slice(),
            [Violation::DeletedLate { rule: Rule::Closed, deadline, deleted, .. }]
                if *deadline == day(3) && *deleted == day(6)
        ),
        "{:?}",
        v.report.violations
    );
    assert_eq!((v.report.deleted_late, v.report.deleted_on_time), (1, 1));
    assert!(!v.ok());
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_key_no_token_and_bad_ranges_are_refused() {
    let (mut w, readers) = World::start().await;
    w.submit(&readers, Kind::Question, "Una pregunta").await;
    w.next_day().await;
    let n = w.size();
    assert!(n > 5);
    let api = w.api();
    let state = w.state("state.json");

    // Another signer, under the log's own name or another one.
    let origin = w.server.services.audit.signer().unwrap().name().to_owned();
    for name in [origin.as_str(), "buzon.audit/other"] {
        let other = NoteSigner::new(name, &[9; 32]).unwrap().verifier_key();
        let r = verify(&api, &other, &state, w.clock.unix()).await.err();
        assert!(matches!(r, Some(ClientError::LogNotSigned)), "{r:?}");
    }
    let r = verify(&api, "not a key", &state, w.clock.unix())
        .await
        .err();
    assert!(matches!(r, Some(ClientError::BadLogKey)), "{r:?}");
    assert!(!state.exists(), "a refused run writes no state");

    // No token, a made-up one, a revoked one.
    let refused = |r: Result<Verified, ClientError>| match r {
        Err(ClientError::Server { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "audit_access"))
        }
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("verified without access"),
    };
    let bare = Api::new(&w.server.base, None, Lang::En).unwrap();
    refused(verify(&bare, &w.vkey, &state, w.clock.unix()).await);
    let mut made_up = Api::new(&w.server.base, None, Lang::En).unwrap();
    made_up.set_bearer(Zeroizing::new(format!("audit_{}", "0".repeat(40))));
    refused(verify(&made_up, &w.vkey, &state, w.clock.unix()).await);
    let store = w.server.saadd.store();
    let second = buzon::audit::access::add(store.as_ref(), &OsEntropy, "revocada", day(1)).unwrap();
    let mut revoked = Api::new(&w.server.base, None, Lang::En).unwrap();
    revoked.set_bearer(Zeroizing::new(second.clone()));
    assert!(
        verify(&revoked, &w.vkey, &state, w.clock.unix())
            .await
            .is_ok()
    );
    std::fs::remove_file(&state).unwrap();
    let handle = buzon::audit::access::list(store.as_ref())
        .unwrap()
        .into_iter()
        .find(|(_, r)| r.label == "revocada")
        .unwrap()
        .0;
    assert_eq!(
        buzon::audit::access::revoke(store.as_ref(), &handle).unwrap(),
        1
    );
    refused(verify(&revoked, &w.vkey, &state, w.clock.unix()).await);

    // Every endpoint, raw.
    let http = reqwest::Client::new();
    let get = async |path: &str, bearer: Option<&str>| {
        let mut rb = http.get(format!("{}{path}", w.server.base));
        if let Some(b) = bearer {
            rb = rb.bearer_auth(b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        (status, body)
    };
    let code = |body: &str| -> String {
        serde_json::from_str::<serde_json::Value>(body).unwrap()["error"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let endpoints = [
        "/api/v1/audit/checkpoint".to_owned(),
        "/api/v1/audit/entries?start=0&end=1".to_owned(),
        format!("/api/v1/audit/proof/inclusion?index=0&size={n}"),
        format!("/api/v1/audit/proof/consistency?old=1&new={n}"),
    ];
    for path in &endpoints {
        for bearer in [None, Some("audit_nope"), Some(second.as_str()), Some("")] {
            let (status, body) = get(path, bearer).await;
            assert_eq!(status, 401, "{path} {bearer:?}: {body}");
            assert_eq!(code(&body), "audit_access");
        }
        let (status, body) = get(path, Some(&w.token)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    let bad = [
        "/api/v1/audit/entries?start=0&end=1001".to_owned(),
        format!("/api/v1/audit/entries?start=0&end={}", n + 1),
        format!("/api/v1/audit/entries?start={n}&end={}", n + 1),
        "/api/v1/audit/entries?start=3&end=2".to_owned(),
        "/api/v1/audit/entries?start=0".to_owned(),
        "/api/v1/audit/entries?start=a&end=1".to_owned(),
        format!("/api/v1/audit/proof/inclusion?index={n}&size={n}"),
        format!("/api/v1/audit/proof/inclusion?index=0&size={}", n + 1),
        format!("/api/v1/audit/proof/consistency?old=2&new={}", n + 1),
        "/api/v1/audit/proof/consistency?old=3&new=2".to_owned(),
    ];
    for path in &bad {
        let (status, body) = get(path, Some(&w.token)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(code(&body), "audit_range", "{path}");
    }
    // The edges that are in range.
    let (status, body) = get(
        &format!("/api/v1/audit/entries?start={n}&end={n}"),
        Some(&w.token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(
        &format!("/api/v1/audit/entries?start=0&end={n}"),
        Some(&w.token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len() as u64, n);
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reports_in_english_and_spanish_and_fails_on_tampering() {
    let w = realistic_log().await;
    let n = w.size();
    let today = day(9).iso();
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let en = w.cli("en_US.UTF-8", &w.vkey, "state.json", &today).await;
    let out = text(&en);
    assert!(en.status.success(), "{out}");
    assert!(
        out.contains(&format!("{n} entries, signature valid")),
        "{out}"
    );
    assert!(out.contains("First run"), "{out}");
    assert!(
        out.contains("6 threads created; 5 deleted on time"),
        "{out}"
    );
    assert!(out.contains("Result: no problems."), "{out}");
    w.assert_no_thread_id(&out);

    let es = w.cli("es_MX.UTF-8", &w.vkey, "state.json", &today).await;
    let out = text(&es);
    assert!(es.status.success(), "{out}");
    assert!(
        out.contains(&format!("{n} entradas, firma válida")),
        "{out}"
    );
    // Runs with --date never save the state: this is a first run again.
    assert!(out.contains("Primera verificación"), "{out}");
    assert!(out.contains("Resultado: sin problemas."), "{out}");
    assert!(!out.contains("Result:"), "{out}");
    w.assert_no_thread_id(&out);

    // A token the server does not know: refused, and said so.
    let bad = w
        .cli_with_token("en_US.UTF-8", &w.vkey, "state.json", &today, "audit_0000")
        .await;
    let out = text(&bad);
    assert!(!bad.status.success(), "{out}");
    assert!(
        out.contains("auditor access token") && out.contains("audit_access"),
        "{out}"
    );

    // A run as of now saves the state (runs with --date never do).
    assert!(w.verify("state.json").await.saved);
    // The server drops a deletion from its log and signs the shorter tree.
    let mut entries = w.entries();
    entries.remove(find(&entries, is_closed_deletion));
    w.rewrite_log(&entries);
    let en = w.cli("en_US.UTF-8", &w.vkey, "state.json", &today).await;
    let out = text(&en);
    assert!(!en.status.success(), "{out}");
    assert!(
        out.lines().any(|l| l.contains("the log SHRANK")
            && l.contains(&format!("had {n} entries and now has {}", n - 1))),
        "{out}"
    );
    assert!(out.contains("MISSING"), "{out}");
    assert!(out.contains("The state file was not updated"), "{out}");
    w.assert_no_thread_id(&out);
    let es = w.cli("es_MX.UTF-8", &w.vkey, "state.json", &today).await;
    let out = text(&es);
    assert!(!es.status.success(), "{out}");
    assert!(out.contains("el registro ENCOGIÓ"), "{out}");
    assert!(out.contains("FALTA"), "{out}");
    w.assert_no_thread_id(&out);
    w.server.stop().await;
}

/// `buzon audit verify --key` with another log's key: the run must fail
/// and say that the audit log's checkpoint is not signed by that key.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_names_the_audit_key_when_it_does_not_verify() {
    let (mut w, readers) = World::start().await;
    w.submit(&readers, Kind::Question, "Una pregunta").await;
    w.next_day().await;
    let today = day(1).iso();
    let origin = w.server.services.audit.signer().unwrap().name().to_owned();
    let other = NoteSigner::new(&origin, &[9; 32]).unwrap().verifier_key();
    for (key, lang) in [
        (other.as_str(), "en_US.UTF-8"),
        ("not-a-key", "en_US.UTF-8"),
    ] {
        let o = w.cli(lang, key, "state.json", &today).await;
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!o.status.success());
        assert!(
            err.contains("--key") && (err.contains("audit") || err.contains("checkpoint")),
            "a wrong --key should be named as such: {err}"
        );
        assert!(!err.contains("entities"), "{err}");
        assert!(!err.contains("--server-key"), "{err}");
    }
    w.server.stop().await;
}

/// The saved state holds a checkpoint of another log key (the server
/// changed its log and handed out a new key). That is reported, and like a
/// fork the state must keep the old checkpoint as evidence.
#[tokio::test(flavor = "multi_thread")]
async fn a_state_from_another_log_key_is_reported_and_kept() {
    let (mut w, readers) = World::start().await;
    w.submit(&readers, Kind::Question, "Una pregunta").await;
    w.next_day().await;
    assert!(w.verify("state.json").await.ok());
    let saved = std::fs::read(w.state("state.json")).unwrap();
    // The server switches to a new log key under a new name.
    let store = w.server.saadd.store();
    let mut b = Batch::new();
    b.put(Table::Meta, b"audit-signing-key", vec![3u8; 32]);
    b.put(Table::Meta, b"audit-origin", b"buzon.audit/nueva".to_vec());
    store.apply(b).unwrap();
    w.rewrite_log(&w.entries());
    let new_key = w.server.services.audit.verifier_key().unwrap();
    assert_ne!(new_key, w.vkey);
    for _ in 0..2 {
        let v = verify(&w.api(), &new_key, &w.state("state.json"), w.clock.unix())
            .await
            .unwrap();
        assert_eq!(v.integrity, vec![Integrity::BadState]);
        assert!(!v.saved);
        assert_eq!(std::fs::read(w.state("state.json")).unwrap(), saved);
    }
    w.server.stop().await;
}

/// `tlog_tiles`'s own storage: hashes at Go's "stored hash index".
struct GoStore(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for GoStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(*i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_served_checkpoint_and_proofs_verify_with_an_independent_implementation() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use signed_note::{Note, StandardVerifier, VerifierList};

    let w = realistic_log().await;
    let http = reqwest::Client::new();
    let get = async |path: String| {
        let r = http
            .get(format!("{}{path}", w.server.base))
            .bearer_auth(&w.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        r.text().await.unwrap()
    };
    let proof = |body: String| -> Vec<tlog_tiles::Hash> {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| tlog_tiles::Hash(B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()))
            .collect()
    };
    let known = VerifierList::new(vec![Box::new(StandardVerifier::new(&w.vkey).unwrap())]);
    let checkpoint = async || {
        let served = get("/api/v1/audit/checkpoint".into()).await;
        let note = Note::from_bytes(served.as_bytes()).unwrap();
        let (verified, unverified) = note.verify(&known).unwrap();
        assert_eq!((verified.len(), unverified.len()), (1, 0));
        let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
        assert_eq!(cp.origin(), verified[0].name());
        (cp.size(), *cp.hash())
    };

    let (size, root) = checkpoint().await;
    assert_eq!(size, w.size());
    // Their tree, from the entries as served.
    let page: serde_json::Value =
        serde_json::from_str(&get(format!("/api/v1/audit/entries?start=0&end={size}")).await)
            .unwrap();
    let entries: Vec<Vec<u8>> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| B64.decode(e.as_str().unwrap()).unwrap())
        .collect();
    let mut theirs = GoStore(Vec::new());
    for (i, e) in entries.iter().enumerate() {
        let new = tlog_tiles::stored_hashes(i as u64, e, &theirs).unwrap();
        theirs.0.extend(new);
    }
    assert_eq!(tlog_tiles::tree_hash(size, &theirs).unwrap(), root);
    // Every entry's inclusion proof, as served.
    for (i, e) in entries.iter().enumerate() {
        let p = proof(
            get(format!(
                "/api/v1/audit/proof/inclusion?index={i}&size={size}"
            ))
            .await,
        );
        tlog_tiles::check_record(&p, size, root, i as u64, tlog_tiles::record_hash(e))
            .unwrap_or_else(|err| panic!("entry {i}: {err}"));
    }

    // The log grows by a day's batch; the served consistency proof links
    // the two signed checkpoints, and from every earlier size.
    let coord = w.coordinator().await;
    w.server
        .saadd
        .set_status(*w.threads.last().unwrap(), &coord, Status::Closed)
        .await
        .unwrap();
    w.next_day().await;
    let (new_size, new_root) = checkpoint().await;
    assert!(new_size > size);
    let p = proof(
        get(format!(
            "/api/v1/audit/proof/consistency?old={size}&new={new_size}"
        ))
        .await,
    );
    tlog_tiles::check_tree(&p, new_size, new_root, size, root).unwrap();
    for old in 1..=size {
        let old_root = tlog_tiles::tree_hash(old, &theirs).unwrap();
        let p = proof(
            get(format!(
                "/api/v1/audit/proof/consistency?old={old}&new={new_size}"
            ))
            .await,
        );
        tlog_tiles::check_tree(&p, new_size, new_root, old, old_root)
            .unwrap_or_else(|e| panic!("{old}: {e}"));
    }
    w.server.stop().await;
}

/// `--date D` checks "as of the end of D": in the entity's zone. For an
/// entity east of UTC (Madrid), a thread closed on day 0 (deadline day 3)
/// and never deleted is awaiting the batch as of day 5 and missing as of
/// day 6.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_date_is_the_end_of_that_day_in_the_entity_zone() {
    let (mut w, readers) = World::start_in(Some("Europe/Madrid")).await;
    let closed = w.submit(&readers, Kind::Question, "Se cierra").await;
    let coord = w.coordinator().await;
    w.server
        .saadd
        .set_status(closed.thread, &coord, Status::Closed)
        .await
        .unwrap();
    w.next_day_batch_only().await;
    assert!(w.size() > 0);
    let o = w
        .cli("en_US.UTF-8", &w.vkey, "state.json", &day(6).iso())
        .await;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("MISSING"), "{out}");
    let o = w
        .cli("en_US.UTF-8", &w.vkey, "state.json", &day(5).iso())
        .await;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success() && out.contains("1 await the daily batch"),
        "as of the end of day 5 in Madrid the deletion may still come with the batch:\n{out}"
    );
    w.server.stop().await;
}

/// The report names entities by the slug of the server's entity document
/// (as reporters know them), not by a prefix of their id.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_names_entities_by_their_slug() {
    let (mut w, readers) = World::start().await;
    w.submit(&readers, Kind::Question, "Una pregunta").await;
    w.next_day().await;
    let o = w
        .cli("en_US.UTF-8", &w.vkey, "state.json", &day(1).iso())
        .await;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{out}");
    assert!(out.contains("  sej: 1 threads open"), "{out}");
    assert!(!out.contains(&hex::encode(&w.entity.0[..6])), "{out}");
    w.server.stop().await;
}

/// A server that missed a deadline cannot fix its record afterwards. A
/// thread closed on day 0 (deadline day 3) is not deleted; the auditor's
/// run on day 7 reports it missing, with the log complete through day 6.
/// On day 8 the server appends a `deleted` entry dated day 4 — on time, on
/// paper. No honest server appends a day-4 entry after day 5's batch, and
/// the auditor's last run proved the log had none: the next run must still
/// report a problem.
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_backdated_after_a_run_saw_it_missing_is_reported() {
    let (mut w, readers) = World::start().await;
    let closed = w.submit(&readers, Kind::Question, "Se cierra").await;
    let coord = w.coordinator().await;
    w.server
        .saadd
        .set_status(closed.thread, &coord, Status::Closed)
        .await
        .unwrap();
    for _ in 1..=7 {
        w.next_day_batch_only().await;
    }
    let v = w.verify("state.json").await;
    assert!(
        matches!(
            v.report.violations.as_slice(),
            [Violation::DeletionMissing { .. }]
        ),
        "{:?}",
        v.report.violations
    );
    assert!(v.saved);

    // Day 8: the backdated deletion, appended and signed.
    let mut entries = w.entries();
    let (entity, thread) = entries
        .iter()
        .find_map(|e| match Entry::decode(e).unwrap().event {
            Event::Created { entity, thread, .. } => Some((entity, thread)),
            _ => None,
        })
        .unwrap();
    entries.push(
        Entry {
            day: day(4),
            event: Event::Deleted {
                entity,
                thread,
                rule: Rule::Closed,
                deadline: Some(day(3)),
            },
        }
        .encode(),
    );
    w.clock.advance_days(1);
    w.rewrite_log(&entries);
    let v = w.verify("state.json").await;
    assert!(
        matches!(v.integrity.as_slice(), [Integrity::Backdated { day: d, .. }] if *d == day(4)),
        "a deletion dated day 4, first logged after a run on day 7 saw the log without it: {:?}",
        v.integrity
    );
    assert!(!v.ok() && !v.saved, "the evidence stays in the state file");
    w.server.stop().await;
}
