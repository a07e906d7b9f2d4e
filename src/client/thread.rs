//! Opening a thread view (spec/api.md, "Reading a thread"): the caller's
//! inner wrap gives the current thread key, the epoch links give every
//! older one (spec/envelope.md, "Epoch link"), and with them every message
//! and attachment record opens here, on the caller's machine.
//!
//! A record that does not open is kept as `None` and shown as such: one
//! damaged message must not hide the rest of the conversation. The keys
//! themselves must open, or nothing is shown.

use super::error::ClientError;
use crate::core::api::{ThreadOut, unb64};
use crate::core::envelope::{self, AttachmentMeta, EpochKeys, Id, MessageBody, MessagePlace, Slot};
use crate::core::secret::{Key32, SecretBytes};
use crate::core::wrap::RecipientSecret;

/// One message: its place (author, day, epoch) and body, when it opened.
pub struct OpenedMessage {
    pub seq: u32,
    pub opened: Option<(MessagePlace, MessageBody)>,
}

/// One attachment: its metadata, when it opened.
pub struct OpenedAttachment {
    pub id: Id,
    pub meta: Option<AttachmentMeta>,
}

/// A thread view with every record opened.
pub struct OpenedThread {
    pub view: ThreadOut,
    /// The caller's slot: the reporter, or a staff member.
    pub slot: Slot,
    keys: EpochKeys,
    pub messages: Vec<OpenedMessage>,
    pub attachments: Vec<OpenedAttachment>,
}

impl std::fmt::Debug for OpenedThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedThread([redacted])")
    }
}

/// Opens the view with the caller's private key.
pub fn open(
    view: ThreadOut,
    slot: Slot,
    secret: &RecipientSecret,
) -> Result<OpenedThread, ClientError> {
    let thread = view.id;
    let inner = unb64(&view.wrap).ok_or(ClientError::BadAnswer("wrap"))?;
    let wrap = envelope::parse_wrap_inner(&inner).map_err(|_| ClientError::BadAnswer("wrap"))?;
    // The wrap's epoch is bound into its context, so a wrap of another
    // epoch than the thread's would open only as that epoch: refuse it
    // rather than read an old key as the current one.
    if wrap.epoch != view.epoch || wrap.recipient != secret.public() {
        return Err(ClientError::ThreadDoesNotOpen);
    }
    let tk = envelope::unwrap_thread_key(&wrap, thread, &slot, secret)
        .map_err(|_| ClientError::ThreadDoesNotOpen)?;
    let mut keys = EpochKeys::new(view.epoch, tk);
    for e in (1..=view.epoch).rev() {
        let link = view
            .links
            .iter()
            .find(|l| l.epoch == e)
            .and_then(|l| unb64(&l.link))
            .ok_or(ClientError::ThreadDoesNotOpen)?;
        keys.follow_link(thread, &link)
            .map_err(|_| ClientError::ThreadDoesNotOpen)?;
    }
    let mut records: Vec<_> = view.message_records.iter().collect();
    records.sort_by_key(|m| m.seq);
    let messages = records
        .into_iter()
        .map(|m| OpenedMessage {
            seq: m.seq,
            opened: unb64(&m.record)
                .and_then(|r| envelope::open_message(&keys, thread, m.seq, &r).ok()),
        })
        .collect();
    let attachments = view
        .attachment_records
        .iter()
        .map(|a| OpenedAttachment {
            id: a.id,
            meta: unb64(&a.record)
                .and_then(|r| envelope::open_attachment_meta(&keys, thread, a.id, &r).ok()),
        })
        .collect();
    Ok(OpenedThread {
        view,
        slot,
        keys,
        messages,
        attachments,
    })
}

impl OpenedThread {
    pub fn id(&self) -> Id {
        self.view.id
    }
    pub fn epoch(&self) -> u32 {
        self.keys.current_epoch()
    }
    /// The current epoch's key, which seals what is written now.
    pub fn current_key(&self) -> &Key32 {
        self.keys.current_key()
    }
    /// Opens chunk `index` of attachment `att`.
    pub fn open_chunk(
        &self,
        att: Id,
        index: u32,
        record: &[u8],
    ) -> Result<SecretBytes, ClientError> {
        envelope::open_chunk(&self.keys, self.view.id, att, index, record)
            .map_err(|_| ClientError::ThreadDoesNotOpen)
    }
    /// The attachment's metadata, when it opened.
    pub fn attachment(&self, id: Id) -> Option<&AttachmentMeta> {
        self.attachments
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.meta.as_ref())
    }
}

/// Fetches `GET /api/v1/threads/{id}` and opens it.
pub async fn fetch(
    api: &super::http::Api,
    id: Id,
    slot: Slot,
    secret: &RecipientSecret,
) -> Result<OpenedThread, ClientError> {
    let view: ThreadOut = api
        .get_json(&format!("/api/v1/threads/{}", id.hex()), "thread")
        .await?;
    if view.id != id {
        return Err(ClientError::BadAnswer("thread id"));
    }
    open(view, slot, secret)
}
