//! What retention costs: the audit log's tree (append, root, proofs), the
//! strict entry decoder, the auditor's policy check over a large log, and
//! the key vault's put (append + sync) and remove (rewrite under a new key).
//! Timings live here and in notes, never in tests.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

use buzon::core::Day;
use buzon::core::retention::{EntityId, Entry, Event, Handle, Policy, Rule, ZoneName, check};
use buzon::core::status::Kind;
use buzon::core::tlog::{self, MemoryTree};

fn log(threads: u32) -> Vec<Entry> {
    let entity = EntityId([1; 16]);
    let policy = Policy::default_for(Kind::Claim);
    let mut out = vec![
        Entry {
            day: Day(20_000),
            event: Event::Entity {
                entity,
                zone: ZoneName::new("America/Mexico_City").unwrap(),
            },
        },
        Entry {
            day: Day(20_000),
            event: Event::Policy {
                entity,
                kind: Kind::Claim,
                policy,
                existing: false,
            },
        },
    ];
    for i in 0..threads {
        let mut h = [0u8; 16];
        h[..4].copy_from_slice(&i.to_be_bytes());
        let day = Day(20_000 + i / 10);
        out.push(Entry {
            day,
            event: Event::Created {
                entity,
                thread: Handle(h),
                kind: Kind::Claim,
                policy,
            },
        });
    }
    for i in 0..threads / 2 {
        let mut h = [0u8; 16];
        h[..4].copy_from_slice(&i.to_be_bytes());
        out.push(Entry {
            day: Day(20_000 + threads / 10 + 1),
            event: Event::Deleted {
                entity,
                thread: Handle(h),
                rule: Rule::Withdrawn,
                deadline: None,
            },
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let entries = log(10_000);
    let bytes: Vec<Vec<u8>> = entries.iter().map(Entry::encode).collect();
    let mut tree = MemoryTree::new();
    for b in &bytes {
        tree.push(b);
    }
    let size = tree.size();
    c.bench_function("tlog: append one entry to a 15,002-entry tree", |b| {
        b.iter_batched(
            || tree.clone(),
            |mut t| t.push(&bytes[7]),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("tlog: root of 15,002 entries", |b| {
        b.iter(|| tlog::root(&tree, size).unwrap())
    });
    c.bench_function("tlog: inclusion proof + verify", |b| {
        let root = tree.root();
        b.iter(|| {
            let p = tlog::inclusion_proof(&tree, 4321, size).unwrap();
            tlog::verify_inclusion(&tlog::leaf_hash(&bytes[4321]), 4321, size, &p, &root).unwrap()
        })
    });
    c.bench_function("tlog: consistency proof + verify", |b| {
        let new_root = tree.root();
        let old_root = tlog::root(&tree, 9_999).unwrap();
        b.iter(|| {
            let p = tlog::consistency_proof(&tree, 9_999, size).unwrap();
            tlog::verify_consistency(9_999, size, &old_root, &new_root, &p).unwrap()
        })
    });
    c.bench_function("retention: decode one entry (strict, canonical)", |b| {
        b.iter(|| Entry::decode(&bytes[5]).unwrap())
    });
    c.bench_function("retention: the auditor's check over 15,002 entries", |b| {
        b.iter(|| check(&entries, 20_000 * 86_400 + 3_000 * 86_400))
    });

    let dir = tempfile::tempdir().unwrap();
    let vault = buzon::store::vault::Vault::open(
        &dir.path().join("v"),
        Arc::new(buzon::platform::OsEntropy),
    )
    .unwrap();
    for i in 0..10_000u32 {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        vault.put(id, [7; 32]).unwrap();
    }
    let mut next = 10_000u32;
    c.bench_function("vault: put one key (append + sync), 10,000 held", |b| {
        b.iter(|| {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&next.to_be_bytes());
            next += 1;
            vault.put(id, [9; 32]).unwrap()
        })
    });
    let mut gone = 0u32;
    c.bench_function(
        "vault: remove one key (rewrite under a new key), ~10,000 held",
        |b| {
            b.iter(|| {
                let mut id = [0u8; 16];
                id[..4].copy_from_slice(&gone.to_be_bytes());
                gone += 1;
                vault.remove(&[id]).unwrap()
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
