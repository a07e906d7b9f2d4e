//! Sessions, in memory only: a reporter's key or a staff member's
//! unsealed private key lives here while they use the pages, and is wiped
//! when the session ends, expires or the process stops. Nothing of a
//! session is ever written to disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::core::envelope::Id;
use crate::core::receipt::Receipt;
use crate::core::wrap::RecipientSecret;
use crate::saadd::StaffLogin;

/// A reporter who submitted or came back with their receipt.
pub struct ReporterSession {
    pub thread: Id,
    pub secret: RecipientSecret,
}

pub enum SessionData {
    Reporter(ReporterSession),
    Staff(Arc<StaffLogin>),
}

struct Entry {
    data: Arc<Mutex<SessionData>>,
    created: Instant,
    seen: Instant,
}

/// Session lifetimes and capacity.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub reporter_idle: Duration,
    pub staff_idle: Duration,
    pub staff_absolute: Duration,
    pub max_sessions: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            reporter_idle: Duration::from_secs(20 * 60),
            staff_idle: Duration::from_secs(30 * 60),
            staff_absolute: Duration::from_secs(8 * 3600),
            max_sessions: 20_000,
        }
    }
}

pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
    limits: SessionLimits,
}

/// A session id: 32 random bytes, hex. Never logged.
pub type SessionId = Zeroizing<String>;

impl Sessions {
    pub fn new(limits: SessionLimits) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            limits,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // Operations on the map are single inserts/removes: a panic elsewhere
        // cannot leave it inconsistent, so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        let data = e.data.lock().unwrap_or_else(|p| p.into_inner());
        match &*data {
            SessionData::Reporter(_) => now.duration_since(e.seen) > self.limits.reporter_idle,
            SessionData::Staff(_) => {
                now.duration_since(e.seen) > self.limits.staff_idle
                    || now.duration_since(e.created) > self.limits.staff_absolute
            }
        }
    }

    /// Stores a session; `None` when the server holds too many already.
    pub fn create(&self, id_bytes: [u8; 32], data: SessionData, now: Instant) -> Option<SessionId> {
        let mut map = self.map();
        if map.len() >= self.limits.max_sessions {
            map.retain(|_, e| !self.expired(e, now));
            if map.len() >= self.limits.max_sessions {
                return None;
            }
        }
        let id = Zeroizing::new(hex::encode(id_bytes));
        map.insert(
            id.to_string(),
            Entry {
                data: Arc::new(Mutex::new(data)),
                created: now,
                seen: now,
            },
        );
        Some(id)
    }

    /// The live session with this id, refreshing its idle clock.
    pub fn get(&self, id: &str, now: Instant) -> Option<Arc<Mutex<SessionData>>> {
        let mut map = self.map();
        let expired = self.expired(map.get(id)?, now);
        if expired {
            map.remove(id);
            return None;
        }
        let e = map.get_mut(id)?;
        e.seen = now;
        Some(e.data.clone())
    }

    /// Ends a session; its secrets are wiped when the last reference drops.
    pub fn end(&self, id: &str) {
        self.map().remove(id);
    }

    /// Ends every session of a staff member (after a password change).
    pub fn end_staff(&self, staff: Id) {
        self.map().retain(|_, e| {
            let d = e.data.lock().unwrap_or_else(|p| p.into_inner());
            !matches!(&*d, SessionData::Staff(s) if s.staff.id == staff)
        });
    }

    /// Drops expired sessions; run periodically.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut map = self.map();
        let before = map.len();
        map.retain(|_, e| !self.expired(e, now));
        before - map.len()
    }
}

/// Submission forms in flight, by the random `draft` id each form page
/// carries. A form sent twice (a refresh, Back, a double click) gets the
/// receipt of the first sending instead of a second thread, and the
/// receipt stays available, in memory only, for the confirmation step and
/// for a reload of the page that shows it — even for a browser that keeps
/// no cookies.
pub struct Drafts {
    map: Mutex<HashMap<String, (Instant, DraftState)>>,
    ttl: Duration,
    cap: usize,
}

#[derive(Clone)]
pub enum DraftState {
    /// The form is being stored.
    Sending,
    /// Stored: the receipt issued and the word asked back.
    Sent(Receipt, usize),
}

/// What to do with a form that arrives.
pub enum DraftStart {
    /// First arrival: store it.
    New,
    /// The same form is being stored by another request.
    Sending,
    /// Already stored: show this receipt again.
    Sent(Receipt, usize),
}

impl Drafts {
    pub fn new(ttl: Duration, cap: usize) -> Drafts {
        Drafts {
            map: Mutex::new(HashMap::new()),
            ttl,
            cap,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, DraftState)>> {
        // Single inserts and removes: a poisoned map is still consistent.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a form as being stored, unless it already was.
    pub fn start(&self, id: &str, now: Instant) -> DraftStart {
        let mut map = self.map();
        map.retain(|_, (t, _)| now.duration_since(*t) < self.ttl);
        match map.get(id) {
            Some((_, DraftState::Sending)) => DraftStart::Sending,
            Some((_, DraftState::Sent(r, i))) => DraftStart::Sent(r.clone(), *i),
            None => {
                if map.len() < self.cap {
                    map.insert(id.to_owned(), (now, DraftState::Sending));
                }
                DraftStart::New
            }
        }
    }

    /// Records the receipt of a stored form.
    pub fn sent(&self, id: &str, receipt: Receipt, word: usize, now: Instant) {
        let mut map = self.map();
        if map.contains_key(id) {
            map.insert(id.to_owned(), (now, DraftState::Sent(receipt, word)));
        }
    }

    /// Forgets a form (refused, or its receipt confirmed).
    pub fn forget(&self, id: &str) {
        self.map().remove(id);
    }

    /// The receipt of a stored form, while it is remembered.
    pub fn receipt(&self, id: &str, now: Instant) -> Option<(Receipt, usize)> {
        match self.map().get(id) {
            Some((t, DraftState::Sent(r, i))) if now.duration_since(*t) < self.ttl => {
                Some((r.clone(), *i))
            }
            _ => None,
        }
    }
}
