//! Retention: how long a thread may exist, the audit-log entries that record
//! what happened to it, and the auditor's check of that log.
//!
//! Pure: no I/O, no clock, no randomness. Days come in as [`Day`]s (calendar
//! days in the entity's time zone), the auditor's clock as `now_unix`, and the
//! audit handles in the entries were drawn by the caller.
//!
//! # The promise (spec/retention.md)
//!
//! Each entity has one [`Policy`] per thread kind, in whole calendar days of
//! the entity's time zone:
//!
//! - `closed`: a closed thread is deleted `closed` days after the day it was
//!   (last) closed;
//! - `inactive`: a thread with no message from either side is deleted
//!   `inactive` days after its last message day;
//! - `receipt`: the reporter's receipt stops working `receipt` days after the
//!   last message day (the thread stays for staff);
//! - `cap`: every thread is deleted `cap` days after its creation day,
//!   whatever happens; reopening never resets it.
//!
//! A deadline is `origin day + N`. A thread may exist through its deadline
//! day; the sweeper deletes it once `today >= deadline`, and a deletion is
//! *on time* if it happens on or before `deadline + 1` ([`on_time`]).
//!
//! A policy change may be applied to existing threads only if it is no longer
//! than the old one in every field ([`Policy::no_longer_than`]): a longer
//! policy would break what reporters were shown. Applied from day `C`, the
//! new policy governs threads created on or before `C`, but never with a
//! deadline earlier than `C`: `max(origin + N_new, C)`
//! ([`ThreadClock::apply_change`]). The sweeper and the auditor both compute
//! deadlines with [`ThreadClock`].
//!
//! # The audit log
//!
//! Each leaf of the Merkle log is one [`Entry`]: a compact JSON object whose
//! bytes are canonical (fixed field order, no whitespace), so that
//! [`Entry::decode`] accepts exactly what [`Entry::encode`] writes. Thread
//! handles in the log are random per-thread audit handles, used nowhere else;
//! the log carries ids, kinds, policies and days, never content.
//!
//! # The auditor's check
//!
//! [`check`] replays the whole log. Message activity is not logged, so the
//! auditor checks the deadlines it can compute (cap, and closed while a thread
//! is closed) and only bounds the inactivity deadlines the server states.
//! Entries are appended once a day has ended, as one shuffled batch per day,
//! so the order of one day's entries says nothing about time: where that
//! order would matter, the check accepts any order that makes the log
//! honest.
#![deny(missing_docs)]

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::Day;
use super::status::Kind;
use super::zone::{UnknownZone, Zone};

/// The longest any policy period may be, in days (about ten years).
pub const MAX_DAYS: u32 = 3650;

/// The longest encoded audit-log entry, in bytes.
pub const MAX_ENTRY_LEN: usize = 4096;

/// The entry format version written as `v`.
pub const ENTRY_VERSION: u8 = 1;

/// `day + n`, saturating at the last representable day.
fn add_days(day: Day, n: u32) -> Day {
    Day(day.0.saturating_add(n))
}

// ---------------------------------------------------------------------------
// Policy

/// How long threads of one kind live at one entity, in whole calendar days of
/// the entity's time zone. See the module documentation for each field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// A closed thread is deleted this many days after the day it was (last)
    /// closed.
    pub closed: u32,
    /// A thread with no message from either side is deleted this many days
    /// after its last message day.
    pub inactive: u32,
    /// The reporter's receipt stops working this many days after the last
    /// message day; the thread stays for staff.
    pub receipt: u32,
    /// Every thread is deleted this many days after its creation day,
    /// whatever happens; reopening never resets it.
    pub cap: u32,
}

/// One field of a [`Policy`], as named in a [`PolicyError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyField {
    /// [`Policy::closed`].
    Closed,
    /// [`Policy::inactive`].
    Inactive,
    /// [`Policy::receipt`].
    Receipt,
    /// [`Policy::cap`].
    Cap,
}

/// Why a [`Policy`] is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyError {
    /// The field is 0 or more than [`MAX_DAYS`].
    OutOfRange(PolicyField),
    /// The field (`closed`, `inactive` or `receipt`) is longer than `cap`,
    /// which would promise something the cap never lets happen.
    LongerThanCap(PolicyField),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::OutOfRange(field) => {
                write!(f, "`{}` must be 1 to {MAX_DAYS} days", field.name())
            }
            PolicyError::LongerThanCap(field) => {
                write!(f, "`{}` must not be longer than `cap`", field.name())
            }
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyField {
    /// The field's name in the policy's JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PolicyField::Closed => "closed",
            PolicyField::Inactive => "inactive",
            PolicyField::Receipt => "receipt",
            PolicyField::Cap => "cap",
        }
    }
}

impl Policy {
    /// The default policy for a kind of thread: questions
    /// `{closed: 90, inactive: 180, receipt: 180, cap: 730}`, claims
    /// `{closed: 365, inactive: 730, receipt: 365, cap: 1825}`.
    pub fn default_for(kind: Kind) -> Policy {
        match kind {
            Kind::Question => Policy {
                closed: 90,
                inactive: 180,
                receipt: 180,
                cap: 730,
            },
            Kind::Claim => Policy {
                closed: 365,
                inactive: 730,
                receipt: 365,
                cap: 1825,
            },
        }
    }

    fn fields(&self) -> [(PolicyField, u32); 4] {
        [
            (PolicyField::Closed, self.closed),
            (PolicyField::Inactive, self.inactive),
            (PolicyField::Receipt, self.receipt),
            (PolicyField::Cap, self.cap),
        ]
    }

    /// Valid: every field is 1 to [`MAX_DAYS`] days, and `closed`,
    /// `inactive` and `receipt` are each no longer than `cap`. The first
    /// failing field is named, range errors before cap errors.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some((field, _)) = self
            .fields()
            .into_iter()
            .find(|(_, n)| *n == 0 || *n > MAX_DAYS)
        {
            return Err(PolicyError::OutOfRange(field));
        }
        if let Some((field, _)) = self
            .fields()
            .into_iter()
            .find(|(field, n)| *field != PolicyField::Cap && *n > self.cap)
        {
            return Err(PolicyError::LongerThanCap(field));
        }
        Ok(())
    }

    /// Every field is no longer than `old`'s. Only such a policy may be
    /// applied to existing threads.
    pub fn no_longer_than(&self, old: &Policy) -> bool {
        self.fields()
            .into_iter()
            .zip(old.fields())
            .all(|((_, new), (_, old))| new <= old)
    }
}

// ---------------------------------------------------------------------------
// Deadlines

/// The rule under which a thread is (to be) deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// `closed` days after the day the thread was last closed.
    Closed,
    /// `inactive` days after the last message day.
    Inactive,
    /// `cap` days after the creation day.
    Cap,
    /// The reporter withdrew the thread; no deadline applies.
    Withdrawn,
    /// The thread was created after the backup a restore came from, so
    /// none of it exists any more; logged by the restore, no deadline.
    Lost,
}

/// Everything a thread's deadlines depend on. The server's sweeper and the
/// auditor's [`check`] both compute deadlines with this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadClock {
    /// The day the thread was created.
    pub created: Day,
    /// The last day a message was written by either side (at least
    /// `created`). The auditor does not know it: see
    /// [`ThreadClock::checkable_deadline`].
    pub activity: Day,
    /// The day the thread was last closed, while it is closed.
    pub closed: Option<Day>,
    /// The policy governing the thread.
    pub policy: Policy,
    /// Set by [`ThreadClock::apply_change`]: the day from which a policy
    /// change was applied to this existing thread; no deadline is earlier.
    pub floor: Option<Day>,
}

impl ThreadClock {
    /// A thread created on `created` under `policy`, with its first message
    /// that day and no policy change applied.
    pub fn new(policy: Policy, created: Day) -> ThreadClock {
        ThreadClock {
            created,
            activity: created,
            closed: None,
            policy,
            floor: None,
        }
    }

    /// `origin + n`, but never earlier than the floor of an applied change.
    fn after(&self, origin: Day, n: u32) -> Day {
        let day = add_days(origin, n);
        match self.floor {
            Some(floor) => day.max(floor),
            None => day,
        }
    }

    /// `created + cap` (floored).
    pub fn cap_deadline(&self) -> Day {
        self.after(self.created, self.policy.cap)
    }

    /// `last closed day + closed` (floored), while the thread is closed.
    pub fn closed_deadline(&self) -> Option<Day> {
        self.closed.map(|day| self.after(day, self.policy.closed))
    }

    /// `activity + inactive` (floored).
    pub fn inactive_deadline(&self) -> Day {
        self.after(self.activity, self.policy.inactive)
    }

    /// `activity + receipt` (floored): from this day the reporter's receipt
    /// no longer opens the thread.
    pub fn receipt_deadline(&self) -> Day {
        self.after(self.activity, self.policy.receipt)
    }

    /// The day the sweeper deletes the thread, and the rule that sets it: the
    /// earliest of the cap, inactivity and (while closed) closed deadlines.
    /// Ties go to `Cap`, then `Closed`, then `Inactive`: the rules an auditor
    /// can check first.
    pub fn deadline(&self) -> (Rule, Day) {
        earliest([
            Some((Rule::Cap, self.cap_deadline())),
            self.closed_deadline().map(|d| (Rule::Closed, d)),
            Some((Rule::Inactive, self.inactive_deadline())),
        ])
    }

    /// The deadline an auditor can compute from the log, which does not
    /// record activity: the earlier of the cap and (while closed) closed
    /// deadlines, ties to `Cap`. Never earlier than [`ThreadClock::deadline`].
    pub fn checkable_deadline(&self) -> (Rule, Day) {
        earliest([
            Some((Rule::Cap, self.cap_deadline())),
            self.closed_deadline().map(|d| (Rule::Closed, d)),
            None,
        ])
    }

    /// Applies a policy change made on day `from` to this existing thread:
    /// if the thread was created on or before `from` and `new` is no longer
    /// than its policy in any field, `new` governs it from now on, with no
    /// deadline earlier than `from`. Otherwise nothing changes (a longer
    /// policy would break what the reporter was shown). Returns whether the
    /// change was applied.
    pub fn apply_change(&mut self, new: Policy, from: Day) -> bool {
        if self.created > from || !new.no_longer_than(&self.policy) {
            return false;
        }
        self.policy = new;
        self.floor = Some(self.floor.map_or(from, |floor| floor.max(from)));
        true
    }
}

/// The first of the earliest candidates (so ties go to the earlier one).
fn earliest(candidates: [Option<(Rule, Day)>; 3]) -> (Rule, Day) {
    candidates
        .into_iter()
        .flatten()
        .fold(None, |best: Option<(Rule, Day)>, c| match best {
            Some(b) if b.1 <= c.1 => Some(b),
            _ => Some(c),
        })
        // The cap candidate is always present; Day(u32::MAX) is unreachable.
        .unwrap_or((Rule::Cap, Day(u32::MAX)))
}

/// The deadline of a thread under `policy` with no policy change applied:
/// the earliest of the cap, inactivity and (if `closed`) closed deadlines,
/// ties to `Cap`, then `Closed`, then `Inactive`. See [`ThreadClock::deadline`].
pub fn deadline(policy: &Policy, created: Day, activity: Day, closed: Option<Day>) -> (Rule, Day) {
    ThreadClock {
        created,
        activity,
        closed,
        policy: *policy,
        floor: None,
    }
    .deadline()
}

/// The day the reporter's receipt stops working: `activity + receipt`.
pub fn receipt_deadline(policy: &Policy, activity: Day) -> Day {
    add_days(activity, policy.receipt)
}

/// Whether a deletion on `deleted` honours `deadline`: on or before the day
/// after the deadline.
pub fn on_time(deleted: Day, deadline: Day) -> bool {
    deleted <= add_days(deadline, 1)
}

// ---------------------------------------------------------------------------
// Typed values of the log

/// Exactly `2 × N` lowercase hex digits.
fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

macro_rules! hex_value {
    ($(#[$doc:meta])* $name:ident, $len:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Lowercase hex, as written in the log.
            pub fn hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Exactly the lowercase hex the log writes; `None` otherwise.
            pub fn from_hex(s: &str) -> Option<$name> {
                lower_hex(s).map($name)
            }
        }

        /// Public audit-log data, printed as in the log.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = String::deserialize(d)?;
                $name::from_hex(&s).ok_or_else(|| serde::de::Error::custom($what))
            }
        }
    };
}

hex_value!(
    /// An entity (organisation) id: 32 lowercase hex digits in the log.
    EntityId,
    16,
    "not a 16-byte lowercase hex entity id"
);
hex_value!(
    /// A thread's audit handle: random, per thread, used nowhere but the
    /// audit log, so the log links to no other record. 32 lowercase hex
    /// digits.
    Handle,
    16,
    "not a 16-byte lowercase hex handle"
);
hex_value!(
    /// A staff member's id: 32 lowercase hex digits.
    StaffId,
    16,
    "not a 16-byte lowercase hex staff id"
);
hex_value!(
    /// A token issuer key id: 64 lowercase hex digits.
    IssuerKeyId,
    32,
    "not a 32-byte lowercase hex key id"
);
hex_value!(
    /// A staff member's X25519 public key: 64 lowercase hex digits.
    StaffPublicKey,
    32,
    "not a 32-byte lowercase hex public key"
);

/// The root of the audit log's Merkle tree: standard base64 with padding
/// (44 characters) in the log.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogRoot(pub [u8; 32]);

impl LogRoot {
    /// Standard base64 with padding.
    pub fn base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Exactly 32 bytes in standard padded base64; `None` otherwise.
    pub fn from_base64(s: &str) -> Option<LogRoot> {
        if s.len() != 44 {
            return None;
        }
        let bytes = STANDARD.decode(s).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(LogRoot)
    }
}

/// Public audit-log data, printed as in the log.
impl fmt::Debug for LogRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogRoot({})", self.base64())
    }
}

impl Serialize for LogRoot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.base64())
    }
}

impl<'de> Deserialize<'de> for LogRoot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LogRoot, D::Error> {
        let s = String::deserialize(d)?;
        LogRoot::from_base64(&s)
            .ok_or_else(|| serde::de::Error::custom("not a 32-byte standard base64 root"))
    }
}

/// The IANA name of a time zone, spelled as the bundled database spells it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZoneName(String);

impl ZoneName {
    /// A known IANA zone name in its canonical spelling (the database lookup
    /// ignores case; the log does not).
    pub fn new(name: &str) -> Result<ZoneName, UnknownZone> {
        Zone::named(name)?;
        let canonical = jiff::tz::db()
            .get(name)
            .ok()
            .is_some_and(|tz| tz.iana_name() == Some(name));
        if canonical {
            Ok(ZoneName(name.to_string()))
        } else {
            Err(UnknownZone)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone, for computing days.
    pub fn zone(&self) -> Zone {
        Zone::named(&self.0).unwrap_or_else(|_| Zone::default_zone())
    }
}

impl Serialize for ZoneName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ZoneName, D::Error> {
        let s = String::deserialize(d)?;
        ZoneName::new(&s).map_err(|_| serde::de::Error::custom("not a known IANA zone name"))
    }
}

/// What happened to a token issuer key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyChange {
    /// The key started issuing tokens.
    Added,
    /// The key stopped issuing tokens.
    Retired,
}

/// What happened to a staff member's public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffKeyChange {
    /// A staff member was added with this key.
    Added,
    /// The staff member's key was replaced by this one.
    Changed,
    /// The staff member was removed (the entry's key is null).
    Removed,
}

// ---------------------------------------------------------------------------
// Entries

/// One audit-log entry (a leaf of the Merkle log).
///
/// Encoded as compact UTF-8 JSON with the fields in this order: `v` (always
/// 1), `day`, `event`, then the event's fields in the order of its variant.
/// `day` is the entity's calendar day on which the event happened (for
/// [`Event::Restored`], the server's UTC day).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The day the event happened.
    pub day: Day,
    /// What happened.
    pub event: Event,
}

/// What an [`Entry`] records; the JSON `event` field is the variant name in
/// snake case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An entity exists and counts its days in `zone`.
    Entity {
        /// The entity.
        entity: EntityId,
        /// Its time zone.
        zone: ZoneName,
    },
    /// The entity's policy for `kind` is now `policy`; if `existing`, it also
    /// applies to threads created on or before this day.
    Policy {
        /// The entity.
        entity: EntityId,
        /// The kind of thread it governs.
        kind: Kind,
        /// The new policy.
        policy: Policy,
        /// Whether it applies to existing threads too.
        existing: bool,
    },
    /// A thread was created under `policy`.
    Created {
        /// The entity.
        entity: EntityId,
        /// The thread's audit handle.
        thread: Handle,
        /// Question or claim.
        kind: Kind,
        /// The policy shown to the reporter.
        policy: Policy,
    },
    /// A thread was closed.
    Closed {
        /// The entity.
        entity: EntityId,
        /// The thread's audit handle.
        thread: Handle,
    },
    /// A closed thread was reopened.
    Reopened {
        /// The entity.
        entity: EntityId,
        /// The thread's audit handle.
        thread: Handle,
    },
    /// A thread was deleted under `rule`, whose deadline was `deadline`
    /// (null for [`Rule::Withdrawn`]).
    Deleted {
        /// The entity.
        entity: EntityId,
        /// The thread's audit handle.
        thread: Handle,
        /// Why it was deleted.
        rule: Rule,
        /// The deadline the rule set.
        deadline: Option<Day>,
    },
    /// A token issuer key was added or retired.
    IssuerKey {
        /// The entity.
        entity: EntityId,
        /// The key's id.
        key: IssuerKeyId,
        /// Added or retired.
        change: KeyChange,
    },
    /// A staff member's key was added, changed or removed.
    StaffKey {
        /// The entity.
        entity: EntityId,
        /// The staff member.
        staff: StaffId,
        /// The new key; null exactly when `change` is `removed`.
        key: Option<StaffPublicKey>,
        /// What happened.
        change: StaffKeyChange,
    },
    /// The server was restored from a backup; the log then had `size`
    /// entries and Merkle root `root`. Not tied to an entity.
    Restored {
        /// Entries in the log when the backup was taken.
        size: u64,
        /// The log's root when the backup was taken.
        root: LogRoot,
        /// The (UTC) day of the backup.
        backup_day: Day,
    },
}

impl Event {
    /// The entity the event is about (`None` for [`Event::Restored`]).
    pub fn entity(&self) -> Option<EntityId> {
        match self {
            Event::Entity { entity, .. }
            | Event::Policy { entity, .. }
            | Event::Created { entity, .. }
            | Event::Closed { entity, .. }
            | Event::Reopened { entity, .. }
            | Event::Deleted { entity, .. }
            | Event::IssuerKey { entity, .. }
            | Event::StaffKey { entity, .. } => Some(*entity),
            Event::Restored { .. } => None,
        }
    }

    /// The thread the event is about, if any.
    pub fn thread(&self) -> Option<Handle> {
        match self {
            Event::Created { thread, .. }
            | Event::Closed { thread, .. }
            | Event::Reopened { thread, .. }
            | Event::Deleted { thread, .. } => Some(*thread),
            _ => None,
        }
    }
}

/// Why bytes are not an audit-log entry. Carries no part of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryError {
    /// Longer than [`MAX_ENTRY_LEN`] bytes.
    TooLong,
    /// Not UTF-8.
    NotUtf8,
    /// Not a JSON object with a known event and every field present with the
    /// right type (ids as lowercase hex of the exact length, a known zone).
    Malformed,
    /// `v` is not 1.
    UnsupportedVersion,
    /// A `staff_key` entry whose key is null without `removed`, or set with
    /// it.
    Inconsistent,
    /// Parses, but is not byte for byte what [`Entry::encode`] writes
    /// (whitespace, field order, unknown or duplicate fields, escapes).
    NotCanonical,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryError::TooLong => "audit entry longer than 4096 bytes",
            EntryError::NotUtf8 => "audit entry is not UTF-8",
            EntryError::Malformed => "audit entry is not a known event with every field",
            EntryError::UnsupportedVersion => "audit entry version is not 1",
            EntryError::Inconsistent => "audit entry contradicts itself",
            EntryError::NotCanonical => "audit entry is not in canonical form",
        })
    }
}

impl std::error::Error for EntryError {}

#[derive(Serialize)]
struct EntryOut<'a> {
    v: u8,
    day: Day,
    #[serde(flatten)]
    event: &'a Event,
}

#[derive(Deserialize)]
struct EntryIn {
    day: Day,
    #[serde(flatten)]
    event: Event,
}

#[derive(Deserialize)]
struct VersionIn {
    v: u64,
}

impl Entry {
    /// The canonical bytes: compact JSON, `v` first.
    pub fn encode(&self) -> Vec<u8> {
        // Every value is a string, an integer, a bool or null, and every map
        // key a string: serde_json cannot fail on these.
        serde_json::to_vec(&EntryOut {
            v: ENTRY_VERSION,
            day: self.day,
            event: &self.event,
        })
        .unwrap_or_default()
    }

    /// Parses an entry, accepting only the bytes [`Entry::encode`] would
    /// write for it.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLong);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| EntryError::NotUtf8)?;
        let version: VersionIn = serde_json::from_str(text).map_err(|_| EntryError::Malformed)?;
        if version.v != u64::from(ENTRY_VERSION) {
            return Err(EntryError::UnsupportedVersion);
        }
        let parsed: EntryIn = serde_json::from_str(text).map_err(|_| EntryError::Malformed)?;
        let entry = Entry {
            day: parsed.day,
            event: parsed.event,
        };
        if let Event::StaffKey { key, change, .. } = &entry.event
            && key.is_none() != (*change == StaffKeyChange::Removed)
        {
            return Err(EntryError::Inconsistent);
        }
        if entry.encode() != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }
}

// ---------------------------------------------------------------------------
// The auditor's check

/// What the auditor expected a `deleted` entry to state as its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectedDeadline {
    /// Exactly this day (rules `cap` and `closed`).
    Exactly(Day),
    /// A day in this range (rule `inactive`: activity is not logged, so only
    /// bounds are checkable: no earlier than the deadline had the last
    /// message been on the creation day, no later than the cap and closed
    /// deadlines).
    Between {
        /// The earliest acceptable day.
        earliest: Day,
        /// The latest acceptable day.
        latest: Day,
    },
    /// Null (rule `withdrawn`).
    Null,
}

/// A way the log breaks the promise or its own rules. Indexes are positions
/// in the `entries` slice given to [`check`]. No strings: the CLI words them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    // Order
    /// Entry `index` has an earlier day than an earlier entry of the same
    /// entity (`previous` is the latest day seen before it).
    DayBackwards {
        /// The entry.
        index: usize,
        /// Its entity.
        entity: EntityId,
        /// Its day.
        day: Day,
        /// The latest earlier day of the entity.
        previous: Day,
    },
    /// Entry `index` is dated after the auditor's `today + 1` (the entity's
    /// today; the UTC today for `restored`, whose `entity` is `None`).
    Future {
        /// The entry.
        index: usize,
        /// Its entity, if any.
        entity: Option<EntityId>,
        /// Its day.
        day: Day,
        /// The auditor's today for it.
        today: Day,
    },
    /// The entity has entries (the first is `first`) but no `entity` event;
    /// its days were read in America/Mexico_City.
    MissingEntity {
        /// The entity.
        entity: EntityId,
        /// Its first entry.
        first: usize,
    },
    /// Entry `index` comes before the entity's `entity` event at `entity_at`.
    BeforeEntity {
        /// The entry.
        index: usize,
        /// Its entity.
        entity: EntityId,
        /// The entity's first `entity` event.
        entity_at: usize,
    },
    /// A `closed`, `reopened` or `deleted` entry for a handle with no earlier
    /// `created`.
    UnknownThread {
        /// The entry.
        index: usize,
        /// Its entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
    },
    /// A second `created` for a handle first created at `first`.
    DuplicateThread {
        /// The second `created`.
        index: usize,
        /// The first `created`.
        first: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
    },
    /// An entry for a thread after its deletion at `deleted_at`.
    AfterDeletion {
        /// The entry.
        index: usize,
        /// The `deleted` entry.
        deleted_at: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
    },
    /// `closed` on a thread already closed (on `closed_on`).
    ClosedTwice {
        /// The entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The day it was closed before.
        closed_on: Day,
    },
    /// `reopened` on a thread that is open.
    ReopenedOpen {
        /// The entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
    },
    // Policy consistency
    /// A thread was created with no policy for its kind in force.
    NoPolicy {
        /// The `created` entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The thread's kind.
        kind: Kind,
    },
    /// A thread was created with a policy other than the one in force (the
    /// latest `policy` event at `in_force`).
    PolicyMismatch {
        /// The `created` entry.
        index: usize,
        /// The `policy` entry in force.
        in_force: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The thread's kind.
        kind: Kind,
    },
    /// A `policy` event whose policy fails [`Policy::validate`].
    InvalidPolicy {
        /// The `policy` entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The kind.
        kind: Kind,
        /// Why it is invalid.
        error: PolicyError,
    },
    /// A `policy` event applied to existing threads that is longer in some
    /// field than the policy it replaces. Since a day's entries are
    /// unordered, that is any policy in force when its day began or any
    /// other of the same day, and it is longer than each of them. The
    /// auditor does not apply it to existing threads.
    LongerPolicy {
        /// The `policy` entry.
        index: usize,
        /// The policy it replaces (the first candidate: one in force when
        /// the day began, if any).
        replaced: usize,
        /// The entity.
        entity: EntityId,
        /// The kind.
        kind: Kind,
    },
    // Deadlines
    /// Deleted on `deleted`, after `deadline + 1`. `rule` is the rule whose
    /// deadline was missed: `cap` or `closed` as the auditor computes them,
    /// or `inactive` when the deletion is later than the inactivity deadline
    /// the entry itself states.
    DeletedLate {
        /// The `deleted` entry.
        index: usize,
        /// The thread's `created` entry.
        created: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The rule whose deadline was missed.
        rule: Rule,
        /// The deadline.
        deadline: Day,
        /// The deletion day.
        deleted: Day,
    },
    /// Not deleted, though the auditor's today is at least `deadline + 3`
    /// (the deletion was due by the end of `deadline + 1` and its entry by
    /// the end of `deadline + 2`).
    DeletionMissing {
        /// The thread's `created` entry.
        created: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The rule whose deadline passed (`cap` or `closed`).
        rule: Rule,
        /// The deadline.
        deadline: Day,
        /// The auditor's today in the entity's zone.
        today: Day,
    },
    /// A `deleted` entry states a deadline its rule does not give.
    DeadlineMismatch {
        /// The `deleted` entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
        /// The stated rule.
        rule: Rule,
        /// The stated deadline.
        stated: Option<Day>,
        /// What the auditor computes for the rule.
        expected: ExpectedDeadline,
    },
    /// A deletion under rule `closed` of a thread that is not closed.
    ClosedRuleOnOpen {
        /// The `deleted` entry.
        index: usize,
        /// The entity.
        entity: EntityId,
        /// The handle.
        thread: Handle,
    },
}

/// Deletions per rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleCounts {
    /// Under [`Rule::Closed`].
    pub closed: usize,
    /// Under [`Rule::Inactive`].
    pub inactive: usize,
    /// Under [`Rule::Cap`].
    pub cap: usize,
    /// Under [`Rule::Withdrawn`].
    pub withdrawn: usize,
    /// Under [`Rule::Lost`].
    pub lost: usize,
}

impl RuleCounts {
    fn count(&mut self, rule: Rule) {
        let n = match rule {
            Rule::Closed => &mut self.closed,
            Rule::Inactive => &mut self.inactive,
            Rule::Cap => &mut self.cap,
            Rule::Withdrawn => &mut self.withdrawn,
            Rule::Lost => &mut self.lost,
        };
        *n = n.saturating_add(1);
    }
}

/// A `restored` entry, for the CLI to compare with its saved state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restore {
    /// The entry.
    pub index: usize,
    /// The (UTC) day of the restore.
    pub day: Day,
    /// Entries in the log when the backup was taken.
    pub size: u64,
    /// The log's root when the backup was taken.
    pub root: LogRoot,
    /// The day of the backup.
    pub backup_day: Day,
}

/// One entity, as of the auditor's today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitySummary {
    /// The entity.
    pub entity: EntityId,
    /// Its zone from its latest `entity` event; `None` if it has none (days
    /// were then read in America/Mexico_City).
    pub zone: Option<ZoneName>,
    /// The auditor's today in that zone.
    pub today: Day,
    /// Threads created and not deleted.
    pub threads_open: usize,
    /// The earliest checkable deadline among them.
    pub next_deadline: Option<Day>,
}

/// The result of [`check`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Entries read.
    pub entries: usize,
    /// Distinct entities in the log.
    pub entities: usize,
    /// `created` entries.
    pub threads_created: usize,
    /// Deletions on or before their deadline + 1.
    pub deleted_on_time: usize,
    /// Deletions after their deadline + 1 (each also a violation).
    pub deleted_late: usize,
    /// Deletions per stated rule.
    pub deleted_by_rule: RuleCounts,
    /// Threads not deleted whose deadline + 1 is today or later.
    pub open_within_deadline: usize,
    /// Threads not deleted, today being deadline + 2: the deletion may have
    /// happened yesterday, and its entry comes with today's daily batch.
    pub awaiting_batch: usize,
    /// Threads not deleted past deadline + 2 (each also a violation).
    pub deletions_missing: usize,
    /// `policy` entries.
    pub policy_events: usize,
    /// `policy` entries applied to existing threads.
    pub policy_changes_existing: usize,
    /// `staff_key` entries.
    pub staff_key_events: usize,
    /// `issuer_key` entries.
    pub issuer_key_events: usize,
    /// `restored` entries.
    pub restores: Vec<Restore>,
    /// One per entity, in order of first appearance.
    pub summaries: Vec<EntitySummary>,
    /// Everything wrong, in log order (missing deletions last).
    pub violations: Vec<Violation>,
}

impl Report {
    /// No violations.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// A `policy` entry, as the auditor reads it.
struct PolicyRecord {
    index: usize,
    day: Day,
    policy: Policy,
    existing: bool,
    /// An `existing: true` change the auditor applies to existing threads
    /// (not one flagged longer).
    applies: bool,
    /// For a change flagged longer: the entry it was compared with.
    longer_than: Option<usize>,
}

/// The policy entries of one entity and kind, in log order.
#[derive(Default)]
struct PolicyHistory(Vec<PolicyRecord>);

impl PolicyHistory {
    /// The policies of the last day before `day` that had any: one of them
    /// was in force when `day` began (which one, the order of that day's
    /// entries does not say).
    fn before(&self, day: Day) -> Vec<&PolicyRecord> {
        let last = self.0.iter().map(|p| p.day).filter(|d| *d < day).max();
        self.0.iter().filter(|p| Some(p.day) == last).collect()
    }

    fn on(&self, day: Day) -> impl Iterator<Item = &PolicyRecord> {
        self.0.iter().filter(move |p| p.day == day)
    }

    /// The changes of `day` the auditor applies to existing threads.
    fn changes_on(&self, day: Day) -> Vec<(Policy, Day)> {
        self.on(day)
            .filter(|p| p.applies)
            .map(|p| (p.policy, p.day))
            .collect()
    }

    /// Decides which `existing: true` changes are longer than the policy
    /// they replace. The order of one day's entries says nothing about time,
    /// so the replaced policy may be any that was in force when the day
    /// began or any other policy of the same day: a change is longer only if
    /// it is longer than all of them.
    fn judge_changes(&mut self) {
        let verdicts: Vec<(bool, Option<usize>)> = self
            .0
            .iter()
            .map(|p| {
                if !p.existing {
                    return (false, None);
                }
                let replaced: Vec<&PolicyRecord> = self
                    .before(p.day)
                    .into_iter()
                    .chain(self.on(p.day).filter(|q| q.index != p.index))
                    .collect();
                let longer = !replaced.is_empty()
                    && replaced.iter().all(|q| !p.policy.no_longer_than(&q.policy));
                (
                    !longer,
                    replaced.first().filter(|_| longer).map(|q| q.index),
                )
            })
            .collect();
        for (p, (applies, longer_than)) in self.0.iter_mut().zip(verdicts) {
            p.applies = applies;
            p.longer_than = longer_than;
        }
    }
}

struct EntityState {
    entity: EntityId,
    zone: Option<ZoneName>,
    today: Day,
    first_entity_event: Option<usize>,
    entity_seen: bool,
    missing_reported: bool,
    last_day: Option<Day>,
    questions: PolicyHistory,
    claims: PolicyHistory,
}

impl EntityState {
    fn policies(&self, kind: Kind) -> &PolicyHistory {
        match kind {
            Kind::Question => &self.questions,
            Kind::Claim => &self.claims,
        }
    }

    fn policies_mut(&mut self, kind: Kind) -> &mut PolicyHistory {
        match kind {
            Kind::Question => &mut self.questions,
            Kind::Claim => &mut self.claims,
        }
    }
}

/// Applies a change as the server would, except to a clock whose deletion
/// was already late on the change day: a change cannot excuse that.
fn change_reaches(clock: &mut ThreadClock, policy: Policy, day: Day) -> bool {
    on_time(day, clock.checkable_deadline().1) && clock.apply_change(policy, day)
}

/// Every clock reachable from `start` by one day's changes applied in any
/// order (the log does not say in which order they happened). Finite: every
/// reached clock has one of the changes' policies and their day as floor.
fn reachable(start: &[ThreadClock], changes: &[(Policy, Day)]) -> Vec<ThreadClock> {
    let mut out: Vec<ThreadClock> = Vec::new();
    for c in start {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    let mut i = 0;
    while let Some(c) = out.get(i).copied() {
        for &(policy, day) in changes {
            let mut next = c;
            if change_reaches(&mut next, policy, day) && !out.contains(&next) {
                out.push(next);
            }
        }
        i += 1;
    }
    out
}

/// A clock no change of the day would move any more: a state the thread
/// can be in once the day is over.
fn settled(clock: &ThreadClock, changes: &[(Policy, Day)]) -> bool {
    changes.iter().all(|&(policy, day)| {
        let mut next = *clock;
        !change_reaches(&mut next, policy, day) || next == *clock
    })
}

struct ThreadState {
    entity: EntityId,
    thread: Handle,
    kind: Kind,
    created_at: usize,
    created: Day,
    /// The clocks the thread may have now; more than one only when the
    /// order of a day's policy changes matters and the log cannot tell it.
    /// `activity` is unknown to the auditor and left at `created`.
    clocks: Vec<ThreadClock>,
    /// Every clock it may have had during the day of its last policy change
    /// (before, between and after that day's changes), for entries of that
    /// day.
    day_clocks: Option<(Day, Vec<ThreadClock>)>,
    deleted_at: Option<usize>,
}

impl ThreadState {
    fn clocks_on(&self, day: Day) -> &[ThreadClock] {
        match &self.day_clocks {
            Some((d, clocks)) if *d == day => clocks,
            _ => &self.clocks,
        }
    }

    fn close(&mut self, closed: Option<Day>) {
        let day_clocks = self.day_clocks.iter_mut().flat_map(|(_, c)| c.iter_mut());
        for clock in self.clocks.iter_mut().chain(day_clocks) {
            clock.closed = closed;
        }
    }
}

struct Audit {
    report: Report,
    utc_today: Day,
    entities: Vec<EntityState>,
    entity_index: HashMap<EntityId, usize>,
    threads: Vec<ThreadState>,
    thread_index: HashMap<(EntityId, Handle), usize>,
}

/// Checks a whole audit log, in order, against the promise, as of the
/// auditor's clock `now_unix`.
///
/// Each entity's today is its zone's day at `now_unix`, the zone being the
/// one in its latest `entity` event (America/Mexico_City, and a
/// [`Violation::MissingEntity`], if it has none).
///
/// The server appends each day's entries as one shuffled batch (entity,
/// then policy and key entries, then each thread's entries in order), so the
/// order of one day's entries says nothing about time: a `created` entry may
/// carry the policy in force when its day began or any policy of that day;
/// a change for existing threads may replace either; and a day's changes
/// reach each thread in whichever order lets the log be honest.
///
/// Each thread's deadline is [`ThreadClock::checkable_deadline`], with
/// `existing: true` policy changes applied by [`ThreadClock::apply_change`]
/// — except to a thread whose deletion was already late on the change day,
/// since a change cannot excuse that.
pub fn check(entries: &[Entry], now_unix: u64) -> Report {
    let mut audit = Audit::new(entries, now_unix);
    for (index, entry) in entries.iter().enumerate() {
        audit.entry(index, entry);
    }
    audit.finish()
}

/// The violations a deletion makes against one clock, and whether it was
/// late.
fn judge_deletion(
    clock: &ThreadClock,
    at: (usize, Day),
    thread: (EntityId, Handle, usize),
    rule: Rule,
    stated: Option<Day>,
) -> (Vec<Violation>, bool) {
    let (index, day) = at;
    let (entity, handle, created) = thread;
    let mut found = Vec::new();
    let (checked_rule, checkable) = clock.checkable_deadline();
    let expected = match rule {
        Rule::Cap => Some(ExpectedDeadline::Exactly(clock.cap_deadline())),
        Rule::Closed => match clock.closed_deadline() {
            Some(due) => Some(ExpectedDeadline::Exactly(due)),
            None => {
                found.push(Violation::ClosedRuleOnOpen {
                    index,
                    entity,
                    thread: handle,
                });
                None
            }
        },
        // The clock's activity is the creation day: the earliest the last
        // message can have been.
        Rule::Inactive => Some(ExpectedDeadline::Between {
            earliest: clock.inactive_deadline(),
            latest: checkable,
        }),
        Rule::Withdrawn | Rule::Lost => Some(ExpectedDeadline::Null),
    };
    if let Some(expected) = expected {
        let agrees = match (expected, stated) {
            (ExpectedDeadline::Exactly(due), Some(s)) => s == due,
            (ExpectedDeadline::Between { earliest, latest }, Some(s)) => {
                earliest <= s && s <= latest
            }
            (ExpectedDeadline::Null, None) => true,
            _ => false,
        };
        if !agrees {
            found.push(Violation::DeadlineMismatch {
                index,
                entity,
                thread: handle,
                rule,
                stated,
                expected,
            });
        }
    }
    // Late against the checkable deadline, or against the inactivity
    // deadline the server itself states.
    let (late_rule, due) = match (rule, stated) {
        (Rule::Inactive, Some(s)) if s < checkable => (Rule::Inactive, s),
        _ => (checked_rule, checkable),
    };
    let late = !on_time(day, due);
    if late {
        found.push(Violation::DeletedLate {
            index,
            created,
            entity,
            thread: handle,
            rule: late_rule,
            deadline: due,
            deleted: day,
        });
    }
    (found, late)
}

impl Audit {
    fn new(entries: &[Entry], now_unix: u64) -> Audit {
        let mut audit = Audit {
            report: Report {
                entries: entries.len(),
                ..Report::default()
            },
            utc_today: Day::from_unix_seconds(now_unix),
            entities: Vec::new(),
            entity_index: HashMap::new(),
            threads: Vec::new(),
            thread_index: HashMap::new(),
        };
        // Zones and policies first: an entry's "future" is judged in its
        // entity's zone even if the entity event comes later, and a day's
        // entries are read as a set.
        for (index, entry) in entries.iter().enumerate() {
            let Some(entity) = entry.event.entity() else {
                continue;
            };
            let slot = audit.entity_slot(entity);
            let Some(state) = audit.entities.get_mut(slot) else {
                continue;
            };
            match &entry.event {
                Event::Entity { zone, .. } => {
                    state.zone = Some(zone.clone());
                    state.first_entity_event.get_or_insert(index);
                }
                Event::Policy {
                    kind,
                    policy,
                    existing,
                    ..
                } => state.policies_mut(*kind).0.push(PolicyRecord {
                    index,
                    day: entry.day,
                    policy: *policy,
                    existing: *existing,
                    applies: false,
                    longer_than: None,
                }),
                _ => {}
            }
        }
        for state in &mut audit.entities {
            let zone = match &state.zone {
                Some(name) => name.zone(),
                None => Zone::default_zone(),
            };
            state.today = zone.day(now_unix);
            state.questions.judge_changes();
            state.claims.judge_changes();
        }
        audit.report.entities = audit.entities.len();
        audit
    }

    fn entity_slot(&mut self, entity: EntityId) -> usize {
        if let Some(&slot) = self.entity_index.get(&entity) {
            return slot;
        }
        let slot = self.entities.len();
        self.entities.push(EntityState {
            entity,
            zone: None,
            today: Day(0),
            first_entity_event: None,
            entity_seen: false,
            missing_reported: false,
            last_day: None,
            questions: PolicyHistory::default(),
            claims: PolicyHistory::default(),
        });
        self.entity_index.insert(entity, slot);
        slot
    }

    fn policies(&self, entity: EntityId, kind: Kind) -> Option<&PolicyHistory> {
        let slot = self.entity_index.get(&entity)?;
        Some(self.entities.get(*slot)?.policies(kind))
    }

    fn violation(&mut self, v: Violation) {
        self.report.violations.push(v);
    }

    fn entry(&mut self, index: usize, entry: &Entry) {
        let day = entry.day;
        let Some(entity) = entry.event.entity() else {
            if let Event::Restored {
                size,
                root,
                backup_day,
            } = &entry.event
            {
                self.restored(index, day, *size, *root, *backup_day);
            }
            return;
        };
        self.order(
            index,
            day,
            entity,
            matches!(entry.event, Event::Entity { .. }),
        );
        match &entry.event {
            Event::Entity { .. } | Event::Restored { .. } => {}
            Event::Policy { kind, policy, .. } => self.policy(index, day, entity, *kind, *policy),
            Event::Created {
                thread,
                kind,
                policy,
                ..
            } => self.created(index, day, entity, *thread, *kind, *policy),
            Event::Closed { thread, .. } => self.closed(index, day, entity, *thread),
            Event::Reopened { thread, .. } => self.reopened(index, day, entity, *thread),
            Event::Deleted {
                thread,
                rule,
                deadline,
                ..
            } => self.deleted(index, day, entity, *thread, *rule, *deadline),
            Event::IssuerKey { .. } => self.report.issuer_key_events += 1,
            Event::StaffKey { .. } => self.report.staff_key_events += 1,
        }
    }

    fn restored(&mut self, index: usize, day: Day, size: u64, root: LogRoot, backup_day: Day) {
        self.report.restores.push(Restore {
            index,
            day,
            size,
            root,
            backup_day,
        });
        let today = self.utc_today;
        if day > add_days(today, 1) {
            self.violation(Violation::Future {
                index,
                entity: None,
                day,
                today,
            });
        }
    }

    /// The order checks every entity entry gets: entity event first, days
    /// never backwards, nothing from the future.
    fn order(&mut self, index: usize, day: Day, entity: EntityId, is_entity_event: bool) {
        let slot = self.entity_slot(entity);
        let Some(state) = self.entities.get_mut(slot) else {
            return;
        };
        let mut found = Vec::new();
        if is_entity_event {
            state.entity_seen = true;
        } else if !state.entity_seen {
            match state.first_entity_event {
                Some(entity_at) => found.push(Violation::BeforeEntity {
                    index,
                    entity,
                    entity_at,
                }),
                None if !state.missing_reported => {
                    state.missing_reported = true;
                    found.push(Violation::MissingEntity {
                        entity,
                        first: index,
                    });
                }
                None => {}
            }
        }
        match state.last_day {
            Some(previous) if day < previous => found.push(Violation::DayBackwards {
                index,
                entity,
                day,
                previous,
            }),
            _ => state.last_day = Some(day),
        }
        if day > add_days(state.today, 1) {
            found.push(Violation::Future {
                index,
                entity: Some(entity),
                day,
                today: state.today,
            });
        }
        self.report.violations.extend(found);
    }

    fn policy(&mut self, index: usize, day: Day, entity: EntityId, kind: Kind, policy: Policy) {
        self.report.policy_events += 1;
        if let Err(error) = policy.validate() {
            self.violation(Violation::InvalidPolicy {
                index,
                entity,
                kind,
                error,
            });
        }
        let Some(history) = self.policies(entity, kind) else {
            return;
        };
        let Some(record) = history.0.iter().find(|p| p.index == index) else {
            return;
        };
        let (existing, applies, longer_than) =
            (record.existing, record.applies, record.longer_than);
        // The day's changes logged so far, this one included.
        let changes: Vec<(Policy, Day)> = history
            .on(day)
            .filter(|p| p.applies && p.index <= index)
            .map(|p| (p.policy, p.day))
            .collect();
        if existing {
            self.report.policy_changes_existing += 1;
        }
        if let Some(replaced) = longer_than {
            self.violation(Violation::LongerPolicy {
                index,
                replaced,
                entity,
                kind,
            });
        }
        if !applies {
            return;
        }
        for t in &mut self.threads {
            // Threads created this day already had the whole day's changes
            // considered when they were created.
            if t.entity != entity || t.kind != kind || t.deleted_at.is_some() || t.created >= day {
                continue;
            }
            let all = reachable(t.clocks_on(day), &changes);
            let after: Vec<ThreadClock> = all
                .iter()
                .filter(|c| settled(c, &changes))
                .copied()
                .collect();
            if !after.is_empty() {
                t.clocks = after;
            }
            t.day_clocks = Some((day, all));
        }
    }

    fn created(
        &mut self,
        index: usize,
        day: Day,
        entity: EntityId,
        thread: Handle,
        kind: Kind,
        policy: Policy,
    ) {
        self.report.threads_created += 1;
        if let Some(first) = self
            .thread_index
            .get(&(entity, thread))
            .and_then(|&t| self.threads.get(t))
            .map(|t| t.created_at)
        {
            self.violation(Violation::DuplicateThread {
                index,
                first,
                entity,
                thread,
            });
            return;
        }
        let mut found = None;
        let mut changes = Vec::new();
        let mut before_the_day = false;
        if let Some(history) = self.policies(entity, kind) {
            // In force: the policy in force when the day began, or any of
            // this day's.
            let before = history.before(day);
            let mut latest = before.last().copied();
            let mut carried_today = false;
            for p in history.on(day) {
                latest = Some(p);
                carried_today |= p.policy == policy;
            }
            before_the_day = !carried_today && before.iter().any(|p| p.policy == policy);
            if !carried_today && !before_the_day {
                found = Some(match latest {
                    Some(p) => Violation::PolicyMismatch {
                        index,
                        in_force: p.index,
                        entity,
                        thread,
                        kind,
                    },
                    None => Violation::NoPolicy {
                        index,
                        entity,
                        thread,
                        kind,
                    },
                });
            }
            changes = history.changes_on(day);
        }
        if let Some(v) = found {
            self.violation(v);
        }
        // The day's changes for existing threads may have come after the
        // creation; one that carries the policy of an earlier day was
        // created before all of them.
        let all = reachable(&[ThreadClock::new(policy, day)], &changes);
        let clocks = if before_the_day {
            all.iter()
                .filter(|c| settled(c, &changes))
                .copied()
                .collect()
        } else {
            all.clone()
        };
        self.thread_index
            .insert((entity, thread), self.threads.len());
        self.threads.push(ThreadState {
            entity,
            thread,
            kind,
            created_at: index,
            created: day,
            clocks,
            day_clocks: Some((day, all)),
            deleted_at: None,
        });
    }

    /// The live thread an entry refers to, or the violation it makes.
    fn live_thread(
        &mut self,
        index: usize,
        entity: EntityId,
        thread: Handle,
    ) -> Option<&mut ThreadState> {
        let Some(&t) = self.thread_index.get(&(entity, thread)) else {
            self.violation(Violation::UnknownThread {
                index,
                entity,
                thread,
            });
            return None;
        };
        let deleted_at = self.threads.get(t).and_then(|s| s.deleted_at);
        if let Some(deleted_at) = deleted_at {
            self.violation(Violation::AfterDeletion {
                index,
                deleted_at,
                entity,
                thread,
            });
            return None;
        }
        self.threads.get_mut(t)
    }

    fn closed(&mut self, index: usize, day: Day, entity: EntityId, thread: Handle) {
        let Some(t) = self.live_thread(index, entity, thread) else {
            return;
        };
        // Closing is the same in every clock the thread may have.
        match t.clocks_on(day).first().and_then(|c| c.closed) {
            Some(closed_on) => self.violation(Violation::ClosedTwice {
                index,
                entity,
                thread,
                closed_on,
            }),
            None => t.close(Some(day)),
        }
    }

    fn reopened(&mut self, index: usize, day: Day, entity: EntityId, thread: Handle) {
        let Some(t) = self.live_thread(index, entity, thread) else {
            return;
        };
        match t.clocks_on(day).first().and_then(|c| c.closed) {
            Some(_) => t.close(None),
            None => self.violation(Violation::ReopenedOpen {
                index,
                entity,
                thread,
            }),
        }
    }

    fn deleted(
        &mut self,
        index: usize,
        day: Day,
        entity: EntityId,
        thread: Handle,
        rule: Rule,
        stated: Option<Day>,
    ) {
        let Some(t) = self.live_thread(index, entity, thread) else {
            return;
        };
        t.deleted_at = Some(index);
        let created = t.created_at;
        // The clock that explains the deletion best: fewest violations,
        // and on a tie the one that agrees with the stated deadline (so a
        // late deletion under the policy the server did apply is judged
        // late, not excused as a mismatch under another).
        let verdict = t
            .clocks_on(day)
            .iter()
            .map(|c| judge_deletion(c, (index, day), (entity, thread, created), rule, stated))
            .min_by_key(|(found, _)| {
                let mismatch = found
                    .iter()
                    .any(|v| matches!(v, Violation::DeadlineMismatch { .. }));
                (found.len(), mismatch)
            });
        self.report.deleted_by_rule.count(rule);
        let Some((found, late)) = verdict else {
            return;
        };
        if late {
            self.report.deleted_late += 1;
        } else {
            self.report.deleted_on_time += 1;
        }
        self.report.violations.extend(found);
    }

    fn finish(mut self) -> Report {
        let mut summaries: Vec<EntitySummary> = self
            .entities
            .iter()
            .map(|s| EntitySummary {
                entity: s.entity,
                zone: s.zone.clone(),
                today: s.today,
                threads_open: 0,
                next_deadline: None,
            })
            .collect();
        for t in &self.threads {
            if t.deleted_at.is_some() {
                continue;
            }
            let Some(slot) = self.entity_index.get(&t.entity).copied() else {
                continue;
            };
            let Some(summary) = summaries.get_mut(slot) else {
                continue;
            };
            // Of the clocks the thread may have, the most lenient.
            let Some((rule, deadline)) = t
                .clocks
                .iter()
                .map(ThreadClock::checkable_deadline)
                .max_by_key(|(_, d)| *d)
            else {
                continue;
            };
            summary.threads_open += 1;
            summary.next_deadline =
                Some(summary.next_deadline.map_or(deadline, |d| d.min(deadline)));
            let today = summary.today;
            if today >= add_days(deadline, 3) {
                self.report.deletions_missing += 1;
                self.report.violations.push(Violation::DeletionMissing {
                    created: t.created_at,
                    entity: t.entity,
                    thread: t.thread,
                    rule,
                    deadline,
                    today,
                });
            } else if today == add_days(deadline, 2) {
                self.report.awaiting_batch += 1;
            } else {
                self.report.open_within_deadline += 1;
            }
        }
        self.report.summaries = summaries;
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const E: EntityId = EntityId([0xe1; 16]);
    const NOON: u64 = 12 * 3600;

    fn h(n: u8) -> Handle {
        Handle([n; 16])
    }

    /// A small policy so deadlines are easy to read: closed 10, inactive
    /// 20, receipt 15, cap 30.
    fn small() -> Policy {
        Policy {
            closed: 10,
            inactive: 20,
            receipt: 15,
            cap: 30,
        }
    }

    /// Noon UTC of `day`: the same calendar day in UTC.
    fn noon(day: u32) -> u64 {
        u64::from(day) * 86_400 + NOON
    }

    /// A log for entity `E` in UTC, built in order.
    struct Log(Vec<Entry>);

    impl Log {
        /// `E` exists from day 100 with the small policy for both kinds.
        fn new() -> Log {
            let mut log = Log(Vec::new());
            log.push(
                100,
                Event::Entity {
                    entity: E,
                    zone: ZoneName::new("UTC").unwrap(),
                },
            );
            log.policy(100, Kind::Question, small(), false);
            log.policy(100, Kind::Claim, small(), false);
            log
        }
        fn push(&mut self, day: u32, event: Event) -> &mut Log {
            self.0.push(Entry {
                day: Day(day),
                event,
            });
            self
        }
        fn policy(&mut self, day: u32, kind: Kind, policy: Policy, existing: bool) -> &mut Log {
            self.push(
                day,
                Event::Policy {
                    entity: E,
                    kind,
                    policy,
                    existing,
                },
            )
        }
        fn created_with(&mut self, day: u32, n: u8, policy: Policy) -> &mut Log {
            self.push(
                day,
                Event::Created {
                    entity: E,
                    thread: h(n),
                    kind: Kind::Question,
                    policy,
                },
            )
        }
        fn created(&mut self, day: u32, n: u8) -> &mut Log {
            self.created_with(day, n, small())
        }
        fn closed(&mut self, day: u32, n: u8) -> &mut Log {
            self.push(
                day,
                Event::Closed {
                    entity: E,
                    thread: h(n),
                },
            )
        }
        fn reopened(&mut self, day: u32, n: u8) -> &mut Log {
            self.push(
                day,
                Event::Reopened {
                    entity: E,
                    thread: h(n),
                },
            )
        }
        fn deleted(&mut self, day: u32, n: u8, rule: Rule, deadline: Option<u32>) -> &mut Log {
            self.push(
                day,
                Event::Deleted {
                    entity: E,
                    thread: h(n),
                    rule,
                    deadline: deadline.map(Day),
                },
            )
        }
        fn check(&self, today: u32) -> Report {
            check(&self.0, noon(today))
        }
    }

    // -- policy ------------------------------------------------------------

    #[test]
    fn defaults_are_the_promised_ones_and_valid() {
        let q = Policy::default_for(Kind::Question);
        let c = Policy::default_for(Kind::Claim);
        assert_eq!(
            (q.closed, q.inactive, q.receipt, q.cap),
            (90, 180, 180, 730)
        );
        assert_eq!(
            (c.closed, c.inactive, c.receipt, c.cap),
            (365, 730, 365, 1825)
        );
        assert_eq!(q.validate(), Ok(()));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn validation_edges() {
        let p = |closed, inactive, receipt, cap| Policy {
            closed,
            inactive,
            receipt,
            cap,
        };
        assert_eq!(p(1, 1, 1, 1).validate(), Ok(()));
        assert_eq!(p(3650, 3650, 3650, 3650).validate(), Ok(()));
        use PolicyError::*;
        use PolicyField as F;
        assert_eq!(p(0, 1, 1, 1).validate(), Err(OutOfRange(F::Closed)));
        assert_eq!(p(1, 0, 1, 1).validate(), Err(OutOfRange(F::Inactive)));
        assert_eq!(p(1, 1, 0, 1).validate(), Err(OutOfRange(F::Receipt)));
        assert_eq!(p(1, 1, 1, 0).validate(), Err(OutOfRange(F::Cap)));
        assert_eq!(p(1, 1, 1, 3651).validate(), Err(OutOfRange(F::Cap)));
        assert_eq!(p(3651, 1, 1, 3650).validate(), Err(OutOfRange(F::Closed)));
        assert_eq!(p(31, 30, 30, 30).validate(), Err(LongerThanCap(F::Closed)));
        assert_eq!(
            p(30, 31, 30, 30).validate(),
            Err(LongerThanCap(F::Inactive))
        );
        assert_eq!(p(30, 30, 31, 30).validate(), Err(LongerThanCap(F::Receipt)));
        // Range errors are reported before cap errors.
        assert_eq!(p(3651, 1, 1, 10).validate(), Err(OutOfRange(F::Closed)));
    }

    #[test]
    fn no_longer_than_compares_every_field() {
        let old = small();
        assert!(old.no_longer_than(&old));
        assert!(Policy { cap: 29, ..old }.no_longer_than(&old));
        for longer in [
            Policy { closed: 11, ..old },
            Policy {
                inactive: 21,
                ..old
            },
            Policy { receipt: 16, ..old },
            Policy { cap: 31, ..old },
        ] {
            assert!(!longer.no_longer_than(&old), "{longer:?}");
        }
        // Shorter in one field, longer in another: still longer.
        assert!(
            !Policy {
                closed: 1,
                cap: 31,
                ..old
            }
            .no_longer_than(&old)
        );
    }

    // -- deadlines ---------------------------------------------------------

    #[test]
    fn deadline_is_the_earliest_rule() {
        let p = small(); // closed 10, inactive 20, cap 30
        assert_eq!(
            deadline(&p, Day(100), Day(100), None),
            (Rule::Inactive, Day(120))
        );
        assert_eq!(
            deadline(&p, Day(100), Day(115), None),
            (Rule::Cap, Day(130))
        );
        assert_eq!(
            deadline(&p, Day(100), Day(105), Some(Day(105))),
            (Rule::Closed, Day(115))
        );
        // Closing late: the cap still wins.
        assert_eq!(
            deadline(&p, Day(100), Day(125), Some(Day(125))),
            (Rule::Cap, Day(130))
        );
    }

    #[test]
    fn deadline_ties_prefer_cap_then_closed() {
        let p = small();
        // cap 130 = inactive 110+20
        assert_eq!(
            deadline(&p, Day(100), Day(110), None),
            (Rule::Cap, Day(130))
        );
        // cap 130 = closed 120+10
        assert_eq!(
            deadline(&p, Day(100), Day(115), Some(Day(120))),
            (Rule::Cap, Day(130))
        );
        // closed 110+10 = inactive 100+20
        assert_eq!(
            deadline(&p, Day(100), Day(100), Some(Day(110))),
            (Rule::Closed, Day(120))
        );
    }

    #[test]
    fn reopening_never_resets_the_cap() {
        let p = small();
        let mut clock = ThreadClock::new(p, Day(100));
        clock.closed = Some(Day(101));
        assert_eq!(clock.deadline(), (Rule::Closed, Day(111)));
        clock.closed = None; // reopened
        clock.activity = Day(125);
        assert_eq!(clock.deadline(), (Rule::Cap, Day(130)));
    }

    #[test]
    fn receipt_and_on_time() {
        let p = small();
        assert_eq!(receipt_deadline(&p, Day(100)), Day(115));
        assert_eq!(ThreadClock::new(p, Day(100)).receipt_deadline(), Day(115));
        assert!(on_time(Day(90), Day(100)));
        assert!(on_time(Day(100), Day(100)));
        assert!(on_time(Day(101), Day(100)));
        assert!(!on_time(Day(102), Day(100)));
        // Saturating at the end of time.
        assert!(on_time(Day(u32::MAX), Day(u32::MAX)));
        let far = ThreadClock::new(p, Day(u32::MAX - 5));
        assert_eq!(far.deadline(), (Rule::Cap, Day(u32::MAX)));
    }

    #[test]
    fn a_change_applies_to_existing_threads_but_never_before_its_day() {
        let mut clock = ThreadClock::new(small(), Day(100));
        clock.activity = Day(105);
        let shorter = Policy {
            closed: 5,
            inactive: 8,
            receipt: 6,
            cap: 12,
        };
        assert!(clock.apply_change(shorter, Day(110)));
        // cap 100+12 = 112; inactive 105+8 = 113; receipt 105+6 = 111.
        assert_eq!(clock.deadline(), (Rule::Cap, Day(112)));
        assert_eq!(clock.receipt_deadline(), Day(111));
        // A later, shorter change: 100+1 is floored to 115... no earlier
        // than its own day.
        let tiny = Policy {
            closed: 1,
            inactive: 1,
            receipt: 1,
            cap: 1,
        };
        assert!(clock.apply_change(tiny, Day(111)));
        assert_eq!(clock.deadline(), (Rule::Cap, Day(111)));
        assert_eq!(clock.floor, Some(Day(111)));
        // Closing after the change: closed day + 1.
        clock.closed = Some(Day(120));
        assert_eq!(clock.closed_deadline(), Some(Day(121)));
    }

    #[test]
    fn a_change_skips_later_threads_and_longer_policies() {
        let mut clock = ThreadClock::new(small(), Day(100));
        let shorter = Policy { cap: 20, ..small() };
        assert!(
            !clock.apply_change(shorter, Day(99)),
            "created after the change"
        );
        let longer = Policy {
            closed: 11,
            cap: 20,
            ..small()
        };
        assert!(!clock.apply_change(longer, Day(105)), "longer in one field");
        assert_eq!(clock, ThreadClock::new(small(), Day(100)));
    }

    // -- entries -----------------------------------------------------------

    fn entity_hex() -> String {
        "e1".repeat(16)
    }

    fn sample_entries() -> Vec<(Entry, String)> {
        let e = entity_hex();
        let t = "ab".repeat(16);
        let policy = r#"{"closed":365,"inactive":730,"receipt":365,"cap":1825}"#;
        let claim = Policy::default_for(Kind::Claim);
        let q = Policy::default_for(Kind::Question);
        let qj = r#"{"closed":90,"inactive":180,"receipt":180,"cap":730}"#;
        let key = "0f".repeat(32);
        let staff = "5a".repeat(16);
        vec![
            (
                Entry {
                    day: Day(20790),
                    event: Event::Entity {
                        entity: E,
                        zone: ZoneName::new("America/Mexico_City").unwrap(),
                    },
                },
                format!(
                    r#"{{"v":1,"day":20790,"event":"entity","entity":"{e}","zone":"America/Mexico_City"}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20790),
                    event: Event::Policy {
                        entity: E,
                        kind: Kind::Claim,
                        policy: claim,
                        existing: false,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20790,"event":"policy","entity":"{e}","kind":"claim","policy":{policy},"existing":false}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20791),
                    event: Event::Created {
                        entity: E,
                        thread: Handle([0xab; 16]),
                        kind: Kind::Question,
                        policy: q,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20791,"event":"created","entity":"{e}","thread":"{t}","kind":"question","policy":{qj}}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20792),
                    event: Event::Closed {
                        entity: E,
                        thread: Handle([0xab; 16]),
                    },
                },
                format!(r#"{{"v":1,"day":20792,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            ),
            (
                Entry {
                    day: Day(20793),
                    event: Event::Reopened {
                        entity: E,
                        thread: Handle([0xab; 16]),
                    },
                },
                format!(
                    r#"{{"v":1,"day":20793,"event":"reopened","entity":"{e}","thread":"{t}"}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20800),
                    event: Event::Deleted {
                        entity: E,
                        thread: Handle([0xab; 16]),
                        rule: Rule::Cap,
                        deadline: Some(Day(20800)),
                    },
                },
                format!(
                    r#"{{"v":1,"day":20800,"event":"deleted","entity":"{e}","thread":"{t}","rule":"cap","deadline":20800}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20800),
                    event: Event::Deleted {
                        entity: E,
                        thread: Handle([0xab; 16]),
                        rule: Rule::Withdrawn,
                        deadline: None,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20800,"event":"deleted","entity":"{e}","thread":"{t}","rule":"withdrawn","deadline":null}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20801),
                    event: Event::IssuerKey {
                        entity: E,
                        key: IssuerKeyId([0x0f; 32]),
                        change: KeyChange::Retired,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20801,"event":"issuer_key","entity":"{e}","key":"{key}","change":"retired"}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20801),
                    event: Event::StaffKey {
                        entity: E,
                        staff: StaffId([0x5a; 16]),
                        key: Some(StaffPublicKey([0x0f; 32])),
                        change: StaffKeyChange::Changed,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20801,"event":"staff_key","entity":"{e}","staff":"{staff}","key":"{key}","change":"changed"}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20801),
                    event: Event::StaffKey {
                        entity: E,
                        staff: StaffId([0x5a; 16]),
                        key: None,
                        change: StaffKeyChange::Removed,
                    },
                },
                format!(
                    r#"{{"v":1,"day":20801,"event":"staff_key","entity":"{e}","staff":"{staff}","key":null,"change":"removed"}}"#
                ),
            ),
            (
                Entry {
                    day: Day(20802),
                    event: Event::Restored {
                        size: 123,
                        root: LogRoot([0xff; 32]),
                        backup_day: Day(20700),
                    },
                },
                format!(
                    r#"{{"v":1,"day":20802,"event":"restored","size":123,"root":"{}","backup_day":20700}}"#,
                    "/".repeat(42) + "8="
                ),
            ),
        ]
    }

    #[test]
    fn entries_encode_canonically_and_round_trip() {
        for (entry, json) in sample_entries() {
            assert_eq!(String::from_utf8(entry.encode()).unwrap(), json);
            assert_eq!(Entry::decode(json.as_bytes()), Ok(entry));
        }
    }

    fn closed_json() -> String {
        format!(
            r#"{{"v":1,"day":20792,"event":"closed","entity":"{}","thread":"{}"}}"#,
            entity_hex(),
            "ab".repeat(16)
        )
    }

    #[test]
    fn non_canonical_entries_are_refused() {
        let good = closed_json();
        assert!(Entry::decode(good.as_bytes()).is_ok());
        let e = entity_hex();
        let t = "ab".repeat(16);
        let cases = [
            // reordered fields
            format!(r#"{{"day":20792,"v":1,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1,"day":20792,"event":"closed","thread":"{t}","entity":"{e}"}}"#),
            // whitespace
            format!(r#"{{"v":1, "day":20792,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!("{good}\n"),
            // unknown field
            format!(
                r#"{{"v":1,"day":20792,"event":"closed","entity":"{e}","thread":"{t}","x":1}}"#
            ),
            // an escape for a plain character
            format!(r#"{{"v":1,"day":20792,"event":"clos\u0065d","entity":"{e}","thread":"{t}"}}"#),
            // a missing nullable field
            format!(
                r#"{{"v":1,"day":20800,"event":"deleted","entity":"{e}","thread":"{t}","rule":"withdrawn"}}"#
            ),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_eq!(
                Entry::decode(case.as_bytes()),
                Err(EntryError::NotCanonical),
                "case {i}: {case}"
            );
        }
    }

    #[test]
    fn malformed_entries_are_refused() {
        let e = entity_hex();
        let t = "ab".repeat(16);
        let upper_e = e.to_uppercase();
        let cases = [
            // uppercase hex
            format!(
                r#"{{"v":1,"day":20792,"event":"closed","entity":"{upper_e}","thread":"{t}"}}"#
            ),
            // short and long ids
            format!(
                r#"{{"v":1,"day":20792,"event":"closed","entity":"{}","thread":"{t}"}}"#,
                "e1".repeat(15)
            ),
            format!(r#"{{"v":1,"day":20792,"event":"closed","entity":"{e}00","thread":"{t}"}}"#),
            // unknown event
            format!(r#"{{"v":1,"day":20792,"event":"archived","entity":"{e}","thread":"{t}"}}"#),
            // missing field
            format!(r#"{{"v":1,"day":20792,"event":"closed","entity":"{e}"}}"#),
            format!(r#"{{"v":1,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            r#"{"day":20792,"event":"restored"}"#.to_string(),
            // wrong types and non-canonical numbers
            format!(r#"{{"v":1,"day":"20792","event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1,"day":20792.0,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1,"day":2.0792e4,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1,"day":-1,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1.0,"day":20792,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            format!(r#"{{"v":1,"day":4294967296,"event":"closed","entity":"{e}","thread":"{t}"}}"#),
            // unknown or non-canonically spelled zone
            format!(r#"{{"v":1,"day":1,"event":"entity","entity":"{e}","zone":"Mars/Olympus"}}"#),
            format!(
                r#"{{"v":1,"day":1,"event":"entity","entity":"{e}","zone":"america/mexico_city"}}"#
            ),
            // unknown rule, kind, change
            format!(
                r#"{{"v":1,"day":1,"event":"deleted","entity":"{e}","thread":"{t}","rule":"Cap","deadline":1}}"#
            ),
            // a root that is not 32 bytes of standard base64
            r#"{"v":1,"day":1,"event":"restored","size":1,"root":"AAAA","backup_day":1}"#
                .to_string(),
            format!(
                r#"{{"v":1,"day":1,"event":"restored","size":1,"root":"{}","backup_day":1}}"#,
                "_".repeat(43) + "="
            ),
            // not an object
            "[]".to_string(),
            String::new(),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_eq!(
                Entry::decode(case.as_bytes()),
                Err(EntryError::Malformed),
                "case {i}: {case}"
            );
        }
    }

    #[test]
    fn version_length_utf8_and_consistency() {
        let good = closed_json();
        let v2 = good.replace(r#""v":1"#, r#""v":2"#);
        assert_eq!(
            Entry::decode(v2.as_bytes()),
            Err(EntryError::UnsupportedVersion)
        );
        let v0 = good.replace(r#""v":1"#, r#""v":0"#);
        assert_eq!(
            Entry::decode(v0.as_bytes()),
            Err(EntryError::UnsupportedVersion)
        );

        // 4096 bytes is judged on content; 4097 is refused unread.
        let mut padded = good.clone().into_bytes();
        padded.resize(MAX_ENTRY_LEN, b' ');
        assert_eq!(Entry::decode(&padded), Err(EntryError::NotCanonical));
        padded.push(b' ');
        assert_eq!(Entry::decode(&padded), Err(EntryError::TooLong));

        let mut bad = good.clone().into_bytes();
        bad.push(0xff);
        assert_eq!(Entry::decode(&bad), Err(EntryError::NotUtf8));

        let e = entity_hex();
        let s = "5a".repeat(16);
        let k = "0f".repeat(32);
        for case in [
            format!(
                r#"{{"v":1,"day":1,"event":"staff_key","entity":"{e}","staff":"{s}","key":null,"change":"added"}}"#
            ),
            format!(
                r#"{{"v":1,"day":1,"event":"staff_key","entity":"{e}","staff":"{s}","key":"{k}","change":"removed"}}"#
            ),
        ] {
            assert_eq!(
                Entry::decode(case.as_bytes()),
                Err(EntryError::Inconsistent)
            );
        }
    }

    #[test]
    fn errors_do_not_echo_input() {
        let text = format!("{:?} {}", EntryError::Malformed, EntryError::Malformed);
        assert!(!text.contains("e1e1"));
        let v = Violation::ReopenedOpen {
            index: 0,
            entity: E,
            thread: h(1),
        };
        // Only public audit-log values (ids, days) appear.
        assert!(format!("{v:?}").contains(&h(1).hex()));
    }

    // -- the check: order ----------------------------------------------------

    #[test]
    fn a_clean_life_is_clean() {
        let mut log = Log::new();
        log.created(100, 1)
            .closed(101, 1)
            .reopened(102, 1)
            .closed(103, 1)
            .created(104, 2)
            .deleted(113, 1, Rule::Closed, Some(113))
            .deleted(114, 2, Rule::Withdrawn, None);
        let r = log.check(115);
        assert_eq!(r.violations, vec![]);
        assert_eq!(r.threads_created, 2);
        assert_eq!(r.deleted_on_time, 2);
        assert_eq!(
            r.deleted_by_rule,
            RuleCounts {
                closed: 1,
                withdrawn: 1,
                ..RuleCounts::default()
            }
        );
        assert_eq!(r.entities, 1);
        assert_eq!(r.policy_events, 2);
        assert!(r.is_clean());
    }

    #[test]
    fn days_going_backwards() {
        let mut log = Log::new();
        log.created(105, 1).closed(104, 1);
        let r = log.check(106);
        assert_eq!(
            r.violations,
            vec![Violation::DayBackwards {
                index: 4,
                entity: E,
                day: Day(104),
                previous: Day(105),
            }]
        );
        // Same day is fine.
        let mut log = Log::new();
        log.created(105, 1).closed(105, 1);
        assert!(log.check(106).is_clean());
    }

    #[test]
    fn events_for_unknown_threads() {
        let mut log = Log::new();
        log.closed(101, 1)
            .reopened(101, 2)
            .deleted(101, 3, Rule::Withdrawn, None);
        let r = log.check(102);
        assert_eq!(
            r.violations,
            vec![
                Violation::UnknownThread {
                    index: 3,
                    entity: E,
                    thread: h(1)
                },
                Violation::UnknownThread {
                    index: 4,
                    entity: E,
                    thread: h(2)
                },
                Violation::UnknownThread {
                    index: 5,
                    entity: E,
                    thread: h(3)
                },
            ]
        );
    }

    #[test]
    fn a_handle_created_twice() {
        let mut log = Log::new();
        log.created(101, 1).created(102, 1);
        let r = log.check(103);
        assert_eq!(
            r.violations,
            vec![Violation::DuplicateThread {
                index: 4,
                first: 3,
                entity: E,
                thread: h(1),
            }]
        );
        // The same handle at another entity is another thread.
        let mut log = Log::new();
        log.created(101, 1);
        let other = EntityId([2; 16]);
        log.push(
            101,
            Event::Entity {
                entity: other,
                zone: ZoneName::new("UTC").unwrap(),
            },
        );
        log.push(
            101,
            Event::Policy {
                entity: other,
                kind: Kind::Question,
                policy: small(),
                existing: false,
            },
        );
        log.push(
            101,
            Event::Created {
                entity: other,
                thread: h(1),
                kind: Kind::Question,
                policy: small(),
            },
        );
        assert!(log.check(102).is_clean());
    }

    #[test]
    fn entries_after_deletion() {
        let mut log = Log::new();
        log.created(101, 1)
            .deleted(102, 1, Rule::Withdrawn, None)
            .closed(103, 1)
            .deleted(103, 1, Rule::Withdrawn, None);
        let r = log.check(104);
        assert_eq!(
            r.violations,
            vec![
                Violation::AfterDeletion {
                    index: 5,
                    deleted_at: 4,
                    entity: E,
                    thread: h(1)
                },
                Violation::AfterDeletion {
                    index: 6,
                    deleted_at: 4,
                    entity: E,
                    thread: h(1)
                },
            ]
        );
    }

    #[test]
    fn closing_twice_and_reopening_an_open_thread() {
        let mut log = Log::new();
        log.created(101, 1)
            .closed(102, 1)
            .closed(103, 1)
            .reopened(104, 1)
            .reopened(105, 1);
        let r = log.check(106);
        assert_eq!(
            r.violations,
            vec![
                Violation::ClosedTwice {
                    index: 5,
                    entity: E,
                    thread: h(1),
                    closed_on: Day(102)
                },
                Violation::ReopenedOpen {
                    index: 7,
                    entity: E,
                    thread: h(1)
                },
            ]
        );
    }

    #[test]
    fn entries_before_the_entity_event() {
        let mut log = Log(Vec::new());
        log.policy(100, Kind::Question, small(), false);
        log.push(
            100,
            Event::Entity {
                entity: E,
                zone: ZoneName::new("UTC").unwrap(),
            },
        );
        log.created(100, 1);
        let r = log.check(101);
        assert_eq!(
            r.violations,
            vec![Violation::BeforeEntity {
                index: 0,
                entity: E,
                entity_at: 1
            }]
        );
    }

    #[test]
    fn an_entity_without_entity_event_is_read_in_mexico_city() {
        let mut log = Log(Vec::new());
        log.policy(100, Kind::Question, small(), false)
            .created(100, 1);
        // 05:00 UTC on day 131 is still day 130 in Mexico City: thread 1's
        // cap deadline (130) + 2, awaiting the batch; in UTC it would be
        // missing.
        let r = check(&log.0, 131 * 86_400 + 5 * 3600);
        assert_eq!(
            r.violations,
            vec![Violation::MissingEntity {
                entity: E,
                first: 0
            }]
        );
        assert_eq!(r.awaiting_batch, 0);
        assert_eq!(r.summaries[0].today, Day(130));
        assert_eq!(r.summaries[0].zone, None);
    }

    #[test]
    fn entries_from_the_future() {
        let mut log = Log::new();
        log.created(101, 1).closed(102, 1);
        // Today 101: day 102 is today + 1 (clocks differ); fine.
        assert!(log.check(101).is_clean());
        // Today 100: day 102 is too far.
        let r = log.check(100);
        assert_eq!(
            r.violations,
            vec![Violation::Future {
                index: 4,
                entity: Some(E),
                day: Day(102),
                today: Day(100),
            }]
        );
    }

    // -- the check: policies -------------------------------------------------

    #[test]
    fn a_thread_without_policy() {
        let entity_only = || {
            let mut log = Log(Vec::new());
            log.push(
                100,
                Event::Entity {
                    entity: E,
                    zone: ZoneName::new("UTC").unwrap(),
                },
            );
            log
        };
        let mut log = entity_only();
        log.created(101, 1);
        assert_eq!(
            log.check(102).violations,
            vec![Violation::NoPolicy {
                index: 1,
                entity: E,
                thread: h(1),
                kind: Kind::Question,
            }]
        );
        // A claim policy does not cover questions.
        let mut log = entity_only();
        log.policy(100, Kind::Claim, small(), false).created(101, 1);
        assert!(matches!(
            log.check(102).violations[..],
            [Violation::NoPolicy { .. }]
        ));
        // Nor does one from a later day.
        let mut log = entity_only();
        log.created(101, 1)
            .policy(102, Kind::Question, small(), false);
        assert!(matches!(
            log.check(103).violations[..],
            [Violation::NoPolicy { .. }]
        ));
        // One logged after the thread on the same day does: the order of a
        // day's entries says nothing about time.
        let mut log = entity_only();
        log.created(101, 1)
            .policy(101, Kind::Question, small(), false);
        assert!(log.check(102).is_clean());
    }

    #[test]
    fn a_thread_with_the_wrong_policy() {
        let mut log = Log::new();
        let other = Policy { cap: 31, ..small() };
        log.created_with(101, 1, other);
        let r = log.check(102);
        assert_eq!(
            r.violations,
            vec![Violation::PolicyMismatch {
                index: 3,
                in_force: 1,
                entity: E,
                thread: h(1),
                kind: Kind::Question,
            }]
        );
    }

    #[test]
    fn the_policy_in_force_on_a_day_of_changes() {
        let p1 = Policy { cap: 29, ..small() };
        let p2 = Policy { cap: 28, ..small() };
        let p3 = Policy { cap: 27, ..small() };
        let build = |carried: Policy| {
            let mut log = Log::new();
            log.policy(101, Kind::Question, p1, false)
                .policy(102, Kind::Question, p2, false)
                .policy(102, Kind::Question, p3, false)
                .created_with(102, 1, carried);
            log.check(103)
        };
        // The one before the day, or any of the day's.
        assert!(build(p1).is_clean());
        assert!(build(p2).is_clean());
        assert!(build(p3).is_clean());
        // Not the one before that.
        assert_eq!(
            build(small()).violations,
            vec![Violation::PolicyMismatch {
                index: 6,
                in_force: 5,
                entity: E,
                thread: h(1),
                kind: Kind::Question,
            }]
        );
    }

    #[test]
    fn invalid_policies() {
        let mut log = Log::new();
        let bad = Policy {
            closed: 31,
            ..small()
        };
        log.policy(101, Kind::Claim, bad, false);
        let r = log.check(102);
        assert_eq!(
            r.violations,
            vec![Violation::InvalidPolicy {
                index: 3,
                entity: E,
                kind: Kind::Claim,
                error: PolicyError::LongerThanCap(PolicyField::Closed),
            }]
        );
    }

    #[test]
    fn a_longer_policy_for_existing_threads() {
        let longer = Policy {
            receipt: 16,
            ..small()
        };
        let mut log = Log::new();
        log.policy(101, Kind::Question, longer, false);
        assert!(
            log.check(102).is_clean(),
            "longer for new threads only is fine"
        );
        let mut log = Log::new();
        log.policy(101, Kind::Question, longer, true);
        let r = log.check(102);
        assert_eq!(
            r.violations,
            vec![Violation::LongerPolicy {
                index: 3,
                replaced: 1,
                entity: E,
                kind: Kind::Question,
            }]
        );
        assert_eq!(r.policy_changes_existing, 1);
    }

    #[test]
    fn a_longer_change_is_not_applied_to_existing_threads() {
        // Cap 30 from day 100: deadline 130. The illegal change to cap 40
        // would move it to 140; the auditor holds the server to 130.
        let longer = Policy { cap: 40, ..small() };
        let mut log = Log::new();
        log.created(100, 1)
            .policy(101, Kind::Question, longer, true);
        log.deleted(140, 1, Rule::Cap, Some(140));
        let r = log.check(141);
        assert!(r.violations.contains(&Violation::DeletedLate {
            index: 5,
            created: 3,
            entity: E,
            thread: h(1),
            rule: Rule::Cap,
            deadline: Day(130),
            deleted: Day(140),
        }));
    }

    // -- the check: deadlines ------------------------------------------------

    #[test]
    fn cap_deletion_on_the_day_after_is_on_time_two_days_after_is_late() {
        // Created 100, cap 30: deadline 130.
        let run = |deleted: u32| {
            let mut log = Log::new();
            log.created(100, 1)
                .deleted(deleted, 1, Rule::Cap, Some(130));
            log.check(deleted + 1)
        };
        assert!(run(130).is_clean());
        assert!(run(131).is_clean());
        let r = run(132);
        assert_eq!(
            r.violations,
            vec![Violation::DeletedLate {
                index: 4,
                created: 3,
                entity: E,
                thread: h(1),
                rule: Rule::Cap,
                deadline: Day(130),
                deleted: Day(132),
            }]
        );
        assert_eq!((r.deleted_on_time, r.deleted_late), (0, 1));
    }

    #[test]
    fn closed_deletion_on_the_day_after_is_on_time_two_days_after_is_late() {
        // Closed 105, closed 10: deadline 115.
        let run = |deleted: u32| {
            let mut log = Log::new();
            log.created(100, 1)
                .closed(105, 1)
                .deleted(deleted, 1, Rule::Closed, Some(115));
            log.check(deleted + 1)
        };
        assert!(run(115).is_clean());
        assert!(run(116).is_clean());
        assert_eq!(
            run(117).violations,
            vec![Violation::DeletedLate {
                index: 5,
                created: 3,
                entity: E,
                thread: h(1),
                rule: Rule::Closed,
                deadline: Day(115),
                deleted: Day(117),
            }]
        );
    }

    #[test]
    fn a_withdrawal_is_late_only_against_the_checkable_deadline() {
        let run = |deleted: u32| {
            let mut log = Log::new();
            log.created(100, 1)
                .deleted(deleted, 1, Rule::Withdrawn, None);
            log.check(deleted + 1)
        };
        assert!(run(131).is_clean());
        assert!(matches!(
            run(132).violations[..],
            [Violation::DeletedLate {
                rule: Rule::Cap,
                ..
            }]
        ));
    }

    #[test]
    fn an_inactivity_deletion_is_held_to_the_deadline_it_states() {
        // Stated 125 (last message on 105): on time through 126.
        let run = |deleted: u32| {
            let mut log = Log::new();
            log.created(100, 1)
                .deleted(deleted, 1, Rule::Inactive, Some(125));
            log.check(deleted + 1)
        };
        assert!(run(126).is_clean());
        assert_eq!(
            run(127).violations,
            vec![Violation::DeletedLate {
                index: 4,
                created: 3,
                entity: E,
                thread: h(1),
                rule: Rule::Inactive,
                deadline: Day(125),
                deleted: Day(127),
            }]
        );
    }

    #[test]
    fn a_missing_deletion_is_a_violation_from_deadline_plus_three() {
        let mut log = Log::new();
        log.created(100, 1); // cap deadline 130
        let r = log.check(131);
        assert_eq!(
            (
                r.open_within_deadline,
                r.awaiting_batch,
                r.deletions_missing
            ),
            (1, 0, 0)
        );
        assert!(r.is_clean());
        let r = log.check(132);
        assert_eq!(
            (
                r.open_within_deadline,
                r.awaiting_batch,
                r.deletions_missing
            ),
            (0, 1, 0)
        );
        assert!(r.is_clean());
        let r = log.check(133);
        assert_eq!(
            (
                r.open_within_deadline,
                r.awaiting_batch,
                r.deletions_missing
            ),
            (0, 0, 1)
        );
        assert_eq!(
            r.violations,
            vec![Violation::DeletionMissing {
                created: 3,
                entity: E,
                thread: h(1),
                rule: Rule::Cap,
                deadline: Day(130),
                today: Day(133),
            }]
        );
    }

    #[test]
    fn a_missing_deletion_of_a_closed_thread() {
        let mut log = Log::new();
        log.created(100, 1).closed(101, 1); // closed deadline 111
        assert!(log.check(113).is_clean());
        assert!(matches!(
            log.check(114).violations[..],
            [Violation::DeletionMissing {
                rule: Rule::Closed,
                deadline: Day(111),
                ..
            }]
        ));
        // Reopened: only the cap is left.
        log.reopened(102, 1);
        assert!(log.check(132).is_clean());
    }

    #[test]
    fn the_mexico_city_day_turns_at_six_utc() {
        let mut log = Log(Vec::new());
        log.push(
            100,
            Event::Entity {
                entity: E,
                zone: ZoneName::new("America/Mexico_City").unwrap(),
            },
        );
        log.policy(100, Kind::Question, small(), false);
        // 2026-12-03 is day 20_790. Created 20_757, cap 30: deadline 20_787;
        // missing from 20_790.
        log.created(20_757, 1);
        let midnight_utc = 1_796_256_000;
        assert_eq!(Day::from_unix_seconds(midnight_utc), Day(20_790));
        let before = check(&log.0, midnight_utc + 5 * 3600 + 3599);
        assert_eq!(before.summaries[0].today, Day(20_789));
        assert_eq!(before.awaiting_batch, 1);
        assert!(before.is_clean());
        let after = check(&log.0, midnight_utc + 6 * 3600);
        assert_eq!(after.summaries[0].today, Day(20_790));
        assert!(matches!(
            after.violations[..],
            [Violation::DeletionMissing {
                today: Day(20_790),
                deadline: Day(20_787),
                ..
            }]
        ));
    }

    #[test]
    fn stated_deadlines_must_match_their_rule() {
        let mismatch =
            |log: &Log, rule, stated: Option<u32>, expected| Violation::DeadlineMismatch {
                index: log.0.len() - 1,
                entity: E,
                thread: h(1),
                rule,
                stated: stated.map(Day),
                expected,
            };
        // Cap: exactly 130.
        let mut log = Log::new();
        log.created(100, 1).deleted(129, 1, Rule::Cap, Some(129));
        let want = mismatch(
            &log,
            Rule::Cap,
            Some(129),
            ExpectedDeadline::Exactly(Day(130)),
        );
        assert_eq!(log.check(130).violations, vec![want]);
        let mut log = Log::new();
        log.created(100, 1).deleted(130, 1, Rule::Cap, None);
        let want = mismatch(&log, Rule::Cap, None, ExpectedDeadline::Exactly(Day(130)));
        assert_eq!(log.check(130).violations, vec![want]);

        // Closed: the last closing counts (closed 110, reopened, closed 112).
        let mut log = Log::new();
        log.created(100, 1)
            .closed(110, 1)
            .reopened(111, 1)
            .closed(112, 1);
        log.deleted(122, 1, Rule::Closed, Some(122));
        assert!(log.check(123).is_clean());
        log.0.pop();
        log.deleted(122, 1, Rule::Closed, Some(120));
        let want = mismatch(
            &log,
            Rule::Closed,
            Some(120),
            ExpectedDeadline::Exactly(Day(122)),
        );
        assert_eq!(log.check(123).violations, vec![want]);

        // Inactive: between 120 (message on the creation day) and 130 (cap).
        for (stated, ok) in [(119, false), (120, true), (130, true), (131, false)] {
            let mut log = Log::new();
            log.created(100, 1)
                .deleted(stated.min(131), 1, Rule::Inactive, Some(stated));
            let r = log.check(132);
            let want = mismatch(
                &log,
                Rule::Inactive,
                Some(stated),
                ExpectedDeadline::Between {
                    earliest: Day(120),
                    latest: Day(130),
                },
            );
            assert_eq!(r.violations.contains(&want), !ok, "stated {stated}");
            assert_eq!(r.is_clean(), ok, "stated {stated}: {:?}", r.violations);
        }
        // ... and no later than a closed deadline.
        let mut log = Log::new();
        log.created(100, 1)
            .closed(101, 1)
            .deleted(111, 1, Rule::Inactive, Some(120));
        let want = mismatch(
            &log,
            Rule::Inactive,
            Some(120),
            ExpectedDeadline::Between {
                earliest: Day(120),
                latest: Day(111),
            },
        );
        assert_eq!(log.check(112).violations, vec![want]);

        // Withdrawn: null.
        let mut log = Log::new();
        log.created(100, 1)
            .deleted(105, 1, Rule::Withdrawn, Some(105));
        let want = mismatch(&log, Rule::Withdrawn, Some(105), ExpectedDeadline::Null);
        assert_eq!(log.check(106).violations, vec![want]);
    }

    #[test]
    fn a_closed_rule_deletion_of_an_open_thread() {
        let mut log = Log::new();
        log.created(100, 1).closed(101, 1).reopened(102, 1).deleted(
            111,
            1,
            Rule::Closed,
            Some(111),
        );
        assert_eq!(
            log.check(112).violations,
            vec![Violation::ClosedRuleOnOpen {
                index: 6,
                entity: E,
                thread: h(1),
            }]
        );
    }

    #[test]
    fn a_change_for_existing_threads_moves_deadlines_never_before_its_day() {
        // Thread 1 created 100 (cap 130); change on 120 to cap 12: 112,
        // floored to 120. Thread 2 created 121 carries the new policy.
        let shorter = Policy {
            closed: 5,
            inactive: 8,
            receipt: 6,
            cap: 12,
        };
        let mut log = Log::new();
        log.created(100, 1)
            .policy(120, Kind::Question, shorter, true)
            .deleted(120, 1, Rule::Cap, Some(120))
            .created_with(121, 2, shorter)
            .deleted(133, 2, Rule::Cap, Some(133));
        let r = log.check(134);
        assert_eq!(r.violations, vec![]);
        assert_eq!(r.policy_changes_existing, 1);

        // Stating the old deadline is a mismatch; deleting by it late too.
        let mut log = Log::new();
        log.created(100, 1)
            .policy(120, Kind::Question, shorter, true);
        log.deleted(130, 1, Rule::Cap, Some(130));
        let r = log.check(131);
        assert!(r.violations.contains(&Violation::DeadlineMismatch {
            index: 5,
            entity: E,
            thread: h(1),
            rule: Rule::Cap,
            stated: Some(Day(130)),
            expected: ExpectedDeadline::Exactly(Day(120)),
        }));
        assert!(matches!(
            r.violations[..],
            [
                Violation::DeletedLate {
                    deadline: Day(120),
                    ..
                },
                _
            ] | [
                _,
                Violation::DeletedLate {
                    deadline: Day(120),
                    ..
                }
            ]
        ));

        // A thread created on the change day, before the change was logged,
        // is an existing thread: cap 120 + 12.
        let mut log = Log::new();
        log.created(120, 1)
            .policy(120, Kind::Question, shorter, true);
        assert_eq!(log.check(134).summaries[0].next_deadline, Some(Day(132)));
        assert!(log.check(134).is_clean());
        assert!(matches!(
            log.check(135).violations[..],
            [Violation::DeletionMissing {
                deadline: Day(132),
                ..
            }]
        ));
        // A thread logged after the change but carrying the old policy gets
        // the change applied.
        let mut log = Log::new();
        log.policy(120, Kind::Question, shorter, true)
            .created(120, 1);
        let r = log.check(121);
        assert!(r.is_clean());
        assert_eq!(r.summaries[0].next_deadline, Some(Day(132)));
    }

    #[test]
    fn a_change_cannot_excuse_a_deletion_already_late() {
        // Thread 1's cap deadline is 130; a change on 135 would floor it to
        // 135, and a deletion that day stating 135 would look on time. It is
        // late against 130 whatever comes after.
        let shorter = Policy { cap: 29, ..small() };
        let mut log = Log::new();
        log.created(100, 1)
            .policy(135, Kind::Question, shorter, true)
            .deleted(135, 1, Rule::Cap, Some(135));
        let r = log.check(136);
        assert_eq!(
            r.violations,
            vec![
                Violation::DeadlineMismatch {
                    index: 5,
                    entity: E,
                    thread: h(1),
                    rule: Rule::Cap,
                    stated: Some(Day(135)),
                    expected: ExpectedDeadline::Exactly(Day(130)),
                },
                Violation::DeletedLate {
                    index: 5,
                    created: 3,
                    entity: E,
                    thread: h(1),
                    rule: Rule::Cap,
                    deadline: Day(130),
                    deleted: Day(135),
                }
            ]
        );
        // On the day after the deadline, the change applies (and the
        // deletion is on time either way).
        let mut log = Log::new();
        log.created(100, 1)
            .policy(131, Kind::Question, shorter, true)
            .deleted(131, 1, Rule::Cap, Some(131));
        assert!(log.check(132).is_clean());
    }

    #[test]
    fn a_deletion_on_a_change_day_may_have_come_before_the_change() {
        // Cap deadline 130; the sweeper deletes on 131 (on time), stating
        // 130. The same day a change for existing threads floors deadlines
        // to 131. The day's batch logs the change first; the deletion may
        // still have come first.
        let shorter = Policy { cap: 29, ..small() };
        let mut log = Log::new();
        log.created(100, 1)
            .policy(131, Kind::Question, shorter, true)
            .deleted(131, 1, Rule::Cap, Some(130));
        assert!(log.check(132).is_clean());
        // It may also have come after, under the new clock.
        let mut log = Log::new();
        log.created(100, 1)
            .policy(131, Kind::Question, shorter, true)
            .deleted(131, 1, Rule::Cap, Some(131));
        assert!(log.check(132).is_clean());
        // On a later day only the new clock holds.
        let mut log = Log::new();
        log.created(100, 1)
            .policy(129, Kind::Question, shorter, true)
            .deleted(130, 1, Rule::Cap, Some(130));
        assert_eq!(
            log.check(131).violations,
            vec![Violation::DeadlineMismatch {
                index: 5,
                entity: E,
                thread: h(1),
                rule: Rule::Cap,
                stated: Some(Day(130)),
                expected: ExpectedDeadline::Exactly(Day(129)),
            }]
        );
    }

    #[test]
    fn a_day_of_several_policies_is_read_in_any_order() {
        // On day 110: Pa for existing threads (cap 20), then Px for new
        // threads only (cap 40). The batch may log them either way round.
        let pa = Policy { cap: 20, ..small() };
        let px = Policy { cap: 40, ..small() };
        for order in [[(pa, true), (px, false)], [(px, false), (pa, true)]] {
            let day_of = |log: &mut Log| {
                for (p, existing) in order {
                    log.policy(110, Kind::Question, p, existing);
                }
            };
            // Thread 2 created that day under Px: Pa came before it (so its
            // cap is 110 + 40), or after (and Pa would shorten it to 20):
            // the log cannot say, and both deletions are honest.
            for (deleted, stated) in [(130, 130), (150, 150)] {
                let mut log = Log::new();
                log.created(100, 1);
                day_of(&mut log);
                log.created_with(110, 2, px)
                    .deleted(120, 1, Rule::Cap, Some(120))
                    .deleted(deleted, 2, Rule::Cap, Some(stated));
                assert!(log.check(deleted + 1).is_clean(), "{order:?} {deleted}");
            }
            // Thread 1, created before the day, has Pa: 100 + 20 = 120,
            // floored to 110. The old cap 130 is a mismatch, and late.
            let mut log = Log::new();
            log.created(100, 1);
            day_of(&mut log);
            log.deleted(130, 1, Rule::Cap, Some(130));
            let r = log.check(131);
            assert!(
                matches!(
                    r.violations[..],
                    [
                        Violation::DeadlineMismatch { .. },
                        Violation::DeletedLate {
                            deadline: Day(120),
                            ..
                        }
                    ]
                ),
                "{:?}",
                r.violations
            );
            // A thread created the next day may carry either, since the
            // order of the day's entries does not say which came last.
            for p in [pa, px] {
                let mut log = Log::new();
                day_of(&mut log);
                log.created_with(111, 3, p);
                assert!(log.check(112).is_clean());
            }
        }
    }

    #[test]
    fn a_change_may_replace_any_policy_of_its_day() {
        // Day 110: Px for new threads (cap 40), Pb for existing threads
        // (cap 35): longer than the day's first policy (cap 30) but not
        // than Px, which it may have replaced.
        let px = Policy { cap: 40, ..small() };
        let pb = Policy { cap: 35, ..small() };
        let mut log = Log::new();
        log.policy(110, Kind::Question, pb, true)
            .policy(110, Kind::Question, px, false);
        assert!(log.check(111).is_clean());
        // Longer than every candidate: a violation, naming the policy in
        // force when the day began.
        let pc = Policy { cap: 45, ..small() };
        let mut log = Log::new();
        log.policy(110, Kind::Question, pc, true)
            .policy(110, Kind::Question, px, false);
        assert_eq!(
            log.check(111).violations,
            vec![Violation::LongerPolicy {
                index: 3,
                replaced: 1,
                entity: E,
                kind: Kind::Question,
            }]
        );
    }

    #[test]
    fn restores_are_reported_not_violations() {
        let mut log = Log::new();
        log.push(
            105,
            Event::Restored {
                size: 3,
                root: LogRoot([7; 32]),
                backup_day: Day(101),
            },
        );
        let r = log.check(106);
        assert!(r.is_clean());
        assert_eq!(
            r.restores,
            vec![Restore {
                index: 3,
                day: Day(105),
                size: 3,
                root: LogRoot([7; 32]),
                backup_day: Day(101),
            }]
        );
        // Dated after the server's UTC today + 1.
        let r = log.check(103);
        assert_eq!(
            r.violations,
            vec![Violation::Future {
                index: 3,
                entity: None,
                day: Day(105),
                today: Day(103),
            }]
        );
    }

    #[test]
    fn counts_and_summaries() {
        let mut log = Log::new();
        log.push(
            100,
            Event::IssuerKey {
                entity: E,
                key: IssuerKeyId([1; 32]),
                change: KeyChange::Added,
            },
        );
        log.push(
            100,
            Event::StaffKey {
                entity: E,
                staff: StaffId([2; 16]),
                key: Some(StaffPublicKey([3; 32])),
                change: StaffKeyChange::Added,
            },
        );
        log.created(100, 1)
            .created(101, 2)
            .closed(102, 2)
            .created(103, 3);
        log.deleted(104, 3, Rule::Withdrawn, None);
        let r = log.check(105);
        assert!(r.is_clean());
        assert_eq!(r.entries, 10);
        assert_eq!(r.issuer_key_events, 1);
        assert_eq!(r.staff_key_events, 1);
        assert_eq!(r.threads_created, 3);
        assert_eq!(r.open_within_deadline, 2);
        assert_eq!(
            r.summaries,
            vec![EntitySummary {
                entity: E,
                zone: Some(ZoneName::new("UTC").unwrap()),
                today: Day(105),
                threads_open: 2,
                next_deadline: Some(Day(112)),
            }]
        );
    }

    // -- an honest server, simulated -----------------------------------------

    /// splitmix64: the test's own deterministic randomness.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u32) -> u32 {
            (self.next() % u64::from(n.max(1))) as u32
        }
        fn between(&mut self, lo: u32, hi: u32) -> u32 {
            lo + self.below(hi - lo + 1)
        }
    }

    fn random_policy(rng: &mut Rng) -> Policy {
        if rng.below(10) == 0 {
            return Policy::default_for(if rng.below(2) == 0 {
                Kind::Question
            } else {
                Kind::Claim
            });
        }
        let cap = rng.between(3, 60);
        Policy {
            closed: rng.between(1, cap),
            inactive: rng.between(1, cap),
            receipt: rng.between(1, cap),
            cap,
        }
    }

    fn shorter_policy(rng: &mut Rng, old: &Policy) -> Policy {
        let cap = rng.between(1, old.cap);
        Policy {
            closed: rng.between(1, old.closed.min(cap)),
            inactive: rng.between(1, old.inactive.min(cap)),
            receipt: rng.between(1, old.receipt.min(cap)),
            cap,
        }
    }

    const KINDS: [Kind; 2] = [Kind::Question, Kind::Claim];

    struct SimThread {
        entity: usize,
        kind: Kind,
        handle: Handle,
        clock: ThreadClock,
        live: bool,
        /// The thread's entries so far: its rank in a day's batch.
        seq: u32,
    }

    /// An honest server for two entities (Mexico City and Madrid): threads
    /// are created, written to, closed, reopened and withdrawn at random;
    /// policies change (shorter ones for existing threads); sweeps during
    /// and at the end of every day delete each thread on its
    /// [`ThreadClock::deadline`], or now and then on the day after. Each
    /// day's entries are appended as the server does
    /// (`audit::append_due`): shuffled, then ordered by rank — entity, then
    /// policy and key entries, then each thread's entries in order.
    struct Sim {
        rng: Rng,
        ids: [EntityId; 2],
        policies: [[Policy; 2]; 2],
        threads: Vec<SimThread>,
        pending: [Vec<(u32, Entry)>; 2],
        log: Vec<Entry>,
        /// The latest cap deadline any thread was created with.
        bound: u32,
    }

    impl Sim {
        fn record(&mut self, e: usize, day: u32, rank: u32, event: Event) {
            self.pending[e].push((
                rank,
                Entry {
                    day: Day(day),
                    event,
                },
            ));
        }

        fn thread_event(&mut self, i: usize, day: u32, event: Event) {
            let t = &mut self.threads[i];
            let rank = 2 + t.seq;
            t.seq += 1;
            let e = t.entity;
            self.record(e, day, rank, event);
        }

        fn end_day(&mut self) {
            for e in 0..2 {
                let mut batch = std::mem::take(&mut self.pending[e]);
                for i in (1..batch.len()).rev() {
                    let j = self.rng.below(i as u32 + 1) as usize;
                    batch.swap(i, j);
                }
                batch.sort_by_key(|(rank, _)| *rank);
                self.log.extend(batch.into_iter().map(|(_, entry)| entry));
            }
        }

        fn live(&self, e: usize) -> Vec<usize> {
            (0..self.threads.len())
                .filter(|&i| self.threads[i].entity == e && self.threads[i].live)
                .collect()
        }

        fn pick(&mut self, e: usize) -> Option<usize> {
            let live = self.live(e);
            live.get(self.rng.below(live.len() as u32) as usize)
                .copied()
        }

        fn sweep(&mut self, e: usize, day: u32) {
            for i in self.live(e) {
                let (rule, due) = self.threads[i].clock.deadline();
                assert!(on_time(Day(day), due), "an honest sweep is on time");
                // Now and then the sweep runs a day late (still on time).
                if due.0 < day || (due.0 == day && self.rng.below(8) != 0) {
                    self.threads[i].live = false;
                    let event = Event::Deleted {
                        entity: self.ids[e],
                        thread: self.threads[i].handle,
                        rule,
                        deadline: Some(due),
                    };
                    self.thread_event(i, day, event);
                }
            }
        }

        fn op(&mut self, e: usize, day: u32) {
            let entity = self.ids[e];
            match self.rng.below(100) {
                0..30 => {
                    let k = self.rng.below(2) as usize;
                    let mut handle = [0u8; 16];
                    handle[..8].copy_from_slice(&self.rng.next().to_le_bytes());
                    handle[8..].copy_from_slice(&(self.threads.len() as u64).to_le_bytes());
                    let policy = self.policies[e][k];
                    self.bound = self.bound.max(day + policy.cap);
                    self.threads.push(SimThread {
                        entity: e,
                        kind: KINDS[k],
                        handle: Handle(handle),
                        clock: ThreadClock::new(policy, Day(day)),
                        live: true,
                        seq: 0,
                    });
                    let event = Event::Created {
                        entity,
                        thread: Handle(handle),
                        kind: KINDS[k],
                        policy,
                    };
                    self.thread_event(self.threads.len() - 1, day, event);
                }
                30..50 => {
                    if let Some(i) = self.pick(e) {
                        self.threads[i].clock.activity = Day(day);
                    }
                }
                50..65 => {
                    if let Some(i) = self
                        .pick(e)
                        .filter(|&i| self.threads[i].clock.closed.is_none())
                    {
                        self.threads[i].clock.closed = Some(Day(day));
                        let thread = self.threads[i].handle;
                        self.thread_event(i, day, Event::Closed { entity, thread });
                    }
                }
                65..75 => {
                    if let Some(i) = self
                        .pick(e)
                        .filter(|&i| self.threads[i].clock.closed.is_some())
                    {
                        self.threads[i].clock.closed = None;
                        self.threads[i].clock.activity = Day(day);
                        let thread = self.threads[i].handle;
                        self.thread_event(i, day, Event::Reopened { entity, thread });
                    }
                }
                75..79 => {
                    if let Some(i) = self.pick(e) {
                        self.threads[i].live = false;
                        let event = Event::Deleted {
                            entity,
                            thread: self.threads[i].handle,
                            rule: Rule::Withdrawn,
                            deadline: None,
                        };
                        self.thread_event(i, day, event);
                    }
                }
                79..86 => {
                    let k = self.rng.below(2) as usize;
                    let existing = self.rng.below(2) == 0;
                    let policy = if existing {
                        shorter_policy(&mut self.rng, &self.policies[e][k])
                    } else {
                        random_policy(&mut self.rng)
                    };
                    self.policies[e][k] = policy;
                    let event = Event::Policy {
                        entity,
                        kind: KINDS[k],
                        policy,
                        existing,
                    };
                    self.record(e, day, 1, event);
                    if existing {
                        for i in self.live(e) {
                            let t = &mut self.threads[i];
                            if t.kind == KINDS[k] {
                                t.clock.apply_change(policy, Day(day));
                            }
                        }
                    }
                }
                86..90 => {
                    let event = Event::StaffKey {
                        entity,
                        staff: StaffId([self.rng.below(256) as u8; 16]),
                        key: Some(StaffPublicKey([self.rng.below(256) as u8; 32])),
                        change: StaffKeyChange::Added,
                    };
                    self.record(e, day, 1, event);
                }
                90..93 => {
                    let event = Event::IssuerKey {
                        entity,
                        key: IssuerKeyId([self.rng.below(256) as u8; 32]),
                        change: KeyChange::Added,
                    };
                    self.record(e, day, 1, event);
                }
                93..94 => {
                    let event = Event::Restored {
                        size: self.log.len() as u64,
                        root: LogRoot([self.rng.below(256) as u8; 32]),
                        backup_day: Day(day - 1),
                    };
                    self.record(e, day, 0, event);
                }
                _ => {}
            }
        }
    }

    /// The honest server's log, run until every thread is gone, and an
    /// auditor's clock late enough that every thread's deadline + 3 has
    /// passed.
    fn honest_log(seed: u64) -> (Vec<Entry>, u64) {
        let zones = ["America/Mexico_City", "Europe/Madrid"];
        let mut sim = Sim {
            rng: Rng(seed),
            ids: [EntityId([1; 16]), EntityId([2; 16])],
            policies: [[small(); 2]; 2],
            threads: Vec::new(),
            pending: [Vec::new(), Vec::new()],
            log: Vec::new(),
            bound: 0,
        };
        let start = 20_000 + sim.rng.below(1000);
        for (e, zone) in zones.into_iter().enumerate() {
            let event = Event::Entity {
                entity: sim.ids[e],
                zone: ZoneName::new(zone).unwrap(),
            };
            sim.record(e, start, 0, event);
            for (k, kind) in KINDS.into_iter().enumerate() {
                let policy = random_policy(&mut sim.rng);
                sim.policies[e][k] = policy;
                let event = Event::Policy {
                    entity: sim.ids[e],
                    kind,
                    policy,
                    existing: false,
                };
                sim.record(e, start, 1, event);
            }
        }
        let mut day = start;
        for d in 0..sim.rng.between(10, 60) {
            day = start + d;
            for e in 0..2 {
                let ops = sim.rng.below(8);
                let sweep_at = sim.rng.below(ops + 1);
                for j in 0..ops {
                    if j == sweep_at {
                        sim.sweep(e, day);
                    }
                    sim.op(e, day);
                }
                sim.sweep(e, day);
            }
            sim.end_day();
        }
        // Quiet days until every thread is gone.
        while let Some(next) = sim
            .threads
            .iter()
            .filter(|t| t.live)
            .map(|t| t.clock.deadline().1.0)
            .min()
        {
            day = next.max(day + 1);
            for e in 0..2 {
                sim.sweep(e, day);
            }
            sim.end_day();
        }
        let today = sim.bound.max(day) + 3;
        (sim.log, noon(today))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn an_honest_server_leaves_a_clean_log(seed in any::<u64>(), pick in any::<usize>()) {
            let (log, now) = honest_log(seed);
            let report = check(&log, now);
            prop_assert_eq!(&report.violations, &vec![]);
            prop_assert_eq!(report.deleted_on_time, report.threads_created);
            prop_assert_eq!(report.deleted_late, 0);

            let deletions: Vec<usize> = log.iter().enumerate()
                .filter(|(_, e)| matches!(e.event, Event::Deleted { .. }))
                .map(|(i, _)| i)
                .collect();
            prop_assume!(!deletions.is_empty());

            // One deletion dropped: missing.
            let dropped = deletions[pick % deletions.len()];
            let mut without = log.clone();
            let gone = without.remove(dropped);
            let report = check(&without, now);
            prop_assert!(report.violations.iter().any(|v| matches!(v,
                Violation::DeletionMissing { thread, .. } if Some(*thread) == gone.event.thread())),
                "{:?}", report.violations);

            // One deadline deletion two days late: a violation.
            let timed: Vec<usize> = deletions.iter().copied()
                .filter(|&i| !matches!(log[i].event, Event::Deleted { rule: Rule::Withdrawn, .. }))
                .collect();
            prop_assume!(!timed.is_empty());
            let moved = timed[pick % timed.len()];
            let mut delayed = log.clone();
            let mut entry = delayed.remove(moved);
            entry.day = Day(entry.day.0 + 2);
            let entity = entry.event.entity();
            // Keep the entity's days in order: after its last entry dated
            // no later than the new day.
            let at = delayed.iter().rposition(|e| e.event.entity() == entity && e.day <= entry.day)
                .map_or(0, |i| i + 1);
            delayed.insert(at, entry);
            let report = check(&delayed, now);
            prop_assert!(!report.violations.is_empty());
            prop_assert!(report.violations.iter().all(|v| matches!(v,
                Violation::DeletedLate { .. } | Violation::DeadlineMismatch { .. })),
                "{:?}", report.violations);
        }
    }
}
