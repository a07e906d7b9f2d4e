//! Receipt phrases: ten Spanish words that are the reporter's only key.
//!
//! Parties: the reporter, who keeps the phrase; the server (or the
//! reporter's own client) derives from it, with Argon2id, a lookup handle
//! and an X25519 key pair. The server stores only a hash of the handle and
//! the public key, so holding the data directory gives neither the phrase
//! nor anything that opens the thread (spec/receipt.md).
//!
//! Words come from the BIP-39 Spanish list (2,048 words; 11 bits each), so
//! ten words carry 110 bits. That list stays unique when accents are
//! removed and by its first four letters, which is what lets typing back
//! forgive case, accents, spacing and abbreviation.

use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::secret::Key32;
use super::wrap::RecipientSecret;

/// Words in a receipt.
pub const WORDS: usize = 10;
/// Bits of entropy in a receipt.
pub const BITS: u32 = 110;
/// Bytes of randomness [`Receipt::from_random`] consumes (the top 110 bits are used).
pub const RANDOM_BYTES: usize = 14;
/// Input longer than this is not a receipt (the longest phrase is ~110 characters).
pub const MAX_INPUT_CHARS: usize = 400;

/// Argon2id salt: fixed, since the 110-bit input needs no per-user salt to
/// defeat precomputation (spec/receipt.md, "Why a fixed salt").
pub const SALT: &[u8; 16] = b"buzon/receipt/v1";

/// The list with each word composed (NFC). The `bip39` crate ships it
/// decomposed (NFD, as BIP-39 specifies), which displays the same but makes
/// "próximo" eight code points: a person typing it on a keyboard, or copying
/// it into some editors, would produce different bytes. Shown words,
/// generated passwords and everything compared are NFC.
fn word_list() -> &'static [String] {
    static LIST: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        bip39::Language::Spanish
            .word_list()
            .iter()
            .map(|w| w.nfc().collect())
            .collect()
    })
}

/// Word `i` (taken modulo 2048) of the list, with its accents.
pub fn word(i: u16) -> &'static str {
    word_list()
        .get(usize::from(i) % 2048)
        .map(String::as_str)
        .unwrap_or_default()
}

/// A receipt: ten word indices. Wiped on drop, printed as `[redacted]`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Receipt([u16; WORDS]);

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A typed phrase that is not a receipt. One variant only: the caller must
/// not be able to tell a reporter which word was wrong (no oracle), and
/// must do the same work as for a wrong but well-formed receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAReceipt;

impl Receipt {
    /// A receipt from 14 random bytes (the first 110 bits are used).
    pub fn from_random(bytes: [u8; RANDOM_BYTES]) -> Receipt {
        let mut acc = Zeroizing::new(u128::from_be_bytes({
            let mut b = [0u8; 16];
            b[..RANDOM_BYTES].copy_from_slice(&bytes);
            b
        }));
        let mut idx = [0u16; WORDS];
        for slot in idx.iter_mut() {
            *slot = (*acc >> (128 - 11)) as u16;
            *acc <<= 11;
        }
        Receipt(idx)
    }

    /// The words, in order, with their accents, as shown to the reporter.
    pub fn words(&self) -> Vec<&'static str> {
        let list = word_list();
        self.0
            .iter()
            .map(|i| list.get(usize::from(*i)).map(String::as_str).unwrap_or(""))
            .collect()
    }

    /// The phrase as one line of words separated by single spaces.
    pub fn phrase(&self) -> Zeroizing<String> {
        Zeroizing::new(self.words().join(" "))
    }

    /// Reads a phrase typed back by a person.
    ///
    /// Forgiving by design: any case; accents present, missing or combining;
    /// any run of whitespace (including non-breaking and zero-width), digits
    /// and punctuation between words (so numbered copies work); words run
    /// together without spaces; and any word cut to its first four or more
    /// letters.
    pub fn parse(typed: &str) -> Result<Receipt, NotAReceipt> {
        if typed.chars().count() > MAX_INPUT_CHARS {
            return Err(NotAReceipt);
        }
        let folded = Zeroizing::new(fold(typed));
        let tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
        let mut out = segment(&tokens).ok_or(NotAReceipt)?;
        let arr: [u16; WORDS] = out.as_slice().try_into().map_err(|_| NotAReceipt)?;
        out.zeroize();
        Ok(Receipt(arr))
    }

    /// Whether `typed` is `word` as a person may type it back: any case,
    /// with or without accents, surrounding spaces, or its first four or
    /// more letters.
    pub fn same_word(typed: &str, word: &str) -> bool {
        let t = fold(typed);
        let t = t.trim();
        let w = fold(word);
        !t.is_empty() && (t == w || (t.chars().count() >= 4 && w.starts_with(t)))
    }

    /// The canonical bytes Argon2id reads: a label and the ten indices.
    fn canonical(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(Vec::with_capacity(16 + 2 * WORDS));
        v.extend_from_slice(b"buzon-receipt-v1");
        for i in self.0 {
            v.extend_from_slice(&i.to_be_bytes());
        }
        v
    }
}

/// Lower-cases, strips accents (NFKD, then drops combining marks) and turns
/// every non-letter into a single space.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphabetic() {
            out.extend(c.to_lowercase());
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    out
}

/// The list's words with their accents removed, folded once.
fn plain_list() -> &'static [String] {
    static PLAIN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PLAIN.get_or_init(|| word_list().iter().map(|w| fold(w)).collect())
}

/// Splits the typed tokens into exactly `budget` list words. Within a
/// token, longer words are tried first; a token's last word may be cut to
/// four or more letters. The search backtracks across tokens, so a run such
/// as "diario" is also tried as "dia" + "rio" when only that gives ten
/// words. `dead` remembers (token, position, budget) states that failed,
/// bounding the work by input length × budget whatever the input.
fn segment(tokens: &[&str]) -> Option<Vec<u16>> {
    let mut dead = std::collections::HashSet::new();
    segment_from(tokens, 0, 0, WORDS, &mut dead)
}

fn segment_from(
    tokens: &[&str],
    ti: usize,
    pos: usize,
    budget: usize,
    dead: &mut std::collections::HashSet<(usize, usize, usize)>,
) -> Option<Vec<u16>> {
    let Some(token) = tokens.get(ti) else {
        return (budget == 0).then(Vec::new);
    };
    let rest = token.get(pos..)?;
    if rest.is_empty() {
        return segment_from(tokens, ti + 1, 0, budget, dead);
    }
    if budget == 0 || dead.contains(&(ti, pos, budget)) {
        return None;
    }
    let list = plain_list();
    let mut full: Vec<(usize, u16)> = list
        .iter()
        .enumerate()
        .filter(|(_, p)| rest.starts_with(p.as_str()))
        .map(|(i, p)| (p.len(), i as u16))
        .collect();
    full.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (len, idx) in full {
        if let Some(mut tail) = segment_from(tokens, ti, pos + len, budget - 1, dead) {
            tail.insert(0, idx);
            return Some(tail);
        }
    }
    if rest.chars().count() >= 4 {
        let mut prefixed = list.iter().enumerate().filter(|(_, p)| p.starts_with(rest));
        if let (Some((i, _)), None) = (prefixed.next(), prefixed.next()) {
            if let Some(mut tail) = segment_from(tokens, ti + 1, 0, budget - 1, dead) {
                tail.insert(0, i as u16);
                return Some(tail);
            }
        }
    }
    dead.insert((ti, pos, budget));
    None
}

/// Argon2id cost for one derivation. Part of the format: changing it
/// changes every handle and key, so it is versioned with the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

/// Receipt derivation cost, version 1: 64 MiB, 3 passes, 1 lane.
pub const RECEIPT_COST: KdfCost = KdfCost {
    memory_kib: 64 * 1024,
    iterations: 3,
    lanes: 1,
};

/// What a receipt opens: a lookup handle and the reporter's key pair.
pub struct ReporterKeys {
    /// Sent to find the thread; the server stores only [`ReporterKeys::index`].
    pub lookup: Key32,
    /// Opens the reporter's wrap of the thread key.
    pub secret: RecipientSecret,
}

impl fmt::Debug for ReporterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl ReporterKeys {
    /// The stored index of a lookup handle: a one-way hash, so the data
    /// directory does not hold the handle itself.
    pub fn index(&self) -> [u8; 32] {
        lookup_index(&self.lookup)
    }
}

/// `BLAKE3-derive_key("buzon 2026-12 receipt lookup index v1", lookup)`.
pub fn lookup_index(lookup: &Key32) -> [u8; 32] {
    blake3::derive_key("buzon 2026-12 receipt lookup index v1", lookup.expose())
}

/// Argon2id over `password` and `salt`, 64 output bytes.
pub fn argon2id(
    password: &[u8],
    salt: &[u8],
    cost: KdfCost,
) -> Result<Zeroizing<[u8; 64]>, argon2::Error> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, Some(64))?;
    let mut out = Zeroizing::new([0u8; 64]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
        password,
        salt,
        out.as_mut(),
    )?;
    Ok(out)
}

/// Derives the lookup handle and key pair from a receipt.
pub fn derive(receipt: &Receipt, cost: KdfCost) -> Result<ReporterKeys, argon2::Error> {
    let master = argon2id(&receipt.canonical(), SALT, cost)?;
    Ok(ReporterKeys {
        lookup: Key32::from_bytes(blake3::derive_key(
            "buzon 2026-12 receipt lookup v1",
            master.as_ref(),
        )),
        secret: RecipientSecret::from_bytes(blake3::derive_key(
            "buzon 2026-12 receipt x25519 v1",
            master.as_ref(),
        )),
    })
}

/// Derives from a phrase that did not parse, doing the same work as
/// [`derive`] so that timing does not tell a malformed phrase from a
/// well-formed wrong one. The result matches no thread.
pub fn derive_decoy(typed: &str, cost: KdfCost) -> Result<ReporterKeys, argon2::Error> {
    let mut seed = [0u8; RANDOM_BYTES];
    let h = blake3::derive_key("buzon 2026-12 receipt decoy v1", typed.as_bytes());
    seed.copy_from_slice(h.get(..RANDOM_BYTES).unwrap_or(&[0; RANDOM_BYTES]));
    derive(&Receipt::from_random(seed), cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_unique_without_accents_and_by_four_letters() {
        let mut plains: Vec<String> = plain_list().to_vec();
        let mut fours: Vec<String> = plains.iter().map(|p| p.chars().take(4).collect()).collect();
        plains.sort();
        plains.dedup();
        fours.sort();
        fours.dedup();
        assert_eq!(plains.len(), 2048);
        assert_eq!(fours.len(), 2048);
    }

    #[test]
    fn random_bytes_map_to_words_and_back() {
        let r = Receipt::from_random([0xA5; 14]);
        let again = Receipt::parse(&r.phrase()).unwrap();
        assert_eq!(r, again);
        assert_eq!(Receipt::from_random([0; 14]).0, [0; WORDS]);
        assert_eq!(Receipt::from_random([0xFF; 14]).0, [2047; WORDS]);
    }

    #[test]
    fn typing_back_forgives() {
        let r = Receipt::from_random([
            0x3C, 0x91, 0x07, 0xEE, 0x42, 0x10, 0x88, 0x5A, 0xD3, 0x2B, 0x77, 0x01, 0xC6, 0x9F,
        ]);
        let words = r.words();
        let upper = r.phrase().to_uppercase();
        let plain_words: Vec<String> = words.iter().map(|w| fold(w)).collect();
        let no_accents = plain_words.join(" ");
        let nbsp = words.join("\u{00A0}\u{00A0} ");
        let numbered: String = words
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {w}\n", i + 1))
            .collect();
        let joined = plain_words.join("");
        let short: Vec<String> = plain_words
            .iter()
            .map(|p| p.chars().take(4).collect())
            .collect();
        let short_spaced = short.join(" ");
        let combining: String = r.phrase().nfd().collect();
        for typed in [
            upper,
            no_accents,
            nbsp,
            numbered,
            joined,
            short_spaced,
            combining,
            format!("  {}  ", *r.phrase()),
        ] {
            assert_eq!(Receipt::parse(&typed), Ok(r.clone()), "{typed:?}");
        }
    }

    #[test]
    fn wrong_phrases_refused() {
        let r = Receipt::from_random([0x11; 14]);
        let words = r.words();
        assert_eq!(Receipt::parse(&words[..9].join(" ")), Err(NotAReceipt));
        assert_eq!(
            Receipt::parse(&format!("{} {}", *r.phrase(), words[0])),
            Err(NotAReceipt)
        );
        assert_eq!(Receipt::parse("hola mundo"), Err(NotAReceipt));
        assert_eq!(Receipt::parse(""), Err(NotAReceipt));
        assert_eq!(Receipt::parse(&"a".repeat(5000)), Err(NotAReceipt));
    }
}
