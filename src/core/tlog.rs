//! A transparency log: the RFC 9162 (RFC 6962) Merkle tree over SHA-256,
//! its inclusion and consistency proofs, and the C2SP signed notes and
//! checkpoints in which the log publishes its tree heads.
//!
//! Pure code: no I/O, no clock, no randomness. Storage is the [`Nodes`]
//! trait (sled implements it; [`MemoryTree`] is the in-memory version), and
//! the signing seed is passed in by the caller.
//!
//! # Security notes
//!
//! - **Parties.** The log operator (the server) appends leaves, stores the
//!   complete-subtree hashes and signs checkpoints with one Ed25519 key. A
//!   client or auditor holds the verifier key, obtained out of band, and
//!   checks inclusion proofs (this leaf is in the tree the checkpoint
//!   signed) and consistency proofs (the newer tree extends the older one).
//! - **What is learned.** Everything here is public by design: leaf hashes,
//!   node hashes, sizes, roots and signed checkpoints. A leaf hash is *not*
//!   a hiding commitment: whoever can guess a leaf's bytes can confirm the
//!   guess. Never put low-entropy personal data (names, addresses, short
//!   identifiers) into a leaf unless it is first mixed with enough secret
//!   randomness.
//! - **Assumptions.** SHA-256 is collision resistant (the leaf and node
//!   prefixes 0x00 and 0x01 keep leaves and nodes apart, RFC 9162 §2.1.1);
//!   Ed25519 is unforgeable; the verifier key came from a trusted place. An
//!   inclusion proof binds the tree size only through the root: check it
//!   against a root that a verified checkpoint signed for that size.
//!
//! Specifications followed:
//! - RFC 9162 §2.1 (the same tree and proofs as RFC 6962 §2.1);
//! - C2SP signed-note, <https://github.com/C2SP/C2SP/blob/main/signed-note.md>;
//! - C2SP tlog-checkpoint, <https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md>.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, a node hash or a tree root (RFC 9162 §2.1.1).
pub type Hash = [u8; 32];

/// The largest signed note [`NoteVerifier::open`] reads and [`NoteSigner::sign`]
/// writes, in bytes (C2SP signed-note §Format: verifiers SHOULD limit the size).
pub const MAX_NOTE_SIZE: usize = 1_000_000;

/// The most signature lines [`NoteVerifier::open`] reads (C2SP signed-note
/// §Format asks for at least 16; 100 is the limit of Go's `sumdb/note`).
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte of Ed25519 in C2SP signed-note §Signature types.
pub const ALG_ED25519: u8 = 0x01;

/// What went wrong in this module. Proof and signature failures are single
/// variants on purpose: they do not say which part did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlogError {
    /// A leaf index was not below the tree size (RFC 9162 §2.1.3: 0 <= index < size).
    IndexOutOfRange,
    /// The older tree size was larger than the newer one (RFC 9162 §2.1.4).
    SizeOrder,
    /// A consistency proof from the empty tree was offered for verification:
    /// it proves nothing, and RFC 9162 §2.1.4.2 needs 0 < first.
    EmptyOldTree,
    /// The tree already has the most leaves a `u64` can count.
    TreeFull,
    /// The node store has no hash for a node that the requested tree size needs.
    MissingNode,
    /// The node store failed to read a node (for storage implementations).
    Storage,
    /// A proof did not verify: wrong length, wrong hashes or another root.
    InvalidProof,
    /// Checkpoint text that does not follow C2SP tlog-checkpoint §Note text.
    MalformedCheckpoint,
    /// A key name that is empty or has a space, a plus or a control character
    /// (C2SP signed-note §Format).
    InvalidKeyName,
    /// A verifier key not of the form `name+hex8+base64` (C2SP signed-note §Verifier keys).
    MalformedVerifierKey,
    /// A verifier key whose key ID is not the hash of its name and key
    /// (C2SP signed-note §Signatures).
    KeyIdMismatch,
    /// A verifier key that is not a 32-byte Ed25519 key (type 0x01).
    UnsupportedKey,
    /// The Ed25519 seed was refused by the signing library.
    BadSeed,
    /// A note, or a text to sign, that does not follow C2SP signed-note §Format.
    MalformedNote,
    /// A note longer than [`MAX_NOTE_SIZE`].
    NoteTooLarge,
    /// A note with more than [`MAX_SIGNATURES`] signature lines.
    TooManySignatures,
    /// A signature line with this key's name and ID did not verify.
    InvalidSignature,
    /// The note carries no signature line from this key.
    NotSignedByKey,
}

impl fmt::Display for TlogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IndexOutOfRange => "leaf index is not below the tree size",
            Self::SizeOrder => "the older tree size is larger than the newer one",
            Self::EmptyOldTree => "a consistency proof from the empty tree proves nothing",
            Self::TreeFull => "the log cannot hold more leaves",
            Self::MissingNode => "a tree node needed for this size is missing from the store",
            Self::Storage => "the tree node store failed",
            Self::InvalidProof => "the Merkle proof does not verify",
            Self::MalformedCheckpoint => "the checkpoint is not well-formed",
            Self::InvalidKeyName => "the key name is not valid for a signed note",
            Self::MalformedVerifierKey => "the verifier key is not well-formed",
            Self::KeyIdMismatch => "the verifier key's ID does not match its name and key",
            Self::UnsupportedKey => "the verifier key is not an Ed25519 key",
            Self::BadSeed => "the signing key seed was refused",
            Self::MalformedNote => "the signed note is not well-formed",
            Self::NoteTooLarge => "the signed note is too large",
            Self::TooManySignatures => "the signed note has too many signatures",
            Self::InvalidSignature => "a signature by the expected key does not verify",
            Self::NotSignedByKey => "the note is not signed by the expected key",
        })
    }
}

impl std::error::Error for TlogError {}

// ---------------------------------------------------------------- hashing

/// The hash of a leaf, `SHA-256(0x00 || data)` (RFC 9162 §2.1.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node, `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

// ---------------------------------------------------------------- tree

/// Source of complete-subtree hashes: node (level, index) is the hash of the
/// complete subtree of 2^level leaves [index << level, (index + 1) << level).
/// Level 0 = leaf hashes. Storage (sled) implements this.
///
/// These are the only nodes of an RFC 9162 §2.1.1 tree that never change
/// as the log grows; every other hash is computed from them.
pub trait Nodes {
    /// The hash of node (level, index); [`TlogError::MissingNode`] when the
    /// store does not have it, [`TlogError::Storage`] when reading failed.
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError>;
}

/// Appending the leaf with hash `leaf` at position `size` (tree had `size` leaves):
/// returns every complete node that now exists and did not before, (level, index, hash),
/// level 0 first. The caller stores them.
///
/// A node completes when the new leaf closes a right-hand subtree, so the
/// result has 1 + (number of trailing one bits of `size`) entries and the
/// left siblings are read from `nodes` (RFC 9162 §2.1.1).
pub fn append(nodes: &dyn Nodes, size: u64, leaf: Hash) -> Result<Vec<(u8, u64, Hash)>, TlogError> {
    if size == u64::MAX {
        return Err(TlogError::TreeFull);
    }
    let mut out = vec![(0u8, size, leaf)];
    let (mut level, mut index, mut hash) = (0u8, size, leaf);
    while index & 1 == 1 {
        let left = nodes.node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        // At most 63 trailing ones, so the level stays below 64.
        level = level.checked_add(1).ok_or(TlogError::TreeFull)?;
        index >>= 1;
        out.push((level, index, hash));
    }
    Ok(out)
}

/// The Merkle Tree Hash of the first `size` leaves, MTH(D[0:size]) (RFC 9162 §2.1.1).
/// Reads one complete node per one bit of `size`.
pub fn root(nodes: &dyn Nodes, size: u64) -> Result<Hash, TlogError> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(nodes, 0, size)
}

/// The hash MTH(D[lo:hi]) of a subtree that RFC 9162 §2.1.1's recursion
/// produces: `lo < hi` and `lo` a multiple of the smallest power of two
/// not below `hi - lo`. Such a range splits into complete subtrees, one per one
/// bit of `hi - lo`, largest first; the hash folds them from the right.
fn range_hash(nodes: &dyn Nodes, lo: u64, hi: u64) -> Result<Hash, TlogError> {
    let width = hi.checked_sub(lo).ok_or(TlogError::SizeOrder)?;
    let mut parts = Vec::with_capacity(width.count_ones() as usize);
    let mut start = lo;
    for level in (0..64u8).rev() {
        if (width >> level) & 1 == 1 {
            parts.push(nodes.node(level, start >> level)?);
            start = start
                .checked_add(1u64 << level)
                .ok_or(TlogError::TreeFull)?;
        }
    }
    let mut from_right = parts.into_iter().rev();
    let mut hash = from_right.next().ok_or(TlogError::SizeOrder)?;
    for left in from_right {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// The largest power of two smaller than `n`, for `n >= 2` (RFC 9162 §2.1.1's `k`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - n.saturating_sub(1).leading_zeros().min(63))
}

/// The inclusion proof PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, lowest
/// sibling first. Needs `index < size`.
pub fn inclusion_proof(nodes: &dyn Nodes, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
    if index >= size {
        return Err(TlogError::IndexOutOfRange);
    }
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index - lo < k {
            path.push(range_hash(nodes, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(nodes, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1, lowest
/// node first. Empty when `old == 0` or `old == new`; `old > new` is an error.
pub fn consistency_proof(nodes: &dyn Nodes, old: u64, new: u64) -> Result<Vec<Hash>, TlogError> {
    if old > new {
        return Err(TlogError::SizeOrder);
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], whole), unrolled; `m` counts from `lo`.
    let mut path = Vec::new();
    let (mut m, mut lo, mut hi, mut whole) = (old, 0u64, new, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                path.push(range_hash(nodes, lo, hi)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            path.push(range_hash(nodes, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(nodes, lo, lo + k)?);
            m -= k;
            lo += k;
            whole = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Verifies that `leaf` is leaf number `index` of the tree of `size` leaves
/// whose root is `root`, with the algorithm of RFC 9162 §2.1.3.2.
///
/// `size` is bound only through `root`: use the root that a verified
/// checkpoint signed for `size`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::IndexOutOfRange);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(TlogError::InvalidProof);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(TlogError::InvalidProof)
    }
}

/// Verifies that the tree of `new` leaves with root `new_root` extends the
/// tree of `old` leaves with root `old_root`, with the algorithm of
/// RFC 9162 §2.1.4.2.
///
/// Equal sizes verify with an empty proof and equal roots. `old == 0` is
/// refused with [`TlogError::EmptyOldTree`] (RFC 9162 needs 0 < first, and
/// the transparency-dev/merkle probes expect an error): a client with no
/// earlier checkpoint has nothing to check.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), TlogError> {
    if old > new {
        return Err(TlogError::SizeOrder);
    }
    if old == 0 {
        return Err(TlogError::EmptyOldTree);
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(TlogError::InvalidProof)
        };
    }
    // Step 1.
    if proof.is_empty() {
        return Err(TlogError::InvalidProof);
    }
    // Step 2: when `old` is a power of two its root is the seed, and the
    // proof leaves it out.
    let (seed, path) = if old.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(TlogError::InvalidProof),
        }
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in path {
        if s == 0 {
            return Err(TlogError::InvalidProof);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && fr == *old_root && sr == *new_root {
        Ok(())
    } else {
        Err(TlogError::InvalidProof)
    }
}

/// In-memory Nodes, built by appending; for tests and for the auditor, who
/// recomputes the tree from all entries (RFC 9162 §2.1.1).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is node (l, i).
    levels: Vec<Vec<Hash>>,
    /// The complete subtrees that make up the tree, largest (leftmost)
    /// first: one per one bit of `size`, as (level, hash).
    frontier: Vec<(u8, Hash)>,
    size: u64,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf with these bytes (hashed with [`leaf_hash`]); returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_hash(leaf_hash(data))
    }

    /// Appends a leaf given by its leaf hash; returns its index.
    pub fn push_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        let (mut level, mut hash) = (0u8, leaf);
        self.store(level, hash);
        // Binary increment: equal-sized subtrees at the right edge merge.
        while let Some(&(last_level, left)) = self.frontier.last() {
            if last_level != level {
                break;
            }
            self.frontier.pop();
            hash = node_hash(&left, &hash);
            level = level.saturating_add(1);
            self.store(level, hash);
        }
        self.frontier.push((level, hash));
        // A tree in memory cannot reach 2^64 leaves.
        self.size = self.size.saturating_add(1);
        index
    }

    fn store(&mut self, level: u8, hash: Hash) {
        match self.levels.get_mut(usize::from(level)) {
            Some(row) => row.push(hash),
            None => self.levels.push(vec![hash]),
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle Tree Hash of all leaves (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        let mut from_right = self.frontier.iter().rev();
        let Some(&(_, mut hash)) = from_right.next() else {
            return empty_root();
        };
        for (_, left) in from_right {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

impl Nodes for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        let row = self.levels.get(usize::from(level));
        let index = usize::try_from(index).ok();
        row.zip(index)
            .and_then(|(row, i)| row.get(i))
            .copied()
            .ok_or(TlogError::MissingNode)
    }
}

// ---------------------------------------------------------------- notes

/// C2SP tlog-checkpoint (https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md)
///
/// The note text of a checkpoint: origin, tree size, root hash, then
/// optional extension lines (§Note text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, non-empty; SHOULD be a schema-less URL.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Opaque, non-empty extension lines (NOT RECOMMENDED by the spec).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n` and each extension line
    /// followed by `\n` (tlog-checkpoint §Note text). Only a checkpoint that
    /// passes [`Checkpoint::check`] gives a text [`Checkpoint::parse`] reads back.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Checks the rules of tlog-checkpoint §Note text that the fields can
    /// break: origin and extension lines non-empty, and no newline or other
    /// control character in them (signed-note §Format).
    pub fn check(&self) -> Result<(), TlogError> {
        if !checkpoint_line_ok(&self.origin)
            || !self.extensions.iter().all(|l| checkpoint_line_ok(l))
        {
            return Err(TlogError::MalformedCheckpoint);
        }
        Ok(())
    }

    /// Parses checkpoint note text (tlog-checkpoint §Note text), strictly:
    /// at least three non-empty lines, each ending in `\n`; the size in
    /// decimal without leading zeros (`0` for the empty tree) and within
    /// `u64`; the root in canonical standard base64 of exactly 32 bytes;
    /// no empty extension lines. The origin may hold spaces (the spec only
    /// recommends against them, and Go's `go.sum database tree` has them).
    pub fn parse(body: &str) -> Result<Checkpoint, TlogError> {
        if body.len() > MAX_NOTE_SIZE {
            return Err(TlogError::MalformedCheckpoint);
        }
        let text = body
            .strip_suffix('\n')
            .ok_or(TlogError::MalformedCheckpoint)?;
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(TlogError::MalformedCheckpoint);
        };
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size: parse_decimal(size).ok_or(TlogError::MalformedCheckpoint)?,
            root: parse_root(root).ok_or(TlogError::MalformedCheckpoint)?,
            extensions: lines.map(str::to_owned).collect(),
        };
        checkpoint.check()?;
        Ok(checkpoint)
    }
}

fn checkpoint_line_ok(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(|c| c < ' ')
}

/// ASCII decimal with no sign and no leading zeros, within `u64`.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return None;
    }
    s.parse().ok()
}

/// Standard padded base64 of exactly 32 bytes, in its one canonical spelling.
fn parse_root(s: &str) -> Option<Hash> {
    let bytes = BASE64.decode(s).ok()?;
    let hash = Hash::try_from(bytes.as_slice()).ok()?;
    (BASE64.encode(hash) == s).then_some(hash)
}

/// A key name as C2SP signed-note §Format allows: non-empty, no Unicode
/// space, no `+`; and no control character, which a note cannot hold.
fn key_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// The key ID of C2SP signed-note §Signatures:
/// `SHA-256(name || 0x0A || type || public key)[:4]`; `key` includes the type byte.
fn key_id(name: &str, key: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A]);
    h.update(key);
    let digest: Hash = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

/// The em dash and space that start a signature line (signed-note §Format).
const SIG_PREFIX: &str = "\u{2014} ";

/// The text rules of C2SP signed-note §Format that a text to sign must meet.
fn note_text_ok(text: &str) -> bool {
    text.ends_with('\n') && !text.chars().any(|c| c < ' ' && c != '\n')
}

/// C2SP signed-note (https://github.com/C2SP/C2SP/blob/main/signed-note.md), Ed25519 only (alg byte 0x01).
///
/// Holds the key pair inside `ring`; no copy of the seed is kept here, and
/// `Debug` prints the key as `[redacted]`.
pub struct NoteSigner {
    name: String,
    key_id: [u8; 4],
    public: [u8; 32],
    key_pair: Ed25519KeyPair,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl NoteSigner {
    /// A signer for key name `name` (signed-note §Format: non-empty, no
    /// space, no `+`) from a 32-byte Ed25519 seed (RFC 8032 §5.1.5).
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, TlogError> {
        if !key_name_ok(name) {
            return Err(TlogError::InvalidKeyName);
        }
        let key_pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| TlogError::BadSeed)?;
        let public =
            <[u8; 32]>::try_from(key_pair.public_key().as_ref()).map_err(|_| TlogError::BadSeed)?;
        Ok(NoteSigner {
            name: name.to_owned(),
            key_id: key_id(name, &typed_public_key(&public)),
            public,
            key_pair,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key, `name+hex8(key id)+base64(0x01 || public key)`
    /// (signed-note §Verifier keys).
    pub fn verifier_key(&self) -> String {
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            BASE64.encode(typed_public_key(&self.public))
        )
    }

    /// The verifier for this signer's key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            public: self.public,
        }
    }

    /// Signs `text` (signed-note §Format: ends in `\n`, no control
    /// characters but `\n`) and returns the signed note: the text, a blank
    /// line and `— name base64(key id || Ed25519 signature)\n`.
    pub fn sign(&self, text: &str) -> Result<String, TlogError> {
        if !note_text_ok(text) {
            return Err(TlogError::MalformedNote);
        }
        let signature = self.key_pair.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(4 + 64);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(signature.as_ref());
        let note = format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        );
        if note.len() > MAX_NOTE_SIZE {
            return Err(TlogError::NoteTooLarge);
        }
        Ok(note)
    }
}

/// `0x01 || public key`, the key encoding of signed-note §Ed25519 signatures.
fn typed_public_key(public: &[u8; 32]) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(ALG_ED25519);
    key.extend_from_slice(public);
    key
}

/// A verifier key of C2SP signed-note (§Verifier keys), Ed25519 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    /// The key name.
    pub name: String,
    /// The key ID, `SHA-256(name || 0x0A || 0x01 || public)[:4]`.
    pub key_id: [u8; 4],
    /// The Ed25519 public key (RFC 8032).
    pub public: [u8; 32],
}

impl NoteVerifier {
    /// Parses `name+hex8(key id)+base64(0x01 || public key)` and checks the
    /// key ID = SHA-256(name || 0x0A || 0x01 || pub)[:4] (signed-note
    /// §Signatures). As in Go's `sumdb/note`, the ID's hex may be either case.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, TlogError> {
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(TlogError::MalformedVerifierKey)?;
        let (id_hex, key_b64) = rest
            .split_once('+')
            .ok_or(TlogError::MalformedVerifierKey)?;
        if !key_name_ok(name) || id_hex.len() != 8 {
            return Err(TlogError::MalformedVerifierKey);
        }
        let mut id = [0u8; 4];
        hex::decode_to_slice(id_hex, &mut id).map_err(|_| TlogError::MalformedVerifierKey)?;
        let key = BASE64
            .decode(key_b64)
            .map_err(|_| TlogError::MalformedVerifierKey)?;
        if key.is_empty() {
            return Err(TlogError::MalformedVerifierKey);
        }
        if key_id(name, &key) != id {
            return Err(TlogError::KeyIdMismatch);
        }
        let Some((&ALG_ED25519, public)) = key.split_first() else {
            return Err(TlogError::UnsupportedKey);
        };
        let public = <[u8; 32]>::try_from(public).map_err(|_| TlogError::UnsupportedKey)?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            key_id: id,
            public,
        })
    }

    /// The verifier key in its text form (signed-note §Verifier keys).
    pub fn verifier_key(&self) -> String {
        let key = typed_public_key(&self.public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            BASE64.encode(key)
        )
    }

    /// Opens a signed note (C2SP signed-note §Format, §Signatures) and
    /// returns its text when at least one signature line is by this key
    /// and verifies.
    ///
    /// - The text is everything up to and including the newline before the
    ///   last blank line; it may itself hold blank lines.
    /// - Signature lines by other keys (another name, or another ID under
    ///   the same name) are ignored, but must still be well-formed.
    /// - Every line with this key's name and ID is verified, a repeated one
    ///   included (Go's `sumdb/note` skips repeats; the spec's MUST does
    ///   not), and one failure refuses the note: [`TlogError::InvalidSignature`].
    /// - No line by this key: [`TlogError::NotSignedByKey`].
    /// - Limits: [`MAX_NOTE_SIZE`] bytes and [`MAX_SIGNATURES`] lines.
    pub fn open(&self, note: &str) -> Result<String, TlogError> {
        if note.len() > MAX_NOTE_SIZE {
            return Err(TlogError::NoteTooLarge);
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(TlogError::MalformedNote);
        }
        let split = note.rfind("\n\n").ok_or(TlogError::MalformedNote)?;
        // Just after a '\n', so on a character boundary.
        let (text, signatures) = note
            .split_at_checked(split + 1)
            .ok_or(TlogError::MalformedNote)?;
        let signatures = signatures
            .strip_prefix('\n')
            .and_then(|s| s.strip_suffix('\n'))
            .ok_or(TlogError::MalformedNote)?;
        if signatures.is_empty() {
            return Err(TlogError::MalformedNote);
        }
        let public = UnparsedPublicKey::new(&ED25519, &self.public);
        let mut verified = false;
        for (count, line) in signatures.split('\n').enumerate() {
            if count >= MAX_SIGNATURES {
                return Err(TlogError::TooManySignatures);
            }
            let (name, id, signature) = parse_signature_line(line)?;
            if name != self.name || id != self.key_id {
                continue;
            }
            public
                .verify(text.as_bytes(), &signature)
                .map_err(|_| TlogError::InvalidSignature)?;
            verified = true;
        }
        if verified {
            Ok(text.to_owned())
        } else {
            Err(TlogError::NotSignedByKey)
        }
    }
}

/// Splits `— name base64(key id || signature)` (signed-note §Signatures).
fn parse_signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), TlogError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(TlogError::MalformedNote)?;
    let (name, b64) = rest.split_once(' ').ok_or(TlogError::MalformedNote)?;
    if !key_name_ok(name) || b64.is_empty() {
        return Err(TlogError::MalformedNote);
    }
    let blob = BASE64.decode(b64).map_err(|_| TlogError::MalformedNote)?;
    match blob.split_first_chunk::<4>() {
        Some((id, signature)) if !signature.is_empty() => Ok((name, *id, signature.to_vec())),
        _ => Err(TlogError::MalformedNote),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MTH(D[lo:hi]) straight from the definition in RFC 9162 §2.1.1.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    /// PATH(m, D[n]) straight from RFC 9162 §2.1.3.1.
    fn reference_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split_point(n as u64) as usize;
        if m < k {
            let mut p = reference_path(m, &leaves[..k]);
            p.push(reference_root(&leaves[k..]));
            p
        } else {
            let mut p = reference_path(m - k, &leaves[k..]);
            p.push(reference_root(&leaves[..k]));
            p
        }
    }

    /// SUBPROOF(m, D[n], b) straight from RFC 9162 §2.1.4.1.
    fn reference_subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if whole {
                Vec::new()
            } else {
                vec![reference_root(leaves)]
            };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut p = reference_subproof(m, &leaves[..k], whole);
            p.push(reference_root(&leaves[k..]));
            p
        } else {
            let mut p = reference_subproof(m - k, &leaves[k..], false);
            p.push(reference_root(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    fn tree(leaves: &[Hash]) -> MemoryTree {
        let mut t = MemoryTree::new();
        for l in leaves {
            t.push_hash(*l);
        }
        t
    }

    /// Counts node reads, to pin the O(log² n) bound.
    struct Counting<'a>(&'a MemoryTree, std::cell::Cell<usize>);
    impl Nodes for Counting<'_> {
        fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
            self.1.set(self.1.get() + 1);
            self.0.node(level, index)
        }
    }

    const N: usize = 40;

    #[test]
    fn hashes_match_rfc_definitions() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn roots_match_the_definition() {
        let l = leaves(N);
        let mut t = MemoryTree::new();
        assert_eq!(t.root(), empty_root());
        assert_eq!(root(&t, 0), Ok(empty_root()));
        for n in 1..=N {
            assert_eq!(t.push_hash(l[n - 1]), (n - 1) as u64);
            assert_eq!(t.size(), n as u64);
            let want = reference_root(&l[..n]);
            assert_eq!(t.root(), want, "size {n}");
            for m in 0..=n {
                assert_eq!(
                    root(&t, m as u64),
                    Ok(reference_root(&l[..m])),
                    "size {m} of {n}"
                );
            }
        }
        assert_eq!(root(&t, N as u64 + 1), Err(TlogError::MissingNode));
    }

    #[test]
    fn append_gives_the_new_complete_nodes() {
        let l = leaves(N);
        let mut t = MemoryTree::new();
        for (n, leaf) in l.iter().enumerate() {
            let n = n as u64;
            let new = append(&t, n, *leaf).unwrap();
            assert_eq!(new.len() as u32, 1 + n.trailing_ones(), "size {n}");
            assert_eq!(new[0], (0, n, *leaf));
            assert!(new.windows(2).all(|w| w[1].0 == w[0].0 + 1));
            t.push_hash(*leaf);
            for (level, index, hash) in new {
                let lo = (index << level) as usize;
                let hi = ((index + 1) << level) as usize;
                assert!(hi as u64 == n + 1, "a new node ends at the new leaf");
                assert_eq!(hash, reference_root(&l[lo..hi]));
                assert_eq!(t.node(level, index), Ok(hash));
            }
        }
        // Every stored node is a complete subtree of the definition.
        for level in 0..6u8 {
            let mut index = 0u64;
            while let Ok(h) = t.node(level, index) {
                let lo = (index << level) as usize;
                let hi = ((index + 1) << level) as usize;
                assert_eq!(h, reference_root(&l[lo..hi]));
                index += 1;
            }
            assert_eq!(index, N as u64 >> level);
        }
        assert_eq!(append(&t, u64::MAX, l[0]), Err(TlogError::TreeFull));
        assert_eq!(append(&t, 41, l[0]), Err(TlogError::MissingNode));
    }

    #[test]
    fn every_inclusion_proof_up_to_40_verifies() {
        let l = leaves(N);
        let t = tree(&l);
        for n in 1..=N {
            let size = n as u64;
            let r = root(&t, size).unwrap();
            for i in 0..n {
                let index = i as u64;
                let proof = inclusion_proof(&t, index, size).unwrap();
                assert_eq!(proof, reference_path(i, &l[..n]), "({i}, {n})");
                assert_eq!(verify_inclusion(&l[i], index, size, &proof, &r), Ok(()));
                // Another leaf, index, root or size does not verify.
                let other = leaf_hash(b"other");
                assert_eq!(
                    verify_inclusion(&other, index, size, &proof, &r),
                    Err(TlogError::InvalidProof)
                );
                for j in (0..n).filter(|j| *j != i) {
                    assert!(verify_inclusion(&l[i], j as u64, size, &proof, &r).is_err());
                    assert!(verify_inclusion(&l[j], j as u64, size, &proof, &r).is_err());
                }
                for m in (i + 1..=N).filter(|m| *m != n) {
                    let rm = reference_root(&l[..m]);
                    assert!(
                        verify_inclusion(&l[i], index, m as u64, &proof, &rm).is_err(),
                        "proof ({i}, {n}) passed for size {m}"
                    );
                }
                let wrong_root = reference_root(&l[..n - 1]);
                assert!(verify_inclusion(&l[i], index, size, &proof, &wrong_root).is_err());
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k][0] ^= 1;
                    assert_eq!(
                        verify_inclusion(&l[i], index, size, &bad, &r),
                        Err(TlogError::InvalidProof)
                    );
                }
                let mut longer = proof.clone();
                longer.push(r);
                assert!(verify_inclusion(&l[i], index, size, &longer, &r).is_err());
                if !proof.is_empty() {
                    assert!(
                        verify_inclusion(&l[i], index, size, &proof[..proof.len() - 1], &r)
                            .is_err()
                    );
                }
            }
            assert_eq!(
                inclusion_proof(&t, size, size),
                Err(TlogError::IndexOutOfRange)
            );
            assert_eq!(
                verify_inclusion(&l[0], size, size, &[], &r),
                Err(TlogError::IndexOutOfRange)
            );
        }
        assert_eq!(inclusion_proof(&t, 0, 0), Err(TlogError::IndexOutOfRange));
        assert_eq!(
            inclusion_proof(&t, 0, N as u64 + 1),
            Err(TlogError::MissingNode)
        );
    }

    #[test]
    fn every_consistency_proof_up_to_40_verifies() {
        let l = leaves(N);
        let t = tree(&l);
        let roots: Vec<Hash> = (0..=N).map(|n| reference_root(&l[..n])).collect();
        for new in 1..=N {
            for old in 1..=new {
                let proof = consistency_proof(&t, old as u64, new as u64).unwrap();
                let want = if old == new {
                    Vec::new()
                } else {
                    reference_subproof(old, &l[..new], true)
                };
                assert_eq!(proof, want, "({old}, {new})");
                let (o, n) = (old as u64, new as u64);
                assert_eq!(
                    verify_consistency(o, n, &roots[old], &roots[new], &proof),
                    Ok(())
                );
                // Any other old size, new size or root fails.
                for other in (1..=N).filter(|x| *x != old && *x <= new) {
                    assert!(
                        verify_consistency(other as u64, n, &roots[other], &roots[new], &proof)
                            .is_err(),
                        "({old}, {new}) passed as ({other}, {new})"
                    );
                }
                for other in (old..=N).filter(|x| *x != new) {
                    assert!(
                        verify_consistency(o, other as u64, &roots[old], &roots[other], &proof)
                            .is_err(),
                        "({old}, {new}) passed as ({old}, {other})"
                    );
                }
                let bogus = leaf_hash(b"bogus");
                assert!(verify_consistency(o, n, &bogus, &roots[new], &proof).is_err());
                assert!(verify_consistency(o, n, &roots[old], &bogus, &proof).is_err());
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k][31] ^= 0x80;
                    assert_eq!(
                        verify_consistency(o, n, &roots[old], &roots[new], &bad),
                        Err(TlogError::InvalidProof)
                    );
                }
                let mut longer = proof.clone();
                longer.push(roots[new]);
                assert!(verify_consistency(o, n, &roots[old], &roots[new], &longer).is_err());
            }
        }
        assert_eq!(consistency_proof(&t, 0, 7), Ok(Vec::new()));
        assert_eq!(consistency_proof(&t, 8, 7), Err(TlogError::SizeOrder));
        assert_eq!(
            verify_consistency(8, 7, &roots[8], &roots[7], &[]),
            Err(TlogError::SizeOrder)
        );
        assert_eq!(
            verify_consistency(0, 7, &roots[0], &roots[7], &[]),
            Err(TlogError::EmptyOldTree)
        );
        assert_eq!(
            verify_consistency(0, 0, &roots[0], &roots[0], &[]),
            Err(TlogError::EmptyOldTree)
        );
    }

    #[test]
    fn proofs_read_few_nodes() {
        let mut t = MemoryTree::new();
        for i in 0..5000u32 {
            t.push(&i.to_be_bytes());
        }
        let c = Counting(&t, std::cell::Cell::new(0));
        let size = 4999u64; // 0b1001110000111: many one bits
        let _ = root(&c, size).unwrap();
        assert_eq!(c.1.get(), size.count_ones() as usize);
        for (i, old) in [(0u64, 1u64), (2500, 2501), (4998, 1234), (4096, 4097)] {
            c.1.set(0);
            inclusion_proof(&c, i, size).unwrap();
            assert!(c.1.get() <= 13 * 13, "inclusion read {} nodes", c.1.get());
            c.1.set(0);
            consistency_proof(&c, old, size).unwrap();
            assert!(c.1.get() <= 13 * 13, "consistency read {} nodes", c.1.get());
        }
    }

    fn note_verifier() -> (NoteSigner, NoteVerifier) {
        let s = NoteSigner::new("example.com/log", &[7; 32]).unwrap();
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        (s, v)
    }

    #[test]
    fn signer_round_trips() {
        let (s, v) = note_verifier();
        assert_eq!(v, s.verifier());
        assert_eq!(v.verifier_key(), s.verifier_key());
        let note = s.sign("hello\n").unwrap();
        assert!(note.starts_with("hello\n\n\u{2014} example.com/log "));
        assert_eq!(v.open(&note), Ok("hello\n".to_owned()));
        // Blank lines inside the text are part of it.
        let note = s.sign("a\n\nb\n\n").unwrap();
        assert_eq!(v.open(&note), Ok("a\n\nb\n\n".to_owned()));
        assert!(format!("{s:?}").contains("[redacted]"));
    }

    #[test]
    fn signer_refuses_bad_names_and_texts() {
        for name in [
            "",
            "a+b",
            "a b",
            "a\tb",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\nb",
            "a\u{7}b",
        ] {
            assert_eq!(
                NoteSigner::new(name, &[1; 32]).map(|_| ()),
                Err(TlogError::InvalidKeyName),
                "{name:?}"
            );
        }
        let (s, _) = note_verifier();
        for text in ["", "no newline", "tab\there\n", "cr\r\n"] {
            assert_eq!(s.sign(text), Err(TlogError::MalformedNote), "{text:?}");
        }
        assert_eq!(
            s.sign(&"x".repeat(MAX_NOTE_SIZE)),
            Err(TlogError::MalformedNote)
        );
        let mut big = "x".repeat(MAX_NOTE_SIZE - 10);
        big.push('\n');
        assert_eq!(s.sign(&big), Err(TlogError::NoteTooLarge));
    }

    #[test]
    fn open_refuses_malformed_and_foreign_notes() {
        let (s, v) = note_verifier();
        let other = NoteSigner::new("example.com/other", &[9; 32]).unwrap();
        let twin = NoteSigner::new("example.com/log", &[9; 32]).unwrap();
        let good = s.sign("text\n").unwrap();
        let sig_line = good.strip_prefix("text\n\n").unwrap();
        let foreign_line = other
            .sign("text\n")
            .unwrap()
            .strip_prefix("text\n\n")
            .unwrap()
            .to_owned();
        let twin_line = twin
            .sign("text\n")
            .unwrap()
            .strip_prefix("text\n\n")
            .unwrap()
            .to_owned();

        // Other keys' signatures are ignored, before or after ours.
        assert!(v.open(&format!("text\n\n{foreign_line}{sig_line}")).is_ok());
        assert!(
            v.open(&format!("text\n\n{sig_line}{foreign_line}{twin_line}"))
                .is_ok()
        );
        // Only other keys (same name and another ID counts as another key).
        assert_eq!(
            v.open(&format!("text\n\n{foreign_line}{twin_line}")),
            Err(TlogError::NotSignedByKey)
        );
        // Our name and ID but a bad signature: refused even beside a good one.
        let mut blob = BASE64
            .decode(sig_line.rsplit(' ').next().unwrap().trim_end())
            .unwrap();
        blob[10] ^= 1;
        let bad_line = format!("\u{2014} example.com/log {}\n", BASE64.encode(&blob));
        assert_eq!(
            v.open(&format!("text\n\n{bad_line}")),
            Err(TlogError::InvalidSignature)
        );
        assert_eq!(
            v.open(&format!("text\n\n{sig_line}{bad_line}")),
            Err(TlogError::InvalidSignature)
        );
        // A short signature by our key.
        let short = format!(
            "\u{2014} example.com/log {}\n",
            BASE64.encode([&v.key_id[..], &[1, 2, 3]].concat())
        );
        assert_eq!(
            v.open(&format!("text\n\n{short}")),
            Err(TlogError::InvalidSignature)
        );

        let malformed = [
            "text\n".to_owned(),                                      // no signatures
            "text\n\n".to_owned(),                                    // empty signature block
            good.trim_end().to_owned(),                               // no final newline
            good.replace('\u{2014}', "-"),                            // not an em dash
            good.replace("\u{2014} ", "\u{2014}"),                    // no space
            good.replace("example.com/log ", "example.com/log  "),    // two spaces
            good.replace("example.com/log ", " "),                    // empty name
            good.replace("example.com/log", "example.com+log"),       // plus in name
            good.replace("text\n", "te\rxt\n"),                       // control character
            "text\n\n\u{2014} example.com/log AAAA\n".to_owned(),     // too short
            "text\n\n\u{2014} example.com/log AAAAAAB=\n".to_owned(), // non-canonical base64
            "text\n\n\u{2014} example.com/log AAAAAAA\n".to_owned(),  // unpadded base64
            "text\n\n\u{2014} example.com/log !!!!\n".to_owned(),     // not base64
            format!("{good}\n"),                                      // blank line after
            format!("{good}trailing\n"),                              // not a signature line
        ];
        for m in &malformed {
            assert_eq!(v.open(m), Err(TlogError::MalformedNote), "{m:?}");
        }
        let many = format!("text\n\n{}", foreign_line.repeat(MAX_SIGNATURES));
        assert_eq!(v.open(&many), Err(TlogError::NotSignedByKey));
        let too_many = format!("text\n\n{}{sig_line}", foreign_line.repeat(MAX_SIGNATURES));
        assert_eq!(v.open(&too_many), Err(TlogError::TooManySignatures));
        let huge = format!("{}\n\n{sig_line}", "x".repeat(MAX_NOTE_SIZE));
        assert_eq!(v.open(&huge), Err(TlogError::NoteTooLarge));
    }

    #[test]
    fn verifier_keys_are_checked() {
        let (s, _) = note_verifier();
        let vkey = s.verifier_key();
        let (name, rest) = vkey.split_once('+').unwrap();
        let (id, key) = rest.split_once('+').unwrap();
        assert_eq!(
            NoteVerifier::parse(&format!("{name}+{}+{key}", id.to_uppercase())).map(|v| v.key_id),
            Ok(s.verifier().key_id)
        );
        let cases = [
            (format!("{name}+{id}"), TlogError::MalformedVerifierKey),
            (format!("{name}{id}{key}"), TlogError::MalformedVerifierKey),
            (format!("+{id}+{key}"), TlogError::MalformedVerifierKey),
            (
                format!("{name}+{}+{key}", &id[..7]),
                TlogError::MalformedVerifierKey,
            ),
            (
                format!("{name}+0{id}+{key}"),
                TlogError::MalformedVerifierKey,
            ),
            (
                format!("{name}+zzzzzzzz+{key}"),
                TlogError::MalformedVerifierKey,
            ),
            (format!("{name}+{id}+"), TlogError::MalformedVerifierKey),
            (
                format!("{name}+{id}+{key}x"),
                TlogError::MalformedVerifierKey,
            ),
            (format!("{name}x+{id}+{key}"), TlogError::KeyIdMismatch),
            (format!("{name}+00000000+{key}"), TlogError::KeyIdMismatch),
        ];
        for (k, want) in cases {
            assert_eq!(NoteVerifier::parse(&k), Err(want), "{k}");
        }
        // Another algorithm or key length, with a matching ID.
        for key in [
            [&[2u8][..], &[0; 32]].concat(),
            [&[1u8][..], &[0; 31]].concat(),
        ] {
            let id = hex::encode(key_id("n", &key));
            assert_eq!(
                NoteVerifier::parse(&format!("n+{id}+{}", BASE64.encode(&key))),
                Err(TlogError::UnsupportedKey)
            );
        }
    }

    #[test]
    fn checkpoints_round_trip_and_refuse_non_canonical_text() {
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: 0,
            root: empty_root(),
            extensions: vec![],
        };
        assert_eq!(
            c.body(),
            "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::parse(&c.body()), Ok(c.clone()));
        let d = Checkpoint {
            size: u64::MAX,
            extensions: vec!["ext one".into(), "two".into()],
            ..c.clone()
        };
        assert_eq!(Checkpoint::parse(&d.body()), Ok(d.clone()));
        let r = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let bad = [
            String::new(),
            "o\n1\n".to_owned(),
            format!("o\n1\n{r}"),
            format!("\n1\n{r}\n"),
            format!("o\n01\n{r}\n"),
            format!("o\n00\n{r}\n"),
            format!("o\n+1\n{r}\n"),
            format!("o\n-1\n{r}\n"),
            format!("o\n 1\n{r}\n"),
            format!("o\n1 \n{r}\n"),
            format!("o\n\n{r}\n"),
            format!("o\n18446744073709551616\n{r}\n"),
            "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n".to_owned(),
            "o\n1\n47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n".to_owned(),
            "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n".to_owned(),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{r}\n\n"),
            format!("o\n1\n{r}\next\n\n"),
            format!("o\n1\n{r}\n\next\n"),
            format!("o\r\n1\n{r}\n"),
            format!("o\n1\n{r}\r\n"),
        ];
        for b in &bad {
            assert_eq!(
                Checkpoint::parse(b),
                Err(TlogError::MalformedCheckpoint),
                "{b:?}"
            );
        }
        for broken in [
            Checkpoint {
                origin: String::new(),
                ..c.clone()
            },
            Checkpoint {
                origin: "a\nb".into(),
                ..c.clone()
            },
            Checkpoint {
                extensions: vec![String::new()],
                ..c.clone()
            },
            Checkpoint {
                extensions: vec!["x\ny".into()],
                ..c.clone()
            },
        ] {
            assert_eq!(broken.check(), Err(TlogError::MalformedCheckpoint));
        }
    }

    #[test]
    fn errors_have_distinct_plain_messages() {
        use TlogError::*;
        let all = [
            IndexOutOfRange,
            SizeOrder,
            EmptyOldTree,
            TreeFull,
            MissingNode,
            Storage,
            InvalidProof,
            MalformedCheckpoint,
            InvalidKeyName,
            MalformedVerifierKey,
            KeyIdMismatch,
            UnsupportedKey,
            BadSeed,
            MalformedNote,
            NoteTooLarge,
            TooManySignatures,
            InvalidSignature,
            NotSignedByKey,
        ];
        // Exhaustive, so a new variant must be added to the list above.
        for e in all {
            match e {
                IndexOutOfRange | SizeOrder | EmptyOldTree | TreeFull | MissingNode | Storage
                | InvalidProof | MalformedCheckpoint | InvalidKeyName | MalformedVerifierKey
                | KeyIdMismatch | UnsupportedKey | BadSeed | MalformedNote | NoteTooLarge
                | TooManySignatures | InvalidSignature | NotSignedByKey => {}
            }
        }
        let messages: std::collections::BTreeSet<String> =
            all.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), all.len());
    }

    proptest! {
        #[test]
        fn random_trees_prove_and_refuse(
            n in 1u64..700,
            a in any::<u64>(),
            b in any::<u64>(),
            flip in any::<(usize, u8)>(),
        ) {
            let mut t = MemoryTree::new();
            let mut all = Vec::new();
            for i in 0..n {
                let leaf = leaf_hash(&i.to_le_bytes());
                let new = append(&t, i, leaf).unwrap();
                t.push_hash(leaf);
                for (level, index, hash) in new {
                    prop_assert_eq!(t.node(level, index), Ok(hash));
                }
                all.push(leaf);
            }
            let index = a % n;
            let size = index + 1 + b % (n - index);
            let r = root(&t, size).unwrap();
            prop_assert_eq!(r, reference_root(&all[..size as usize]));
            let proof = inclusion_proof(&t, index, size).unwrap();
            prop_assert_eq!(verify_inclusion(&all[index as usize], index, size, &proof, &r), Ok(()));
            let old = 1 + a % size;
            let old_root = root(&t, old).unwrap();
            let cproof = consistency_proof(&t, old, size).unwrap();
            prop_assert_eq!(verify_consistency(old, size, &old_root, &r, &cproof), Ok(()));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let (k, bit) = flip;
                bad[k % proof.len()][(bit % 32) as usize] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(&all[index as usize], index, size, &bad, &r).is_err());
            }
            if !cproof.is_empty() {
                let mut bad = cproof.clone();
                let (k, bit) = flip;
                bad[k % cproof.len()][(bit % 32) as usize] ^= 1 << (bit % 8);
                prop_assert!(verify_consistency(old, size, &old_root, &r, &bad).is_err());
            }
        }

        #[test]
        fn checkpoints_round_trip(
            origin in "[a-z./ ]{1,20}",
            size in any::<u64>(),
            root in any::<[u8; 32]>(),
            extensions in proptest::collection::vec("[ -~]{1,10}", 0..3),
        ) {
            let c = Checkpoint { origin, size, root, extensions };
            let body = c.body();
            prop_assert_eq!(Checkpoint::parse(&body), Ok(c.clone()));
            prop_assert_eq!(Checkpoint::parse(&body).unwrap().body(), body);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = Checkpoint::parse(&s);
            let _ = NoteVerifier::parse(&s);
            let (_, v) = note_verifier();
            let _ = v.open(&s);
        }
    }
}
