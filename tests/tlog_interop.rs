//! `buzon::core::tlog` checked by an independent implementation: Cloudflare's
//! `tlog_tiles` (a Rust port of Go's `sumdb/tlog`, with C2SP
//! tlog-checkpoint parsing) and `signed_note` (C2SP signed-note over
//! `ed25519-dalek`), both from the azul project, used as dev-dependencies.
//!
//! We build a tree of 1000 entries, sign a checkpoint, and have those
//! crates recompute the tree from the raw entries, verify our note with our
//! verifier key, parse our checkpoint, and check a spread of our inclusion
//! and consistency proofs; tampered proofs and notes must be refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use signed_note::{Note, NoteError, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::HashReader;

use buzon::core::tlog::{self, Checkpoint, Hash, MemoryTree, NoteSigner, NoteVerifier};

const ORIGIN: &str = "buzon.example/interop-log";
const SEED: [u8; 32] = [0x5a; 32];
const ENTRIES: u64 = 1000;

/// `tlog_tiles`'s own storage: hashes at Go's "stored hash index".
struct GoStore(Vec<tlog_tiles::Hash>);

impl HashReader for GoStore {
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

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}: {}", "x".repeat((i % 7) as usize)).into_bytes()
}

/// The same entries appended to our tree and, independently, to theirs.
fn both_trees() -> (MemoryTree, GoStore) {
    let mut ours = MemoryTree::new();
    let mut theirs = GoStore(Vec::new());
    for i in 0..ENTRIES {
        let data = entry(i);
        assert_eq!(ours.push(&data), i);
        let new = tlog_tiles::stored_hashes(i, &data, &theirs).unwrap();
        theirs.0.extend(new);
    }
    (ours, theirs)
}

fn go(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(*h)
}

fn go_proof(p: &[Hash]) -> Vec<tlog_tiles::Hash> {
    p.iter().map(go).collect()
}

fn sizes() -> Vec<u64> {
    vec![
        1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 255, 256, 257, 511, 512, 513, 777, 999, 1000,
    ]
}

#[test]
fn roots_agree_at_every_size() {
    let (ours, theirs) = both_trees();
    for n in 0..=ENTRIES {
        let root = tlog::root(&ours, n).unwrap();
        assert_eq!(
            go(&root),
            tlog_tiles::tree_hash(n, &theirs).unwrap(),
            "size {n}"
        );
    }
    assert_eq!(
        go(&ours.root()),
        tlog_tiles::tree_hash(ENTRIES, &theirs).unwrap()
    );
    assert_eq!(
        go(&tlog::leaf_hash(b"abc")),
        tlog_tiles::record_hash(b"abc")
    );
}

#[test]
fn signed_checkpoint_verifies_and_parses() {
    let (ours, _) = both_trees();
    let signer = NoteSigner::new(ORIGIN, &SEED).unwrap();
    for extensions in [vec![], vec!["ext one".to_owned(), "ext two".to_owned()]] {
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_owned(),
            size: ENTRIES,
            root: ours.root(),
            extensions,
        };
        let body = checkpoint.body();
        let signed = signer.sign(&body).unwrap();

        // Their verifier, built from our verifier key, accepts our signature.
        let verifier = StandardVerifier::new(&signer.verifier_key()).unwrap();
        let known = VerifierList::new(vec![Box::new(verifier)]);
        let note = Note::from_bytes(signed.as_bytes()).unwrap();
        let (verified, unverified) = note.verify(&known).unwrap();
        assert_eq!((verified.len(), unverified.len()), (1, 0));
        assert_eq!(verified[0].name(), ORIGIN);
        assert_eq!(note.text(), body.as_bytes());
        assert_eq!(note.to_bytes(), signed.as_bytes());

        // Their checkpoint parser reads our body back to the same values.
        let parsed = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
        assert_eq!(parsed.origin(), ORIGIN);
        assert_eq!(parsed.size(), ENTRIES);
        assert_eq!(*parsed.hash(), go(&ours.root()));
        let ext: String = checkpoint
            .extensions
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(parsed.extension(), ext);
        assert_eq!(parsed.to_bytes(), body.as_bytes());

        // One changed byte in the text, or in the signature, is refused.
        let altered = signed.replacen(&ENTRIES.to_string(), "1001", 1);
        let note = Note::from_bytes(altered.as_bytes()).unwrap();
        assert!(matches!(
            note.verify(&known),
            Err(NoteError::InvalidSignature { .. })
        ));
        let (head, b64) = signed.trim_end().rsplit_once(' ').unwrap();
        let mut blob = BASE64.decode(b64).unwrap();
        blob[40] ^= 0x04;
        let forged = format!("{head} {}\n", BASE64.encode(blob));
        let note = Note::from_bytes(forged.as_bytes()).unwrap();
        assert!(matches!(
            note.verify(&known),
            Err(NoteError::InvalidSignature { .. })
        ));
    }
}

#[test]
fn their_signer_and_ours_agree_byte_for_byte() {
    let ours = NoteSigner::new(ORIGIN, &SEED).unwrap();
    let verifier = ours.verifier();
    // Go's private key form: PRIVATE+KEY+name+hex(key id)+base64(0x01 || seed).
    let skey = format!(
        "PRIVATE+KEY+{ORIGIN}+{}+{}",
        hex::encode(verifier.key_id),
        BASE64.encode([&[tlog::ALG_ED25519][..], &SEED].concat())
    );
    let theirs = StandardSigner::new(&skey).unwrap();
    let text = "some note text\n\nwith a blank line\n";
    let mut note = Note::new(text.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&theirs]).unwrap();
    let theirs_signed = String::from_utf8(note.to_bytes()).unwrap();
    assert_eq!(theirs_signed, ours.sign(text).unwrap());
    let parsed = NoteVerifier::parse(&ours.verifier_key()).unwrap();
    assert_eq!(parsed.open(&theirs_signed).as_deref(), Ok(text));
}

#[test]
fn they_verify_our_inclusion_proofs() {
    let (ours, theirs) = both_trees();
    let mut checked = 0;
    for size in sizes() {
        let root = tlog::root(&ours, size).unwrap();
        let mut indexes = vec![0, 1, size / 3, size / 2, size.saturating_sub(2), size - 1];
        indexes.retain(|i| *i < size);
        indexes.dedup();
        for index in indexes {
            let leaf = tlog::leaf_hash(&entry(index));
            let proof = tlog::inclusion_proof(&ours, index, size).unwrap();
            assert_eq!(
                tlog::verify_inclusion(&leaf, index, size, &proof, &root),
                Ok(())
            );
            let p = go_proof(&proof);
            tlog_tiles::check_record(&p, size, go(&root), index, go(&leaf))
                .unwrap_or_else(|e| panic!("({index}, {size}): {e}"));
            // Their own proof from their own storage is the same list.
            assert_eq!(tlog_tiles::prove_record(size, index, &theirs).unwrap(), p);
            checked += 1;

            // Tampered: one bit, one hash fewer or more, another leaf or index.
            for k in 0..p.len() {
                let mut bad = p.clone();
                bad[k].0[k % 32] ^= 0x10;
                assert!(tlog_tiles::check_record(&bad, size, go(&root), index, go(&leaf)).is_err());
            }
            if let Some((_, shorter)) = p.split_last() {
                let shorter = shorter.to_vec();
                assert!(
                    tlog_tiles::check_record(&shorter, size, go(&root), index, go(&leaf)).is_err()
                );
            }
            let mut longer = p.clone();
            longer.push(go(&root));
            assert!(tlog_tiles::check_record(&longer, size, go(&root), index, go(&leaf)).is_err());
            let other = go(&tlog::leaf_hash(b"not an entry"));
            assert!(tlog_tiles::check_record(&p, size, go(&root), index, other).is_err());
            if index + 1 < size {
                assert!(
                    tlog_tiles::check_record(&p, size, go(&root), index + 1, go(&leaf)).is_err()
                );
            }
        }
    }
    assert!(checked >= 90, "{checked}");
}

#[test]
fn they_verify_our_consistency_proofs() {
    let (ours, theirs) = both_trees();
    let mut checked = 0;
    for new in sizes() {
        let new_root = tlog::root(&ours, new).unwrap();
        for old in sizes().into_iter().filter(|old| *old <= new) {
            let old_root = tlog::root(&ours, old).unwrap();
            let proof = tlog::consistency_proof(&ours, old, new).unwrap();
            let ours_ok = tlog::verify_consistency(old, new, &old_root, &new_root, &proof);
            assert_eq!(ours_ok, Ok(()), "({old}, {new})");
            let p = go_proof(&proof);
            tlog_tiles::check_tree(&p, new, go(&new_root), old, go(&old_root))
                .unwrap_or_else(|e| panic!("({old}, {new}): {e}"));
            assert_eq!(tlog_tiles::prove_tree(new, old, &theirs).unwrap(), p);
            checked += 1;

            for k in 0..p.len() {
                let mut bad = p.clone();
                bad[k].0[31 - k % 32] ^= 0x01;
                assert!(
                    tlog_tiles::check_tree(&bad, new, go(&new_root), old, go(&old_root)).is_err(),
                    "({old}, {new}) tampered at {k}"
                );
            }
            if let Some((_, shorter)) = p.split_last() {
                let shorter = shorter.to_vec();
                assert!(
                    tlog_tiles::check_tree(&shorter, new, go(&new_root), old, go(&old_root))
                        .is_err()
                );
            }
            if old < new {
                let wrong_old = go(&tlog::root(&ours, old - 1).unwrap());
                assert!(tlog_tiles::check_tree(&p, new, go(&new_root), old, wrong_old).is_err());
            }
        }
    }
    assert_eq!(checked, 210);
}
