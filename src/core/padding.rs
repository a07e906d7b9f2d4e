//! Padding plaintext to a small set of sizes before sealing.
//!
//! A frame is `length (u32) || data || zeros`, grown to the smallest bucket
//! that holds it. Buckets double from 512 bytes to 256 KiB, so a ciphertext
//! tells an observer only which power-of-two range the text falls in
//! (spec/envelope.md, "Padding"). Parsing checks that the padding is zeros
//! and the frame is exactly a bucket: one encoding per plaintext.

use super::secret::SecretBytes;
use super::wire::WireError;

/// The frame sizes, smallest first.
pub const BUCKETS: [usize; 10] = [
    512, 1024, 2048, 4096, 8192, 16_384, 32_768, 65_536, 131_072, 262_144,
];

/// The largest data that fits in the largest bucket.
pub const MAX_DATA: usize = 262_144 - 4;

/// Frames `data`; `None` when it is larger than [`MAX_DATA`].
pub fn pad(data: &[u8]) -> Option<SecretBytes> {
    let need = data.len().checked_add(4)?;
    let size = BUCKETS.iter().copied().find(|b| *b >= need)?;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
    out.extend_from_slice(data);
    out.resize(size, 0);
    Some(SecretBytes(out))
}

/// Returns the data inside a frame made by [`pad`].
pub fn unpad(frame: &[u8]) -> Result<SecretBytes, WireError> {
    if !BUCKETS.contains(&frame.len()) {
        return Err(WireError::Unknown);
    }
    let (len, rest) = frame.split_at(4);
    let mut l = [0u8; 4];
    l.copy_from_slice(len);
    let n = u32::from_be_bytes(l) as usize;
    let (data, zeros) = rest.split_at_checked(n).ok_or(WireError::Truncated)?;
    if zeros.iter().any(|b| *b != 0) {
        return Err(WireError::TrailingBytes);
    }
    // One encoding per plaintext: the frame must be the smallest bucket.
    if BUCKETS.iter().find(|b| **b >= n + 4) != Some(&frame.len()) {
        return Err(WireError::TrailingBytes);
    }
    Ok(SecretBytes(data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_buckets() {
        assert_eq!(pad(b"").unwrap().expose().len(), 512);
        assert_eq!(pad(&[1; 508]).unwrap().expose().len(), 512);
        assert_eq!(pad(&[1; 509]).unwrap().expose().len(), 1024);
        assert_eq!(pad(&[1; MAX_DATA]).unwrap().expose().len(), 262_144);
        assert!(pad(&[1; MAX_DATA + 1]).is_none());
        let f = pad(b"hola").unwrap();
        assert_eq!(unpad(f.expose()).unwrap().expose(), b"hola");
    }

    #[test]
    fn non_canonical_frames_refused() {
        let mut f = pad(b"hola").unwrap().expose().to_vec();
        f[100] = 1;
        assert_eq!(unpad(&f), Err(WireError::TrailingBytes));
        assert_eq!(unpad(&f[..511]), Err(WireError::Unknown));
        let mut g = pad(b"hola").unwrap().expose().to_vec();
        g[..4].copy_from_slice(&600u32.to_be_bytes());
        assert_eq!(unpad(&g), Err(WireError::Truncated));
    }
}
