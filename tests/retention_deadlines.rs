//! Retention deadlines with an injected clock (issue 5, spec/retention.md):
//! threads past their deadline disappear with everything they hold, threads
//! within it are untouched, receipts stop, and the audit log records each
//! event on its day — appended only once that day has ended in Mexico City —
//! so that the auditor's check and the host-side scan agree with what the
//! server did.
//!
//! Every test runs a real server (sled directory, file key vault) whose
//! clock the test moves: day `n` is noon in Mexico City, `n` days after the
//! fixture's first day, and a retention pass runs the sweeper and the
//! audit log's daily batch as the server's hourly task does.

mod common;

use std::sync::Arc;

use buzon::core::Day;
use buzon::core::envelope::{Id, Slot};
use buzon::core::retention::{self, Entry, Event, Handle, Policy, Rule, Violation};
use buzon::core::status::{Kind, Status};
use buzon::saadd::retention::SweepCounts;
use buzon::saadd::{Deleting, Saadd, SaaddError, StaffLogin, Submitted, ThreadRecord};
use buzon::store::{Batch, Table};
use common::{Fixture, STAFF_PASSWORD, TestClock, TestServer, fixture};

/// The questions' policy in these tests: short enough to run through.
const SMALL: Policy = Policy {
    closed: 10,
    inactive: 20,
    receipt: 15,
    cap: 30,
};

/// Three chunks: a full one, a full one and a short one.
const FILE_LEN: usize = 2 * (65_536 - 4) + 1000;

fn file_bytes(seed: u8) -> Vec<u8> {
    (0..FILE_LEN)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A thread the test made, with what its reporter holds.
struct Made {
    id: Id,
    text: String,
    receipt: String,
    secret: buzon::core::wrap::RecipientSecret,
    /// The bytes of each attachment sent with the first message.
    files: Vec<Vec<u8>>,
}

struct World {
    server: TestServer,
    clock: Arc<TestClock>,
    saadd: Arc<Saadd>,
    f: Fixture,
    coord: StaffLogin,
    day0: Day,
    /// Noon of day 0 in Mexico City, in Unix seconds.
    noon0: u64,
}

impl World {
    /// A server on 2026-03-02 with the fixture entity, whose questions live
    /// under [`SMALL`] from day 0 (claims keep the default policy).
    async fn new() -> World {
        let clock = TestClock::at("2026-03-02");
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with_clock(dir, clock.clone()).await;
        let saadd = server.saadd.clone();
        let f = fixture(&saadd).await;
        let coord = saadd.staff_login("coord-a", STAFF_PASSWORD).await.unwrap();
        let day0 = saadd.entity_day(f.entity).unwrap();
        assert_eq!(day0.iso(), "2026-03-02");
        let w = World {
            noon0: clock.unix(),
            server,
            clock,
            saadd,
            f,
            coord,
            day0,
        };
        w.saadd
            .set_policy(w.f.entity, Kind::Question, SMALL, false)
            .await
            .unwrap();
        w
    }

    fn day(&self, n: u32) -> Day {
        Day(self.day0.0 + n)
    }

    /// Noon of day `n` in Mexico City.
    fn on(&self, n: u32) {
        self.clock.set(self.noon0 + u64::from(n) * 86_400);
        assert_eq!(self.saadd.entity_day(self.f.entity).unwrap(), self.day(n));
    }

    /// `hh:mm` UTC on the calendar date of day `n` (Mexico City is UTC−6
    /// all year: its day `n` begins at 06:00 UTC of that date).
    fn utc(&self, n: u32, hh: u64, mm: u64) -> u64 {
        u64::from(self.day(n).0) * 86_400 + hh * 3600 + mm * 60
    }

    async fn pass(&self) -> SweepCounts {
        self.server.services.retention_pass().await.unwrap()
    }

    /// Noon of day `n`, then a retention pass.
    async fn pass_on(&self, n: u32) -> SweepCounts {
        self.on(n);
        self.pass().await
    }

    async fn submit(&self, kind: Kind, text: &str, files: Vec<Vec<u8>>) -> Made {
        let readers: Vec<Id> = self
            .saadd
            .coordinators(self.f.entity)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        let new = self.saadd.begin_thread();
        let mut finished = Vec::new();
        for (i, bytes) in files.iter().enumerate() {
            let mut sink = self.saadd.new_thread_sink(&new);
            sink.write(bytes).unwrap();
            finished.push(
                sink.finish(&format!("anexo-{i}.pdf"), "application/pdf")
                    .unwrap(),
            );
        }
        let Submitted {
            thread,
            receipt,
            secret,
        } = self
            .saadd
            .submit(self.f.entity, kind, text, &readers, new, finished)
            .await
            .unwrap();
        Made {
            id: thread,
            text: text.to_owned(),
            receipt: receipt.phrase().to_string(),
            secret,
            files,
        }
    }

    async fn staff_says(&self, t: &Made, text: &str) {
        let slot = Slot::Staff(self.coord.staff.id);
        let d = self
            .saadd
            .begin_reply(t.id, slot, &self.coord.secret)
            .await
            .unwrap();
        self.saadd
            .post(d, slot, &self.coord.secret, "Coordinación A", text, vec![])
            .await
            .unwrap();
    }

    async fn reporter_says(&self, t: &Made, text: &str) {
        let d = self
            .saadd
            .begin_reply(t.id, Slot::Reporter, &t.secret)
            .await
            .unwrap();
        self.saadd
            .post(d, Slot::Reporter, &t.secret, "", text, vec![])
            .await
            .unwrap();
    }

    async fn status(&self, t: &Made, to: Status) {
        self.saadd.set_status(t.id, &self.coord, to).await.unwrap();
    }

    fn record(&self, t: &Made) -> ThreadRecord {
        self.saadd.thread(t.id).unwrap()
    }

    fn handle(&self, t: &Made) -> Handle {
        Handle(self.record(t).audit.expect("an audit handle").0)
    }

    /// Every entry in the log, decoded.
    fn entries(&self) -> Vec<Entry> {
        self.server
            .services
            .audit
            .all_entries()
            .unwrap()
            .iter()
            .map(|b| Entry::decode(b).unwrap())
            .collect()
    }

    fn pending(&self) -> Vec<Entry> {
        self.server.services.audit.pending_entries().unwrap()
    }

    /// The auditor's check of the whole log, as of the test clock.
    fn check(&self) -> retention::Report {
        retention::check(&self.entries(), self.clock.unix())
    }

    /// Where anything of the thread is still stored: empty once it is gone.
    fn stored(&self, t: Id) -> Vec<&'static str> {
        let store = self.saadd.store();
        let mut out = Vec::new();
        if store.get(Table::Thread, &t.0).unwrap().is_some() {
            out.push("Thread");
        }
        for (table, name) in [
            (Table::Wrap, "Wrap"),
            (Table::Link, "Link"),
            (Table::Message, "Message"),
            (Table::Attachment, "Attachment"),
            (Table::Chunk, "Chunk"),
        ] {
            if !store.scan_keys(table, &t.0, usize::MAX).unwrap().is_empty() {
                out.push(name);
            }
        }
        let in_index = store
            .scan(Table::ReceiptIndex, &[], usize::MAX)
            .unwrap()
            .iter()
            .any(|(_, v)| v.as_slice() == t.0);
        if in_index {
            out.push("ReceiptIndex");
        }
        let mut pair = self.f.entity.0.to_vec();
        pair.extend_from_slice(&t.0);
        if store.get(Table::EntityThread, &pair).unwrap().is_some() {
            out.push("EntityThread");
        }
        if store.get(Table::Vault, &t.0).unwrap().is_some() {
            out.push("sled Vault");
        }
        if self.saadd.vault().get(&t.0).is_some() {
            out.push("key vault");
        }
        out
    }

    fn chunks(&self, t: Id) -> usize {
        self.saadd
            .store()
            .scan_keys(Table::Chunk, &t.0, usize::MAX)
            .unwrap()
            .len()
    }

    fn exists(&self, t: &Made) -> bool {
        self.saadd.thread(t.id).is_ok()
    }

    /// Reads the whole thread as `slot` and checks the first message and
    /// every attachment of it, chunk by chunk.
    fn read_as(&self, t: &Made, slot: Slot, secret: &buzon::core::wrap::RecipientSecret) {
        let view = self.saadd.read(t.id, slot, secret).unwrap();
        assert_eq!(view.messages[0].body.text, t.text);
        assert_eq!(view.attachments.len(), t.files.len());
        for (att, meta) in &view.attachments {
            let (_, mut reader) = self.saadd.attachment(t.id, *att, slot, secret).unwrap();
            let mut bytes = Vec::new();
            while let Some(chunk) = reader.next_chunk().unwrap() {
                bytes.extend_from_slice(chunk.expose());
            }
            assert_eq!(bytes.len() as u64, meta.size);
            assert!(t.files.contains(&bytes), "an attachment reads back as sent");
        }
    }

    /// Staff and the reporter (typing the receipt) both read it in full.
    async fn assert_readable(&self, t: &Made) {
        assert!(self.exists(t), "the thread is there");
        self.read_as(t, Slot::Staff(self.coord.staff.id), &self.coord.secret);
        let (id, secret) = self.saadd.open_with_receipt(&t.receipt).await.unwrap();
        assert_eq!(id, t.id);
        self.read_as(t, Slot::Reporter, &secret);
    }

    /// Nothing of the thread is left, and no reader opens it.
    async fn assert_gone(&self, t: &Made) {
        assert_eq!(self.stored(t.id), Vec::<&str>::new(), "left behind");
        assert!(matches!(self.saadd.thread(t.id), Err(SaaddError::NotFound)));
        assert!(
            self.saadd
                .read(t.id, Slot::Staff(self.coord.staff.id), &self.coord.secret)
                .is_err()
        );
        assert!(self.saadd.read(t.id, Slot::Reporter, &t.secret).is_err());
        assert!(matches!(
            self.saadd.open_with_receipt(&t.receipt).await,
            Err(SaaddError::WrongReceipt)
        ));
    }

    /// Writes the thread's record back with `deleting` set, as a crash
    /// right after step 1 of a deletion leaves it.
    fn mark_deleting(&self, t: &Made, rule: Rule, deadline: Option<Day>) {
        let store = self.saadd.store();
        let bytes = store.get(Table::Thread, &t.id.0).unwrap().unwrap();
        let mut record: ThreadRecord = serde_json::from_slice(&bytes).unwrap();
        record.deleting = Some(Deleting { rule, deadline });
        let mut b = Batch::new();
        b.put(Table::Thread, t.id.0, serde_json::to_vec(&record).unwrap());
        store.apply(b).unwrap();
        store.flush().unwrap();
    }
}

/// The `deleted` entries of the log for one handle.
fn deletions(entries: &[Entry], handle: Handle) -> Vec<(Day, Rule, Option<Day>)> {
    entries
        .iter()
        .filter_map(|e| match e.event {
            Event::Deleted {
                thread,
                rule,
                deadline,
                ..
            } if thread == handle => Some((e.day, rule, deadline)),
            _ => None,
        })
        .collect()
}

/// The log's entries about one thread, as (day, event name).
fn thread_story(entries: &[Entry], handle: Handle) -> Vec<(Day, &'static str)> {
    entries
        .iter()
        .filter(|e| e.event.thread() == Some(handle))
        .map(|e| {
            let name = match e.event {
                Event::Created { .. } => "created",
                Event::Closed { .. } => "closed",
                Event::Reopened { .. } => "reopened",
                Event::Deleted { .. } => "deleted",
                _ => "other",
            };
            (e.day, name)
        })
        .collect()
}

fn no_deletions(c: &SweepCounts) -> bool {
    c.deleted() == 0 && c.finished == 0
}

// ---------------------------------------------------------------------------
// 1. The closed rule

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_thread_goes_on_its_deadline_with_its_attachments_and_nothing_else_does() {
    let w = World::new().await;
    let a = w
        .submit(
            Kind::Question,
            "¿Puedo aceptar un regalo de un proveedor?",
            vec![file_bytes(1)],
        )
        .await;
    let b = w
        .submit(
            Kind::Question,
            "¿Debo declarar un conflicto de interés?",
            vec![file_bytes(2)],
        )
        .await;
    assert_eq!(
        w.chunks(a.id),
        3,
        "the attachment is stored in three chunks"
    );
    assert_eq!(w.chunks(b.id), 3);
    // An advisor assigned and removed: the key rotates, and A gains an
    // epoch link record.
    w.saadd.assign(a.id, &w.coord, w.f.adv_1.id).await.unwrap();
    w.saadd
        .unassign(a.id, &w.coord, w.f.adv_1.id)
        .await
        .unwrap();
    assert_eq!(w.record(&a).epoch, 1);
    assert!(w.stored(a.id).contains(&"Link"), "{:?}", w.stored(a.id));

    // Closed on day C = 1: the deadline is C + 10 = day 11.
    w.on(1);
    w.status(&a, Status::Closed).await;
    assert_eq!(w.record(&a).closed, Some(w.day(1)));
    for n in 2..=10 {
        let c = w.pass_on(n).await;
        assert!(no_deletions(&c), "day {n}: {c:?}");
    }
    // C + N − 1, after the pass: everything is still there and readable.
    w.assert_readable(&a).await;
    assert_eq!(w.chunks(a.id), 3);

    let c = w.pass_on(11).await;
    assert_eq!((c.closed, c.deleted()), (1, 1), "{c:?}");
    w.assert_gone(&a).await;

    // The sibling, within its deadlines, is untouched and readable by both.
    assert_eq!(
        w.stored(b.id),
        vec![
            "Thread",
            "Wrap",
            "Message",
            "Attachment",
            "Chunk",
            "ReceiptIndex",
            "EntityThread",
            "key vault"
        ]
    );
    assert_eq!(w.chunks(b.id), 3);
    w.assert_readable(&b).await;
    let listed: Vec<Id> = w
        .saadd
        .threads_for(&w.coord.staff)
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![b.id]);

    // The log says so on day 11, with the closed deadline.
    w.pass_on(12).await;
    let entries = w.entries();
    assert_eq!(
        deletions(&entries, w.handle_of_deleted(&entries, &b)),
        vec![(w.day(11), Rule::Closed, Some(w.day(11)))]
    );
    assert!(w.check().is_clean(), "{:?}", w.check().violations);
    w.server.stop().await;
}

impl World {
    /// The handle of the one thread deleted so far, `kept` being the only
    /// other thread with entries.
    fn handle_of_deleted(&self, entries: &[Entry], kept: &Made) -> Handle {
        let kept = self.handle(kept);
        let handles: std::collections::BTreeSet<Handle> = entries
            .iter()
            .filter_map(|e| e.event.thread())
            .filter(|h| *h != kept)
            .collect();
        assert_eq!(handles.len(), 1);
        handles.into_iter().next().unwrap()
    }
}

// ---------------------------------------------------------------------------
// 2. Inactivity, the cap, and what reopening does to the closed clock

#[tokio::test(flavor = "multi_thread")]
async fn replies_push_inactivity_reopening_stops_the_closed_clock_and_nothing_moves_the_cap() {
    let w = World::new().await;
    // X: replies from both sides push its inactivity deadline to day 28.
    let x = w
        .submit(Kind::Question, "Hilo que se queda callado", vec![])
        .await;
    // Y: kept busy, closed and reopened: the cap (day 30) still takes it.
    let y = w
        .submit(Kind::Question, "Hilo que llega al tope", vec![])
        .await;
    // Z: closed on day 2, reopened on day 6, closed again on day 14: the
    // closed deadline counts from day 14 alone (day 24).
    let z = w
        .submit(Kind::Question, "Hilo que se cierra dos veces", vec![])
        .await;
    // V: the reporter withdraws it on day 9.
    let v = w.submit(Kind::Question, "Hilo retirado", vec![]).await;
    let handles = [w.handle(&x), w.handle(&y), w.handle(&z), w.handle(&v)];

    for n in 1..=31u32 {
        w.on(n);
        match n {
            2 => w.status(&z, Status::Closed).await,
            3 => w.status(&y, Status::Closed).await,
            5 => w.staff_says(&x, "Le respondemos pronto").await,
            6 => w.status(&z, Status::InProgress).await,
            8 => {
                w.reporter_says(&x, "Sigo esperando").await;
                w.status(&y, Status::InProgress).await;
            }
            9 => w.saadd.withdraw(v.id, &v.secret).await.unwrap(),
            12 => w.staff_says(&y, "Seguimos").await,
            13 => w.staff_says(&z, "Reabierto y atendido").await,
            14 => w.status(&z, Status::Closed).await,
            20 => w.reporter_says(&y, "¿Hay novedades?").await,
            25 => w.status(&y, Status::Closed).await,
            _ => {}
        }
        let c = w.pass().await;
        match n {
            // Z's first close would have ended it on day 12; it was
            // reopened on day 6.
            12 => {
                assert!(no_deletions(&c), "day {n}: {c:?}");
                assert!(w.exists(&z), "reopening stops the closed clock");
            }
            // X untouched since day 0 would end on day 20; a staff reply
            // alone on day 25.
            20 | 25 | 27 => {
                assert!(no_deletions(&c), "day {n}: {c:?}");
                assert!(w.exists(&x), "day {n}: a reply pushes inactivity");
            }
            // X's receipt: 15 days after its last message (day 8).
            23 => {
                assert!(no_deletions(&c), "day {n}: {c:?}");
                assert_eq!(c.receipts, 1, "day {n}: {c:?}");
            }
            24 => {
                assert_eq!((c.closed, c.deleted()), (1, 1), "day {n}: {c:?}");
                assert!(!w.exists(&z));
                w.assert_gone(&z).await;
            }
            28 => {
                assert_eq!((c.inactive, c.deleted()), (1, 1), "day {n}: {c:?}");
                w.assert_gone(&x).await;
            }
            29 => {
                assert!(no_deletions(&c), "day {n}: {c:?}");
                assert!(w.exists(&y), "the cap is day 30");
            }
            30 => {
                assert_eq!((c.cap, c.deleted()), (1, 1), "day {n}: {c:?}");
                w.assert_gone(&y).await;
            }
            _ => assert!(no_deletions(&c), "day {n}: {c:?}"),
        }
        if n < 23 {
            assert_eq!(c.receipts, 0, "day {n}: {c:?}");
        }
    }

    let entries = w.entries();
    let [hx, hy, hz, hv] = handles;
    assert_eq!(
        deletions(&entries, hx),
        vec![(w.day(28), Rule::Inactive, Some(w.day(28)))]
    );
    assert_eq!(
        deletions(&entries, hy),
        vec![(w.day(30), Rule::Cap, Some(w.day(30)))]
    );
    assert_eq!(
        deletions(&entries, hz),
        vec![(w.day(24), Rule::Closed, Some(w.day(24)))]
    );
    assert_eq!(
        deletions(&entries, hv),
        vec![(w.day(9), Rule::Withdrawn, None)]
    );
    assert_eq!(
        thread_story(&entries, hz),
        vec![
            (w.day(0), "created"),
            (w.day(2), "closed"),
            (w.day(6), "reopened"),
            (w.day(14), "closed"),
            (w.day(24), "deleted"),
        ]
    );
    assert_eq!(
        thread_story(&entries, hy),
        vec![
            (w.day(0), "created"),
            (w.day(3), "closed"),
            (w.day(8), "reopened"),
            (w.day(25), "closed"),
            (w.day(30), "deleted"),
        ]
    );
    // Days of ordinary activity are never logged: X's story is its birth
    // and its death.
    assert_eq!(
        thread_story(&entries, hx),
        vec![(w.day(0), "created"), (w.day(28), "deleted")]
    );

    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.threads_created, 4);
    assert_eq!(report.deleted_on_time, 4);
    assert_eq!(
        report.deleted_by_rule,
        retention::RuleCounts {
            closed: 1,
            inactive: 1,
            cap: 1,
            withdrawn: 1,
            ..Default::default()
        }
    );
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 3. The receipt rule

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_stops_after_its_inactivity_days_and_staff_still_read() {
    let w = World::new().await;
    let r = w
        .submit(Kind::Question, "Mi recibo caducará", vec![file_bytes(3)])
        .await;
    w.on(3);
    // The reporter's reply on day 3: the receipt works through day 17.
    w.reporter_says(&r, "Añado un dato").await;
    w.on(10);
    let s = w
        .submit(Kind::Question, "Mi recibo sigue vivo", vec![])
        .await;

    for n in 4..=17 {
        let c = w.pass_on(n).await;
        assert_eq!(c.receipts, 0, "day {n}: {c:?}");
    }
    w.assert_readable(&r).await;

    let c = w.pass_on(18).await;
    assert_eq!(c.receipts, 1, "{c:?}");
    assert!(no_deletions(&c), "{c:?}");
    assert!(matches!(
        w.saadd.open_with_receipt(&r.receipt).await,
        Err(SaaddError::WrongReceipt)
    ));
    assert!(w.record(&r).receipt_expired);
    // Staff still read it, attachment included; the other receipt works.
    w.read_as(&r, Slot::Staff(w.coord.staff.id), &w.coord.secret);
    w.assert_readable(&s).await;

    // A staff reply moves activity, not the receipt back to life, and the
    // next pass does not count it again.
    w.on(19);
    w.staff_says(&r, "Respuesta tardía").await;
    let c = w.pass().await;
    assert_eq!(c.receipts, 0, "{c:?}");
    assert!(matches!(
        w.saadd.open_with_receipt(&r.receipt).await,
        Err(SaaddError::WrongReceipt)
    ));
    assert_eq!(w.record(&r).activity, w.day(19));
    w.read_as(&r, Slot::Staff(w.coord.staff.id), &w.coord.secret);
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 4. Withdrawal

#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawal_deletes_at_once_and_is_logged_with_no_deadline() {
    let w = World::new().await;
    let t = w
        .submit(Kind::Claim, "Denuncia que retiraré", vec![file_bytes(4)])
        .await;
    let kept = w.submit(Kind::Claim, "Denuncia que sigue", vec![]).await;
    let handle = w.handle(&t);
    w.on(2);
    w.saadd.withdraw(t.id, &t.secret).await.unwrap();
    w.assert_gone(&t).await;
    w.assert_readable(&kept).await;

    // Pending until day 2 has ended, then in the log.
    let pending = deletions(&w.pending(), handle);
    assert_eq!(pending, vec![(w.day(2), Rule::Withdrawn, None)]);
    w.pass().await;
    assert!(deletions(&w.entries(), handle).is_empty());
    let c = w.pass_on(3).await;
    assert!(no_deletions(&c), "a withdrawal is not the sweeper's: {c:?}");
    assert_eq!(
        deletions(&w.entries(), handle),
        vec![(w.day(2), Rule::Withdrawn, None)]
    );
    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.deleted_by_rule.withdrawn, 1);
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 5. The audit log

#[tokio::test(flavor = "multi_thread")]
async fn the_log_holds_each_event_on_its_day_once_that_day_has_ended_in_mexico_city() {
    let w = World::new().await;
    let t = w.submit(Kind::Question, "Pregunta auditada", vec![]).await;
    let handle = w.handle(&t);
    assert_ne!(handle.0, t.id.0, "the audit handle is not the thread id");
    let entity = retention::EntityId(w.f.entity.0);

    // Day 0 is still going on at 23:59 in Mexico City (05:59 UTC of the
    // next date): nothing is appended.
    let day0_pending = w.pending();
    assert!(day0_pending.iter().all(|e| e.day == w.day(0)));
    w.clock.set(w.utc(1, 5, 59));
    assert_eq!(w.saadd.entity_day(w.f.entity).unwrap(), w.day(0));
    let c = w.pass().await;
    assert_eq!(c.logged, 0);
    assert!(w.entries().is_empty());
    assert_eq!(w.pending().len(), day0_pending.len());

    // At 06:00 UTC day 0 has ended there: the whole day goes in.
    w.clock.set(w.utc(1, 6, 0));
    assert_eq!(w.saadd.entity_day(w.f.entity).unwrap(), w.day(1));
    let c = w.pass().await;
    assert_eq!(c.logged, day0_pending.len() as u64);
    assert!(w.pending().is_empty());
    let entries = w.entries();
    assert_eq!(entries.len(), day0_pending.len());
    for e in &day0_pending {
        assert!(entries.contains(e), "appended as pending: {e:?}");
    }
    assert!(entries.iter().all(|e| e.day == w.day(0)));
    assert!(entries.iter().any(|e| e.event
        == Event::Entity {
            entity,
            zone: retention::ZoneName::new("America/Mexico_City").unwrap(),
        }));
    let question_policies: Vec<(Policy, bool)> = entries
        .iter()
        .filter_map(|e| match e.event {
            Event::Policy {
                kind: Kind::Question,
                policy,
                existing,
                ..
            } => Some((policy, existing)),
            _ => None,
        })
        .collect();
    assert!(question_policies.contains(&(SMALL, false)));
    assert!(
        question_policies.contains(&(Policy::default_for(Kind::Question), false)),
        "the entity's registration states its first policy"
    );
    assert!(entries.iter().any(|e| e.event
        == Event::Policy {
            entity,
            kind: Kind::Claim,
            policy: Policy::default_for(Kind::Claim),
            existing: false,
        }));
    let staff_keys = entries
        .iter()
        .filter(|e| matches!(e.event, Event::StaffKey { .. }))
        .count();
    assert_eq!(staff_keys, 4, "the fixture's four staff keys");
    assert!(entries.contains(&Entry {
        day: w.day(0),
        event: Event::Created {
            entity,
            thread: handle,
            kind: Kind::Question,
            policy: SMALL,
        },
    }));

    // Closed on day 1, reopened on day 2, closed again on day 3: each
    // entry appears with the first pass after its day ended.
    for (n, to) in [
        (1, Status::Closed),
        (2, Status::InProgress),
        (3, Status::Closed),
    ] {
        w.on(n);
        w.status(&t, to).await;
        let before = w.entries().len();
        w.pass().await;
        assert_eq!(w.entries().len(), before, "day {n}: not before it ends");
        assert_eq!(w.pending().len(), 1);
        w.clock.set(w.utc(n + 1, 5, 59));
        w.pass().await;
        assert_eq!(w.entries().len(), before, "day {n}: not at 23:59");
        w.clock.set(w.utc(n + 1, 6, 0));
        let c = w.pass().await;
        assert_eq!(c.logged, 1, "day {n}: at 00:00 of the next day");
        assert_eq!(w.entries().len(), before + 1);
    }

    // Deleted on day 13 (closed on day 3, + 10).
    for n in 4..=13 {
        w.pass_on(n).await;
    }
    assert!(!w.exists(&t));
    let deleted = Entry {
        day: w.day(13),
        event: Event::Deleted {
            entity,
            thread: handle,
            rule: Rule::Closed,
            deadline: Some(w.day(13)),
        },
    };
    assert_eq!(w.pending(), vec![deleted.clone()]);
    w.clock.set(w.utc(14, 5, 59));
    w.pass().await;
    assert!(!w.entries().contains(&deleted));
    w.clock.set(w.utc(14, 6, 0));
    w.pass().await;
    assert!(w.pending().is_empty());
    let entries = w.entries();
    assert_eq!(entries.last(), Some(&deleted));

    assert_eq!(
        thread_story(&entries, handle),
        vec![
            (w.day(0), "created"),
            (w.day(1), "closed"),
            (w.day(2), "reopened"),
            (w.day(3), "closed"),
            (w.day(13), "deleted"),
        ]
    );
    // Every thread entry carries the one handle, and nothing carries the id.
    let thread_entries: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.event.thread().is_some())
        .collect();
    assert_eq!(thread_entries.len(), 5);
    assert!(
        thread_entries
            .iter()
            .all(|e| e.event.thread() == Some(handle))
    );
    for bytes in w.server.services.audit.all_entries().unwrap() {
        assert!(!common::contains(&bytes, hex::encode(t.id.0).as_bytes()));
        assert!(!common::contains(&bytes, &t.id.0));
    }

    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.threads_created, 1);
    assert_eq!(report.deleted_on_time, 1);
    assert_eq!(
        report.deleted_by_rule,
        retention::RuleCounts {
            closed: 1,
            ..Default::default()
        }
    );
    assert_eq!(report.staff_key_events, 4);
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 6. Policy changes

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_change_reaches_existing_threads_only_when_it_says_so() {
    let w = World::new().await;
    let entity = w.f.entity;
    // Day 0: an old question under SMALL, and a claim (default policy).
    let old = w.submit(Kind::Question, "Pregunta antigua", vec![]).await;
    let claim = w
        .submit(Kind::Claim, "Denuncia ajena al cambio", vec![])
        .await;

    // Day 2: a much shorter policy for new threads only.
    let short = Policy {
        closed: 2,
        inactive: 2,
        receipt: 2,
        cap: 3,
    };
    w.on(2);
    let change = w
        .saadd
        .set_policy(entity, Kind::Question, short, false)
        .await
        .unwrap();
    assert_eq!((change.old, change.applied_to), (SMALL, 0));
    assert_eq!(w.record(&old).policy, Some(SMALL));
    let mid = w
        .submit(Kind::Question, "Pregunta de política corta", vec![])
        .await;
    assert_eq!(w.record(&mid).policy, Some(short));
    assert!(no_deletions(&w.pass_on(3).await));
    // Day 4: the new thread's inactivity (2 + 2); the old one keeps SMALL.
    let c = w.pass_on(4).await;
    assert_eq!((c.inactive, c.deleted()), (1, 1), "{c:?}");
    assert!(!w.exists(&mid));
    assert!(w.exists(&old));

    // Day 5: back to SMALL for new threads (longer, new threads only).
    w.on(5);
    w.saadd
        .set_policy(entity, Kind::Question, SMALL, false)
        .await
        .unwrap();
    let recent = w.submit(Kind::Question, "Pregunta reciente", vec![]).await;
    for n in 6..=7 {
        assert!(no_deletions(&w.pass_on(n).await));
    }

    // Day 8: a longer policy cannot reach existing threads, and leaves no
    // trace in the log.
    w.on(8);
    let pending = w.pending().len();
    let longer = Policy { cap: 31, ..SMALL };
    assert!(matches!(
        w.saadd
            .set_policy(entity, Kind::Question, longer, true)
            .await,
        Err(SaaddError::Invalid(_))
    ));
    assert_eq!(w.pending().len(), pending);
    assert_eq!(w.saadd.policy(entity, Kind::Question).unwrap(), SMALL);

    // A shorter one does, from day 8. The old thread's new cap (0 + 6) and
    // inactivity (0 + 5) are already past: its deadline is the change day,
    // not earlier. The recent one's (5 + 5 = 10) is not.
    let shorter = Policy {
        closed: 3,
        inactive: 5,
        receipt: 4,
        cap: 6,
    };
    let change = w
        .saadd
        .set_policy(entity, Kind::Question, shorter, true)
        .await
        .unwrap();
    assert_eq!(change.applied_to, 2, "the old and the recent question");
    assert_eq!(w.record(&old).policy, Some(shorter));
    assert_eq!(w.record(&old).policy_floor, Some(w.day(8)));
    assert_eq!(w.record(&recent).policy, Some(shorter));
    assert_eq!(
        w.record(&claim).policy,
        Some(Policy::default_for(Kind::Claim))
    );
    let (h_old, h_recent) = (w.handle(&old), w.handle(&recent));
    let c = w.pass().await;
    assert_eq!((c.cap, c.deleted()), (1, 1), "{c:?}");
    w.assert_gone(&old).await;
    // The recent thread's receipt stops on day 9 (5 + 4), and it goes on
    // day 10 (5 + 5).
    let c = w.pass_on(9).await;
    assert_eq!((c.receipts, c.deleted()), (1, 0), "{c:?}");
    let c = w.pass_on(10).await;
    assert_eq!((c.inactive, c.deleted()), (1, 1), "{c:?}");
    assert!(!w.exists(&recent));
    w.assert_readable(&claim).await;

    w.pass_on(11).await;
    let entries = w.entries();
    assert_eq!(
        deletions(&entries, h_old),
        vec![(w.day(8), Rule::Cap, Some(w.day(8)))]
    );
    assert_eq!(
        deletions(&entries, h_recent),
        vec![(w.day(10), Rule::Inactive, Some(w.day(10)))]
    );
    let policies: Vec<(Day, Policy, bool)> = entries
        .iter()
        .filter_map(|e| match e.event {
            Event::Policy {
                kind: Kind::Question,
                policy,
                existing,
                ..
            } => Some((e.day, policy, existing)),
            _ => None,
        })
        .collect();
    for expected in [
        (w.day(0), Policy::default_for(Kind::Question), false),
        (w.day(0), SMALL, false),
        (w.day(2), short, false),
        (w.day(5), SMALL, false),
        (w.day(8), shorter, true),
    ] {
        assert!(policies.contains(&expected), "{expected:?} in {policies:?}");
    }
    assert!(
        policies.windows(2).all(|p| p[0].0 <= p[1].0),
        "days in order"
    );
    assert_eq!(policies.len(), 5, "{policies:?}");

    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.policy_changes_existing, 1);
    assert_eq!(report.deleted_on_time, 3);
    assert_eq!(
        report.deleted_by_rule,
        retention::RuleCounts {
            inactive: 2,
            cap: 1,
            ..Default::default()
        }
    );
    assert_eq!(report.open_within_deadline, 1, "the claim");
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 7. Interrupted deletions, orphan keys, idempotence

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deletion_is_invisible_and_the_next_pass_finishes_it_once() {
    let w = World::new().await;
    let after_mark = w
        .submit(
            Kind::Question,
            "Cortado tras el paso 1",
            vec![file_bytes(5)],
        )
        .await;
    let after_key = w
        .submit(
            Kind::Question,
            "Cortado tras el paso 2",
            vec![file_bytes(6)],
        )
        .await;
    let kept = w
        .submit(Kind::Question, "Hilo intacto", vec![file_bytes(7)])
        .await;
    w.on(1);

    // Step 1 done (the record says `deleting`), then a crash.
    w.mark_deleting(&after_mark, Rule::Closed, Some(w.day(1)));
    // Steps 1 and 2 done (the key is destroyed), then a crash.
    w.mark_deleting(&after_key, Rule::Inactive, Some(w.day(1)));
    w.saadd.vault().remove(&[after_key.id.0]).unwrap();
    // A key whose thread never landed.
    let orphan: [u8; 16] = rand_bytes();
    w.saadd.vault().put(orphan, rand_bytes()).unwrap();

    for t in [&after_mark, &after_key] {
        assert!(matches!(w.saadd.thread(t.id), Err(SaaddError::NotFound)));
        assert!(
            w.saadd
                .read(t.id, Slot::Staff(w.coord.staff.id), &w.coord.secret)
                .is_err()
        );
        assert!(w.saadd.read(t.id, Slot::Reporter, &t.secret).is_err());
        assert!(matches!(
            w.saadd.open_with_receipt(&t.receipt).await,
            Err(SaaddError::WrongReceipt)
        ));
        assert!(
            w.saadd
                .begin_reply(t.id, Slot::Reporter, &t.secret)
                .await
                .is_err()
        );
    }

    let c = w.pass().await;
    assert_eq!(c.finished, 2, "{c:?}");
    assert_eq!(c.deleted(), 0, "{c:?}");
    assert_eq!(c.orphan_keys, 1, "{c:?}");
    w.assert_gone(&after_mark).await;
    w.assert_gone(&after_key).await;
    assert!(w.saadd.vault().get(&orphan).is_none());
    assert!(!w.saadd.vault().ids().contains(&orphan));
    w.assert_readable(&kept).await;
    assert_eq!(w.chunks(kept.id), 3);

    // Again: nothing left to do.
    let c = w.pass().await;
    assert_eq!(
        c,
        SweepCounts::default(),
        "a second pass does nothing: {c:?}"
    );
    w.assert_readable(&kept).await;
    w.server.stop().await;
}

/// Between step 1 of a deletion and its end (a crash, or another request
/// running while the sweeper holds the write lock), the thread's
/// `EntityThread` row is still there while the record says `deleting`:
/// the staff list must skip it, not fail for every staff member.
#[tokio::test(flavor = "multi_thread")]
async fn the_staff_list_skips_a_thread_whose_deletion_was_interrupted() {
    let w = World::new().await;
    let gone = w.submit(Kind::Question, "A medio borrar", vec![]).await;
    let kept = w.submit(Kind::Question, "Visible", vec![]).await;
    w.mark_deleting(&gone, Rule::Closed, Some(w.day(0)));
    let listed: Vec<Id> = w
        .saadd
        .threads_for(&w.coord.staff)
        .expect("the staff list still works")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![kept.id]);
    let api: Vec<Id> = w
        .saadd
        .api_threads_for(w.coord.staff.id)
        .expect("the API's list still works")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(api, vec![kept.id]);
    w.server.stop().await;
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    buzon::platform::random(&buzon::platform::OsEntropy)
}

// ---------------------------------------------------------------------------
// 8. The host-side scan

#[tokio::test(flavor = "multi_thread")]
async fn the_scan_is_clean_after_an_honest_run_and_names_what_is_overdue_or_orphaned() {
    let w = World::new().await;
    let scan = || buzon::audit::scan::scan(&w.server.services).unwrap();
    let a = w
        .submit(Kind::Question, "Se cerrará y se irá", vec![file_bytes(8)])
        .await;
    let b = w.submit(Kind::Question, "Se queda un tiempo", vec![]).await;
    w.on(1);
    w.status(&a, Status::Closed).await;
    for n in 2..=12 {
        w.pass_on(n).await;
    }
    assert!(!w.exists(&a));
    let r = scan();
    assert_eq!(r.problems, Vec::<String>::new(), "{}", r.summary());
    assert_eq!((r.threads, r.keys), (1, 1));
    assert!(r.log_entries > 0);

    // A key with no thread is named, and the pass destroys it.
    w.saadd.vault().put(rand_bytes(), rand_bytes()).unwrap();
    let r = scan();
    assert_eq!(r.problems.len(), 1, "{}", r.summary());
    assert!(
        r.problems[0].contains("belong to no thread"),
        "{}",
        r.summary()
    );
    assert_eq!(w.pass().await.orphan_keys, 1);
    assert!(scan().problems.is_empty(), "{}", scan().summary());

    // B's deadline is day 20 (inactivity). The clock moves on with no
    // pass: on the day after the deadline the deletion is still on time;
    // the day after that, B is overdue.
    assert_eq!(
        buzon::saadd::retention::thread_deadline(&w.record(&b)),
        (Rule::Inactive, w.day(20))
    );
    w.on(21);
    let r = scan();
    assert!(r.problems.is_empty(), "{}", r.summary());
    w.on(22);
    let r = scan();
    assert_eq!(r.problems.len(), 1, "{}", r.summary());
    assert!(
        r.problems[0].contains("past the end of the day after their deadline"),
        "{}",
        r.summary()
    );
    let c = w.pass().await;
    assert_eq!(c.inactive, 1);
    let r = scan();
    assert!(r.problems.is_empty(), "{}", r.summary());
    assert_eq!((r.threads, r.keys), (0, 0));
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 9. No identity in logs or in the audit log

#[tokio::test(flavor = "multi_thread")]
async fn passes_log_counts_only_and_no_entry_names_a_thread() {
    let logs = common::capture_logs();
    let w = World::new().await;
    let a = w
        .submit(
            Kind::Question,
            "Cuyo id no se registra",
            vec![file_bytes(9)],
        )
        .await;
    let b = w.submit(Kind::Claim, "Retirada sin rastro", vec![]).await;
    let c = w.submit(Kind::Question, "Se queda", vec![]).await;
    let records: Vec<ThreadRecord> = [&a, &b, &c].iter().map(|t| w.record(t)).collect();
    w.on(1);
    w.status(&a, Status::Closed).await;
    w.saadd.withdraw(b.id, &b.secret).await.unwrap();
    w.saadd.vault().put(rand_bytes(), rand_bytes()).unwrap();
    let mut outputs = Vec::new();
    let mut pending: Vec<Vec<u8>> = w.pending().iter().map(Entry::encode).collect();
    for n in 2..=12 {
        w.on(n);
        outputs.push(
            buzon::operator::run(&w.server.services, buzon::operator::Command::RetentionRun)
                .await
                .unwrap(),
        );
        pending.extend(w.pending().iter().map(Entry::encode));
    }
    assert!(!w.exists(&a) && !w.exists(&b) && w.exists(&c));

    // What an operator sees of a pass: counts, nothing else.
    let shape = regex::Regex::new(
        r"^deleted \d+ \(closed \d+, inactive \d+, cap \d+\); finished \d+ interrupted; receipts expired \d+; orphan keys destroyed \d+; audit entries appended \d+$",
    )
    .unwrap();
    for out in &outputs {
        assert!(shape.is_match(out), "{out}");
    }
    assert!(outputs.iter().any(|o| o.starts_with("deleted 1 (closed 1")));

    // Nothing that identifies a thread, in the log lines or the audit log.
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for (t, rec) in [&a, &b, &c].iter().zip(&records) {
        secrets.push(t.id.0.to_vec());
        secrets.push(hex::encode(t.id.0).into_bytes());
        let h = rec.audit.unwrap();
        secrets.push(hex::encode(h.0).into_bytes());
        secrets.push(rec.receipt_index.to_vec());
        secrets.push(hex::encode(rec.receipt_index).into_bytes());
        secrets.push(t.receipt.clone().into_bytes());
        secrets.push(t.text.clone().into_bytes());
    }
    let text = logs.text();
    for s in &secrets {
        assert!(
            !common::contains(text.as_bytes(), s),
            "a log line names a thread: {}",
            String::from_utf8_lossy(s)
        );
    }
    for out in &outputs {
        for s in &secrets {
            assert!(!common::contains(out.as_bytes(), s));
        }
    }
    let appended = w.server.services.audit.all_entries().unwrap();
    assert!(!appended.is_empty() && !pending.is_empty());
    for bytes in appended.iter().chain(&pending) {
        for (t, rec) in [&a, &b, &c].iter().zip(&records) {
            for s in [
                t.id.0.to_vec(),
                hex::encode(t.id.0).into_bytes(),
                hex::encode(rec.receipt_index).into_bytes(),
            ] {
                assert!(
                    !common::contains(bytes, &s),
                    "an audit entry names a thread"
                );
            }
        }
    }

    // The audit handle links the thread's entries and nothing else: no
    // other table holds it (the thread's own record aside).
    let h = records[2].audit.unwrap();
    for table in [
        Table::Meta,
        Table::Entity,
        Table::EntitySlug,
        Table::Staff,
        Table::StaffLogin,
        Table::EntityThread,
        Table::Wrap,
        Table::Link,
        Table::Message,
        Table::Attachment,
        Table::ReceiptIndex,
        Table::Vault,
        Table::RetentionPolicy,
    ] {
        for (k, v) in w.saadd.store().scan(table, &[], usize::MAX).unwrap() {
            for s in [h.0.to_vec(), hex::encode(h.0).into_bytes()] {
                assert!(
                    !common::contains(&k, &s) && !common::contains(&v, &s),
                    "{table:?} holds an audit handle"
                );
            }
        }
    }
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 10. Each entity's own days

/// Days are calendar days in each entity's zone: at 00:30 in Madrid
/// (23:30 UTC) Madrid's thread meets its deadline and Madrid's finished day
/// goes into the log, while Mexico City, still on the day before, keeps
/// both its thread and its pending entries.
#[tokio::test(flavor = "multi_thread")]
async fn each_entity_counts_its_own_days() {
    let w = World::new().await;
    let mad = w
        .saadd
        .add_entity(buzon::saadd::NewEntity {
            slug: "mad".into(),
            name: "Ayuntamiento de Ejemplo".into(),
            complaints_office: "Intervención".into(),
            first_response_days: 3,
            answer_days: 10,
            zone: Some("Europe/Madrid".into()),
        })
        .await
        .unwrap();
    w.saadd
        .add_staff(
            mad.id,
            buzon::saadd::Role::Coordinator,
            "coord-mad",
            "Coordinación Madrid",
            Some(STAFF_PASSWORD),
        )
        .await
        .unwrap();
    let coord_mad = w
        .saadd
        .staff_login("coord-mad", STAFF_PASSWORD)
        .await
        .unwrap();
    w.saadd
        .set_policy(mad.id, Kind::Question, SMALL, false)
        .await
        .unwrap();
    let readers: Vec<Id> = w
        .saadd
        .coordinators(mad.id)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let new = w.saadd.begin_thread();
    let m = w
        .saadd
        .submit(
            mad.id,
            Kind::Question,
            "Pregunta en Madrid",
            &readers,
            new,
            vec![],
        )
        .await
        .unwrap();
    let x = w.submit(Kind::Question, "Pregunta en México", vec![]).await;
    let mad_id = retention::EntityId(mad.id.0);
    let sej_id = retention::EntityId(w.f.entity.0);

    // 23:30 UTC of day 0: Madrid's day 0 has ended, Mexico City's has not.
    w.clock.set(w.utc(0, 23, 30));
    assert_eq!(w.saadd.entity_day(mad.id).unwrap(), w.day(1));
    assert_eq!(w.saadd.entity_day(w.f.entity).unwrap(), w.day(0));
    w.pass().await;
    let entries = w.entries();
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|e| e.event.entity() == Some(mad_id) && e.day == w.day(0))
    );
    assert!(w.pending().iter().all(|e| e.event.entity() == Some(sej_id)));
    w.clock.set(w.utc(1, 6, 0));
    w.pass().await;
    assert!(w.pending().is_empty());

    // Both closed on day 1: both deadlines are day 11, each in its zone.
    w.on(1);
    w.saadd
        .set_status(m.thread, &coord_mad, Status::Closed)
        .await
        .unwrap();
    w.status(&x, Status::Closed).await;
    for n in 2..=10 {
        assert!(no_deletions(&w.pass_on(n).await));
    }
    w.clock.set(w.utc(10, 23, 30));
    let c = w.pass().await;
    assert_eq!((c.closed, c.deleted()), (1, 1), "{c:?}");
    assert!(w.saadd.thread(m.thread).is_err());
    assert!(w.saadd.vault().get(&m.thread.0).is_none());
    assert!(w.exists(&x), "still day 10 in Mexico City");
    let c = w.pass_on(11).await;
    assert_eq!((c.closed, c.deleted()), (1, 1), "{c:?}");
    w.assert_gone(&x).await;

    w.pass_on(12).await;
    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.entities, 2);
    assert_eq!(report.deleted_by_rule.closed, 2);
    let deleted: Vec<(retention::EntityId, Day, Option<Day>)> = w
        .entries()
        .iter()
        .filter_map(|e| match e.event {
            Event::Deleted {
                entity, deadline, ..
            } => Some((entity, e.day, deadline)),
            _ => None,
        })
        .collect();
    assert!(deleted.contains(&(mad_id, w.day(11), Some(w.day(11)))));
    assert!(deleted.contains(&(sej_id, w.day(11), Some(w.day(11)))));
    assert!(w.entries().iter().any(|e| e.event
        == Event::Entity {
            entity: mad_id,
            zone: retention::ZoneName::new("Europe/Madrid").unwrap(),
        }));
    w.server.stop().await;
}

// ---------------------------------------------------------------------------
// 11. Threads from before retention

impl World {
    /// Turns the data directory into one written before retention existed:
    /// no policies, no audit entries, threads with no handle or policy.
    fn strip_retention(&self, legacy: &[(&Made, Day, Option<Day>)]) {
        let store = self.saadd.store();
        let mut b = Batch::new();
        for table in [Table::AuditPending, Table::RetentionPolicy] {
            for k in store.scan_keys(table, &[], usize::MAX).unwrap() {
                b.delete(table, k);
            }
        }
        for (t, created, closed) in legacy {
            let bytes = store.get(Table::Thread, &t.id.0).unwrap().unwrap();
            let mut r: ThreadRecord = serde_json::from_slice(&bytes).unwrap();
            r.audit = None;
            r.policy = None;
            r.policy_floor = None;
            r.audit_seq = 0;
            r.created = *created;
            r.activity = r.activity.min(closed.unwrap_or(r.activity));
            if closed.is_some() {
                r.status = Status::Closed;
                r.closed = *closed;
            }
            b.put(Table::Thread, t.id.0, serde_json::to_vec(&r).unwrap());
        }
        store.apply(b).unwrap();
        store.flush().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_from_before_retention_are_adopted_from_their_creation_day() {
    let w = World::new().await;
    // Made 100 days ago, with messages until today: within the default
    // question cap (730 days).
    let recent = w
        .submit(Kind::Question, "Anterior a la retención", vec![])
        .await;
    w.strip_retention(&[(&recent, Day(w.day0.0 - 100), None)]);
    assert!(w.record(&recent).audit.is_none());

    w.server.services.prepare_retention().await.unwrap();
    let c = w.pass().await;
    assert_eq!((c.adopted, c.deleted()), (1, 0), "{c:?}");
    let r = w.record(&recent);
    assert!(r.audit.is_some());
    assert_eq!(r.policy, Some(Policy::default_for(Kind::Question)));
    assert_eq!(w.pass().await.adopted, 0, "adopted once");
    w.assert_readable(&recent).await;

    w.pass_on(1).await;
    let entries = w.entries();
    let handle = Handle(r.audit.unwrap().0);
    assert_eq!(
        thread_story(&entries, handle),
        vec![(Day(w.day0.0 - 100), "created")]
    );
    let report = w.check();
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.open_within_deadline, 1);
    let scan = buzon::audit::scan::scan(&w.server.services).unwrap();
    assert!(scan.problems.is_empty(), "{}", scan.summary());
    w.server.stop().await;
}

/// A thread made before retention and older than the cap is deleted by the
/// first pass (the policy says it must go). It was kept longer than the
/// policy allows, and the log says so: the auditor sees one late deletion,
/// stated with its real deadline — nothing else, and nothing hidden.
#[tokio::test(flavor = "multi_thread")]
async fn a_thread_older_than_the_cap_at_the_upgrade_is_deleted_and_reported_late() {
    let w = World::new().await;
    let old = w
        .submit(Kind::Question, "Muy anterior a la retención", vec![])
        .await;
    w.strip_retention(&[(&old, Day(w.day0.0 - 800), None)]);
    w.server.services.prepare_retention().await.unwrap();
    let c = w.pass().await;
    assert_eq!((c.adopted, c.cap, c.deleted()), (1, 1, 1), "{c:?}");
    w.assert_gone(&old).await;
    w.pass_on(1).await;
    let report = w.check();
    let deleted: Vec<(Day, Rule, Option<Day>)> = w
        .entries()
        .iter()
        .filter_map(|e| match e.event {
            Event::Deleted { rule, deadline, .. } => Some((e.day, rule, deadline)),
            _ => None,
        })
        .collect();
    assert_eq!(deleted.len(), 1);
    assert!(
        matches!(
            report.violations.as_slice(),
            [Violation::DeletedLate {
                rule: Rule::Cap,
                ..
            }]
        ),
        "{deleted:?} {:?}",
        report.violations
    );
    w.server.stop().await;
}

/// A thread that was already closed before retention is deleted under the
/// closed rule; the log must say it was closed, or the auditor sees a
/// `closed` deletion of an open thread (and a later reopening of an open
/// one).
#[tokio::test(flavor = "multi_thread")]
async fn a_closed_thread_from_before_retention_is_logged_as_closed() {
    let w = World::new().await;
    let t = w
        .submit(Kind::Question, "Cerrada antes de la retención", vec![])
        .await;
    let u = w
        .submit(Kind::Question, "Cerrada y reabierta", vec![])
        .await;
    let closed = Day(w.day0.0 - 5);
    w.strip_retention(&[
        (&t, Day(w.day0.0 - 20), Some(closed)),
        (&u, Day(w.day0.0 - 20), Some(closed)),
    ]);
    w.server.services.prepare_retention().await.unwrap();
    assert_eq!(w.pass().await.adopted, 2);
    // Reopening the second is an ordinary reopening.
    w.on(1);
    w.status(&u, Status::InProgress).await;
    // The default closed period for questions is 90 days: day 85.
    assert!(no_deletions(&w.pass_on(84).await));
    let c = w.pass_on(85).await;
    assert_eq!((c.closed, c.deleted()), (1, 1), "{c:?}");
    w.assert_gone(&t).await;
    w.pass_on(86).await;
    let report = w.check();
    assert_eq!(report.violations, vec![]);
    w.server.stop().await;
}
