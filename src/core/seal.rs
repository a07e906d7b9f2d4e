//! Symmetric sealing: XChaCha20-Poly1305 with a random 24-byte nonce.
//!
//! Parties: whoever holds the 32-byte key. The 192-bit nonce is drawn at
//! random by the caller for every seal, so nonce reuse under one key is
//! negligible (2^-96 after 2^48 seals) without any counter state to keep
//! consistent across crashes (spec/envelope.md, "Sealed box").
//! Associated data binds each ciphertext to where it is stored, so a record
//! moved to another thread, slot or epoch fails to open.
//!
//! Layout: `nonce (24) || ciphertext || tag (16)`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

use super::secret::{Key32, SecretBytes};

/// Bytes a seal adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

/// A sealed value would not open: wrong key, wrong place, or altered bytes.
/// Deliberately carries no detail (no oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenError;

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sealed value did not open")
    }
}
impl std::error::Error for OpenError {}

/// Seals `plaintext` under `key`, bound to `aad`.
pub fn seal(key: &Key32, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&(*key.expose()).into());
    let xnonce = XNonce::from(nonce);
    // Encryption fails only for inputs beyond 2^38 bytes, which no caller
    // can reach (every field has a limit far below); an empty result would
    // then fail to open rather than leak.
    let ct = cipher
        .encrypt(
            &xnonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Opens a value made by [`seal`] with the same key and associated data.
pub fn open(key: &Key32, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, OpenError> {
    if sealed.len() < OVERHEAD {
        return Err(OpenError);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(nonce);
    let cipher = XChaCha20Poly1305::new(&(*key.expose()).into());
    cipher
        .decrypt(&XNonce::from(n), Payload { msg: ct, aad })
        .map(SecretBytes)
        .map_err(|_| OpenError)
}

/// Opens a sealed 32-byte key.
pub fn open_key(key: &Key32, aad: &[u8], sealed: &[u8]) -> Result<Key32, OpenError> {
    let pt = open(key, aad, sealed)?;
    let bytes: [u8; 32] = pt.expose().try_into().map_err(|_| OpenError)?;
    Ok(Key32::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let k = Key32::from_bytes([7; 32]);
        let s = seal(&k, [1; 24], b"here", b"hola");
        assert_eq!(open(&k, b"here", &s).unwrap().expose(), b"hola");
        assert_eq!(open(&k, b"there", &s), Err(OpenError));
        assert_eq!(
            open(&Key32::from_bytes([8; 32]), b"here", &s),
            Err(OpenError)
        );
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(open(&k, b"here", &t), Err(OpenError));
        assert_eq!(open(&k, b"here", &s[..10]), Err(OpenError));
    }
}
