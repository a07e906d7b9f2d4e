//! Secret byte strings that wipe themselves and never print.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 32-byte secret key (thread key, storage key, key-encryption key).
///
/// Wiped on drop; `Debug` prints `[redacted]` so no log can carry it.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Key32(pub(crate) [u8; 32]);

impl Key32 {
    pub fn from_bytes(bytes: [u8; 32]) -> Key32 {
        Key32(bytes)
    }
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Plaintext that must be wiped after use (message bodies, file chunks).
#[derive(Clone, Zeroize, ZeroizeOnDrop, Default, PartialEq, Eq)]
pub struct SecretBytes(pub Vec<u8>);

impl SecretBytes {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
