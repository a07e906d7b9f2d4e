//! Wrapping a 32-byte key for a recipient's X25519 public key.
//!
//! Parties: the sender (who knows the key being wrapped) and the recipient
//! (who holds the X25519 private key). The server stores the wrap and learns
//! nothing of the key from it. This is the sealed-box pattern of libsodium's
//! `crypto_box_seal`, with BLAKE3 as the KDF and XChaCha20-Poly1305 as the
//! AEAD (spec/envelope.md, "Key wrap"):
//!
//! ```text
//! shared = X25519(ephemeral_secret, recipient_public)   -- refused if all-zero
//! kek    = BLAKE3-derive_key("buzon 2026-12 key wrap v1",
//!                            shared || ephemeral_public || recipient_public)
//! wrap   = ephemeral_public (32) || seal(kek, nonce, context, key)  (24+32+16)
//! ```
//!
//! Assumptions: the ephemeral secret is fresh and uniformly random for every
//! wrap; `context` names the thread, epoch and recipient slot so a wrap can
//! not be replayed into another place.

use x25519_dalek::{PublicKey, StaticSecret};

use super::seal::{self, OpenError};
use super::secret::Key32;

const WRAP_KDF_CONTEXT: &str = "buzon 2026-12 key wrap v1";

/// Length of a wrapped key: ephemeral public key, nonce, key, tag.
pub const WRAPPED_LEN: usize = 32 + seal::NONCE_LEN + 32 + seal::TAG_LEN;

/// An X25519 public key of a recipient (reporter or staff member).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecipientKey(pub [u8; 32]);

/// Stored in JSON records as 64 lowercase hex digits.
impl serde::Serialize for RecipientKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for RecipientKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RecipientKey, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|_| serde::de::Error::custom("not a 32-byte hex key"))?;
        Ok(RecipientKey(out))
    }
}

/// An X25519 private key. Wiped on drop (x25519-dalek zeroizes), never printed.
#[derive(Clone)]
pub struct RecipientSecret(StaticSecret);

impl std::fmt::Debug for RecipientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl RecipientSecret {
    /// From 32 uniformly random (or KDF-derived) bytes; X25519 clamps them.
    pub fn from_bytes(bytes: [u8; 32]) -> RecipientSecret {
        RecipientSecret(StaticSecret::from(bytes))
    }
    pub fn public(&self) -> RecipientKey {
        RecipientKey(PublicKey::from(&self.0).to_bytes())
    }
    /// The raw secret, for sealing it under a password-derived key.
    pub fn to_key32(&self) -> Key32 {
        Key32::from_bytes(self.0.to_bytes())
    }
}

fn kek(shared: &[u8; 32], ephemeral: &[u8; 32], recipient: &[u8; 32]) -> Key32 {
    let mut h = blake3::Hasher::new_derive_key(WRAP_KDF_CONTEXT);
    h.update(shared);
    h.update(ephemeral);
    h.update(recipient);
    Key32::from_bytes(*h.finalize().as_bytes())
}

/// Why a key could not be wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapError {
    /// The recipient key is a low-order point: the shared secret would be
    /// predictable, so nothing is wrapped for it.
    WeakRecipientKey,
}

/// Whether a key wrap for this public key would be sound: false for the
/// low-order points whose shared secret is all zeros whatever the other
/// side's secret (spec/envelope.md, "Key wrap"). A clamped scalar is a
/// multiple of the cofactor, so any fixed one tells.
pub fn is_strong(recipient: &RecipientKey) -> bool {
    StaticSecret::from([1u8; 32])
        .diffie_hellman(&PublicKey::from(recipient.0))
        .was_contributory()
}

/// Wraps `key` for `recipient`, bound to `context`.
pub fn wrap(
    recipient: &RecipientKey,
    ephemeral_secret: [u8; 32],
    nonce: [u8; seal::NONCE_LEN],
    context: &[u8],
    key: &Key32,
) -> Result<Vec<u8>, WrapError> {
    let eph = StaticSecret::from(ephemeral_secret);
    let eph_pub = PublicKey::from(&eph).to_bytes();
    let shared = eph.diffie_hellman(&PublicKey::from(recipient.0));
    if !shared.was_contributory() {
        return Err(WrapError::WeakRecipientKey);
    }
    let k = kek(shared.as_bytes(), &eph_pub, &recipient.0);
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(&eph_pub);
    out.extend_from_slice(&seal::seal(&k, nonce, context, key.expose()));
    Ok(out)
}

/// Unwraps a key made by [`wrap`] for this secret's public key.
pub fn unwrap(
    secret: &RecipientSecret,
    context: &[u8],
    wrapped: &[u8],
) -> Result<Key32, OpenError> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(OpenError);
    }
    let (eph, sealed) = wrapped.split_at(32);
    let mut eph_pub = [0u8; 32];
    eph_pub.copy_from_slice(eph);
    let shared = secret.0.diffie_hellman(&PublicKey::from(eph_pub));
    if !shared.was_contributory() {
        return Err(OpenError);
    }
    let k = kek(shared.as_bytes(), &eph_pub, &secret.public().0);
    seal::open_key(&k, context, sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recipient_unwraps() {
        let alice = RecipientSecret::from_bytes([1; 32]);
        let bob = RecipientSecret::from_bytes([2; 32]);
        let key = Key32::from_bytes([9; 32]);
        let w = wrap(&alice.public(), [3; 32], [4; 24], b"ctx", &key).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        assert_eq!(unwrap(&alice, b"ctx", &w).unwrap(), key);
        assert!(unwrap(&bob, b"ctx", &w).is_err());
        assert!(unwrap(&alice, b"other", &w).is_err());
    }

    #[test]
    fn low_order_recipient_refused() {
        let zero = RecipientKey([0; 32]);
        assert_eq!(
            wrap(&zero, [3; 32], [4; 24], b"ctx", &Key32::from_bytes([9; 32])),
            Err(WrapError::WeakRecipientKey)
        );
    }
}
