//! The clear records: entities, staff and thread headers, stored as JSON
//! (spec/storage.md). They hold no message text, no exact time and no
//! reporter identity; what they do reveal is listed in threat-model.md.

use serde::{Deserialize, Serialize};

use crate::core::Day;
use crate::core::envelope::Id;
use crate::core::status::{Kind, Status};
use crate::core::wrap::RecipientKey;

pub const RECORD_VERSION: u8 = 1;

/// An entity (a public body) whose servants write to its advisors.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntityRecord {
    pub v: u8,
    pub id: Id,
    /// Short name in URLs, e.g. `sej`.
    pub slug: String,
    pub name: String,
    /// Where to file a formal complaint (the internal control body), shown
    /// to reporters before they write.
    pub complaints_office: String,
    /// Working days within which a first reply is expected.
    pub first_response_days: u16,
    /// Working days within which an answer is expected.
    pub answer_days: u16,
    /// IANA time zone whose calendar days the entity's retention counts
    /// (spec/retention.md, "Days"); absent means America/Mexico_City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl EntityRecord {
    /// The entity's time zone (America/Mexico_City unless configured).
    pub fn zone(&self) -> crate::core::zone::Zone {
        self.zone
            .as_deref()
            .and_then(|z| crate::core::zone::Zone::named(z).ok())
            .unwrap_or_else(crate::core::zone::Zone::default_zone)
    }
}

/// What a staff member may do.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the entity's staff (no access to threads).
    EntityAdmin,
    /// Receives the entity's threads and assigns them to advisors.
    Coordinator,
    /// Answers the threads assigned to them.
    Advisor,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::EntityAdmin => "entity_admin",
            Role::Coordinator => "coordinator",
            Role::Advisor => "advisor",
        }
    }
    pub fn from_key(s: &str) -> Option<Role> {
        [Role::EntityAdmin, Role::Coordinator, Role::Advisor]
            .into_iter()
            .find(|r| r.key() == s || r.key().replace('_', "-") == s)
    }
}

/// A staff member. The private key is sealed under their password.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaffRecord {
    pub v: u8,
    pub id: Id,
    pub entity: Id,
    pub role: Role,
    /// Login name.
    pub login: String,
    /// How the person is shown to reporters and colleagues.
    pub display_name: String,
    /// The staff key record (spec/envelope.md), hex. Empty for a member
    /// whose key lives only on their own device.
    pub key: String,
    /// The public key of a member whose private key never reaches the
    /// server (registered with `buzon staff add --public-key`; spec/api.md).
    /// Such a member signs in only through the API, never with a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<RecipientKey>,
    pub active: bool,
    /// Set for passwords handed over by someone else (first login, reset).
    pub must_change_password: bool,
}

impl std::fmt::Debug for StaffRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffRecord([redacted])")
    }
}

/// A thread's clear header.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ThreadRecord {
    pub v: u8,
    pub id: Id,
    pub entity: Id,
    pub kind: Kind,
    pub status: Status,
    /// Day the thread was created.
    pub created: Day,
    /// Day of the last message from either side.
    pub activity: Day,
    /// Day it was last closed, if it is closed.
    pub closed: Option<Day>,
    /// Current key epoch.
    pub epoch: u32,
    /// The reporter's public key (from the receipt), so staff can rewrap.
    pub reporter_key: RecipientKey,
    /// Coordinators the reporter was shown and did not exclude.
    pub shown: Vec<Id>,
    /// Advisors assigned by a coordinator.
    pub advisors: Vec<Id>,
    /// Staff who hold a wrap of the current epoch's key.
    pub readers: Vec<Id>,
    /// Someone lost access without a rotation (removed or reset staff):
    /// the next writer rotates the key before sealing anything.
    pub rotate: bool,
    /// The receipt lookup index (a one-way hash of the lookup handle), so
    /// that withdrawal and deletion can remove it.
    #[serde(with = "hex32")]
    pub receipt_index: [u8; 32],
    /// Number of messages (the next message's seq).
    pub messages: u32,
    /// Number of attachments.
    pub attachments: u32,
    /// Only staff who read on their own device may hold a wrap (spec/api.md,
    /// "Device-only threads"). Absent in records written before it existed.
    #[serde(default)]
    pub device_only: bool,
    /// The thread's random audit handle: its entries in the audit log
    /// share it, and nothing else holds it (spec/retention.md). Absent only
    /// on threads made before retention, until the first sweep gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Id>,
    /// The retention policy the thread lives under: the entity's policy
    /// for its kind on its creation day, or a shorter one applied later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::core::retention::Policy>,
    /// The day a policy change was applied to this thread: no deadline
    /// falls before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_floor: Option<Day>,
    /// Audit entries written for this thread so far: orders them inside
    /// one day's shuffled batch.
    #[serde(default)]
    pub audit_seq: u32,
    /// The receipt stopped working (retention's `receipt` rule): its
    /// lookup entry is gone.
    #[serde(default)]
    pub receipt_expired: bool,
    /// Set when deletion has begun; the thread is then gone for every
    /// reader, and the sweeper finishes the deletion after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<Deleting>,
}

/// A deletion in progress: which rule and which deadline it follows.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Deleting {
    pub rule: crate::core::retention::Rule,
    pub deadline: Option<Day>,
}

impl std::fmt::Debug for ThreadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThreadRecord([redacted])")
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}
