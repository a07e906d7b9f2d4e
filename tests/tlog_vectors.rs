//! Published vectors for `buzon::core::tlog`: the RFC 6962 reference tree
//! and the inclusion and consistency probes of `transparency-dev/merkle`,
//! the C2SP signed-note and tlog-checkpoint examples, and Go's
//! `sumdb/note` and `sumdb/tlog` test values. Sources and licences are in
//! `tests/vectors/README.md`; every expected value comes from those files.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use buzon::core::tlog::{self, Checkpoint, Hash, MemoryTree, NoteSigner, NoteVerifier, TlogError};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn hex32(v: &Value) -> Hash {
    let bytes = hex::decode(v.as_str().unwrap()).unwrap();
    bytes.try_into().unwrap()
}

/// A probe's hash. The Go probes also use roots and proof entries that are
/// not 32 bytes (`""`, `"don't care 1"`), which Go compares or hashes
/// without checking their length and `Hash` cannot hold; those map to a
/// tagged hash of their bytes, equal for equal values and matching no node
/// of the reference tree, so the verifier itself has to refuse them (or
/// accept them, where Go does: equal sizes with equal roots).
fn probe_hash(v: &Value) -> (Hash, bool) {
    let bytes = BASE64.decode(v.as_str().unwrap()).unwrap();
    match Hash::try_from(bytes.as_slice()) {
        Ok(h) => (h, true),
        Err(_) => (
            tlog::leaf_hash(&[b"probe placeholder: ".as_slice(), &bytes].concat()),
            false,
        ),
    }
}

fn probe_proof(v: &Value) -> (Vec<Hash>, bool) {
    let mut all_real = true;
    let proof = match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|h| {
                let (h, real) = probe_hash(h);
                all_real &= real;
                h
            })
            .collect(),
        other => panic!("proof is {other}"),
    };
    (proof, all_real)
}

fn reference_tree() -> (MemoryTree, Value) {
    let file = load("rfc6962-merkle-reference-tree.json");
    let mut tree = MemoryTree::new();
    for (i, leaf) in file["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let data = hex::decode(leaf.as_str().unwrap()).unwrap();
        assert_eq!(tree.push(&data), i as u64);
    }
    (tree, file)
}

#[test]
fn reference_tree_roots_and_nodes() {
    let (tree, file) = reference_tree();
    assert_eq!(tree.size(), 8);
    let roots = file["root_hashes_hex_by_tree_size"].as_object().unwrap();
    assert_eq!(roots.len(), 9);
    for size in 0..=8u64 {
        let want = hex32(&roots[&size.to_string()]);
        assert_eq!(tlog::root(&tree, size), Ok(want), "size {size}");
        // The same root when the tree is built only up to that size.
        let mut prefix = MemoryTree::new();
        for i in 0..size {
            prefix.push_hash(tlog::Nodes::node(&tree, 0, i).unwrap());
        }
        assert_eq!(prefix.root(), want, "size {size}");
    }
    assert_eq!(tree.root(), hex32(&roots["8"]));
    assert_eq!(tlog::empty_root(), hex32(&roots["0"]));
    let levels = file["node_hashes_hex_by_level"].as_array().unwrap();
    assert_eq!(levels.len(), 4);
    for (level, nodes) in levels.iter().enumerate() {
        for (index, hash) in nodes.as_array().unwrap().iter().enumerate() {
            assert_eq!(
                tlog::Nodes::node(&tree, level as u8, index as u64),
                Ok(hex32(hash)),
                "node ({level}, {index})"
            );
        }
    }
}

#[test]
fn every_inclusion_probe() {
    let (tree, _) = reference_tree();
    let probes = load("rfc6962-merkle-proof-probes.json");
    let (mut good, mut bad, mut regenerated, mut not_a_hash) = (0, 0, 0, 0);
    for (path, p) in probes["probes"].as_object().unwrap() {
        if !path.starts_with("inclusion/") {
            continue;
        }
        let index = p["leafIdx"].as_u64().unwrap();
        let size = p["treeSize"].as_u64().unwrap();
        let (root, root_real) = probe_hash(&p["root"]);
        let (proof, proof_real) = probe_proof(&p["proof"]);
        // Go refuses a leaf hash that is not 32 bytes before anything else;
        // here such a value cannot be a `Hash` at all.
        let leaf_bytes = BASE64.decode(p["leafHash"].as_str().unwrap()).unwrap();
        let Ok(leaf) = Hash::try_from(leaf_bytes.as_slice()) else {
            assert!(p["wantErr"].as_bool().unwrap(), "{path}");
            not_a_hash += 1;
            continue;
        };
        let got = tlog::verify_inclusion(&leaf, index, size, &proof, &root);
        if p["wantErr"].as_bool().unwrap() {
            let want = if index >= size {
                TlogError::IndexOutOfRange
            } else {
                TlogError::InvalidProof
            };
            assert_eq!(got, Err(want), "{path} ({})", p["desc"]);
            bad += 1;
        } else {
            assert_eq!(got, Ok(()), "{path}");
            assert!(root_real && proof_real, "{path}");
            good += 1;
            // Our own proof for the reference tree is the published one.
            if path.ends_with("happy-path.json") {
                assert_eq!(
                    tlog::inclusion_proof(&tree, index, size),
                    Ok(proof),
                    "{path}"
                );
                assert_eq!(tlog::root(&tree, size), Ok(root), "{path}");
                assert_eq!(tlog::Nodes::node(&tree, 0, index), Ok(leaf), "{path}");
                regenerated += 1;
            }
        }
    }
    assert_eq!((good, bad, regenerated, not_a_hash), (6, 81, 5, 11));
}

#[test]
fn every_consistency_probe() {
    let (tree, _) = reference_tree();
    let probes = load("rfc6962-merkle-proof-probes.json");
    let (mut good, mut bad, mut regenerated) = (0, 0, 0);
    for (path, p) in probes["probes"].as_object().unwrap() {
        if !path.starts_with("consistency/") {
            continue;
        }
        let old = p["size1"].as_u64().unwrap();
        let new = p["size2"].as_u64().unwrap();
        let (old_root, _) = probe_hash(&p["root1"]);
        let (new_root, _) = probe_hash(&p["root2"]);
        let (proof, _) = probe_proof(&p["proof"]);
        let got = tlog::verify_consistency(old, new, &old_root, &new_root, &proof);
        if p["wantErr"].as_bool().unwrap() {
            let want = if old > new {
                TlogError::SizeOrder
            } else if old == 0 {
                TlogError::EmptyOldTree
            } else {
                TlogError::InvalidProof
            };
            assert_eq!(got, Err(want), "{path} ({})", p["desc"]);
            bad += 1;
        } else {
            assert_eq!(got, Ok(()), "{path}");
            good += 1;
            if path.ends_with("happy-path.json") {
                assert_eq!(
                    tlog::consistency_proof(&tree, old, new),
                    Ok(proof),
                    "{path}"
                );
                assert_eq!(tlog::root(&tree, old), Ok(old_root), "{path}");
                assert_eq!(tlog::root(&tree, new), Ok(new_root), "{path}");
                regenerated += 1;
            }
        }
    }
    assert_eq!((good, bad, regenerated), (6, 92, 5));
}

fn examples() -> Value {
    load("c2sp-signed-note-and-checkpoint-examples.json")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

/// The note text: everything up to and including the newline before the
/// last blank line (C2SP signed-note §Format).
fn text_of(note: &str) -> &str {
    &note[..note.rfind("\n\n").unwrap() + 1]
}

/// The note with one bit of the signature bytes (after the key ID) flipped.
fn with_flipped_signature(note: &str) -> String {
    let text = text_of(note);
    let line = note[text.len() + 1..].lines().next().unwrap();
    let (head, b64) = line.rsplit_once(' ').unwrap();
    let mut blob = BASE64.decode(b64).unwrap();
    blob[4 + 20] ^= 0x01;
    format!("{text}\n{head} {}\n", BASE64.encode(blob))
}

#[test]
fn c2sp_signed_note_example_verifies() {
    let e = &examples()["c2sp_signed_note_verifiable_example"];
    let v = NoteVerifier::parse(s(e, "vkey")).unwrap();
    assert_eq!(v.name, "example.com/foo");
    assert_eq!(hex::encode(v.key_id), "530d903a");
    assert_eq!(v.verifier_key(), s(e, "vkey"));
    let note = s(e, "signed_note");
    assert_eq!(v.open(note).as_deref(), Ok("This is an example message.\n"));

    // One byte of text, one bit of signature, one bit of key ID.
    let altered_text = note.replacen("example", "exbmple", 1);
    assert_eq!(altered_text.len(), note.len());
    assert_eq!(v.open(&altered_text), Err(TlogError::InvalidSignature));
    assert_eq!(
        v.open(&with_flipped_signature(note)),
        Err(TlogError::InvalidSignature)
    );
    let line = &note[text_of(note).len() + 1..];
    let (head, b64) = line.trim_end().rsplit_once(' ').unwrap();
    let mut blob = BASE64.decode(b64).unwrap();
    blob[0] ^= 0x01;
    let other_id = format!("{}\n{head} {}\n", text_of(note), BASE64.encode(blob));
    assert_eq!(v.open(&other_id), Err(TlogError::NotSignedByKey));
}

#[test]
fn go_sumdb_note_signatures_verify() {
    let g = &examples()["go_x_mod_sumdb_note"];
    let peter = NoteVerifier::parse(s(g, "vkey_PeterNeumann")).unwrap();
    let enoch = NoteVerifier::parse(s(g, "vkey_EnochRoot")).unwrap();
    let text = s(g, "text");
    let one = s(g, "signed_note_PeterNeumann");
    let both = s(g, "signed_note_PeterNeumann_and_EnochRoot");
    assert_eq!(one, format!("{text}\n{}", s(g, "sig_line_PeterNeumann")));
    assert_eq!(peter.open(one).as_deref(), Ok(text));
    assert_eq!(peter.open(both).as_deref(), Ok(text));
    assert_eq!(enoch.open(both).as_deref(), Ok(text));
    assert_eq!(enoch.open(one), Err(TlogError::NotSignedByKey));
    let enoch_only = format!("{text}\n{}", s(g, "sig_line_EnochRoot"));
    assert_eq!(enoch.open(&enoch_only).as_deref(), Ok(text));
    assert_eq!(peter.open(&enoch_only), Err(TlogError::NotSignedByKey));

    // A one-byte change to the text or a signature.
    let altered = both.replacen("cryptography", "cryptographY", 1);
    assert_eq!(peter.open(&altered), Err(TlogError::InvalidSignature));
    assert_eq!(enoch.open(&altered), Err(TlogError::InvalidSignature));
    assert_eq!(
        peter.open(&with_flipped_signature(one)),
        Err(TlogError::InvalidSignature)
    );
    // Flipping Peter's signature spoils the note for Peter only.
    let t = text_of(both);
    let lines: Vec<&str> = both[t.len() + 1..].lines().collect();
    assert_eq!(lines.len(), 2);
    let peter_bad = with_flipped_signature(&format!("{t}\n{}\n", lines[0]));
    let flipped_peter = format!("{peter_bad}{}\n", lines[1]);
    assert_eq!(peter.open(&flipped_peter), Err(TlogError::InvalidSignature));
    assert_eq!(enoch.open(&flipped_peter).as_deref(), Ok(text));

    // The invalid verifier keys of TestNewVerifier, with the reasons given.
    let wants = [
        // Its base64 ends `EY==`, whose unused bits are not zero: Go's
        // decoder allows that, ours (RFC 4648 §3.5 canonical) refuses it
        // before the length is looked at.
        (
            "wrong length key, with adjusted key hash",
            TlogError::MalformedVerifierKey,
        ),
        (
            "unknown algorithm, with adjusted key hash",
            TlogError::UnsupportedKey,
        ),
    ];
    let invalid = g["invalid_vkeys"].as_array().unwrap();
    assert_eq!(invalid.len(), wants.len());
    for (case, (why, want)) in invalid.iter().zip(wants) {
        assert_eq!(s(case, "why"), why);
        assert_eq!(NoteVerifier::parse(s(case, "vkey")), Err(want), "{why}");
    }
}

#[test]
fn go_signer_key_reproduces_the_published_signature() {
    let g = &examples()["go_x_mod_sumdb_note"];
    // PRIVATE+KEY+name+hash+base64(0x01 || seed): the base64 may itself
    // hold a '+', so split on the first four only.
    let parts: Vec<&str> = s(g, "skey_PeterNeumann").splitn(5, '+').collect();
    assert_eq!(parts[..4], ["PRIVATE", "KEY", "PeterNeumann", "c74f20a3"]);
    let key = zeroize::Zeroizing::new(BASE64.decode(parts[4]).unwrap());
    assert_eq!(key.len(), 33);
    assert_eq!(key[0], tlog::ALG_ED25519);
    let seed: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(key[1..].try_into().unwrap());
    let signer = NoteSigner::new("PeterNeumann", &seed).unwrap();
    assert_eq!(signer.verifier_key(), s(g, "vkey_PeterNeumann"));
    assert_eq!(hex::encode(signer.verifier().key_id), parts[3]);
    // Ed25519 is deterministic: the same note, byte for byte.
    assert_eq!(
        signer.sign(s(g, "text")).as_deref(),
        Ok(s(g, "signed_note_PeterNeumann"))
    );
}

#[test]
fn our_signer_round_trips() {
    let signer = NoteSigner::new("buzon.example/log", &[0x42; 32]).unwrap();
    let vkey = signer.verifier_key();
    let verifier = NoteVerifier::parse(&vkey).unwrap();
    assert_eq!(verifier.verifier_key(), vkey);
    assert_eq!(verifier, signer.verifier());
    let checkpoint = Checkpoint {
        origin: "buzon.example/log".into(),
        size: 8,
        root: reference_tree().0.root(),
        extensions: vec![],
    };
    let note = signer.sign(&checkpoint.body()).unwrap();
    let text = verifier.open(&note).unwrap();
    assert_eq!(Checkpoint::parse(&text), Ok(checkpoint));
    // Other keys from the vectors do not open it.
    let g = &examples()["go_x_mod_sumdb_note"];
    let peter = NoteVerifier::parse(s(g, "vkey_PeterNeumann")).unwrap();
    assert_eq!(peter.open(&note), Err(TlogError::NotSignedByKey));
}

#[test]
fn checkpoints_parse_and_reserialise_byte_for_byte() {
    let e = examples();
    let go_tree = s(&e["go_x_mod_sumdb_tlog_tree_note_text"], "text");
    let c = Checkpoint::parse(go_tree).unwrap();
    assert_eq!(c.origin, "go.sum database tree");
    assert_eq!(c.size, 123_456_789_012);
    // Go's test: the hash is tlog.RecordHash("hello world").
    assert_eq!(c.root, tlog::leaf_hash(b"hello world"));
    assert!(c.extensions.is_empty());
    assert_eq!(c.body(), go_tree);

    let note = s(&e["c2sp_tlog_checkpoint_example"], "signed_note");
    let body = text_of(note);
    let c = Checkpoint::parse(body).unwrap();
    assert_eq!(c.origin, "example.com/behind-the-sofa");
    assert_eq!(c.size, 20_852_163);
    assert_eq!(c.body(), body);
}

#[test]
fn keyless_examples_are_well_formed_notes() {
    // No verifier key is published for these, so only their form can be
    // checked: a verifier for another key must find them well-formed and
    // report that it has no signature of its own there.
    let e = examples();
    let stranger = NoteSigner::new("stranger.example", &[1; 32])
        .unwrap()
        .verifier();
    let mut notes = vec![
        s(&e["c2sp_signed_note_intro_example"], "signed_note").to_owned(),
        s(&e["c2sp_tlog_checkpoint_example"], "signed_note").to_owned(),
    ];
    for block in e["c2sp_tlog_cosignature_examples"]["blocks"]
        .as_array()
        .unwrap()
    {
        notes.push(block.as_str().unwrap().to_owned());
    }
    assert_eq!(notes.len(), 3);
    for note in &notes {
        assert_eq!(
            stranger.open(note),
            Err(TlogError::NotSignedByKey),
            "{note}"
        );
        // Without the blank line before the signatures they are malformed.
        let split = note.rfind("\n\n").unwrap();
        let squashed = format!("{}{}", &note[..split], &note[split + 1..]);
        assert_eq!(
            stranger.open(&squashed),
            Err(TlogError::MalformedNote),
            "{squashed}"
        );
    }
}
