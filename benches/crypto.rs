//! Costs of the operations every request pays: receipt and staff-password
//! derivation (Argon2id, real parameters), key wrap and unwrap, sealing a
//! message. Run with `cargo bench`; figures go in notes, never in tests.

use buzon::core::Day;
use buzon::core::envelope::{self, Author, EpochKeys, Id, MessageBody, MessagePlace};
use buzon::core::receipt::{self, RECEIPT_COST, Receipt};
use buzon::core::secret::Key32;
use buzon::core::wrap::{self, RecipientSecret};
use criterion::{Criterion, criterion_group, criterion_main};

fn kdf(c: &mut Criterion) {
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(10);
    let r = Receipt::from_random([7; 14]);
    g.bench_function("receipt 64 MiB t=3", |b| {
        b.iter(|| receipt::derive(&r, RECEIPT_COST).unwrap())
    });
    g.bench_function("staff password 256 MiB t=3", |b| {
        b.iter(|| {
            envelope::password_keys("una-frase-larga-de-prueba", &[1; 16], envelope::STAFF_COST)
                .unwrap()
        })
    });
    g.finish();
}

fn seal(c: &mut Criterion) {
    let alice = RecipientSecret::from_bytes([1; 32]);
    let key = Key32::from_bytes([9; 32]);
    c.bench_function("wrap thread key", |b| {
        b.iter(|| wrap::wrap(&alice.public(), [3; 32], [4; 24], b"ctx", &key).unwrap())
    });
    let w = wrap::wrap(&alice.public(), [3; 32], [4; 24], b"ctx", &key).unwrap();
    c.bench_function("unwrap thread key", |b| {
        b.iter(|| wrap::unwrap(&alice, b"ctx", &w).unwrap())
    });
    let place = MessagePlace {
        thread: Id([5; 16]),
        seq: 0,
        epoch: 0,
        author: Author::Reporter,
        day: Day(20_425),
    };
    let body = MessageBody {
        text: "Mi jefa me pidió firmar una lista de asistencia falsa. ".repeat(20),
        author_label: String::new(),
        attachments: vec![],
    };
    c.bench_function("seal 1 KiB message", |b| {
        b.iter(|| envelope::seal_message(&key, &place, &body, [6; 24]).unwrap())
    });
    let rec = envelope::seal_message(&key, &place, &body, [6; 24]).unwrap();
    let keys = EpochKeys::new(0, key.clone());
    c.bench_function("open 1 KiB message", |b| {
        b.iter(|| envelope::open_message(&keys, place.thread, 0, &rec).unwrap())
    });
}

/// What the server does per API write without any key (spec/api.md, "What
/// the server checks"), and a client's sealing of one full chunk.
fn api_checks(c: &mut Criterion) {
    let key = Key32::from_bytes([9; 32]);
    let thread = Id([5; 16]);
    let alice = RecipientSecret::from_bytes([1; 32]);
    let inner = envelope::seal_wrap_inner(
        thread,
        &envelope::Slot::Reporter,
        0,
        &alice.public(),
        &key,
        [3; 32],
        [4; 24],
    )
    .unwrap();
    c.bench_function("api: check and storage-seal a client wrap", |b| {
        b.iter(|| {
            envelope::parse_wrap_inner(&inner).unwrap();
            envelope::seal_wrap_outer(&key, thread, &envelope::Slot::Reporter, &inner, [8; 24])
                .unwrap()
        })
    });
    let data = vec![7u8; envelope::CHUNK_DATA];
    c.bench_function("client: seal a full 64 KiB chunk", |b| {
        b.iter(|| envelope::seal_chunk(&key, thread, Id([6; 16]), 0, 0, &data, [6; 24]).unwrap())
    });
    let chunk = envelope::seal_chunk(&key, thread, Id([6; 16]), 0, 0, &data, [6; 24]).unwrap();
    c.bench_function("api: shape of a 64 KiB chunk", |b| {
        b.iter(|| envelope::attachment_shape(&chunk, true).unwrap())
    });
}

criterion_group!(benches, kdf, seal, api_checks);
criterion_main!(benches);
