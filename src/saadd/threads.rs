//! Threads: submission, access by key, reading, replying, assignment,
//! rotation and withdrawal.

use std::sync::Arc;
use zeroize::Zeroizing;

use super::records::{RECORD_VERSION, Role, StaffRecord, ThreadRecord};
use super::{Saadd, SaaddError};
use crate::core::Day;
use crate::core::envelope::{
    self, AttachmentMeta, Author, CHUNK_DATA, EpochKeys, Id, MessageBody, MessagePlace, Slot,
    WrapRandom,
};
use crate::core::receipt::{self, Receipt};
use crate::core::secret::Key32;
use crate::core::status::{Kind, Status};
use crate::core::wrap::{RecipientKey, RecipientSecret};
use crate::platform::Entropy;
use crate::store::{Batch, Store, Table};

/// Most records scanned under one prefix (threads of an entity, chunks of
/// a thread); far above any limit a thread can reach.
pub(super) const SCAN_LIMIT: usize = 1_000_000;

/// A thread being submitted: its id and key exist before its text is
/// stored so that attachments can be sealed as they stream in.
pub struct NewThread {
    pub id: Id,
    tk: Key32,
}

/// What a successful submission hands back, once it is durable.
pub struct Submitted {
    pub thread: Id,
    pub receipt: Receipt,
    /// The reporter's key, so the submitting session can read on without
    /// deriving it again.
    pub secret: RecipientSecret,
}

/// An attachment whose chunks are stored; its record goes in with the message.
pub struct FinishedAttachment {
    pub id: Id,
    record: Vec<u8>,
    /// Keeps the sweep off its chunks until it is committed or dropped.
    ticket: super::UploadTicket,
}

/// One message as a reader sees it.
pub struct ShownMessage {
    pub seq: u32,
    pub author: Author,
    pub day: Day,
    pub body: MessageBody,
}

/// A thread opened by one of its readers.
pub struct ThreadView {
    pub record: ThreadRecord,
    pub messages: Vec<ShownMessage>,
    pub attachments: Vec<(Id, AttachmentMeta)>,
}

/// A staff member who logged in: their record and unsealed private key.
pub struct StaffLogin {
    pub staff: StaffRecord,
    pub secret: RecipientSecret,
}

/// Seals an attachment in chunks as its bytes arrive, so a file is never
/// whole in memory. Chunks are stored as they fill; the attachment exists
/// for readers only once its record is committed with a message.
pub struct AttachmentSink {
    store: Arc<dyn Store>,
    entropy: Arc<dyn Entropy>,
    thread: Id,
    id: Id,
    tk: Key32,
    epoch: u32,
    buf: Zeroizing<Vec<u8>>,
    chunks: u32,
    size: u64,
    limit: u64,
    ticket: super::UploadTicket,
}

impl AttachmentSink {
    /// Adds bytes; refuses once the attachment passes its size limit.
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), SaaddError> {
        self.size = self.size.saturating_add(data.len() as u64);
        if self.size > self.limit {
            return Err(SaaddError::AttachmentTooLarge { limit: self.limit });
        }
        while !data.is_empty() {
            let room = CHUNK_DATA - self.buf.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            data = later;
            if self.buf.len() == CHUNK_DATA {
                self.store_chunk()?;
            }
        }
        Ok(())
    }

    fn store_chunk(&mut self) -> Result<(), SaaddError> {
        let nonce = crate::platform::random(self.entropy.as_ref());
        let record = envelope::seal_chunk(
            &self.tk,
            self.thread,
            self.id,
            self.chunks,
            self.epoch,
            &self.buf,
            nonce,
        )
        .map_err(|_| SaaddError::Corrupt("chunk"))?;
        let mut b = Batch::new();
        b.put(
            Table::Chunk,
            chunk_key(self.thread, self.id, self.chunks),
            record,
        );
        self.store.apply(b)?;
        self.chunks += 1;
        self.buf.clear();
        Ok(())
    }

    /// Seals the last chunk and the metadata. Nothing is visible until the
    /// record is committed by [`Saadd::submit`] or [`Saadd::post`].
    pub fn finish(
        mut self,
        name: &str,
        content_type: &str,
    ) -> Result<FinishedAttachment, SaaddError> {
        if !self.buf.is_empty() || self.chunks == 0 {
            self.store_chunk()?;
        }
        let meta = AttachmentMeta {
            name: crate::core::names::clean_name(name),
            content_type: crate::core::names::clean_type(content_type),
            size: self.size,
            chunks: self.chunks,
        };
        let nonce = crate::platform::random(self.entropy.as_ref());
        let record = envelope::seal_attachment_meta(
            &self.tk,
            self.thread,
            self.id,
            self.epoch,
            &meta,
            nonce,
        )
        .map_err(|_| SaaddError::Corrupt("attachment"))?;
        Ok(FinishedAttachment {
            id: self.id,
            record,
            ticket: self.ticket,
        })
    }

    /// Removes the chunks stored so far (a refused or abandoned upload).
    pub fn discard(self) -> Result<(), SaaddError> {
        delete_chunks(self.store.as_ref(), self.thread, self.id)
    }
}

fn delete_chunks(store: &dyn Store, thread: Id, att: Id) -> Result<(), SaaddError> {
    let mut prefix = thread.0.to_vec();
    prefix.extend_from_slice(&att.0);
    let mut b = Batch::new();
    for (k, _) in store.scan(Table::Chunk, &prefix, SCAN_LIMIT)? {
        b.delete(Table::Chunk, k);
    }
    store.apply(b)?;
    Ok(())
}

pub(super) fn chunk_key(thread: Id, att: Id, index: u32) -> Vec<u8> {
    let mut k = thread.0.to_vec();
    k.extend_from_slice(&att.0);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

pub(super) fn pair_key(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut k = a.to_vec();
    k.extend_from_slice(b);
    k
}

pub(super) fn wrap_key(thread: Id, slot: &Slot) -> Vec<u8> {
    pair_key(&thread.0, &slot.encode())
}

fn seq_key(thread: Id, seq: u32) -> Vec<u8> {
    pair_key(&thread.0, &seq.to_be_bytes())
}

/// Is this text blank: only whitespace and invisible format characters?
fn is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    })
}

impl Saadd {
    // ------------------------------------------------------------ records

    pub(super) fn load<T: serde::de::DeserializeOwned>(
        &self,
        table: Table,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, SaaddError> {
        match self.store.get(table, key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| SaaddError::Corrupt(what)),
        }
    }

    /// Writes `b` together with the thread's record, and returns once both
    /// are durable: the one way a thread change is acknowledged.
    pub(super) fn commit(&self, mut b: Batch, record: &ThreadRecord) -> Result<(), SaaddError> {
        b.put(Table::Thread, record.id.0, Self::json(record));
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(())
    }

    pub(super) fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
        // Serialising these plain structs cannot fail (no maps with
        // non-string keys, no custom serialisers that error).
        serde_json::to_vec(value).unwrap_or_default()
    }

    /// A thread's record; a thread whose deletion has begun is gone.
    pub fn thread(&self, id: Id) -> Result<ThreadRecord, SaaddError> {
        self.thread_even_deleting(id)?
            .filter(|t| t.deleting.is_none())
            .ok_or(SaaddError::NotFound)
    }

    pub(super) fn thread_even_deleting(&self, id: Id) -> Result<Option<ThreadRecord>, SaaddError> {
        self.load(Table::Thread, &id.0, "thread")
    }

    pub fn staff(&self, id: Id) -> Result<StaffRecord, SaaddError> {
        self.load(Table::Staff, &id.0, "staff")?
            .ok_or(SaaddError::NotFound)
    }

    pub(super) fn storage_key(&self, thread: Id) -> Result<Key32, SaaddError> {
        let key = self.vault.get(&thread.0).ok_or(SaaddError::NotFound)?;
        Ok(Key32::from_bytes(*key))
    }

    fn staff_public(&self, id: Id) -> Result<Option<RecipientKey>, SaaddError> {
        let s = self.staff(id)?;
        if !s.active {
            return Ok(None);
        }
        Ok(Some(super::admin::staff_public(&s)?))
    }

    fn wrap_random(&self) -> WrapRandom {
        WrapRandom {
            ephemeral: self.random(),
            inner_nonce: self.random(),
            outer_nonce: self.random(),
        }
    }

    // Each argument is one coordinate of the wrap (where, for whom, which
    // key); bundling them would only rename the list.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn put_wrap(
        &self,
        b: &mut Batch,
        sk: &Key32,
        thread: Id,
        slot: Slot,
        epoch: u32,
        recipient: &RecipientKey,
        tk: &Key32,
    ) -> Result<(), SaaddError> {
        let w = envelope::seal_wrap(sk, thread, &slot, epoch, recipient, tk, self.wrap_random())
            .map_err(|_| SaaddError::Invalid("recipient key"))?;
        b.put(Table::Wrap, wrap_key(thread, &slot), w);
        Ok(())
    }

    // ------------------------------------------------------------ validation

    /// Checks a message's text against the rules every path shares.
    pub fn check_text(&self, text: &str) -> Result<(), SaaddError> {
        if text.contains('\0') {
            return Err(SaaddError::NulInMessage);
        }
        if is_blank(text) {
            return Err(SaaddError::EmptyMessage);
        }
        if text.chars().count() > self.limits.message_chars {
            return Err(SaaddError::MessageTooLong {
                limit: self.limits.message_chars,
            });
        }
        Ok(())
    }

    /// The active coordinators of an entity, the readers a reporter is shown.
    pub fn coordinators(&self, entity: Id) -> Result<Vec<StaffRecord>, SaaddError> {
        Ok(self
            .staff_of(entity)?
            .into_iter()
            .filter(|s| s.active && s.role == Role::Coordinator)
            .collect())
    }

    // ------------------------------------------------------------ submission

    /// Starts a submission: a fresh thread id and key for its attachments.
    pub fn begin_thread(&self) -> NewThread {
        NewThread {
            id: Id(self.random()),
            tk: Key32::from_bytes(self.random()),
        }
    }

    /// An attachment sink for a new thread.
    pub fn new_thread_sink(&self, t: &NewThread) -> AttachmentSink {
        self.sink(t.id, t.tk.clone(), 0)
    }

    fn sink(&self, thread: Id, tk: Key32, epoch: u32) -> AttachmentSink {
        let id = Id(self.random());
        AttachmentSink {
            ticket: self.upload_ticket(thread, id),
            store: self.store.clone(),
            entropy: self.entropy.clone(),
            thread,
            id,
            tk,
            epoch,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK_DATA)),
            chunks: 0,
            size: 0,
            limit: self.limits.attachment_bytes,
        }
    }

    /// Stores a new thread and returns its receipt once it is durable.
    /// `readers` are the coordinators the reporter was shown and kept
    /// ticked: only active coordinators of the entity among them get a wrap,
    /// so a coordinator added after the page was shown is never included.
    pub async fn submit(
        &self,
        entity: Id,
        kind: Kind,
        text: &str,
        readers: &[Id],
        new: NewThread,
        attachments: Vec<FinishedAttachment>,
    ) -> Result<Submitted, SaaddError> {
        self.check_text(text)?;
        if attachments.len() > self.limits.attachments_per_message {
            return Err(SaaddError::TooManyAttachments {
                limit: self.limits.attachments_per_message,
            });
        }
        self.load::<super::EntityRecord>(Table::Entity, &entity.0, "entity")?
            .ok_or(SaaddError::NotFound)?;
        let shown: Vec<StaffRecord> = self
            .coordinators(entity)?
            .into_iter()
            .filter(|c| readers.contains(&c.id))
            .collect();
        if shown.is_empty() {
            return Err(SaaddError::NoReader);
        }
        let receipt = Receipt::from_random(self.random());
        let cost = self.costs.receipt;
        let r2 = receipt.clone();
        let keys = self
            .kdf
            .run(move || receipt::derive(&r2, cost))
            .await?
            .map_err(|_| SaaddError::Invalid("receipt cost"))?;
        let index = keys.index();
        if self.store.get(Table::ReceiptIndex, &index)?.is_some() {
            // 2^-110 per pair: a collision means a broken random source.
            return Err(SaaddError::Corrupt("receipt index"));
        }
        let today = self.entity_day(entity)?;
        let thread = new.id;
        let sk = Key32::from_bytes(self.random());
        let record = ThreadRecord {
            v: RECORD_VERSION,
            id: thread,
            entity,
            kind,
            status: Status::Received,
            created: today,
            activity: today,
            closed: None,
            epoch: 0,
            reporter_key: keys.secret.public(),
            shown: shown.iter().map(|s| s.id).collect(),
            advisors: Vec::new(),
            readers: shown.iter().map(|s| s.id).collect(),
            rotate: false,
            receipt_index: index,
            messages: 1,
            attachments: attachments.len() as u32,
            device_only: false,
            audit: None,
            policy: None,
            policy_floor: None,
            audit_seq: 0,
            receipt_expired: false,
            deleting: None,
        };
        let mut record = record;
        let mut b = Batch::new();
        // From here to the commit under the write lock: the policy read
        // now is the one in force when the thread lands (a concurrent
        // `set_policy` waits), and the sweeper never sees the key without
        // its thread.
        let _w = self.writes.lock().await;
        self.audit_new_thread(&mut b, &mut record, today)?;
        self.put_wrap(
            &mut b,
            &sk,
            thread,
            Slot::Reporter,
            0,
            &record.reporter_key,
            &new.tk,
        )?;
        for s in &shown {
            let public = super::admin::staff_public(s)?;
            self.put_wrap(&mut b, &sk, thread, Slot::Staff(s.id), 0, &public, &new.tk)?;
        }
        let body = MessageBody {
            text: text.to_owned(),
            author_label: String::new(),
            attachments: attachments.iter().map(|a| a.id).collect(),
        };
        let place = MessagePlace {
            thread,
            seq: 0,
            epoch: 0,
            author: Author::Reporter,
            day: today,
        };
        let msg = envelope::seal_message(&new.tk, &place, &body, self.random()).map_err(|_| {
            SaaddError::MessageTooLong {
                limit: self.limits.message_chars,
            }
        })?;
        b.put(Table::Message, seq_key(thread, 0), msg);
        // The tickets live until after the commit: the orphan sweep must
        // not see these chunks without a ticket before their record lands.
        let mut tickets = Vec::with_capacity(attachments.len());
        for a in attachments {
            b.put(Table::Attachment, pair_key(&thread.0, &a.id.0), a.record);
            tickets.push(a.ticket);
        }
        b.put(
            Table::EntityThread,
            pair_key(&entity.0, &thread.0),
            Vec::new(),
        );
        b.put(Table::ReceiptIndex, index, thread.0.to_vec());
        self.store_key(thread, &sk)?;
        self.commit(b, &record)?;
        Ok(Submitted {
            thread,
            receipt,
            secret: keys.secret,
        })
    }

    // ------------------------------------------------------------ access

    /// Finds the thread a typed receipt opens. Every failure — a phrase that
    /// does not parse, one that parses but opens nothing — does the same
    /// Argon2id work and returns the same [`SaaddError::WrongReceipt`].
    pub async fn open_with_receipt(
        &self,
        typed: &str,
    ) -> Result<(Id, RecipientSecret), SaaddError> {
        let cost = self.costs.receipt;
        let typed = Zeroizing::new(typed.to_owned());
        let keys = self
            .kdf
            .run(move || match Receipt::parse(&typed) {
                Ok(r) => receipt::derive(&r, cost),
                Err(_) => receipt::derive_decoy(&typed, cost),
            })
            .await?
            .map_err(|_| SaaddError::WrongReceipt)?;
        let thread = self.thread_for_index(&keys.index())?;
        self.keys(thread, Slot::Reporter, &keys.secret)
            .map_err(|_| SaaddError::WrongReceipt)?;
        Ok((thread, keys.secret))
    }

    /// The thread a receipt's lookup index points at (`WrongReceipt` when none).
    pub(super) fn thread_for_index(&self, index: &[u8; 32]) -> Result<Id, SaaddError> {
        self.store
            .get(Table::ReceiptIndex, index)?
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
            .map(Id)
            .ok_or(SaaddError::WrongReceipt)
    }

    /// The caller's wrap of the current epoch with its storage seal removed,
    /// or `NotFound`: no wrap in this slot, or one for another key or epoch.
    pub(super) fn current_wrap(
        &self,
        record: &ThreadRecord,
        slot: &Slot,
        public: &RecipientKey,
    ) -> Result<envelope::OpenedWrap, SaaddError> {
        let thread = record.id;
        let sk = self.storage_key(thread)?;
        let wrap = self
            .store
            .get(Table::Wrap, &wrap_key(thread, slot))?
            .ok_or(SaaddError::NotFound)?;
        let opened = envelope::open_wrap_outer(&sk, thread, slot, &wrap)
            .map_err(|_| SaaddError::Corrupt("wrap"))?;
        if opened.epoch != record.epoch || opened.recipient != *public {
            return Err(SaaddError::NotFound);
        }
        Ok(opened)
    }

    /// Unwraps the caller's thread key and follows the epoch links back.
    /// This is the access check: without a wrap for this key, nothing opens.
    pub(super) fn keys(
        &self,
        thread: Id,
        slot: Slot,
        secret: &RecipientSecret,
    ) -> Result<(ThreadRecord, EpochKeys), SaaddError> {
        let record = self.thread(thread)?;
        // The receipt stops working on its deadline day (retention's
        // `receipt` rule), for every reporter path, before the sweeper
        // removes its index entry.
        if slot == Slot::Reporter && !self.receipt_works(&record)? {
            return Err(SaaddError::NotFound);
        }
        let opened = self.current_wrap(&record, &slot, &secret.public())?;
        let tk = envelope::unwrap_thread_key(&opened, thread, &slot, secret)
            .map_err(|_| SaaddError::NotFound)?;
        let mut keys = EpochKeys::new(record.epoch, tk);
        while keys.oldest() > 0 {
            let link = self
                .store
                .get(
                    Table::Link,
                    &pair_key(&thread.0, &keys.oldest().to_be_bytes()),
                )?
                .ok_or(SaaddError::Corrupt("epoch link"))?;
            keys.follow_link(thread, &link)
                .map_err(|_| SaaddError::Corrupt("epoch link"))?;
        }
        Ok((record, keys))
    }

    /// Whether this key opens the thread.
    pub fn can_open(&self, thread: Id, slot: Slot, secret: &RecipientSecret) -> bool {
        self.keys(thread, slot, secret).is_ok()
    }

    /// Reads the whole thread.
    pub fn read(
        &self,
        thread: Id,
        slot: Slot,
        secret: &RecipientSecret,
    ) -> Result<ThreadView, SaaddError> {
        let (record, keys) = self.keys(thread, slot, secret)?;
        let mut messages = Vec::new();
        for (k, v) in self.store.scan(Table::Message, &thread.0, SCAN_LIMIT)? {
            let seq = k
                .get(16..20)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_be_bytes)
                .ok_or(SaaddError::Corrupt("message key"))?;
            let (place, body) = envelope::open_message(&keys, thread, seq, &v)
                .map_err(|_| SaaddError::Corrupt("message"))?;
            messages.push(ShownMessage {
                seq,
                author: place.author,
                day: place.day,
                body,
            });
        }
        let mut attachments = Vec::new();
        for (k, v) in self.store.scan(Table::Attachment, &thread.0, SCAN_LIMIT)? {
            let att = k
                .get(16..32)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .map(Id)
                .ok_or(SaaddError::Corrupt("attachment key"))?;
            let meta = envelope::open_attachment_meta(&keys, thread, att, &v)
                .map_err(|_| SaaddError::Corrupt("attachment"))?;
            attachments.push((att, meta));
        }
        Ok(ThreadView {
            record,
            messages,
            attachments,
        })
    }

    /// Opens an attachment for download: its metadata and a reader that
    /// yields its chunks one at a time.
    pub fn attachment(
        &self,
        thread: Id,
        att: Id,
        slot: Slot,
        secret: &RecipientSecret,
    ) -> Result<(AttachmentMeta, AttachmentReader), SaaddError> {
        let (_, keys) = self.keys(thread, slot, secret)?;
        let rec = self
            .store
            .get(Table::Attachment, &pair_key(&thread.0, &att.0))?
            .ok_or(SaaddError::NotFound)?;
        let meta = envelope::open_attachment_meta(&keys, thread, att, &rec)
            .map_err(|_| SaaddError::Corrupt("attachment"))?;
        Ok((
            meta.clone(),
            AttachmentReader {
                store: self.store.clone(),
                keys,
                thread,
                att,
                next: 0,
                chunks: meta.chunks,
            },
        ))
    }

    // ------------------------------------------------------------ writing

    /// Rotates the thread key if someone lost access since the last write,
    /// so nothing new is sealed under a key they may hold.
    fn rotate_if_due(
        &self,
        record: &mut ThreadRecord,
        keys: EpochKeys,
        b: &mut Batch,
    ) -> Result<EpochKeys, SaaddError> {
        if !record.rotate {
            return Ok(keys);
        }
        self.rotate(record, keys, b)
    }

    /// A new thread key for a new epoch, linked back to the old one and
    /// wrapped for the reporter and every current reader (spec/envelope.md,
    /// "Rotation"). Old wraps are deleted.
    fn rotate(
        &self,
        record: &mut ThreadRecord,
        keys: EpochKeys,
        b: &mut Batch,
    ) -> Result<EpochKeys, SaaddError> {
        let thread = record.id;
        let sk = self.storage_key(thread)?;
        let epoch = record.epoch + 1;
        let tk = Key32::from_bytes(self.random());
        let link = envelope::seal_link(&tk, thread, epoch, keys.current_key(), self.random());
        b.put(
            Table::Link,
            pair_key(&thread.0, &epoch.to_be_bytes()),
            link.clone(),
        );
        for (k, _) in self.store.scan(Table::Wrap, &thread.0, SCAN_LIMIT)? {
            b.delete(Table::Wrap, k);
        }
        self.put_wrap(
            b,
            &sk,
            thread,
            Slot::Reporter,
            epoch,
            &record.reporter_key,
            &tk,
        )?;
        let mut still = Vec::new();
        for id in &record.readers {
            if let Some(public) = self.staff_public(*id)? {
                self.put_wrap(b, &sk, thread, Slot::Staff(*id), epoch, &public, &tk)?;
                still.push(*id);
            }
        }
        record.readers = still;
        record.epoch = epoch;
        record.rotate = false;
        let mut next = EpochKeys::new(epoch, tk);
        next.follow_link(thread, &link)
            .map_err(|_| SaaddError::Corrupt("epoch link"))?;
        Ok(next)
    }

    /// Prepares a reply: rotates a key that is due, and returns a sink
    /// factory bound to the current epoch.
    pub async fn begin_reply(
        &self,
        thread: Id,
        slot: Slot,
        secret: &RecipientSecret,
    ) -> Result<ReplyDraft, SaaddError> {
        let _w = self.writes.lock().await;
        let (mut record, mut keys) = self.keys(thread, slot, secret)?;
        if record.rotate {
            let mut b = Batch::new();
            keys = self.rotate(&mut record, keys, &mut b)?;
            self.commit(b, &record)?;
        }
        Ok(ReplyDraft {
            thread,
            epoch: record.epoch,
            tk: keys.current_key().clone(),
        })
    }

    /// An attachment sink for a reply.
    pub fn reply_sink(&self, d: &ReplyDraft) -> AttachmentSink {
        self.sink(d.thread, d.tk.clone(), d.epoch)
    }

    /// Adds a message to a thread, durably.
    #[allow(clippy::too_many_arguments)]
    pub async fn post(
        &self,
        draft: ReplyDraft,
        slot: Slot,
        secret: &RecipientSecret,
        author_label: &str,
        text: &str,
        attachments: Vec<FinishedAttachment>,
    ) -> Result<(), SaaddError> {
        self.check_text(text)?;
        if attachments.len() > self.limits.attachments_per_message {
            return Err(SaaddError::TooManyAttachments {
                limit: self.limits.attachments_per_message,
            });
        }
        let _w = self.writes.lock().await;
        let thread = draft.thread;
        let (mut record, keys) = self.keys(thread, slot, secret)?;
        if record.epoch != draft.epoch || record.rotate {
            // The key rotated while this reply was being written (someone
            // was removed): its attachments were sealed under the old key.
            return Err(SaaddError::Forbidden);
        }
        if record.messages >= self.limits.messages_per_thread {
            return Err(SaaddError::ThreadFull {
                limit: self.limits.messages_per_thread,
            });
        }
        let new_total = record.attachments + attachments.len() as u32;
        if new_total > self.limits.attachments_per_thread {
            return Err(SaaddError::TooManyAttachments {
                limit: self.limits.attachments_per_thread as usize,
            });
        }
        let author = match slot {
            Slot::Reporter => Author::Reporter,
            Slot::Staff(_) => Author::Staff,
        };
        let today = self.entity_day(record.entity)?;
        let place = MessagePlace {
            thread,
            seq: record.messages,
            epoch: record.epoch,
            author,
            day: today,
        };
        let body = MessageBody {
            text: text.to_owned(),
            author_label: author_label.to_owned(),
            attachments: attachments.iter().map(|a| a.id).collect(),
        };
        let msg = envelope::seal_message(keys.current_key(), &place, &body, self.random())
            .map_err(|_| SaaddError::MessageTooLong {
                limit: self.limits.message_chars,
            })?;
        let mut b = Batch::new();
        b.put(Table::Message, seq_key(thread, record.messages), msg);
        // The tickets live until after the commit: the orphan sweep must
        // not see these chunks without a ticket before their record lands.
        let mut tickets = Vec::with_capacity(attachments.len());
        for a in attachments {
            b.put(Table::Attachment, pair_key(&thread.0, &a.id.0), a.record);
            tickets.push(a.ticket);
        }
        record.messages += 1;
        record.attachments = new_total;
        record.activity = today;
        if author == Author::Staff
            && matches!(record.status, Status::Received | Status::Acknowledged)
        {
            // A reply means someone is on it; "answered" stays a decision.
            record.status = Status::InProgress;
        }
        self.commit(b, &record)
    }

    /// Changes a thread's status (staff who can open it only).
    pub async fn set_status(
        &self,
        thread: Id,
        staff: &StaffLogin,
        to: Status,
    ) -> Result<(), SaaddError> {
        let _w = self.writes.lock().await;
        let (mut record, _) = self.keys(thread, Slot::Staff(staff.staff.id), &staff.secret)?;
        if !record.status.may_become(to) {
            return Err(SaaddError::BadStatusChange);
        }
        let mut b = Batch::new();
        self.status_changed(&mut b, &mut record, to)?;
        self.commit(b, &record)
    }

    // ------------------------------------------------------------ staff views

    /// Threads this staff member can open, newest first.
    pub fn threads_for(&self, staff: &StaffRecord) -> Result<Vec<ThreadRecord>, SaaddError> {
        let mut out = Vec::new();
        for (k, _) in self
            .store
            .scan(Table::EntityThread, &staff.entity.0, SCAN_LIMIT)?
        {
            let Some(id) = k
                .get(16..32)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .map(Id)
            else {
                continue;
            };
            // A thread being deleted is gone for every reader.
            let t = match self.thread(id) {
                Ok(t) => t,
                Err(SaaddError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            if t.readers.contains(&staff.id) {
                out.push(t);
            }
        }
        out.sort_by(|a, b| b.activity.cmp(&a.activity).then(b.created.cmp(&a.created)));
        Ok(out)
    }

    /// Gives an advisor the current key (assignment is a key operation).
    /// Also re-grants an advisor whose key was reset.
    pub async fn assign(
        &self,
        thread: Id,
        coordinator: &StaffLogin,
        advisor: Id,
    ) -> Result<(), SaaddError> {
        self.require_role(coordinator, Role::Coordinator)?;
        let target = self.staff(advisor)?;
        if !target.active
            || target.role != Role::Advisor
            || target.entity != coordinator.staff.entity
        {
            return Err(SaaddError::Forbidden);
        }
        self.grant(thread, coordinator, target, |r, id| {
            if !r.advisors.contains(&id) {
                r.advisors.push(id);
            }
            true
        })
        .await
    }

    /// Gives back the key to a coordinator the reporter was shown (after a
    /// password reset gave them a new key).
    pub async fn regrant_coordinator(
        &self,
        thread: Id,
        coordinator: &StaffLogin,
        colleague: Id,
    ) -> Result<(), SaaddError> {
        self.require_role(coordinator, Role::Coordinator)?;
        let target = self.staff(colleague)?;
        if !target.active || target.role != Role::Coordinator {
            return Err(SaaddError::Forbidden);
        }
        self.grant(thread, coordinator, target, |r, id| r.shown.contains(&id))
            .await
    }

    async fn grant(
        &self,
        thread: Id,
        by: &StaffLogin,
        target: StaffRecord,
        allowed: impl FnOnce(&mut ThreadRecord, Id) -> bool,
    ) -> Result<(), SaaddError> {
        let _w = self.writes.lock().await;
        let (mut record, keys) = self.keys(thread, Slot::Staff(by.staff.id), &by.secret)?;
        if !allowed(&mut record, target.id) {
            return Err(SaaddError::Forbidden);
        }
        if record.device_only && target.device_key.is_none() {
            return Err(SaaddError::DeviceOnly);
        }
        let mut b = Batch::new();
        let keys = self.rotate_if_due(&mut record, keys, &mut b)?;
        let public = super::admin::staff_public(&target)?;
        let sk = self.storage_key(thread)?;
        self.put_wrap(
            &mut b,
            &sk,
            thread,
            Slot::Staff(target.id),
            record.epoch,
            &public,
            keys.current_key(),
        )?;
        if !record.readers.contains(&target.id) {
            record.readers.push(target.id);
        }
        self.commit(b, &record)
    }

    /// Removes an advisor from a thread and rotates the key, so they cannot
    /// read anything added afterwards.
    pub async fn unassign(
        &self,
        thread: Id,
        coordinator: &StaffLogin,
        advisor: Id,
    ) -> Result<(), SaaddError> {
        self.require_role(coordinator, Role::Coordinator)?;
        let _w = self.writes.lock().await;
        let (mut record, keys) = self.keys(
            thread,
            Slot::Staff(coordinator.staff.id),
            &coordinator.secret,
        )?;
        if !record.advisors.contains(&advisor) {
            return Err(SaaddError::NotFound);
        }
        record.advisors.retain(|a| *a != advisor);
        record.readers.retain(|a| *a != advisor);
        let mut b = Batch::new();
        self.rotate(&mut record, keys, &mut b)?;
        self.commit(b, &record)
    }

    fn require_role(&self, who: &StaffLogin, role: Role) -> Result<(), SaaddError> {
        if who.staff.role == role && who.staff.active {
            Ok(())
        } else {
            Err(SaaddError::Forbidden)
        }
    }

    // ------------------------------------------------------------ reporter

    /// When no staff member can read the thread any more, the reporter may
    /// grant it to current coordinators of the entity.
    pub async fn reporter_grant(
        &self,
        thread: Id,
        secret: &RecipientSecret,
        coordinators: &[Id],
    ) -> Result<(), SaaddError> {
        let _w = self.writes.lock().await;
        let (mut record, keys) = self.keys(thread, Slot::Reporter, secret)?;
        if !record.readers.is_empty() {
            return Err(SaaddError::Forbidden);
        }
        let allowed: Vec<StaffRecord> = self
            .coordinators(record.entity)?
            .into_iter()
            .filter(|c| coordinators.contains(&c.id))
            .collect();
        if allowed.is_empty() {
            return Err(SaaddError::NoReader);
        }
        if record.device_only && allowed.iter().any(|c| c.device_key.is_none()) {
            return Err(SaaddError::DeviceOnly);
        }
        let mut b = Batch::new();
        let keys = self.rotate_if_due(&mut record, keys, &mut b)?;
        let sk = self.storage_key(thread)?;
        for c in &allowed {
            let public = super::admin::staff_public(c)?;
            self.put_wrap(
                &mut b,
                &sk,
                thread,
                Slot::Staff(c.id),
                record.epoch,
                &public,
                keys.current_key(),
            )?;
            record.readers.push(c.id);
            if !record.shown.contains(&c.id) {
                record.shown.push(c.id);
            }
        }
        self.commit(b, &record)
    }

    /// Deletes the thread and everything in it (the reporter withdraws
    /// it): its storage key is destroyed first (spec/retention.md,
    /// "Deleting a thread"), and the log records the withdrawal.
    pub async fn withdraw(&self, thread: Id, secret: &RecipientSecret) -> Result<(), SaaddError> {
        let _w = self.writes.lock().await;
        let (record, _) = self.keys(thread, Slot::Reporter, secret)?;
        self.shred_locked(vec![(
            record,
            crate::core::retention::Rule::Withdrawn,
            None,
        )])?;
        Ok(())
    }

    /// Removes the chunks of attachments that will not be committed (the
    /// form they came with was refused).
    pub fn discard(&self, thread: Id, files: Vec<FinishedAttachment>) -> Result<(), SaaddError> {
        let ids: Vec<Id> = files.iter().map(|f| f.id).collect();
        self.discard_ids(thread, &ids)
    }

    /// Removes the chunks of these attachments (a commit that failed).
    /// Only this request's own uploads: other uploads may be in progress.
    pub fn discard_ids(&self, thread: Id, ids: &[Id]) -> Result<(), SaaddError> {
        for id in ids {
            delete_chunks(self.store.as_ref(), thread, *id)?;
        }
        self.store.flush()?;
        Ok(())
    }

    /// Removes chunks whose attachment record was never committed and
    /// whose upload is not in progress (a crash, or a request cut off or
    /// timed out before it could clean up). Needs no key. Returns the
    /// count. Safe during service: uploads in progress hold a ticket
    /// ([`Saadd::upload_ticket`]) from before their first chunk until after
    /// their commit.
    pub fn sweep_orphan_chunks(&self) -> Result<usize, SaaddError> {
        let mut b = Batch::new();
        let mut n = 0;
        // Keys only: the chunks' contents are never read. Each attachment
        // is judged once. The ticket is looked at before the record: a
        // ticket is dropped only after its commit, so an upload that
        // commits meanwhile is seen as committed, never as an orphan.
        let mut judged: Option<(Vec<u8>, bool)> = None;
        for k in self.store.scan_keys(Table::Chunk, &[], SCAN_LIMIT)? {
            let Some(head) = k.get(..32) else { continue };
            let orphan = match &judged {
                Some((h, o)) if h.as_slice() == head => *o,
                _ => {
                    let o =
                        !self.uploading(head) && self.store.get(Table::Attachment, head)?.is_none();
                    judged = Some((head.to_vec(), o));
                    o
                }
            };
            if orphan {
                b.delete(Table::Chunk, k);
                n += 1;
            }
        }
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(n)
    }
}

/// A reply being written: the thread and the key its attachments use.
pub struct ReplyDraft {
    thread: Id,
    epoch: u32,
    tk: Key32,
}

/// Yields an attachment's chunks in order, each opened and checked.
pub struct AttachmentReader {
    store: Arc<dyn Store>,
    keys: EpochKeys,
    thread: Id,
    att: Id,
    next: u32,
    chunks: u32,
}

impl AttachmentReader {
    /// The next chunk's plaintext, or `None` after the last.
    pub fn next_chunk(&mut self) -> Result<Option<crate::core::secret::SecretBytes>, SaaddError> {
        if self.next >= self.chunks {
            return Ok(None);
        }
        let rec = self
            .store
            .get(Table::Chunk, &chunk_key(self.thread, self.att, self.next))?
            .ok_or(SaaddError::Corrupt("chunk"))?;
        let data = envelope::open_chunk(&self.keys, self.thread, self.att, self.next, &rec)
            .map_err(|_| SaaddError::Corrupt("chunk"))?;
        self.next += 1;
        Ok(Some(data))
    }
}
