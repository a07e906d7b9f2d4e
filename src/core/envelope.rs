//! Stored formats of a thread: messages, attachments, key wraps, epoch links
//! and staff keys. Every byte is described in spec/envelope.md, section by
//! section; each function here names the section it implements.
//!
//! Parties and keys:
//! - the **thread key** `TK_e` (32 random bytes, one per epoch `e`) seals
//!   messages and attachments. Holders: the reporter and the staff the
//!   reporter was shown or that a coordinator assigned. The server never
//!   stores it unwrapped.
//! - a **wrap** carries `TK_e` to one recipient's X25519 key ([`super::wrap`]).
//!   Wraps are further sealed under the thread's **storage key** `SK`, kept
//!   in the key vault, so destroying `SK` makes every wrap, and with them
//!   every message, unrecoverable even to a recipient holding old storage
//!   pages (crypto-shredding, spec/retention.md).
//! - an **epoch link** seals `TK_{e-1}` under `TK_e`: whoever holds the
//!   current key reads the whole history; someone removed at epoch `e`
//!   keeps `TK_{e-1}` at most and cannot read what is sealed under `TK_e`.
//!
//! What the server learns: thread kind and status, day of creation and of
//! last activity, the padded size and count of messages and attachments,
//! and which recipient slots hold a wrap (which staff can read).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::day::Day;
use super::padding;
use super::seal::{self, OpenError};
use super::secret::{Key32, SecretBytes};
use super::wire::{Reader, WireError, Writer};
use super::wrap::{self, RecipientKey, RecipientSecret, WrapError};

/// Version byte of every binary record defined here.
pub const VERSION: u8 = 1;

/// Data bytes per attachment chunk: with its 4-byte length the frame fills
/// the 64 KiB bucket exactly.
pub const CHUNK_DATA: usize = 65_536 - 4;

/// Longest attachment name kept, in bytes.
pub const MAX_NAME: usize = 255;

/// A random 16-byte identifier (thread, attachment, staff member).
///
/// `Debug` is redacted: identifiers of threads must not reach logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub [u8; 16]);

/// Stored in JSON records as 32 lowercase hex digits.
impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let s = String::deserialize(d)?;
        Id::from_hex(&s).ok_or_else(|| serde::de::Error::custom("not a 16-byte hex id"))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[id]")
    }
}

impl Id {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<Id> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Id(out))
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Author {
    Reporter,
    Staff,
}

impl Author {
    fn byte(self) -> u8 {
        match self {
            Author::Reporter => 0,
            Author::Staff => 1,
        }
    }
    fn from_byte(b: u8) -> Result<Author, WireError> {
        match b {
            0 => Ok(Author::Reporter),
            1 => Ok(Author::Staff),
            _ => Err(WireError::Unknown),
        }
    }
}

/// The slot a wrap is stored in: the reporter, or one staff member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Reporter,
    Staff(Id),
}

impl Slot {
    /// `0x00` for the reporter; `0x01 || staff id` for staff.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Slot::Reporter => vec![0],
            Slot::Staff(id) => {
                let mut v = vec![1];
                v.extend_from_slice(&id.0);
                v
            }
        }
    }
    pub fn decode(bytes: &[u8]) -> Result<Slot, WireError> {
        let mut r = Reader::new(bytes);
        let slot = match r.u8()? {
            0 => Slot::Reporter,
            1 => Slot::Staff(Id(r.array()?)),
            _ => return Err(WireError::Unknown),
        };
        r.end()?;
        Ok(slot)
    }
}

/// Why a stored record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The bytes are not a record of this format.
    Malformed(WireError),
    /// The record did not open with the key at hand (wrong key, moved, altered).
    Sealed,
    /// The plaintext is too large for any padding bucket.
    TooLarge,
    /// A recipient key was refused (low-order point).
    WeakKey,
    /// The record belongs to an epoch whose key is not at hand.
    UnknownEpoch,
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Malformed(e) => write!(f, "malformed record: {e}"),
            EnvelopeError::Sealed => f.write_str("record did not open"),
            EnvelopeError::TooLarge => f.write_str("plaintext too large"),
            EnvelopeError::WeakKey => f.write_str("recipient key refused"),
            EnvelopeError::UnknownEpoch => f.write_str("no key for the record's epoch"),
        }
    }
}
impl std::error::Error for EnvelopeError {}

impl From<WireError> for EnvelopeError {
    fn from(e: WireError) -> Self {
        EnvelopeError::Malformed(e)
    }
}
impl From<OpenError> for EnvelopeError {
    fn from(_: OpenError) -> Self {
        EnvelopeError::Sealed
    }
}
impl From<WrapError> for EnvelopeError {
    fn from(_: WrapError) -> Self {
        EnvelopeError::WeakKey
    }
}

fn aad(label: &[u8], thread: &Id, tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(label.len() + 16 + tail.len());
    v.extend_from_slice(label);
    v.extend_from_slice(&thread.0);
    v.extend_from_slice(tail);
    v
}

// ---------------------------------------------------------------- messages

/// What a message says: spec/envelope.md, "Message plaintext".
#[derive(Clone, PartialEq, Eq)]
pub struct MessageBody {
    /// Exactly the text received (UTF-8, no normalisation).
    pub text: String,
    /// How the author is shown to readers (e.g. an advisor's display name);
    /// empty for the reporter.
    pub author_label: String,
    /// Attachments sent with this message.
    pub attachments: Vec<Id>,
}

impl fmt::Debug for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageBody([redacted])")
    }
}

impl Drop for MessageBody {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.text.zeroize();
    }
}

impl MessageBody {
    fn encode(&self) -> SecretBytes {
        let mut w = Writer::new();
        w.u8(VERSION)
            .var32(self.text.as_bytes())
            .var16(self.author_label.as_bytes())
            .u8(u8::try_from(self.attachments.len()).unwrap_or(u8::MAX));
        for a in self.attachments.iter().take(usize::from(u8::MAX)) {
            w.bytes(&a.0);
        }
        SecretBytes(w.finish())
    }

    fn decode(bytes: &[u8]) -> Result<MessageBody, WireError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(WireError::Unknown);
        }
        let text = std::str::from_utf8(r.var32(padding::MAX_DATA)?)
            .map_err(|_| WireError::Unknown)?
            .to_owned();
        let author_label = std::str::from_utf8(r.var16()?)
            .map_err(|_| WireError::Unknown)?
            .to_owned();
        let n = r.u8()?;
        let mut attachments = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            attachments.push(Id(r.array()?));
        }
        r.end()?;
        Ok(MessageBody {
            text,
            author_label,
            attachments,
        })
    }
}

/// Where a message sits, which is bound into its seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessagePlace {
    pub thread: Id,
    /// Position in the thread, from 0.
    pub seq: u32,
    pub epoch: u32,
    pub author: Author,
    pub day: Day,
}

impl MessagePlace {
    fn aad(&self) -> Vec<u8> {
        let mut tail = Writer::new();
        tail.u32(self.seq)
            .u32(self.epoch)
            .u8(self.author.byte())
            .u32(self.day.0);
        aad(b"buzon/msg/v1", &self.thread, &tail.finish())
    }
}

/// The largest encoded message body, so that padding always fits.
pub fn message_fits(body: &MessageBody) -> bool {
    body.encode().expose().len() <= padding::MAX_DATA
}

/// Seals a message: spec/envelope.md, "Message record".
/// `version (1) || epoch (u32) || author (u8) || day (u32) || seal(TK_epoch, padded body)`.
pub fn seal_message(
    tk: &Key32,
    place: &MessagePlace,
    body: &MessageBody,
    nonce: [u8; seal::NONCE_LEN],
) -> Result<Vec<u8>, EnvelopeError> {
    let framed = padding::pad(body.encode().expose()).ok_or(EnvelopeError::TooLarge)?;
    let mut w = Writer::new();
    w.u8(VERSION)
        .u32(place.epoch)
        .u8(place.author.byte())
        .u32(place.day.0)
        .bytes(&seal::seal(tk, nonce, &place.aad(), framed.expose()));
    Ok(w.finish())
}

/// The clear header of a message record, readable without any key.
pub fn message_header(record: &[u8]) -> Result<(u32, Author, Day), EnvelopeError> {
    let mut r = Reader::new(record);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let author = Author::from_byte(r.u8()?)?;
    let day = Day(r.u32()?);
    Ok((epoch, author, day))
}

/// Opens a message record stored at `(thread, seq)` with the key of its epoch.
pub fn open_message(
    keys: &EpochKeys,
    thread: Id,
    seq: u32,
    record: &[u8],
) -> Result<(MessagePlace, MessageBody), EnvelopeError> {
    let mut r = Reader::new(record);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let author = Author::from_byte(r.u8()?)?;
    let day = Day(r.u32()?);
    let place = MessagePlace {
        thread,
        seq,
        epoch,
        author,
        day,
    };
    let tk = keys.get(epoch).ok_or(EnvelopeError::UnknownEpoch)?;
    let framed = seal::open(tk, &place.aad(), r.remaining())?;
    let body = MessageBody::decode(padding::unpad(framed.expose())?.expose())?;
    Ok((place, body))
}

// ---------------------------------------------------------------- epochs

/// The thread keys a reader holds, newest first, derived from the current
/// key by following epoch links back.
pub struct EpochKeys {
    /// `keys[i]` is the key of epoch `current - i`.
    keys: Vec<Key32>,
    current: u32,
}

impl fmt::Debug for EpochKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochKeys([redacted])")
    }
}

impl EpochKeys {
    /// Starts from the current epoch's key.
    pub fn new(current: u32, tk: Key32) -> EpochKeys {
        EpochKeys {
            keys: vec![tk],
            current,
        }
    }
    pub fn current_epoch(&self) -> u32 {
        self.current
    }
    pub fn current_key(&self) -> &Key32 {
        // `keys` is never empty: `new` puts one key in and nothing removes.
        self.keys.first().unwrap_or_else(|| unreachable_key())
    }
    pub fn get(&self, epoch: u32) -> Option<&Key32> {
        let back = self.current.checked_sub(epoch)?;
        self.keys.get(back as usize)
    }
    /// The oldest epoch reached so far.
    pub fn oldest(&self) -> u32 {
        self.current
            .saturating_sub(u32::try_from(self.keys.len()).unwrap_or(u32::MAX) - 1)
    }
    /// Adds the key of the epoch before [`EpochKeys::oldest`] from its link.
    pub fn follow_link(&mut self, thread: Id, link: &[u8]) -> Result<(), EnvelopeError> {
        let oldest = self.oldest();
        if oldest == 0 {
            return Ok(());
        }
        let newer = self.get(oldest).ok_or(EnvelopeError::UnknownEpoch)?;
        let older = open_link(newer, thread, oldest, link)?;
        self.keys.push(older);
        Ok(())
    }
}

fn unreachable_key() -> &'static Key32 {
    static ZERO: std::sync::OnceLock<Key32> = std::sync::OnceLock::new();
    ZERO.get_or_init(|| Key32::from_bytes([0; 32]))
}

/// Seals `TK_{epoch-1}` under `TK_epoch`: spec/envelope.md, "Epoch link".
/// `version (1) || seal(TK_epoch, TK_{epoch-1})`.
pub fn seal_link(
    newer: &Key32,
    thread: Id,
    epoch: u32,
    older: &Key32,
    nonce: [u8; seal::NONCE_LEN],
) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(VERSION).bytes(&seal::seal(
        newer,
        nonce,
        &link_aad(thread, epoch),
        older.expose(),
    ));
    w.finish()
}

fn link_aad(thread: Id, epoch: u32) -> Vec<u8> {
    aad(b"buzon/epoch-link/v1", &thread, &epoch.to_be_bytes())
}

fn open_link(newer: &Key32, thread: Id, epoch: u32, link: &[u8]) -> Result<Key32, EnvelopeError> {
    let mut r = Reader::new(link);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    Ok(seal::open_key(
        newer,
        &link_aad(thread, epoch),
        r.remaining(),
    )?)
}

// ---------------------------------------------------------------- wraps

fn wrap_context(thread: Id, epoch: u32, slot: &Slot) -> Vec<u8> {
    let mut tail = epoch.to_be_bytes().to_vec();
    tail.extend_from_slice(&slot.encode());
    aad(b"buzon/wrap/v1", &thread, &tail)
}

fn wrap_outer_aad(thread: Id, slot: &Slot) -> Vec<u8> {
    aad(b"buzon/wrap-outer/v1", &thread, &slot.encode())
}

/// Randomness one wrap consumes.
pub struct WrapRandom {
    pub ephemeral: [u8; 32],
    pub inner_nonce: [u8; seal::NONCE_LEN],
    pub outer_nonce: [u8; seal::NONCE_LEN],
}

/// Wraps `TK_epoch` for `recipient` in `slot`, then seals the wrap under the
/// storage key: spec/envelope.md, "Wrap record".
/// Inner: `version (1) || epoch (u32) || recipient public key (32) || key wrap (104)`.
pub fn seal_wrap(
    sk: &Key32,
    thread: Id,
    slot: &Slot,
    epoch: u32,
    recipient: &RecipientKey,
    tk: &Key32,
    rnd: WrapRandom,
) -> Result<Vec<u8>, EnvelopeError> {
    let inner = seal_wrap_inner(
        thread,
        slot,
        epoch,
        recipient,
        tk,
        rnd.ephemeral,
        rnd.inner_nonce,
    )?;
    seal_wrap_outer(sk, thread, slot, &inner, rnd.outer_nonce)
}

/// Length of a wrap record's inner part (spec/envelope.md, "Wrap record").
pub const WRAP_INNER_LEN: usize = 1 + 4 + 32 + wrap::WRAPPED_LEN;

/// The inner part of a wrap record, as a client makes it on its own
/// machine (spec/api.md, "Wraps"): `version || epoch || recipient || key wrap`.
pub fn seal_wrap_inner(
    thread: Id,
    slot: &Slot,
    epoch: u32,
    recipient: &RecipientKey,
    tk: &Key32,
    ephemeral: [u8; 32],
    nonce: [u8; seal::NONCE_LEN],
) -> Result<Vec<u8>, EnvelopeError> {
    let wrapped = wrap::wrap(
        recipient,
        ephemeral,
        nonce,
        &wrap_context(thread, epoch, slot),
        tk,
    )?;
    let mut w = Writer::new();
    w.u8(VERSION).u32(epoch).bytes(&recipient.0).bytes(&wrapped);
    Ok(w.finish())
}

/// Seals an inner wrap under the storage key. The inner part is parsed
/// first, so only a well-formed one is ever stored.
pub fn seal_wrap_outer(
    sk: &Key32,
    thread: Id,
    slot: &Slot,
    inner: &[u8],
    nonce: [u8; seal::NONCE_LEN],
) -> Result<Vec<u8>, EnvelopeError> {
    parse_wrap_inner(inner)?;
    Ok(seal::seal(sk, nonce, &wrap_outer_aad(thread, slot), inner))
}

/// A wrap with its storage seal removed: who it is for and which epoch.
pub struct OpenedWrap {
    pub epoch: u32,
    pub recipient: RecipientKey,
    wrapped: Vec<u8>,
}

impl OpenedWrap {
    /// The inner part again, as the API hands it to its recipient.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION)
            .u32(self.epoch)
            .bytes(&self.recipient.0)
            .bytes(&self.wrapped);
        w.finish()
    }
}

/// Reads an inner wrap: version, epoch, recipient and a key wrap of the
/// right length. A low-order recipient key is refused ([`EnvelopeError::WeakKey`]).
pub fn parse_wrap_inner(inner: &[u8]) -> Result<OpenedWrap, EnvelopeError> {
    let opened = read_wrap_inner(inner)?;
    if !wrap::is_strong(&opened.recipient) {
        return Err(EnvelopeError::WeakKey);
    }
    Ok(opened)
}

fn read_wrap_inner(inner: &[u8]) -> Result<OpenedWrap, EnvelopeError> {
    let mut r = Reader::new(inner);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let recipient = RecipientKey(r.array()?);
    let wrapped = r.take(wrap::WRAPPED_LEN)?.to_vec();
    r.end()?;
    Ok(OpenedWrap {
        epoch,
        recipient,
        wrapped,
    })
}

/// Removes the storage seal (needs only the storage key, which the server holds).
pub fn open_wrap_outer(
    sk: &Key32,
    thread: Id,
    slot: &Slot,
    record: &[u8],
) -> Result<OpenedWrap, EnvelopeError> {
    let inner = seal::open(sk, &wrap_outer_aad(thread, slot), record)?;
    read_wrap_inner(inner.expose())
}

/// Opens the key wrap with the recipient's private key.
pub fn unwrap_thread_key(
    opened: &OpenedWrap,
    thread: Id,
    slot: &Slot,
    secret: &RecipientSecret,
) -> Result<Key32, EnvelopeError> {
    Ok(wrap::unwrap(
        secret,
        &wrap_context(thread, opened.epoch, slot),
        &opened.wrapped,
    )?)
}

// ---------------------------------------------------------------- attachments

/// What the server knows of an attachment without any key: its epoch.
/// Name, type and size are inside the seal.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub chunks: u32,
}

impl fmt::Debug for AttachmentMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttachmentMeta([redacted])")
    }
}

fn att_aad(label: &[u8], thread: Id, att: Id, tail: &[u8]) -> Vec<u8> {
    let mut t = att.0.to_vec();
    t.extend_from_slice(tail);
    aad(label, &thread, &t)
}

/// Seals attachment metadata: spec/envelope.md, "Attachment record".
/// `version (1) || epoch (u32) || seal(TK_epoch, padded(version || name var16 || type var16 || size u64 || chunks u32))`.
pub fn seal_attachment_meta(
    tk: &Key32,
    thread: Id,
    att: Id,
    epoch: u32,
    meta: &AttachmentMeta,
    nonce: [u8; seal::NONCE_LEN],
) -> Result<Vec<u8>, EnvelopeError> {
    // Cut at a character boundary: a name cut inside a UTF-8 sequence
    // would make the record unreadable.
    let mut cut = meta.name.len().min(MAX_NAME);
    while !meta.name.is_char_boundary(cut) {
        cut -= 1;
    }
    let name = meta.name.as_bytes().get(..cut).unwrap_or_default();
    let mut inner = Writer::new();
    inner
        .u8(VERSION)
        .var16(name)
        .var16(meta.content_type.as_bytes())
        .u32((meta.size >> 32) as u32)
        .u32(meta.size as u32)
        .u32(meta.chunks);
    let framed = padding::pad(&inner.finish()).ok_or(EnvelopeError::TooLarge)?;
    let mut w = Writer::new();
    w.u8(VERSION).u32(epoch).bytes(&seal::seal(
        tk,
        nonce,
        &att_aad(b"buzon/att/v1", thread, att, &epoch.to_be_bytes()),
        framed.expose(),
    ));
    Ok(w.finish())
}

/// Opens attachment metadata.
pub fn open_attachment_meta(
    keys: &EpochKeys,
    thread: Id,
    att: Id,
    record: &[u8],
) -> Result<AttachmentMeta, EnvelopeError> {
    let mut r = Reader::new(record);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let tk = keys.get(epoch).ok_or(EnvelopeError::UnknownEpoch)?;
    let framed = seal::open(
        tk,
        &att_aad(b"buzon/att/v1", thread, att, &epoch.to_be_bytes()),
        r.remaining(),
    )?;
    let data = padding::unpad(framed.expose())?;
    let mut r = Reader::new(data.expose());
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let name = String::from_utf8(r.var16()?.to_vec()).map_err(|_| WireError::Unknown)?;
    let content_type = String::from_utf8(r.var16()?.to_vec()).map_err(|_| WireError::Unknown)?;
    let size = (u64::from(r.u32()?) << 32) | u64::from(r.u32()?);
    let chunks = r.u32()?;
    r.end()?;
    Ok(AttachmentMeta {
        name,
        content_type,
        size,
        chunks,
    })
}

fn chunk_aad(thread: Id, att: Id, index: u32, epoch: u32) -> Vec<u8> {
    let mut t = index.to_be_bytes().to_vec();
    t.extend_from_slice(&epoch.to_be_bytes());
    att_aad(b"buzon/chunk/v1", thread, att, &t)
}

/// Seals one chunk of at most [`CHUNK_DATA`] bytes: spec/envelope.md, "Chunk record".
/// `version (1) || epoch (u32) || seal(TK_epoch, padded data)`.
pub fn seal_chunk(
    tk: &Key32,
    thread: Id,
    att: Id,
    index: u32,
    epoch: u32,
    data: &[u8],
    nonce: [u8; seal::NONCE_LEN],
) -> Result<Vec<u8>, EnvelopeError> {
    if data.len() > CHUNK_DATA {
        return Err(EnvelopeError::TooLarge);
    }
    let framed = padding::pad(data).ok_or(EnvelopeError::TooLarge)?;
    let mut w = Writer::new();
    w.u8(VERSION).u32(epoch).bytes(&seal::seal(
        tk,
        nonce,
        &chunk_aad(thread, att, index, epoch),
        framed.expose(),
    ));
    Ok(w.finish())
}

/// Opens one chunk.
pub fn open_chunk(
    keys: &EpochKeys,
    thread: Id,
    att: Id,
    index: u32,
    record: &[u8],
) -> Result<SecretBytes, EnvelopeError> {
    let mut r = Reader::new(record);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let tk = keys.get(epoch).ok_or(EnvelopeError::UnknownEpoch)?;
    let framed = seal::open(tk, &chunk_aad(thread, att, index, epoch), r.remaining())?;
    let data = padding::unpad(framed.expose())?;
    if data.expose().len() > CHUNK_DATA {
        return Err(WireError::TooLong.into());
    }
    Ok(data)
}

// ---------------------------------------------------------------- shapes

/// What the server can check of a record a client sealed, without any key
/// (spec/api.md, "What the server checks"): version, epoch and, for a
/// message, author and day; and that the sealed part is exactly one padding
/// bucket plus the AEAD overhead, so every stored record has one of the
/// sizes spec/envelope.md allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordShape {
    pub epoch: u32,
    /// For message records only.
    pub author: Option<Author>,
    /// For message records only.
    pub day: Option<Day>,
    /// The padding bucket of the sealed plaintext.
    pub bucket: usize,
}

fn sealed_bucket(sealed_len: usize) -> Result<usize, EnvelopeError> {
    let bucket = sealed_len
        .checked_sub(seal::OVERHEAD)
        .ok_or(WireError::Truncated)?;
    if padding::BUCKETS.contains(&bucket) {
        Ok(bucket)
    } else {
        Err(WireError::Unknown.into())
    }
}

/// The shape of a message record (spec/envelope.md, "Message record").
pub fn message_shape(record: &[u8]) -> Result<RecordShape, EnvelopeError> {
    let (epoch, author, day) = message_header(record)?;
    Ok(RecordShape {
        epoch,
        author: Some(author),
        day: Some(day),
        bucket: sealed_bucket(record.len().saturating_sub(10))?,
    })
}

/// The shape of an attachment or chunk record: both are
/// `version || epoch || seal(…)`. A chunk's bucket is at most 64 KiB.
pub fn attachment_shape(record: &[u8], chunk: bool) -> Result<RecordShape, EnvelopeError> {
    let mut r = Reader::new(record);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    let epoch = r.u32()?;
    let bucket = sealed_bucket(r.remaining().len())?;
    if chunk && bucket > CHUNK_DATA + 4 {
        return Err(WireError::TooLong.into());
    }
    Ok(RecordShape {
        epoch,
        author: None,
        day: None,
        bucket,
    })
}

/// The shape of an epoch link: version and a sealed 32-byte key.
pub fn link_shape(link: &[u8]) -> Result<(), EnvelopeError> {
    let mut r = Reader::new(link);
    if r.u8()? != VERSION {
        return Err(WireError::Unknown.into());
    }
    r.take(seal::OVERHEAD + 32)?;
    r.end()?;
    Ok(())
}

// ---------------------------------------------------------------- API sessions

/// Context of an API session challenge (spec/api.md, "Sessions"): a random
/// session secret is key-wrapped to the caller's public key with this
/// associated data, so only the holder of the private key can use it.
/// `slot` is the reporter slot or the staff member's slot; `thread` is the
/// reporter's thread, or all zeros for staff.
pub fn session_context(thread: Id, slot: &Slot) -> Vec<u8> {
    aad(b"buzon/api-session/v1", &thread, &slot.encode())
}

// ---------------------------------------------------------------- staff keys

/// Argon2id cost for staff passwords: 256 MiB, 3 passes, 1 lane — four
/// times the receipt's memory, because a password has far less entropy
/// than a receipt and this derivation is all that protects the staff
/// member's private key in a stolen data directory (spec/envelope.md,
/// "Staff key record").
pub const STAFF_COST: super::receipt::KdfCost = super::receipt::KdfCost {
    memory_kib: 256 * 1024,
    iterations: 3,
    lanes: 1,
};

/// A staff member's key pair, its private half sealed under their password.
/// spec/envelope.md, "Staff key record":
/// `version (1) || salt (16) || m_kib (u32) || t (u32) || p (u32) || verifier (32) || public (32) || seal(KEK, secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffKeyRecord {
    pub salt: [u8; 16],
    pub cost: super::receipt::KdfCost,
    pub verifier: [u8; 32],
    pub public: RecipientKey,
    pub sealed_secret: Vec<u8>,
}

impl fmt::Debug for StaffKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaffKeyRecord([redacted])")
    }
}

/// What a password derives: the login verifier and the key that seals the
/// private key. One Argon2id run yields both, so there is no cheaper
/// password hash beside the key for an attacker to try guesses against.
pub struct PasswordKeys {
    pub verifier: [u8; 32],
    pub kek: Key32,
}

/// Derives [`PasswordKeys`] (one Argon2id run at `cost`). The password is
/// composed to NFC first, so "razón" typed with a precomposed `ó` or with
/// `o` plus a combining accent is the same password.
pub fn password_keys(
    password: &str,
    salt: &[u8; 16],
    cost: super::receipt::KdfCost,
) -> Result<PasswordKeys, argon2::Error> {
    use unicode_normalization::UnicodeNormalization;
    let composed: zeroize::Zeroizing<String> = zeroize::Zeroizing::new(password.nfc().collect());
    let master = super::receipt::argon2id(composed.as_bytes(), salt, cost)?;
    Ok(PasswordKeys {
        verifier: blake3::derive_key("buzon 2026-12 staff login verifier v1", master.as_ref()),
        kek: Key32::from_bytes(blake3::derive_key(
            "buzon 2026-12 staff key encryption v1",
            master.as_ref(),
        )),
    })
}

fn staff_aad(staff: Id, public: &RecipientKey) -> Vec<u8> {
    let mut v = b"buzon/staff-key/v1".to_vec();
    v.extend_from_slice(&staff.0);
    v.extend_from_slice(&public.0);
    v
}

impl StaffKeyRecord {
    /// Seals `secret` under keys derived from the password.
    pub fn new(
        staff: Id,
        secret: &RecipientSecret,
        keys: &PasswordKeys,
        salt: [u8; 16],
        cost: super::receipt::KdfCost,
        nonce: [u8; seal::NONCE_LEN],
    ) -> StaffKeyRecord {
        let public = secret.public();
        StaffKeyRecord {
            salt,
            cost,
            verifier: keys.verifier,
            public,
            sealed_secret: seal::seal(
                &keys.kek,
                nonce,
                &staff_aad(staff, &public),
                secret.to_key32().expose(),
            ),
        }
    }

    /// Checks the password's verifier (in constant time) and opens the key.
    pub fn open(&self, staff: Id, keys: &PasswordKeys) -> Result<RecipientSecret, EnvelopeError> {
        if blake3::Hash::from(self.verifier) != blake3::Hash::from(keys.verifier) {
            return Err(EnvelopeError::Sealed);
        }
        let k = seal::open_key(
            &keys.kek,
            &staff_aad(staff, &self.public),
            &self.sealed_secret,
        )?;
        let secret = RecipientSecret::from_bytes(*k.expose());
        if secret.public() != self.public {
            return Err(EnvelopeError::Sealed);
        }
        Ok(secret)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION)
            .bytes(&self.salt)
            .u32(self.cost.memory_kib)
            .u32(self.cost.iterations)
            .u32(self.cost.lanes)
            .bytes(&self.verifier)
            .bytes(&self.public.0)
            .var16(&self.sealed_secret);
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<StaffKeyRecord, WireError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(WireError::Unknown);
        }
        let salt = r.array()?;
        let cost = super::receipt::KdfCost {
            memory_kib: r.u32()?,
            iterations: r.u32()?,
            lanes: r.u32()?,
        };
        // A damaged or hostile record must not make a login allocate
        // without bound: at most 1 GiB, 10 passes, 4 lanes.
        if cost.memory_kib > 1024 * 1024 || cost.iterations > 10 || cost.lanes > 4 {
            return Err(WireError::TooLong);
        }
        let verifier = r.array()?;
        let public = RecipientKey(r.array()?);
        let sealed_secret = r.var16()?.to_vec();
        r.end()?;
        Ok(StaffKeyRecord {
            salt,
            cost,
            verifier,
            public,
            sealed_secret,
        })
    }
}
