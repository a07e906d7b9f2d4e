//! Retention: policies per entity and thread kind, the sweeper that
//! deletes what they say must go, and the crypto-shredding delete
//! (spec/retention.md). Every event goes to the audit log's pending
//! table in the same batch as the change it records.

use crate::audit;
use crate::core::Day;
use crate::core::envelope::Id;
use crate::core::retention::{
    self as rules, EntityId, Entry, Event, Handle, IssuerKeyId, KeyChange, Policy, Rule, StaffId,
    StaffKeyChange, StaffPublicKey, ZoneName,
};
use crate::core::secret::Key32;
use crate::core::status::{Kind, Status};
use crate::store::{Batch, Table};

use super::records::{Deleting, EntityRecord, ThreadRecord};
use super::threads::{SCAN_LIMIT, pair_key};
use super::{Saadd, SaaddError};

/// What one sweep did: counts only, the one thing it logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepCounts {
    /// Threads deleted, by rule.
    pub closed: usize,
    pub inactive: usize,
    pub cap: usize,
    /// Deletions begun earlier (a crash, a withdrawal cut short) finished.
    pub finished: usize,
    /// Receipts that stopped working.
    pub receipts: usize,
    /// Storage keys with no thread, destroyed.
    pub orphan_keys: usize,
    /// Threads from before retention given an audit handle and policy.
    pub adopted: usize,
    /// Audit entries appended to the log.
    pub logged: u64,
    /// Backup keys destroyed (their backups can no longer be read).
    pub backup_keys: usize,
}

impl SweepCounts {
    pub fn deleted(&self) -> usize {
        self.closed + self.inactive + self.cap
    }
}

/// What a restore re-applied from a newer log export.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reapplied {
    /// Threads deleted again.
    pub deleted: usize,
    /// Threads created after the backup, logged as lost.
    pub lost: usize,
    /// Policy changes set again.
    pub policies: usize,
    /// Staff removed again.
    pub staff_removed: usize,
    /// Staff whose key changed after the backup: their old key's access
    /// is revoked and they need a new key (reset or set-key).
    pub staff_rekey: usize,
}

/// A policy change as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyChange {
    pub old: Policy,
    pub new: Policy,
    /// Threads of that entity and kind the change was applied to.
    pub applied_to: usize,
}

fn policy_key(entity: Id, kind: Kind) -> Vec<u8> {
    let mut k = entity.0.to_vec();
    k.extend_from_slice(kind.key().as_bytes());
    k
}

/// The deadline a thread lives to, and the rule that sets it.
pub fn thread_deadline(t: &ThreadRecord) -> (Rule, Day) {
    clock_of(t).deadline()
}

/// The thread's clock, as the auditor's check models it.
pub fn clock_of(t: &ThreadRecord) -> rules::ThreadClock {
    rules::ThreadClock {
        created: t.created,
        activity: t.activity,
        closed: t.closed,
        policy: t.policy.unwrap_or_else(|| Policy::default_for(t.kind)),
        floor: t.policy_floor,
    }
}

impl Saadd {
    /// Today in the entity's time zone.
    pub fn entity_day(&self, entity: Id) -> Result<Day, SaaddError> {
        let e = self.entity(entity)?;
        Ok(e.zone().day(self.clock.unix_seconds()))
    }

    /// Whether the thread's receipt still opens it: not expired by the
    /// sweeper, and its deadline day not yet come.
    pub(super) fn receipt_works(&self, t: &ThreadRecord) -> Result<bool, SaaddError> {
        if t.receipt_expired {
            return Ok(false);
        }
        Ok(self.entity_day(t.entity)? < clock_of(t).receipt_deadline())
    }

    /// The policy for new threads of this entity and kind.
    pub fn policy(&self, entity: Id, kind: Kind) -> Result<Policy, SaaddError> {
        match self
            .store
            .get(Table::RetentionPolicy, &policy_key(entity, kind))?
        {
            Some(v) => serde_json::from_slice(&v).map_err(|_| SaaddError::Corrupt("policy")),
            None => Ok(self.default_policy(kind)),
        }
    }

    /// The configured policy new entities start with (set once, at start).
    pub fn set_retention_defaults(&self, defaults: [Policy; 2]) {
        let _ = self.retention_defaults.set(defaults);
    }

    fn default_policy(&self, kind: Kind) -> Policy {
        match (self.retention_defaults.get(), kind) {
            (Some([q, _]), Kind::Question) => *q,
            (Some([_, c]), Kind::Claim) => *c,
            (None, k) => Policy::default_for(k),
        }
    }

    /// Puts the entity's registration and its policies in the batch (the
    /// log's `entity` and `policy` entries), if it has none yet.
    pub(super) fn register_entity(
        &self,
        b: &mut Batch,
        entity: &EntityRecord,
        day: Day,
    ) -> Result<bool, SaaddError> {
        let known = self
            .store
            .scan_keys(Table::RetentionPolicy, &entity.id.0, 4)?
            .len()
            >= 2;
        if known {
            return Ok(false);
        }
        let zone = entity.zone();
        let e = Entry {
            day,
            event: Event::Entity {
                entity: EntityId(entity.id.0),
                zone: ZoneName::new(zone.name()).map_err(|_| SaaddError::Corrupt("zone"))?,
            },
        };
        audit::pending(b, self.entropy.as_ref(), audit::rank_of(&e.event, 0), &e);
        for kind in [Kind::Question, Kind::Claim] {
            let policy = self.policy(entity.id, kind)?;
            b.put(
                Table::RetentionPolicy,
                policy_key(entity.id, kind),
                Self::json(&policy),
            );
            let p = Entry {
                day,
                event: Event::Policy {
                    entity: EntityId(entity.id.0),
                    kind,
                    policy,
                    existing: false,
                },
            };
            audit::pending(b, self.entropy.as_ref(), audit::rank_of(&p.event, 0), &p);
        }
        Ok(true)
    }

    /// Registers every entity the log has not seen yet (start-up).
    pub async fn register_entities(&self) -> Result<usize, SaaddError> {
        let _w = self.writes.lock().await;
        let mut n = 0;
        for e in self.entities()? {
            let mut b = Batch::new();
            // Threads from before retention are logged with their own
            // creation day: the entity's registration must not come later.
            let today = e.zone().day(self.clock.unix_seconds());
            let day = self
                .entity_threads(e.id)?
                .iter()
                .filter(|t| t.audit.is_none())
                .map(|t| t.created)
                .fold(today, Day::min);
            if self.register_entity(&mut b, &e, day)? {
                self.store.apply(b)?;
                n += 1;
            }
        }
        if n > 0 {
            self.store.flush()?;
        }
        Ok(n)
    }

    /// Changes the policy for an entity's threads of one kind. With
    /// `existing`, also for every thread of that kind it already has —
    /// allowed only if no limit gets longer, since reporters were shown
    /// the old one — counted from today at the earliest. The log records
    /// the change and whether it applied to existing threads.
    pub async fn set_policy(
        &self,
        entity: Id,
        kind: Kind,
        policy: Policy,
        existing: bool,
    ) -> Result<PolicyChange, SaaddError> {
        policy
            .validate()
            .map_err(|_| SaaddError::Invalid("policy"))?;
        let _w = self.writes.lock().await;
        self.set_policy_locked(entity, kind, policy, existing)
    }

    /// How many threads a policy applied to existing threads would put past
    /// their deadline today (deleted by the pass that follows the change).
    pub fn would_delete(
        &self,
        entity: Id,
        kind: Kind,
        policy: Policy,
    ) -> Result<usize, SaaddError> {
        let day = self.entity_day(entity)?;
        let mut n = 0;
        for t in self.entity_threads(entity)? {
            if t.kind != kind || t.deleting.is_some() {
                continue;
            }
            let mut clock = clock_of(&t);
            clock.apply_change(policy, day);
            if day >= clock.deadline().1 {
                n += 1;
            }
        }
        Ok(n)
    }

    /// [`Saadd::set_policy`], the caller holding the write lock.
    fn set_policy_locked(
        &self,
        entity: Id,
        kind: Kind,
        policy: Policy,
        existing: bool,
    ) -> Result<PolicyChange, SaaddError> {
        let e = self.entity(entity)?;
        let day = e.zone().day(self.clock.unix_seconds());
        let mut b = Batch::new();
        self.register_entity(&mut b, &e, day)?;
        let old = self.policy(entity, kind)?;
        if existing && !policy.no_longer_than(&old) {
            return Err(SaaddError::Invalid(
                "a longer policy cannot apply to existing threads",
            ));
        }
        b.put(
            Table::RetentionPolicy,
            policy_key(entity, kind),
            Self::json(&policy),
        );
        let entry = Entry {
            day,
            event: Event::Policy {
                entity: EntityId(entity.0),
                kind,
                policy,
                existing,
            },
        };
        audit::pending(
            &mut b,
            self.entropy.as_ref(),
            audit::rank_of(&entry.event, 0),
            &entry,
        );
        let mut applied_to = 0;
        if existing {
            for mut t in self.entity_threads(entity)? {
                if t.kind != kind || t.deleting.is_some() || t.audit.is_none() {
                    continue;
                }
                // The same rule the auditor applies: a thread whose own
                // policy is shorter somewhere keeps it.
                let mut clock = clock_of(&t);
                if clock.apply_change(policy, day) {
                    t.policy = Some(clock.policy);
                    t.policy_floor = clock.floor;
                    b.put(Table::Thread, t.id.0, Self::json(&t));
                    applied_to += 1;
                }
            }
        }
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(PolicyChange {
            old,
            new: policy,
            applied_to,
        })
    }

    fn entity_threads(&self, entity: Id) -> Result<Vec<ThreadRecord>, SaaddError> {
        let mut out = Vec::new();
        for (k, _) in self
            .store
            .scan(Table::EntityThread, &entity.0, SCAN_LIMIT)?
        {
            let Some(id) = k.get(16..32).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
                continue;
            };
            if let Some(t) = self.thread_even_deleting(Id(id))? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Every thread, deleting ones included (at most ten million).
    pub(super) fn all_threads(&self) -> Result<Vec<ThreadRecord>, SaaddError> {
        let mut out = Vec::new();
        for (_, v) in self.store.scan(Table::Thread, &[], 10_000_000)? {
            out.push(serde_json::from_slice(&v).map_err(|_| SaaddError::Corrupt("thread"))?);
        }
        Ok(out)
    }

    /// Gives a new thread its audit handle and policy, and logs its
    /// creation.
    pub(super) fn audit_new_thread(
        &self,
        b: &mut Batch,
        record: &mut ThreadRecord,
        day: Day,
    ) -> Result<(), SaaddError> {
        let e = self.entity(record.entity)?;
        self.register_entity(b, &e, day)?;
        let handle = Id(self.random());
        let policy = self.policy(record.entity, record.kind)?;
        record.audit = Some(handle);
        record.policy = Some(policy);
        self.log_thread(
            b,
            record,
            day,
            Event::Created {
                entity: EntityId(record.entity.0),
                thread: Handle(handle.0),
                kind: record.kind,
                policy,
            },
        );
        Ok(())
    }

    fn log_thread(&self, b: &mut Batch, record: &mut ThreadRecord, day: Day, event: Event) {
        let rank = audit::rank_of(&event, record.audit_seq);
        record.audit_seq = record.audit_seq.saturating_add(1);
        audit::pending(b, self.entropy.as_ref(), rank, &Entry { day, event });
    }

    /// Applies a status change: closing starts the `closed` clock, and
    /// reopening stops it — both logged, so no clock is reset silently.
    /// The cap, counted from creation, never moves.
    pub(super) fn status_changed(
        &self,
        b: &mut Batch,
        record: &mut ThreadRecord,
        to: Status,
    ) -> Result<(), SaaddError> {
        let day = self.entity_day(record.entity)?;
        let was_closed = record.status == Status::Closed;
        record.status = to;
        let handle = record.audit.map(|h| Handle(h.0));
        match (was_closed, to == Status::Closed, handle) {
            (false, true, Some(thread)) => {
                record.closed = Some(day);
                let event = Event::Closed {
                    entity: EntityId(record.entity.0),
                    thread,
                };
                self.log_thread(b, record, day, event);
            }
            (true, false, Some(thread)) => {
                record.closed = None;
                let event = Event::Reopened {
                    entity: EntityId(record.entity.0),
                    thread,
                };
                self.log_thread(b, record, day, event);
            }
            // Closed again while closed keeps its day (no clock moves
            // unlogged); a thread with no handle yet is logged later by
            // the sweeper with the state it has then.
            (true, true, _) => {}
            (_, now_closed, _) => {
                record.closed = now_closed.then_some(day);
            }
        }
        Ok(())
    }

    /// Stores a new thread's storage key in the vault: before the thread's
    /// records, and under the write lock.
    pub(super) fn store_key(&self, thread: Id, sk: &Key32) -> Result<(), SaaddError> {
        self.vault
            .put(thread.0, *sk.expose())
            .map_err(|_| SaaddError::Corrupt("key vault"))
    }

    /// Deletes threads, the caller holding the write lock. In three steps,
    /// each durable before the next, so an interruption anywhere is
    /// finished by the next sweep:
    /// 1. mark each thread `deleting` and log the deletion — readers see
    ///    nothing from here on;
    /// 2. destroy the storage keys in the vault (which rewrites itself
    ///    under a new vault key and overwrites the old one);
    /// 3. delete every record of the threads.
    pub(super) fn shred_locked(
        &self,
        threads: Vec<(ThreadRecord, Rule, Option<Day>)>,
    ) -> Result<usize, SaaddError> {
        self.shred_logged(threads, true)
    }

    /// As [`Saadd::shred_locked`]; `log` is false only for deletions the
    /// log already holds (re-applied after a restore).
    fn shred_logged(
        &self,
        threads: Vec<(ThreadRecord, Rule, Option<Day>)>,
        log: bool,
    ) -> Result<usize, SaaddError> {
        if threads.is_empty() {
            return Ok(0);
        }
        let mut marked = Vec::with_capacity(threads.len());
        let mut b = Batch::new();
        for (mut t, rule, deadline) in threads {
            if t.deleting.is_none() {
                t.deleting = Some(Deleting { rule, deadline });
                if let Some(handle) = t.audit.filter(|_| log) {
                    let day = self.entity_day(t.entity)?;
                    let event = Event::Deleted {
                        entity: EntityId(t.entity.0),
                        thread: Handle(handle.0),
                        rule,
                        deadline,
                    };
                    self.log_thread(&mut b, &mut t, day, event);
                }
                // The receipt stops working at once.
                b.delete(Table::ReceiptIndex, t.receipt_index);
                b.put(Table::Thread, t.id.0, Self::json(&t));
            }
            marked.push(t);
        }
        self.store.apply(b)?;
        self.store.flush()?;
        let ids: Vec<[u8; 16]> = marked.iter().map(|t| t.id.0).collect();
        self.vault
            .remove(&ids)
            .map_err(|_| SaaddError::Corrupt("key vault"))?;
        for t in &marked {
            let mut b = Batch::new();
            for table in [
                Table::Wrap,
                Table::Link,
                Table::Message,
                Table::Attachment,
                Table::Chunk,
            ] {
                for k in self.store.scan_keys(table, &t.id.0, SCAN_LIMIT)? {
                    b.delete(table, k);
                }
            }
            b.delete(Table::ReceiptIndex, t.receipt_index);
            b.delete(Table::EntityThread, pair_key(&t.entity.0, &t.id.0));
            b.delete(Table::Vault, t.id.0);
            b.delete(Table::Thread, t.id.0);
            self.store.apply(b)?;
        }
        self.store.flush()?;
        Ok(marked.len())
    }

    /// One pass of the retention sweeper: finishes interrupted deletions,
    /// deletes every thread past its deadline, stops receipts past theirs,
    /// destroys keys that belong to no thread, and gives threads from
    /// before retention their audit handle. Idempotent and safe to
    /// interrupt; the audit log's daily batch is the caller's next step.
    pub async fn sweep(&self) -> Result<SweepCounts, SaaddError> {
        let _w = self.writes.lock().await;
        let mut counts = SweepCounts::default();
        let now = self.clock.unix_seconds();
        let mut zones = std::collections::HashMap::new();
        // Threads from before retention first: each gets a handle and its
        // creation logged with its own day. One already past a deadline is
        // deleted below and the auditor sees that deletion as late, which
        // is the truth: it was kept longer than the policy now says.
        for mut t in self.all_threads()? {
            if t.audit.is_some() || t.deleting.is_some() {
                continue;
            }
            let mut b = Batch::new();
            self.audit_new_thread_late(&mut b, &mut t)?;
            b.put(Table::Thread, t.id.0, Self::json(&t));
            self.store.apply(b)?;
            counts.adopted += 1;
        }
        let mut due = Vec::new();
        let mut live = std::collections::HashSet::new();
        for mut t in self.all_threads()? {
            live.insert(t.id.0);
            if let Some(d) = t.deleting {
                counts.finished += 1;
                due.push((t, d.rule, d.deadline));
                continue;
            }
            let zone = match zones.get(&t.entity) {
                Some(z) => std::clone::Clone::clone(z),
                None => {
                    let z = self.entity(t.entity)?.zone();
                    zones.insert(t.entity, z.clone());
                    z
                }
            };
            let today = zone.day(now);
            let (rule, deadline) = thread_deadline(&t);
            if today >= deadline {
                match rule {
                    Rule::Closed => counts.closed += 1,
                    Rule::Inactive => counts.inactive += 1,
                    _ => counts.cap += 1,
                }
                due.push((t, rule, Some(deadline)));
                continue;
            }
            if !t.receipt_expired && today >= clock_of(&t).receipt_deadline() {
                let mut b = Batch::new();
                b.delete(Table::ReceiptIndex, t.receipt_index);
                t.receipt_expired = true;
                b.put(Table::Thread, t.id.0, Self::json(&t));
                self.store.apply(b)?;
                counts.receipts += 1;
            }
        }
        self.store.flush()?;
        self.shred_locked(due)?;
        let orphans: Vec<[u8; 16]> = self
            .vault
            .ids()
            .into_iter()
            .filter(|id| !live.contains(id))
            .collect();
        if !orphans.is_empty() {
            self.vault
                .remove(&orphans)
                .map_err(|_| SaaddError::Corrupt("key vault"))?;
            counts.orphan_keys = orphans.len();
        }
        Ok(counts)
    }

    /// A thread from before retention: its creation is logged now, with
    /// the day it was made (so the cap counts from it) and the entity's
    /// current policy.
    fn audit_new_thread_late(
        &self,
        b: &mut Batch,
        record: &mut ThreadRecord,
    ) -> Result<(), SaaddError> {
        let created = record.created;
        self.audit_new_thread(b, record, created)?;
        // A thread already closed: its closing is logged too, so the
        // closed rule's deadline is checkable.
        if let (Some(day), Some(handle)) = (record.closed, record.audit) {
            let event = Event::Closed {
                entity: EntityId(record.entity.0),
                thread: Handle(handle.0),
            };
            self.log_thread(b, record, day, event);
        }
        Ok(())
    }

    /// Moves storage keys left in sled's `Vault` table by earlier versions
    /// into the key vault (start-up). Their old copies stay in sled's
    /// stale pages: spec/retention.md says what that means.
    pub async fn migrate_sled_keys(&self) -> Result<usize, SaaddError> {
        let _w = self.writes.lock().await;
        let legacy = self.store.scan(Table::Vault, &[], SCAN_LIMIT)?;
        let mut b = Batch::new();
        for (k, v) in &legacy {
            let (Ok(id), Ok(key)) = (
                <[u8; 16]>::try_from(k.as_slice()),
                <[u8; 32]>::try_from(v.as_slice()),
            ) else {
                continue;
            };
            if self.vault.get(&id).is_none() {
                self.vault
                    .put(id, key)
                    .map_err(|_| SaaddError::Corrupt("key vault"))?;
            }
            b.delete(Table::Vault, k);
        }
        if !b.is_empty() {
            self.store.apply(b)?;
            self.store.flush()?;
        }
        Ok(legacy.len())
    }
}

impl Saadd {
    /// Holds every thread and staff write still (a backup's snapshot).
    pub async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// After a restore: applies what the log recorded after the backup
    /// (entries from a newer export, already in the log): deletions are
    /// carried out, closings and reopenings set again, and threads created
    /// after the backup — none of whose data exists here — are logged as
    /// lost. Returns (deleted, lost).
    pub async fn apply_logged(&self, entries: &[Entry]) -> Result<Reapplied, SaaddError> {
        let _w = self.writes.lock().await;
        let mut done = Reapplied::default();
        // Staff first: a member removed after the backup is removed again;
        // one whose key changed loses the old key's access (the new key is
        // not in the log) and must be given a new one by the operator.
        let mut b = Batch::new();
        for e in entries {
            if let Event::StaffKey { staff, change, .. } = &e.event {
                let Ok(mut s) = self.staff(Id(staff.0)) else {
                    continue;
                };
                match change {
                    StaffKeyChange::Removed if s.active => {
                        self.revoke_everywhere(s.id, &mut b, true)?;
                        s.active = false;
                        b.delete(Table::StaffLogin, s.login.as_bytes());
                        b.put(Table::Staff, s.id.0, Self::json(&s));
                        done.staff_removed += 1;
                    }
                    StaffKeyChange::Changed if s.active => {
                        self.revoke_everywhere(s.id, &mut b, false)?;
                        s.must_change_password = true;
                        b.put(Table::Staff, s.id.0, Self::json(&s));
                        done.staff_rekey += 1;
                    }
                    _ => {}
                }
                // Each removal rewrites thread records: apply before the
                // next reads them.
                self.store.apply(std::mem::take(&mut b))?;
            }
        }
        let mut by_handle = std::collections::HashMap::new();
        for t in self.all_threads()? {
            if let Some(h) = t.audit {
                by_handle.insert(h.0, t);
            }
        }
        let mut gone = Vec::new();
        let mut lost = Vec::new();
        let mut b = Batch::new();
        for e in entries {
            match &e.event {
                Event::Created { entity, thread, .. } if !by_handle.contains_key(&thread.0) => {
                    lost.push((*entity, *thread));
                }
                Event::Deleted {
                    thread,
                    rule,
                    deadline,
                    ..
                } => {
                    lost.retain(|(_, h)| h != thread);
                    if let Some(t) = by_handle.remove(&thread.0) {
                        gone.push((t, *rule, *deadline));
                    }
                }
                Event::Closed { thread, .. } => {
                    if let Some(t) = by_handle.get_mut(&thread.0) {
                        t.status = Status::Closed;
                        t.closed = Some(e.day);
                        t.audit_seq = t.audit_seq.saturating_add(1);
                        b.put(Table::Thread, t.id.0, Self::json(&*t));
                    }
                }
                Event::Reopened { thread, .. } => {
                    if let Some(t) = by_handle.get_mut(&thread.0) {
                        t.status = Status::InProgress;
                        t.closed = None;
                        t.audit_seq = t.audit_seq.saturating_add(1);
                        b.put(Table::Thread, t.id.0, Self::json(&*t));
                    }
                }
                Event::Policy {
                    entity,
                    kind,
                    policy,
                    existing,
                } => {
                    if self.entity(Id(entity.0)).is_err() {
                        continue;
                    }
                    b.put(
                        Table::RetentionPolicy,
                        policy_key(Id(entity.0), *kind),
                        Self::json(policy),
                    );
                    done.policies += 1;
                    if *existing {
                        for t in by_handle.values_mut() {
                            if t.entity.0 != entity.0 || t.kind != *kind {
                                continue;
                            }
                            let mut clock = clock_of(t);
                            if clock.apply_change(*policy, e.day) {
                                t.policy = Some(clock.policy);
                                t.policy_floor = clock.floor;
                                b.put(Table::Thread, t.id.0, Self::json(&*t));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for (entity, thread) in &lost {
            let day = self
                .entity_day(Id(entity.0))
                .unwrap_or_else(|_| self.today());
            let entry = Entry {
                day,
                event: Event::Deleted {
                    entity: *entity,
                    thread: *thread,
                    rule: Rule::Lost,
                    deadline: None,
                },
            };
            // After everything else a day holds for that thread.
            audit::pending(&mut b, self.entropy.as_ref(), u32::MAX, &entry);
        }
        self.store.apply(b)?;
        self.store.flush()?;
        done.deleted = self.shred_logged(gone, false)?;
        done.lost = lost.len();
        Ok(done)
    }

    /// Logs a staff member's key: added, changed (a password change or
    /// reset makes a new key pair; a device key replaced) or removed —
    /// key transparency for the public keys reporters' devices wrap to.
    pub(super) fn log_staff_key(
        &self,
        b: &mut Batch,
        staff: &super::StaffRecord,
        change: StaffKeyChange,
    ) -> Result<(), SaaddError> {
        let key = match change {
            StaffKeyChange::Removed => None,
            _ => Some(StaffPublicKey(super::admin::staff_public(staff)?.0)),
        };
        let day = self.entity_day(staff.entity)?;
        let entry = Entry {
            day,
            event: Event::StaffKey {
                entity: EntityId(staff.entity.0),
                staff: StaffId(staff.id.0),
                key,
                change,
            },
        };
        audit::pending(
            b,
            self.entropy.as_ref(),
            audit::rank_of(&entry.event, 0),
            &entry,
        );
        Ok(())
    }

    /// Logs a token issuer key made or retired for an entity.
    pub fn log_issuer_key(&self, b: &mut Batch, entity: Id, key: [u8; 32], added: bool) {
        let Ok(day) = self.entity_day(entity) else {
            return;
        };
        let entry = Entry {
            day,
            event: Event::IssuerKey {
                entity: EntityId(entity.0),
                key: IssuerKeyId(key),
                change: if added {
                    KeyChange::Added
                } else {
                    KeyChange::Retired
                },
            },
        };
        audit::pending(
            b,
            self.entropy.as_ref(),
            audit::rank_of(&entry.event, 0),
            &entry,
        );
    }
}
