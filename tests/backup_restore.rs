//! Backups (spec/retention.md, "Backups"): a backup restores; a restore
//! re-applies what a newer log export recorded and logs itself; without
//! an export the lost entries are visible to an auditor as a fork; once
//! its key is destroyed on schedule, a backup cannot be read; a damaged
//! or cut backup is refused.

mod common;

use std::sync::Arc;

use buzon::backup::BackupSettings;
use buzon::core::retention::{self, Entry, Event, Rule};
use buzon::core::status::Kind;
use buzon::core::tlog;
use buzon::platform::OsEntropy;
use common::{TestClock, TestServer, fixture};

async fn submit(
    server: &TestServer,
    entity: buzon::core::envelope::Id,
    text: &str,
) -> buzon::saadd::Submitted {
    let saadd = &server.saadd;
    let readers: Vec<_> = saadd
        .coordinators(entity)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let new = saadd.begin_thread();
    saadd
        .submit(entity, Kind::Claim, text, &readers, new, vec![])
        .await
        .unwrap()
}

fn entries(services: &buzon::services::Services) -> Vec<Entry> {
    services
        .audit
        .all_entries()
        .unwrap()
        .iter()
        .map(|b| Entry::decode(b).unwrap())
        .collect()
}

fn open_restored(
    store: buzon::store::SledStore,
    vault: buzon::store::vault::Vault,
    clock: Arc<TestClock>,
) -> buzon::services::Services {
    buzon::services::Services::new(
        Arc::new(store),
        Arc::new(vault),
        clock,
        Arc::new(OsEntropy),
        buzon::saadd::Limits::default(),
        buzon::saadd::Costs::V1,
        2,
        buzon::tokens::TokenSettings::default(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_restore_reapply_the_log_and_expire() {
    let clock = TestClock::at("2026-05-04");
    let work = tempfile::tempdir().unwrap();
    let mut server =
        TestServer::start_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    let settings = BackupSettings {
        keys_dir: work.path().join("backup-keys"),
        key_days: 7,
        keep_days: 30,
    };
    server.services.backup = Some(settings.clone());
    let f = fixture(&server.saadd).await;
    // A 3 MiB attachment: the backup spans several 1 MiB frames.
    let kept = {
        let saadd = &server.saadd;
        let readers: Vec<_> = saadd
            .coordinators(f.entity)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        let new = saadd.begin_thread();
        let mut sink = saadd.new_thread_sink(&new);
        let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        sink.write(&big).unwrap();
        let file = sink
            .finish("anexo.bin", "application/octet-stream")
            .unwrap();
        saadd
            .submit(
                f.entity,
                Kind::Claim,
                "Denuncia que sobrevive",
                &readers,
                new,
                vec![file],
            )
            .await
            .unwrap()
    };
    let withdrawn = submit(
        &server,
        f.entity,
        "Denuncia que se retira después del respaldo",
    )
    .await;
    clock.advance_days(1);
    server.services.retention_pass().await.unwrap();
    // Made on the backup's day: its entry is still pending in the backup,
    // and the live log appends it later.
    let pending_at_backup = submit(&server, f.entity, "Denuncia del día del respaldo").await;

    // The backup.
    let file = work.path().join("b1.buzon-backup");
    let info = buzon::backup::backup(&server.services, &settings, &file)
        .await
        .unwrap();
    assert!(info.entries > 10 && info.keys == 3, "{info:?}");
    let raw = std::fs::read(&file).unwrap();
    assert!(
        !raw.windows(10).any(|w| w == &b"Denuncia q"[..]),
        "the backup holds no plaintext"
    );
    // A second backup to the same name is refused, not overwritten.
    assert!(
        buzon::backup::backup(&server.services, &settings, &file)
            .await
            .is_err()
    );

    // After the backup: the reporter withdraws one claim, a new claim comes.
    server
        .saadd
        .withdraw(withdrawn.thread, &withdrawn.secret)
        .await
        .unwrap();
    let later = submit(&server, f.entity, "Denuncia posterior al respaldo").await;
    // A shorter claim policy and a staff member removed after the backup.
    let shorter = buzon::core::retention::Policy {
        closed: 100,
        inactive: 300,
        receipt: 200,
        cap: 1000,
    };
    server
        .saadd
        .set_policy(f.entity, Kind::Claim, shorter, false)
        .await
        .unwrap();
    server.saadd.remove_staff(f.coord_b.id).await.unwrap();
    clock.advance_days(1);
    server.services.retention_pass().await.unwrap();
    // Withdrawn on the export's own day: its deletion is still pending
    // when the export is made, and must not be undone by the restore.
    server
        .saadd
        .withdraw(pending_at_backup.thread, &pending_at_backup.secret)
        .await
        .unwrap();
    let export = server.services.audit.export().unwrap();
    assert!(!export.pending.is_empty());
    let export_file = work.path().join("log.json");
    std::fs::write(&export_file, serde_json::to_vec(&export).unwrap()).unwrap();
    let cp_before = server.services.audit.checkpoint().unwrap();

    // Restore with the export: the withdrawal is applied again, the later
    // claim (not in the backup) is logged as lost, the restore is logged.
    let keys = buzon::backup::open_keys(&settings, Arc::new(OsEntropy)).unwrap();
    let data = work.path().join("restored");
    let loaded = buzon::backup::load(&file, &keys, &data, Arc::new(OsEntropy)).unwrap();
    let (loaded, root, store, vault) = (loaded.info, loaded.root, loaded.store, loaded.vault);
    drop(keys);
    let restored = open_restored(store, vault, clock.clone());
    let done = buzon::backup::finish_restore(&restored, loaded, root, Some(&export_file))
        .await
        .unwrap();
    assert_eq!((done.deleted, done.lost), (2, 1), "{done:?}");
    assert_eq!((done.policies, done.staff_removed), (1, 1), "{done:?}");
    assert_eq!(
        restored.saadd.policy(f.entity, Kind::Claim).unwrap(),
        shorter
    );
    assert!(!restored.saadd.staff(f.coord_b.id).unwrap().active);
    assert!(restored.saadd.thread(pending_at_backup.thread).is_err());
    assert!(restored.saadd.thread(kept.thread).is_ok());
    // The big attachment comes back whole.
    let view = restored
        .saadd
        .read(
            kept.thread,
            buzon::core::envelope::Slot::Reporter,
            &kept.secret,
        )
        .unwrap();
    let (att, _) = view.attachments[0].clone();
    let (meta, mut reader) = restored
        .saadd
        .attachment(
            kept.thread,
            att,
            buzon::core::envelope::Slot::Reporter,
            &kept.secret,
        )
        .unwrap();
    let mut got = Vec::new();
    while let Some(c) = reader.next_chunk().unwrap() {
        got.extend_from_slice(c.expose());
    }
    assert_eq!(got.len() as u64, meta.size);
    assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    assert!(restored.saadd.thread(withdrawn.thread).is_err());
    assert!(restored.saadd.thread(later.thread).is_err());
    // The kept claim still opens with its receipt.
    let (t, _) = restored
        .saadd
        .open_with_receipt(&kept.receipt.phrase())
        .await
        .unwrap();
    assert_eq!(t, kept.thread);
    clock.advance_days(1);
    restored.retention_pass().await.unwrap();
    let log = entries(&restored);
    assert!(
        log.iter()
            .any(|e| matches!(e.event, Event::Restored { .. }))
    );
    assert!(log.iter().any(|e| matches!(
        e.event,
        Event::Deleted {
            rule: Rule::Lost,
            ..
        }
    )));
    // The restored log extends the exported one: an auditor's state holds.
    let before = tlog::Checkpoint::parse(
        &tlog::NoteVerifier::parse(&server.services.audit.verifier_key().unwrap())
            .unwrap()
            .open(&cp_before)
            .unwrap(),
    )
    .unwrap();
    let proof = restored
        .audit
        .consistency(before.size, restored.audit.size().unwrap())
        .unwrap();
    tlog::verify_consistency(
        before.size,
        restored.audit.size().unwrap(),
        &before.root,
        &restored.audit.root().unwrap(),
        &proof,
    )
    .expect("a restore with the export keeps the log consistent");
    let report = retention::check(&log, clock.unix());
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.restores.len(), 1);

    // Restore without the export: the withdrawn claim is back, and an
    // auditor who saw the later log sees it no longer extends.
    let keys = buzon::backup::open_keys(&settings, Arc::new(OsEntropy)).unwrap();
    let data2 = work.path().join("restored-2");
    let loaded = buzon::backup::load(&file, &keys, &data2, Arc::new(OsEntropy)).unwrap();
    let (loaded, root, store, vault) = (loaded.info, loaded.root, loaded.store, loaded.vault);
    drop(keys);
    let bare = open_restored(store, vault, clock.clone());
    buzon::backup::finish_restore(&bare, loaded, root, None)
        .await
        .unwrap();
    assert!(bare.saadd.thread(withdrawn.thread).is_ok());
    let size = bare.audit.size().unwrap();
    let forked = size < before.size
        || tlog::verify_consistency(
            before.size,
            size,
            &before.root,
            &bare.audit.root().unwrap(),
            &bare
                .audit
                .consistency(before.size, size)
                .unwrap_or_default(),
        )
        .is_err();
    assert!(
        forked,
        "a restore that lost entries must not look like an extension"
    );

    // Restoring into a directory that is not empty is refused.
    let keys = buzon::backup::open_keys(&settings, Arc::new(OsEntropy)).unwrap();
    assert!(buzon::backup::load(&file, &keys, &data2, Arc::new(OsEntropy)).is_err());

    // A damaged or cut backup is refused with a sentence, never loaded.
    let mut bad = raw.clone();
    let n = bad.len() / 2;
    bad[n] ^= 1;
    let bad_file = work.path().join("bad");
    std::fs::write(&bad_file, &bad).unwrap();
    let e = buzon::backup::load(
        &bad_file,
        &keys,
        &work.path().join("r3"),
        Arc::new(OsEntropy),
    )
    .err()
    .unwrap();
    assert!(e.contains("damaged"), "{e}");
    std::fs::write(&bad_file, &raw[..raw.len() - 20]).unwrap();
    let e = buzon::backup::load(
        &bad_file,
        &keys,
        &work.path().join("r4"),
        Arc::new(OsEntropy),
    )
    .err()
    .unwrap();
    assert!(e.contains("cut short") || e.contains("damaged"), "{e}");
    drop(keys);

    // The key is destroyed on schedule: 7 days of use + 30 kept. The day
    // before, the backup still opens; from the destroy day, nobody can.
    let day_before = buzon::core::Day(info.unreadable_from.0 - 1);
    clock.set_day(&day_before.iso());
    server.services.retention_pass().await.unwrap();
    let keys = buzon::backup::open_keys(&settings, Arc::new(OsEntropy)).unwrap();
    assert!(buzon::backup::BackupReader::open(&file, &keys).is_ok());
    drop(keys);
    clock.set_day(&info.unreadable_from.iso());
    let pass = server.services.retention_pass().await.unwrap();
    assert!(pass.backup_keys >= 1, "{pass:?}");
    let keys = buzon::backup::open_keys(&settings, Arc::new(OsEntropy)).unwrap();
    let e = buzon::backup::BackupReader::open(&file, &keys)
        .err()
        .unwrap();
    assert!(e.contains("destroyed"), "{e}");
    assert!(keys.is_empty());
    server.stop().await;
}
