//! SAADD: anonymous question and claim threads over `core` and `store`.
//!
//! The service holds no key that opens a thread: every operation that
//! reads or writes content takes the caller's private key (the reporter's,
//! derived from the receipt, or a staff member's, unsealed at login) and
//! unwraps the thread key from that caller's own wrap. A caller without a
//! wrap gets [`SaaddError::NotFound`], whatever the checks above it say.

pub mod admin;
pub mod api;
mod error;
mod kdf;
mod records;
pub mod retention;
mod threads;

pub use admin::{NewEntity, password_is_strong};
pub use error::SaaddError;
pub use kdf::KdfLimiter;
pub use records::{Deleting, EntityRecord, Role, StaffRecord, ThreadRecord};
pub use threads::{
    AttachmentReader, AttachmentSink, FinishedAttachment, NewThread, ReplyDraft, ShownMessage,
    StaffLogin, Submitted, ThreadView,
};

use std::sync::Arc;
use std::time::Duration;

use crate::core::envelope::STAFF_COST;
use crate::core::receipt::{KdfCost, RECEIPT_COST};
use crate::platform::{Clock, Entropy};
use crate::store::Store;
use crate::store::keys::KeyVault;

/// Size and count limits, each configurable (spec/limits in README).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Characters in one message.
    pub message_chars: usize,
    /// Bytes in one attachment.
    pub attachment_bytes: u64,
    /// Attachments on one message.
    pub attachments_per_message: usize,
    /// Attachments on one thread.
    pub attachments_per_thread: u32,
    /// Messages in one thread.
    pub messages_per_thread: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            message_chars: 50_000,
            attachment_bytes: 10 * 1024 * 1024,
            attachments_per_message: 5,
            attachments_per_thread: 50,
            messages_per_thread: 1_000,
        }
    }
}

/// Argon2id costs: receipts (fixed by the format) and new staff passwords.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    pub receipt: KdfCost,
    pub staff: KdfCost,
}

impl Costs {
    /// The costs spec/receipt.md and spec/envelope.md fix.
    pub const V1: Costs = Costs {
        receipt: RECEIPT_COST,
        staff: STAFF_COST,
    };
}

/// The SAADD service.
pub struct Saadd {
    store: Arc<dyn Store>,
    /// Threads' storage keys, apart from sled (spec/retention.md).
    vault: Arc<dyn KeyVault>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    kdf: KdfLimiter,
    /// Serialises read-modify-write of thread and staff records. Writes are
    /// rare (a national deployment makes a few a second), so one lock is
    /// simpler than per-thread locks and costs nothing measurable.
    writes: tokio::sync::Mutex<()>,
    /// Attachments being uploaded (`thread || attachment`): their chunks
    /// are stored but not yet committed, and the orphan sweep leaves them.
    uploads: Arc<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>>,
    pub limits: Limits,
    costs: Costs,
    /// Policies for entities with none stored yet ([question, claim]).
    pub(crate) retention_defaults: std::sync::OnceLock<[crate::core::retention::Policy; 2]>,
}

impl Saadd {
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        limits: Limits,
        costs: Costs,
        kdf_concurrency: usize,
    ) -> Saadd {
        Saadd {
            store,
            vault,
            clock,
            entropy,
            kdf: KdfLimiter::new(kdf_concurrency, 64, Duration::from_secs(30)),
            writes: tokio::sync::Mutex::new(()),
            uploads: Arc::default(),
            limits,
            costs,
            retention_defaults: std::sync::OnceLock::new(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Today in UTC: only for what belongs to no entity.
    pub fn today(&self) -> crate::core::Day {
        self.clock.today()
    }

    pub fn vault(&self) -> &Arc<dyn KeyVault> {
        &self.vault
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn entropy(&self) -> &Arc<dyn Entropy> {
        &self.entropy
    }

    fn random<const N: usize>(&self) -> [u8; N] {
        crate::platform::random(self.entropy.as_ref())
    }

    /// Marks an attachment as being uploaded until the ticket is dropped:
    /// after its commit, or when the request ends any other way (refused,
    /// cut off, timed out), after which the sweep takes its chunks.
    pub fn upload_ticket(
        &self,
        thread: crate::core::envelope::Id,
        att: crate::core::envelope::Id,
    ) -> UploadTicket {
        let key = ticket_key(thread, att);
        if let Ok(mut set) = self.uploads.lock() {
            set.insert(key);
        }
        UploadTicket {
            set: self.uploads.clone(),
            key,
        }
    }

    /// A ticket for an attachment id a client chose, or `None` when another
    /// upload in progress holds that id (two requests racing with one id).
    pub fn try_upload_ticket(
        &self,
        thread: crate::core::envelope::Id,
        att: crate::core::envelope::Id,
    ) -> Option<UploadTicket> {
        let key = ticket_key(thread, att);
        let fresh = self.uploads.lock().ok()?.insert(key);
        fresh.then(|| UploadTicket {
            set: self.uploads.clone(),
            key,
        })
    }

    fn uploading(&self, key: &[u8]) -> bool {
        self.uploads
            .lock()
            .map_or(true, |set| set.iter().any(|k| k.as_slice() == key))
    }
}

fn ticket_key(thread: crate::core::envelope::Id, att: crate::core::envelope::Id) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&thread.0);
    key[16..].copy_from_slice(&att.0);
    key
}

/// An upload in progress (see [`Saadd::upload_ticket`]).
pub struct UploadTicket {
    set: Arc<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>>,
    key: [u8; 32],
}

impl Drop for UploadTicket {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.key);
        }
    }
}
