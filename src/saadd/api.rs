//! The service side of the JSON API (spec/api.md): threads whose records
//! are sealed and opened on the caller's own machine. The server checks
//! shapes and places, seals client-made wraps under the storage key, and
//! stores; it never holds a thread key here.

use std::collections::{BTreeMap, BTreeSet};

use super::records::{RECORD_VERSION, Role, StaffRecord, ThreadRecord};
use super::threads::{chunk_key, wrap_key};
use super::{Saadd, SaaddError};
use crate::core::Day;
use crate::core::api::{
    AttachmentIn, AttachmentOut, EntityDocument, EntityKeys, LinkOut, MessageOut, ReaderOut,
    RotationIn, StaffKey, ThreadOut, WrapIn, b64, unb64,
};
use crate::core::envelope::{self, Author, CHUNK_DATA, Id, OpenedWrap, Slot};
use crate::core::secret::Key32;
use crate::core::status::{Kind, Status};
use crate::core::wrap::RecipientKey;
use crate::store::{Batch, Table};

/// Key of the server's Ed25519 seed in the `Meta` table.
const SIGNING_KEY: &[u8] = b"signing-key";

/// Most records scanned under one thread.
const SCAN_LIMIT: usize = 1_000_000;

/// Who is calling, as a session established it (spec/api.md, "Sessions").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub slot: Slot,
    pub public: RecipientKey,
}

/// A thread or message being received: what was checked before its chunks
/// arrive, and which chunks have arrived.
pub struct Upload {
    thread: Id,
    epoch: u32,
    attachments: Vec<(Id, Vec<u8>, u32)>,
    received: BTreeMap<Id, BTreeSet<u32>>,
    /// Keeps the orphan sweep off these chunks while the request lives.
    _tickets: Vec<super::UploadTicket>,
}

impl Upload {
    /// Ids of the attachments, to discard their chunks if the request fails.
    pub fn attachment_ids(&self) -> Vec<Id> {
        self.attachments.iter().map(|a| a.0).collect()
    }
}

/// A checked `POST /api/v1/threads`.
pub struct NewThreadPlan {
    pub upload: Upload,
    entity: Id,
    kind: Kind,
    reporter_key: RecipientKey,
    receipt_index: [u8; 32],
    device_only: bool,
    wraps: Vec<(Slot, Vec<u8>)>,
    message: Vec<u8>,
}

/// A checked `POST /api/v1/threads/{id}/messages`.
pub struct PostPlan {
    pub upload: Upload,
    caller: Caller,
    seq: u32,
    message: Vec<u8>,
}

fn malformed(what: &'static str) -> SaaddError {
    SaaddError::Malformed(what)
}

fn decode(text: &str, what: &'static str) -> Result<Vec<u8>, SaaddError> {
    unb64(text).ok_or(malformed(what))
}

fn parse_slot(text: &str) -> Result<Slot, SaaddError> {
    if text == "reporter" {
        return Ok(Slot::Reporter);
    }
    Id::from_hex(text)
        .map(Slot::Staff)
        .ok_or(malformed("wraps"))
}

fn pair_key(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut k = a.to_vec();
    k.extend_from_slice(b);
    k
}

impl Saadd {
    // ------------------------------------------------------------ signing

    /// The server's Ed25519 seed, made on first use (spec/api.md, "Entity keys").
    pub fn signing_seed(&self) -> Result<Key32, SaaddError> {
        if self.store.get(Table::Meta, SIGNING_KEY)?.is_none() {
            // Whoever writes first wins; everyone reads that one below.
            let fresh: [u8; 32] = self.random();
            self.store
                .insert_if_absent(Table::Meta, SIGNING_KEY, &fresh)?;
            self.store.flush()?;
        }
        self.store
            .get(Table::Meta, SIGNING_KEY)?
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .map(Key32::from_bytes)
            .ok_or(SaaddError::Corrupt("signing key"))
    }

    /// The server key clients pin, base64url.
    pub fn server_key(&self) -> Result<String, SaaddError> {
        let seed = self.signing_seed()?;
        let public = crate::core::api::signing_public(seed.expose())
            .ok_or(SaaddError::Corrupt("signing key"))?;
        Ok(b64(&public))
    }

    /// Every entity with its coordinators' and advisors' keys and how they
    /// read. `policy` names each entity's token policy.
    pub fn entity_document(
        &self,
        policy: &dyn Fn(Id) -> String,
        backup_days: Option<u32>,
    ) -> Result<EntityDocument, SaaddError> {
        // One scan of the staff for every entity, not one per entity: every
        // client command asks for this document.
        let mut by_entity: BTreeMap<Id, Vec<StaffKey>> = BTreeMap::new();
        let mut all = self.all_staff()?;
        all.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        for s in all {
            if !s.active || s.role == Role::EntityAdmin {
                continue;
            }
            by_entity.entry(s.entity).or_default().push(StaffKey {
                id: s.id,
                role: s.role.key().to_owned(),
                display_name: s.display_name.clone(),
                public_key: super::admin::staff_public(&s)?,
                reads: super::admin::reads(&s),
            });
        }
        let mut entities = Vec::new();
        for e in self.entities()? {
            let staff = by_entity.remove(&e.id).unwrap_or_default();
            let retention = Some(crate::core::api::RetentionShown {
                question: self.policy(e.id, crate::core::status::Kind::Question)?,
                claim: self.policy(e.id, crate::core::status::Kind::Claim)?,
                backup_days,
            });
            entities.push(EntityKeys {
                id: e.id,
                policy: policy(e.id),
                slug: e.slug,
                name: e.name,
                complaints_office: e.complaints_office,
                staff,
                retention,
            });
        }
        Ok(EntityDocument {
            v: crate::core::api::DOCUMENT_VERSION,
            day: self.today(),
            entities,
        })
    }

    // ------------------------------------------------------------ sessions

    /// The thread a lookup handle finds (spec/api.md, "Sessions").
    pub fn thread_by_lookup(&self, lookup: [u8; 32]) -> Result<ThreadRecord, SaaddError> {
        let index = crate::core::receipt::lookup_index(&Key32::from_bytes(lookup));
        let t = self.thread(self.thread_for_index(&index)?)?;
        if !self.receipt_works(&t)? {
            return Err(SaaddError::WrongReceipt);
        }
        Ok(t)
    }

    /// A staff member who signs in with a device key, or `None` for an
    /// unknown, removed or password login (the caller answers all three
    /// the same way).
    pub fn device_staff(&self, login: &str) -> Option<(Id, RecipientKey)> {
        self.staff_by_login(login)
            .ok()
            .filter(|s| s.active)
            .and_then(|s| Some((s.id, s.device_key?)))
    }

    /// Whether a staff session's key is still the member's key.
    pub fn staff_key_current(&self, staff: Id, public: &RecipientKey) -> bool {
        self.staff(staff)
            .is_ok_and(|s| s.active && s.device_key.as_ref() == Some(public))
    }

    // ------------------------------------------------------------ access

    /// The caller's current wrap, or `NotFound`: the API's access check.
    fn api_access(
        &self,
        thread: Id,
        caller: &Caller,
    ) -> Result<(ThreadRecord, OpenedWrap), SaaddError> {
        let record = self.thread(thread)?;
        // A member whose key changed or who was removed lost their wraps
        // then, so the wrap check below also turns away a stale session.
        if let Slot::Staff(id) = caller.slot {
            if !record.readers.contains(&id) {
                return Err(SaaddError::NotFound);
            }
        } else if record.reporter_key != caller.public || !self.receipt_works(&record)? {
            return Err(SaaddError::NotFound);
        }
        let opened = self.current_wrap(&record, &caller.slot, &caller.public)?;
        Ok((record, opened))
    }

    /// `GET /api/v1/threads/{id}`: the caller's wrap and every record.
    pub fn api_thread(&self, thread: Id, caller: &Caller) -> Result<ThreadOut, SaaddError> {
        let (record, opened) = self.api_access(thread, caller)?;
        let entity = self.entity(record.entity)?;
        let mut readers = Vec::new();
        for id in &record.readers {
            let s = self.staff(*id)?;
            readers.push(ReaderOut {
                id: s.id,
                role: s.role.key().to_owned(),
                display_name: s.display_name.clone(),
                public_key: super::admin::staff_public(&s)?,
                reads: super::admin::reads(&s),
                active: s.active,
            });
        }
        let mut links = Vec::new();
        for (k, v) in self.store.scan(Table::Link, &thread.0, SCAN_LIMIT)? {
            links.push(LinkOut {
                epoch: tail_u32(&k)?,
                link: b64(&v),
            });
        }
        let mut message_records = Vec::new();
        for (k, v) in self.store.scan(Table::Message, &thread.0, SCAN_LIMIT)? {
            message_records.push(MessageOut {
                seq: tail_u32(&k)?,
                record: b64(&v),
            });
        }
        let mut attachment_records = Vec::new();
        for (k, v) in self.store.scan(Table::Attachment, &thread.0, SCAN_LIMIT)? {
            let id = k
                .get(16..32)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .map(Id)
                .ok_or(SaaddError::Corrupt("attachment key"))?;
            attachment_records.push(AttachmentOut {
                id,
                record: b64(&v),
            });
        }
        Ok(ThreadOut {
            id: record.id,
            entity: entity.slug,
            kind: record.kind.key().to_owned(),
            status: record.status.key().to_owned(),
            created: record.created,
            activity: record.activity,
            closed: record.closed,
            epoch: record.epoch,
            rotate: record.rotate,
            device_only: record.device_only,
            messages: record.messages,
            attachments: record.attachments,
            day: self.entity_day(record.entity)?,
            reporter_key: record.reporter_key,
            readers,
            shown: record.shown.clone(),
            advisors: record.advisors.clone(),
            wrap: b64(&opened.encode()),
            links,
            message_records,
            attachment_records,
        })
    }

    /// One committed chunk record.
    pub fn api_chunk(
        &self,
        thread: Id,
        att: Id,
        index: u32,
        caller: &Caller,
    ) -> Result<Vec<u8>, SaaddError> {
        self.api_access(thread, caller)?;
        if self
            .store
            .get(Table::Attachment, &pair_key(&thread.0, &att.0))?
            .is_none()
        {
            return Err(SaaddError::NotFound);
        }
        self.store
            .get(Table::Chunk, &chunk_key(thread, att, index))?
            .ok_or(SaaddError::NotFound)
    }

    /// Threads a staff member reads, newest activity first.
    pub fn api_threads_for(&self, staff: Id) -> Result<Vec<ThreadRecord>, SaaddError> {
        let s = self.staff(staff)?;
        self.threads_for(&s)
    }

    // ------------------------------------------------------------ checks

    /// A client-sealed record's day must be the entity's today, give or
    /// take one: the client may count days in another zone.
    fn check_day(&self, entity: Id, day: Option<Day>) -> Result<(), SaaddError> {
        let today = self.entity_day(entity)?;
        match day {
            Some(d) if d.0.abs_diff(today.0) <= 1 => Ok(()),
            _ => Err(SaaddError::WrongDay),
        }
    }

    fn most_chunks(&self) -> u32 {
        let per = CHUNK_DATA as u64;
        let n = self.limits.attachment_bytes.div_ceil(per).max(1);
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Checks the attachments announced with a message, before their chunks.
    fn plan_attachments(
        &self,
        thread: Id,
        epoch: u32,
        list: &[AttachmentIn],
    ) -> Result<Upload, SaaddError> {
        if list.len() > self.limits.attachments_per_message {
            return Err(SaaddError::TooManyAttachments {
                limit: self.limits.attachments_per_message,
            });
        }
        let mut attachments = Vec::new();
        let mut received = BTreeMap::new();
        let mut tickets = Vec::new();
        for a in list {
            let record = decode(&a.record, "attachments")?;
            let shape =
                envelope::attachment_shape(&record, false).map_err(|_| malformed("attachments"))?;
            if shape.epoch != epoch {
                return Err(malformed("attachments"));
            }
            if a.chunks == 0 || a.chunks > self.most_chunks() {
                return Err(SaaddError::AttachmentTooLarge {
                    limit: self.limits.attachment_bytes,
                });
            }
            let taken = self
                .store
                .get(Table::Attachment, &pair_key(&thread.0, &a.id.0))?
                .is_some()
                || self
                    .store
                    .get(Table::Chunk, &chunk_key(thread, a.id, 0))?
                    .is_some();
            if taken || received.insert(a.id, BTreeSet::new()).is_some() {
                return Err(SaaddError::Taken);
            }
            // Held before any chunk is stored, and by one request only.
            tickets.push(
                self.try_upload_ticket(thread, a.id)
                    .ok_or(SaaddError::Taken)?,
            );
            attachments.push((a.id, record, a.chunks));
        }
        Ok(Upload {
            thread,
            epoch,
            attachments,
            received,
            _tickets: tickets,
        })
    }

    /// Stores one chunk of an upload, after checking its place and shape.
    /// Not flushed: the commit that makes it visible flushes it.
    pub fn api_store_chunk(
        &self,
        upload: &mut Upload,
        att: Id,
        index: u32,
        record: &[u8],
    ) -> Result<(), SaaddError> {
        let chunks = upload
            .attachments
            .iter()
            .find(|a| a.0 == att)
            .map(|a| a.2)
            .ok_or(malformed("chunk"))?;
        let seen = upload.received.get_mut(&att).ok_or(malformed("chunk"))?;
        if index >= chunks || !seen.insert(index) {
            return Err(malformed("chunk"));
        }
        let shape = envelope::attachment_shape(record, true).map_err(|_| malformed("chunk"))?;
        // Every chunk but the last is full (spec/envelope.md, "Chunk record").
        let full = CHUNK_DATA + 4;
        if shape.epoch != upload.epoch || (index + 1 < chunks && shape.bucket != full) {
            return Err(malformed("chunk"));
        }
        let mut b = Batch::new();
        b.put(
            Table::Chunk,
            chunk_key(upload.thread, att, index),
            record.to_vec(),
        );
        self.store.apply(b)?;
        Ok(())
    }

    fn uploads_complete(upload: &Upload) -> Result<(), SaaddError> {
        for (id, _, chunks) in &upload.attachments {
            let n = upload.received.get(id).map_or(0, BTreeSet::len);
            if n != *chunks as usize {
                return Err(malformed("chunk"));
            }
        }
        Ok(())
    }

    /// Checks a wrap sent for `epoch` and the key `expected`. A wrap for
    /// another epoch is `Stale` when the caller may simply have missed a
    /// rotation (`stale`), else malformed.
    fn check_wrap(
        w: &WrapIn,
        epoch: u32,
        expected: &RecipientKey,
        stale: bool,
    ) -> Result<Vec<u8>, SaaddError> {
        let inner = decode(&w.wrap, "wraps")?;
        let opened = envelope::parse_wrap_inner(&inner).map_err(|_| malformed("wraps"))?;
        if opened.epoch != epoch && stale {
            return Err(SaaddError::Stale);
        }
        if opened.epoch != epoch || opened.recipient != *expected {
            return Err(malformed("wraps"));
        }
        Ok(inner)
    }

    /// Seals a checked inner wrap under the storage key into `b`.
    fn put_client_wrap(
        &self,
        b: &mut Batch,
        sk: &Key32,
        thread: Id,
        slot: &Slot,
        inner: &[u8],
    ) -> Result<(), SaaddError> {
        let outer = envelope::seal_wrap_outer(sk, thread, slot, inner, self.random())
            .map_err(|_| malformed("wraps"))?;
        b.put(Table::Wrap, wrap_key(thread, slot), outer);
        Ok(())
    }

    // ------------------------------------------------------------ creation

    /// Checks a new thread before its chunks arrive (spec/api.md, "Creating a thread").
    pub fn api_plan_thread(
        &self,
        new: &crate::core::api::NewThreadIn,
        entity: &super::EntityRecord,
    ) -> Result<NewThreadPlan, SaaddError> {
        let kind = Kind::from_key(&new.kind).ok_or(SaaddError::Invalid("kind"))?;
        if self.store.get(Table::Thread, &new.id.0)?.is_some() {
            return Err(SaaddError::Taken);
        }
        let mut receipt_index = [0u8; 32];
        hex::decode_to_slice(&new.receipt_index, &mut receipt_index)
            .map_err(|_| malformed("receipt_index"))?;
        if self
            .store
            .get(Table::ReceiptIndex, &receipt_index)?
            .is_some()
        {
            return Err(SaaddError::Taken);
        }
        if !crate::core::wrap::is_strong(&new.reporter_key) {
            return Err(malformed("reporter_key"));
        }
        let coordinators = self.coordinators(entity.id)?;
        let mut wraps: Vec<(Slot, Vec<u8>)> = Vec::new();
        for w in &new.wraps {
            let slot = parse_slot(&w.slot)?;
            if wraps.iter().any(|(s, _)| *s == slot) {
                return Err(malformed("wraps"));
            }
            let expected = match slot {
                Slot::Reporter => new.reporter_key,
                Slot::Staff(id) => {
                    let c = coordinators
                        .iter()
                        .find(|c| c.id == id)
                        .ok_or(malformed("wraps"))?;
                    if new.device_only && c.device_key.is_none() {
                        return Err(SaaddError::DeviceOnly);
                    }
                    super::admin::staff_public(c)?
                }
            };
            wraps.push((slot, Self::check_wrap(w, 0, &expected, false)?));
        }
        if !wraps.iter().any(|(s, _)| *s == Slot::Reporter) {
            return Err(malformed("wraps"));
        }
        if wraps.len() < 2 {
            return Err(SaaddError::NoReader);
        }
        let message = decode(&new.message, "message")?;
        let shape = envelope::message_shape(&message).map_err(|_| malformed("message"))?;
        if shape.epoch != 0 || shape.author != Some(Author::Reporter) {
            return Err(malformed("message"));
        }
        self.check_day(entity.id, shape.day)?;
        let upload = self.plan_attachments(new.id, 0, &new.attachments)?;
        Ok(NewThreadPlan {
            upload,
            entity: entity.id,
            kind,
            reporter_key: new.reporter_key,
            receipt_index,
            device_only: new.device_only,
            wraps,
            message,
        })
    }

    /// Stores a checked thread once all its chunks are in; durable on return.
    pub async fn api_create(&self, plan: NewThreadPlan) -> Result<Id, SaaddError> {
        Self::uploads_complete(&plan.upload)?;
        let _w = self.writes.lock().await;
        let thread = plan.upload.thread;
        if self.store.get(Table::Thread, &thread.0)?.is_some()
            || self
                .store
                .get(Table::ReceiptIndex, &plan.receipt_index)?
                .is_some()
        {
            return Err(SaaddError::Taken);
        }
        // A coordinator removed while the request was on its way gets no wrap.
        let coordinators = self.coordinators(plan.entity)?;
        let today = self.entity_day(plan.entity)?;
        let sk = Key32::from_bytes(self.random());
        let mut b = Batch::new();
        let mut readers = Vec::new();
        for (slot, inner) in &plan.wraps {
            if let Slot::Staff(id) = slot {
                let Some(c) = coordinators.iter().find(|c| c.id == *id) else {
                    continue;
                };
                let opened = envelope::parse_wrap_inner(inner).map_err(|_| malformed("wraps"))?;
                if opened.recipient != super::admin::staff_public(c)? {
                    continue;
                }
                readers.push(*id);
            }
            self.put_client_wrap(&mut b, &sk, thread, slot, inner)?;
        }
        if readers.is_empty() {
            return Err(SaaddError::NoReader);
        }
        let record = ThreadRecord {
            v: RECORD_VERSION,
            id: thread,
            entity: plan.entity,
            kind: plan.kind,
            status: Status::Received,
            created: today,
            activity: today,
            closed: None,
            epoch: 0,
            reporter_key: plan.reporter_key,
            shown: readers.clone(),
            advisors: Vec::new(),
            readers,
            rotate: false,
            receipt_index: plan.receipt_index,
            messages: 1,
            attachments: plan.upload.attachments.len() as u32,
            device_only: plan.device_only,
            audit: None,
            policy: None,
            policy_floor: None,
            audit_seq: 0,
            receipt_expired: false,
            deleting: None,
        };
        let mut record = record;
        self.audit_new_thread(&mut b, &mut record, today)?;
        b.put(
            Table::Message,
            pair_key(&thread.0, &0u32.to_be_bytes()),
            plan.message,
        );
        for (id, rec, _) in plan.upload.attachments {
            b.put(Table::Attachment, pair_key(&thread.0, &id.0), rec);
        }
        b.put(
            Table::EntityThread,
            pair_key(&plan.entity.0, &thread.0),
            Vec::new(),
        );
        b.put(Table::ReceiptIndex, plan.receipt_index, thread.0.to_vec());
        self.store_key(thread, &sk)?;
        self.commit(b, &record)?;
        Ok(thread)
    }

    // ------------------------------------------------------------ posting

    /// Checks a message before its chunks arrive (spec/api.md, "Posting").
    pub fn api_plan_post(
        &self,
        thread: Id,
        caller: &Caller,
        msg: &crate::core::api::MessageIn,
    ) -> Result<PostPlan, SaaddError> {
        let (record, _) = self.api_access(thread, caller)?;
        if record.rotate {
            return Err(SaaddError::RotationDue);
        }
        if msg.seq != record.messages {
            return Err(SaaddError::Stale);
        }
        if record.messages >= self.limits.messages_per_thread {
            return Err(SaaddError::ThreadFull {
                limit: self.limits.messages_per_thread,
            });
        }
        if record.attachments as usize + msg.attachments.len()
            > self.limits.attachments_per_thread as usize
        {
            return Err(SaaddError::TooManyAttachments {
                limit: self.limits.attachments_per_thread as usize,
            });
        }
        let message = decode(&msg.record, "message")?;
        let shape = envelope::message_shape(&message).map_err(|_| malformed("message"))?;
        let author = match caller.slot {
            Slot::Reporter => Author::Reporter,
            Slot::Staff(_) => Author::Staff,
        };
        if shape.epoch != record.epoch || shape.author != Some(author) {
            return Err(malformed("message"));
        }
        self.check_day(record.entity, shape.day)?;
        let upload = self.plan_attachments(thread, record.epoch, &msg.attachments)?;
        Ok(PostPlan {
            upload,
            caller: *caller,
            seq: msg.seq,
            message,
        })
    }

    /// Adds a checked message once all its chunks are in; durable on return.
    pub async fn api_post(&self, plan: PostPlan) -> Result<u32, SaaddError> {
        Self::uploads_complete(&plan.upload)?;
        let _w = self.writes.lock().await;
        let thread = plan.upload.thread;
        let (mut record, _) = self.api_access(thread, &plan.caller)?;
        if record.rotate || record.epoch != plan.upload.epoch || record.messages != plan.seq {
            return Err(SaaddError::Stale);
        }
        let mut b = Batch::new();
        b.put(
            Table::Message,
            pair_key(&thread.0, &plan.seq.to_be_bytes()),
            plan.message,
        );
        for (id, rec, _) in &plan.upload.attachments {
            if self
                .store
                .get(Table::Attachment, &pair_key(&thread.0, &id.0))?
                .is_some()
            {
                return Err(SaaddError::Taken);
            }
            b.put(Table::Attachment, pair_key(&thread.0, &id.0), rec.clone());
        }
        record.messages += 1;
        record.attachments += plan.upload.attachments.len() as u32;
        record.activity = self.entity_day(record.entity)?;
        if matches!(plan.caller.slot, Slot::Staff(_))
            && matches!(record.status, Status::Received | Status::Acknowledged)
        {
            record.status = Status::InProgress;
        }
        self.commit(b, &record)?;
        Ok(plan.seq)
    }

    /// Removes the chunks of a failed upload and flushes.
    pub fn api_discard(&self, upload: &Upload) -> Result<(), SaaddError> {
        self.discard_ids(upload.thread, &upload.attachment_ids())
    }

    // ------------------------------------------------------------ keys

    fn require_coordinator(&self, caller: &Caller) -> Result<StaffRecord, SaaddError> {
        let Slot::Staff(id) = caller.slot else {
            return Err(SaaddError::Forbidden);
        };
        let s = self.staff(id)?;
        if s.role != Role::Coordinator || !s.active {
            return Err(SaaddError::Forbidden);
        }
        Ok(s)
    }

    /// A rotation made on the caller's machine, optionally removing an
    /// advisor in the same batch (spec/api.md, "Rotation").
    pub async fn api_rotate(
        &self,
        thread: Id,
        caller: &Caller,
        rotation: &RotationIn,
        remove: Option<Id>,
    ) -> Result<(), SaaddError> {
        // The server cannot check what a rotation wraps: a reader who sent
        // garbage would lock everyone else out. So only the reporter and
        // coordinators rotate, and only when a rotation is due or a
        // coordinator removes an advisor in the same step.
        if remove.is_some() || matches!(caller.slot, Slot::Staff(_)) {
            self.require_coordinator(caller)?;
        }
        let _w = self.writes.lock().await;
        let (mut record, _) = self.api_access(thread, caller)?;
        if remove.is_none() && !record.rotate {
            return Err(SaaddError::Stale);
        }
        if let Some(advisor) = remove {
            if !record.advisors.contains(&advisor) {
                return Err(SaaddError::NotFound);
            }
            record.advisors.retain(|a| *a != advisor);
            record.readers.retain(|a| *a != advisor);
        }
        let epoch = record.epoch.checked_add(1).ok_or(SaaddError::Stale)?;
        if rotation.epoch != epoch {
            return Err(SaaddError::Stale);
        }
        let link = decode(&rotation.link, "link")?;
        envelope::link_shape(&link).map_err(|_| malformed("link"))?;
        // Exactly the reporter and the readers still active.
        let mut expected: Vec<(Slot, RecipientKey)> = vec![(Slot::Reporter, record.reporter_key)];
        let mut still = Vec::new();
        for id in &record.readers {
            let s = self.staff(*id)?;
            if s.active {
                expected.push((Slot::Staff(*id), super::admin::staff_public(&s)?));
                still.push(*id);
            }
        }
        if rotation.wraps.len() != expected.len() {
            return Err(SaaddError::Stale);
        }
        let sk = self.storage_key(thread)?;
        let mut b = Batch::new();
        for (k, _) in self.store.scan(Table::Wrap, &thread.0, SCAN_LIMIT)? {
            b.delete(Table::Wrap, k);
        }
        let mut seen = BTreeSet::new();
        for w in &rotation.wraps {
            let slot = parse_slot(&w.slot)?;
            let key = expected
                .iter()
                .find(|(s, _)| *s == slot)
                .map(|(_, k)| *k)
                .ok_or(SaaddError::Stale)?;
            if !seen.insert(slot.encode()) {
                return Err(malformed("wraps"));
            }
            let inner = Self::check_wrap(w, epoch, &key, false)?;
            self.put_client_wrap(&mut b, &sk, thread, &slot, &inner)?;
        }
        b.put(Table::Link, pair_key(&thread.0, &epoch.to_be_bytes()), link);
        record.readers = still;
        record.epoch = epoch;
        record.rotate = false;
        self.commit(b, &record)
    }

    /// A coordinator gives an advisor the current key, wrapped on the
    /// coordinator's machine.
    pub async fn api_assign(
        &self,
        thread: Id,
        caller: &Caller,
        advisor: Id,
        wrap: &WrapIn,
    ) -> Result<(), SaaddError> {
        let me = self.require_coordinator(caller)?;
        let target = self.staff(advisor)?;
        if !target.active || target.role != Role::Advisor || target.entity != me.entity {
            return Err(SaaddError::Forbidden);
        }
        let _w = self.writes.lock().await;
        let (mut record, _) = self.api_access(thread, caller)?;
        if record.rotate {
            return Err(SaaddError::RotationDue);
        }
        if record.device_only && target.device_key.is_none() {
            return Err(SaaddError::DeviceOnly);
        }
        // A reader's wrap is never replaced here: a wrong one would lock
        // them out with no way back but unassigning.
        if record.readers.contains(&advisor) {
            return Err(SaaddError::Forbidden);
        }
        let public = super::admin::staff_public(&target)?;
        let inner = Self::check_wrap(wrap, record.epoch, &public, true)?;
        let sk = self.storage_key(thread)?;
        let mut b = Batch::new();
        self.put_client_wrap(&mut b, &sk, thread, &Slot::Staff(advisor), &inner)?;
        if !record.advisors.contains(&advisor) {
            record.advisors.push(advisor);
        }
        record.readers.push(advisor);
        self.commit(b, &record)
    }

    /// Gives coordinators the current key again, wrapped on the caller's
    /// machine: a coordinator re-grants colleagues the reporter was shown
    /// (after a new key), and the reporter grants the entity's current
    /// coordinators when nobody can read the thread any more.
    pub async fn api_grant(
        &self,
        thread: Id,
        caller: &Caller,
        wraps: &[WrapIn],
    ) -> Result<(), SaaddError> {
        if matches!(caller.slot, Slot::Staff(_)) {
            self.require_coordinator(caller)?;
        }
        let _w = self.writes.lock().await;
        let (mut record, _) = self.api_access(thread, caller)?;
        if record.rotate {
            return Err(SaaddError::RotationDue);
        }
        if caller.slot == Slot::Reporter && !record.readers.is_empty() {
            return Err(SaaddError::Forbidden);
        }
        if wraps.is_empty() {
            return Err(malformed("wraps"));
        }
        let coordinators = self.coordinators(record.entity)?;
        let sk = self.storage_key(thread)?;
        let mut b = Batch::new();
        let mut added = Vec::new();
        for w in wraps {
            let Slot::Staff(id) = parse_slot(&w.slot)? else {
                return Err(malformed("wraps"));
            };
            let target = coordinators
                .iter()
                .find(|c| c.id == id)
                .ok_or(SaaddError::Forbidden)?;
            // Staff re-grant only those the reporter kept; the reporter
            // chooses freely among current coordinators.
            let allowed = match caller.slot {
                Slot::Reporter => true,
                Slot::Staff(_) => record.shown.contains(&id),
            };
            if !allowed || record.readers.contains(&id) || added.contains(&id) {
                return Err(SaaddError::Forbidden);
            }
            if record.device_only && target.device_key.is_none() {
                return Err(SaaddError::DeviceOnly);
            }
            let public = super::admin::staff_public(target)?;
            let inner = Self::check_wrap(w, record.epoch, &public, true)?;
            self.put_client_wrap(&mut b, &sk, thread, &Slot::Staff(id), &inner)?;
            added.push(id);
        }
        for id in added {
            record.readers.push(id);
            if !record.shown.contains(&id) {
                record.shown.push(id);
            }
        }
        self.commit(b, &record)
    }

    /// A staff reader changes the thread's status.
    pub async fn api_status(
        &self,
        thread: Id,
        caller: &Caller,
        to: Status,
    ) -> Result<(), SaaddError> {
        if caller.slot == Slot::Reporter {
            return Err(SaaddError::Forbidden);
        }
        let _w = self.writes.lock().await;
        let (mut record, _) = self.api_access(thread, caller)?;
        if !record.status.may_become(to) {
            return Err(SaaddError::BadStatusChange);
        }
        let mut b = Batch::new();
        self.status_changed(&mut b, &mut record, to)?;
        self.commit(b, &record)
    }
}

fn tail_u32(key: &[u8]) -> Result<u32, SaaddError> {
    key.get(16..20)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
        .ok_or(SaaddError::Corrupt("key"))
}
