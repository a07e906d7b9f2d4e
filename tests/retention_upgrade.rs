//! A data directory from before retention (spec/retention.md, "Upgrading"):
//! storage keys in sled's old `Vault` table and threads with no audit
//! handle. Start-up moves the keys into the key vault, the first pass gives
//! each thread a handle and logs its creation (and closing) with its own
//! days, and the auditor's check finds the result consistent.

mod common;

use buzon::core::retention::{Entry, Event, check};
use buzon::core::status::{Kind, Status};
use buzon::store::{Batch, Table};
use common::{STAFF_PASSWORD, TestClock, TestServer, fixture};

#[tokio::test(flavor = "multi_thread")]
async fn threads_from_before_retention_are_adopted() {
    let clock = TestClock::at("2026-02-10");
    let server = TestServer::start_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    let saadd = server.saadd.clone();
    let f = fixture(&saadd).await;
    let readers: Vec<_> = saadd
        .coordinators(f.entity)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let mut threads = Vec::new();
    for text in ["Antigua pregunta", "Antigua pregunta cerrada"] {
        let new = saadd.begin_thread();
        threads.push(
            saadd
                .submit(f.entity, Kind::Question, text, &readers, new, vec![])
                .await
                .unwrap(),
        );
    }
    let coord = saadd.staff_login("coord-a", STAFF_PASSWORD).await.unwrap();
    saadd
        .set_status(threads[1].thread, &coord, Status::Closed)
        .await
        .unwrap();
    // Make them look like an old version's: no handle, no policy, the key
    // in sled, nothing pending in the log for them.
    let store = saadd.store().clone();
    let mut b = Batch::new();
    for t in &threads {
        let mut r: serde_json::Value =
            serde_json::from_slice(&store.get(Table::Thread, &t.thread.0).unwrap().unwrap())
                .unwrap();
        let o = r.as_object_mut().unwrap();
        for k in ["audit", "policy", "policy_floor", "audit_seq"] {
            o.remove(k);
        }
        b.put(Table::Thread, t.thread.0, serde_json::to_vec(&r).unwrap());
        let key = saadd.vault().get(&t.thread.0).unwrap();
        b.put(Table::Vault, t.thread.0, key.to_vec());
    }
    for k in store.scan_keys(Table::AuditPending, &[], 1000).unwrap() {
        let v = store.get(Table::AuditPending, &k).unwrap().unwrap();
        let e = Entry::decode(&v[4..]).unwrap();
        if e.event.thread().is_some() {
            b.delete(Table::AuditPending, k);
        }
    }
    store.apply(b).unwrap();
    let ids: Vec<[u8; 16]> = threads.iter().map(|t| t.thread.0).collect();
    saadd.vault().remove(&ids).unwrap();
    assert!(
        saadd
            .read(
                threads[0].thread,
                buzon::core::envelope::Slot::Reporter,
                &threads[0].secret
            )
            .is_err()
    );

    // Start-up, then a pass a few days later.
    clock.advance_days(3);
    server.services.prepare_retention().await.unwrap();
    assert!(store.scan_keys(Table::Vault, &[], 10).unwrap().is_empty());
    let pass = server.services.retention_pass().await.unwrap();
    assert_eq!(pass.adopted, 2, "{pass:?}");
    let view = saadd
        .read(
            threads[0].thread,
            buzon::core::envelope::Slot::Reporter,
            &threads[0].secret,
        )
        .unwrap();
    assert_eq!(view.messages[0].body.text, "Antigua pregunta");
    for t in &threads {
        let r = saadd.thread(t.thread).unwrap();
        assert!(r.audit.is_some() && r.policy.is_some());
    }
    clock.advance_days(1);
    server.services.retention_pass().await.unwrap();
    let log: Vec<Entry> = server
        .services
        .audit
        .all_entries()
        .unwrap()
        .iter()
        .map(|b| Entry::decode(b).unwrap())
        .collect();
    let created: Vec<_> = log
        .iter()
        .filter(|e| matches!(e.event, Event::Created { .. }))
        .collect();
    assert_eq!(created.len(), 2);
    assert!(
        created.iter().all(|e| e.day.iso() == "2026-02-10"),
        "logged with their own day"
    );
    assert_eq!(
        log.iter()
            .filter(|e| matches!(e.event, Event::Closed { .. }))
            .count(),
        1
    );
    let report = check(&log, clock.unix());
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    server.stop().await;
}
