//! Length-prefixed binary encoding used by every format in spec/envelope.md.
//!
//! Integers are big-endian. Variable-length fields carry a length prefix of
//! the width the format names. A reader that finds too few bytes, or bytes
//! left over where a record must end, refuses the record: there is exactly
//! one encoding of every value.

use std::fmt;

/// Why bytes could not be decoded. Opaque on purpose: it says where, never what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The record ended before a field it promised.
    Truncated,
    /// Bytes were left after the last field.
    TrailingBytes,
    /// A version, tag or enum value this code does not know.
    Unknown,
    /// A length beyond the format's limit.
    TooLong,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "record truncated",
            WireError::TrailingBytes => "trailing bytes after record",
            WireError::Unknown => "unknown version or tag",
            WireError::TooLong => "field longer than allowed",
        })
    }
}

impl std::error::Error for WireError {}

/// Appends fields to a byte vector.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// A field with a u16 length prefix. Longer input is a caller bug and is cut.
    pub fn var16(&mut self, v: &[u8]) -> &mut Self {
        let n = v.len().min(usize::from(u16::MAX));
        self.u16(n as u16);
        self.bytes(v.get(..n).unwrap_or_default())
    }
    /// A field with a u32 length prefix.
    pub fn var32(&mut self, v: &[u8]) -> &mut Self {
        let n = v.len().min(u32::MAX as usize);
        self.u32(n as u32);
        self.bytes(v.get(..n).unwrap_or_default())
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields from a byte slice, refusing short or over-long input.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.array()?))
    }
    pub fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub fn var16(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    pub fn var32(&mut self, limit: usize) -> Result<&'a [u8], WireError> {
        let n = self.u32()? as usize;
        if n > limit {
            return Err(WireError::TooLong);
        }
        self.take(n)
    }
    /// Everything not yet read.
    pub fn remaining(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
    /// Refuses bytes left over: a record has one encoding.
    pub fn end(self) -> Result<(), WireError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes)
        }
    }
}
