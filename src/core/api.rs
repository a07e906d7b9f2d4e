//! The JSON API's shapes, shared by the server (`src/web/api.rs`) and the
//! command-line client (`src/client/`), and the signature over the entity
//! document (spec/api.md). Pure: no I/O; signing is deterministic Ed25519.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::Day;
use super::envelope::Id;
use super::wrap::RecipientKey;

/// Prefix of the signed bytes: `"buzon/entity-keys/v1" || document`.
pub const SIGNING_CONTEXT: &[u8] = b"buzon/entity-keys/v1";

/// Version of the entity document.
pub const DOCUMENT_VERSION: u8 = 1;

/// base64url without padding, the encoding of every binary API value.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()
}

/// The server's Ed25519 public key for a 32-byte seed.
pub fn signing_public(seed: &[u8; 32]) -> Option<[u8; 32]> {
    use ring::signature::KeyPair as _;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    pair.public_key().as_ref().try_into().ok()
}

/// Signs an entity document.
pub fn sign_document(seed: &[u8; 32], document: &[u8]) -> Option<[u8; 64]> {
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    let mut msg = SIGNING_CONTEXT.to_vec();
    msg.extend_from_slice(document);
    pair.sign(&msg).as_ref().try_into().ok()
}

/// Checks an entity document's signature.
pub fn verify_document(public: &[u8; 32], document: &[u8], signature: &[u8]) -> bool {
    let mut msg = SIGNING_CONTEXT.to_vec();
    msg.extend_from_slice(document);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(&msg, signature)
        .is_ok()
}

/// `GET /api/v1/entities`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedDocument {
    pub document: String,
    pub signature: String,
    pub server_key: String,
}

/// The signed entity document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityDocument {
    pub v: u8,
    pub day: Day,
    pub entities: Vec<EntityKeys>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityKeys {
    pub id: Id,
    pub slug: String,
    pub name: String,
    pub complaints_office: String,
    /// `open` or `token`.
    pub policy: String,
    pub staff: Vec<StaffKey>,
    /// The retention policy reporters are shown before they write
    /// (spec/retention.md); absent from servers before retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionShown>,
}

/// An entity's retention, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionShown {
    pub question: crate::core::retention::Policy,
    pub claim: crate::core::retention::Policy,
    /// Days an encrypted backup stays readable at most, if backups are set up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_days: Option<u32>,
}

/// How a staff member reads: on their own device only, or through the
/// server (key sealed under a password the server sees at sign-in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reads {
    Device,
    Server,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaffKey {
    pub id: Id,
    /// `coordinator` or `advisor`.
    pub role: String,
    pub display_name: String,
    pub public_key: RecipientKey,
    pub reads: Reads,
}

/// `POST /api/v1/sessions/reporter`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReporterSessionRequest {
    pub lookup: String,
}

/// `POST /api/v1/sessions/staff`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaffSessionRequest {
    pub login: String,
}

/// Answer to either session request: `thread` for a reporter, `staff` for
/// staff, and the wrapped session secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionChallenge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<Id>,
    /// The session's clear part (base64url): the bearer is
    /// `session "." base64url(unwrapped challenge)`.
    pub session: String,
    pub challenge: String,
}

/// A wrap sent by a client: the slot (`"reporter"` or a staff id) and the
/// inner wrap, base64url.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WrapIn {
    pub slot: String,
    pub wrap: String,
}

/// An attachment sent with a message: its record and chunk count.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttachmentIn {
    pub id: Id,
    pub record: String,
    pub chunks: u32,
}

/// The `thread` part of `POST /api/v1/threads`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewThreadIn {
    pub entity: String,
    pub id: Id,
    /// `question` or `claim`.
    pub kind: String,
    pub reporter_key: RecipientKey,
    /// Hex, 32 bytes.
    pub receipt_index: String,
    #[serde(default)]
    pub device_only: bool,
    pub wraps: Vec<WrapIn>,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
}

/// The `message` part of `POST /api/v1/threads/{id}/messages`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MessageIn {
    pub seq: u32,
    pub record: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
}

/// A rotation made on the client (spec/api.md, "Rotation").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RotationIn {
    pub epoch: u32,
    pub link: String,
    pub wraps: Vec<WrapIn>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AssignIn {
    pub advisor: Id,
    pub wrap: String,
}

/// `POST /api/v1/threads/{id}/grant`: wraps of the current key for
/// coordinators (spec/api.md, "Granting access again").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrantIn {
    pub wraps: Vec<WrapIn>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnassignIn {
    pub advisor: Id,
    pub rotation: RotationIn,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusIn {
    pub status: String,
}

/// One reader of a thread as the thread view lists them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReaderOut {
    pub id: Id,
    pub role: String,
    pub display_name: String,
    pub public_key: RecipientKey,
    pub reads: Reads,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkOut {
    pub epoch: u32,
    pub link: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MessageOut {
    pub seq: u32,
    pub record: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttachmentOut {
    pub id: Id,
    pub record: String,
}

/// `GET /api/v1/threads/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadOut {
    pub id: Id,
    pub entity: String,
    pub kind: String,
    pub status: String,
    pub created: Day,
    pub activity: Day,
    pub closed: Option<Day>,
    pub epoch: u32,
    pub rotate: bool,
    pub device_only: bool,
    pub messages: u32,
    pub attachments: u32,
    /// The server's day now.
    pub day: Day,
    pub reporter_key: RecipientKey,
    pub readers: Vec<ReaderOut>,
    pub shown: Vec<Id>,
    pub advisors: Vec<Id>,
    pub wrap: String,
    pub links: Vec<LinkOut>,
    pub message_records: Vec<MessageOut>,
    pub attachment_records: Vec<AttachmentOut>,
}

/// One line of `GET /api/v1/staff/threads`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub id: Id,
    pub kind: String,
    pub status: String,
    pub created: Day,
    pub activity: Day,
    pub epoch: u32,
    pub messages: u32,
    pub rotate: bool,
    pub device_only: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadList {
    pub threads: Vec<ThreadSummary>,
}

/// `{"thread": id}` or `{"seq": n}` answers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Created {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
}

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_signature_binds_key_and_bytes() {
        let seed = [7u8; 32];
        let public = signing_public(&seed).unwrap();
        let sig = sign_document(&seed, b"{\"v\":1}").unwrap();
        assert!(verify_document(&public, b"{\"v\":1}", &sig));
        assert!(!verify_document(&public, b"{\"v\":2}", &sig));
        let other = signing_public(&[8u8; 32]).unwrap();
        assert!(!verify_document(&other, b"{\"v\":1}", &sig));
        let mut bad = sig;
        bad[0] ^= 1;
        assert!(!verify_document(&public, b"{\"v\":1}", &bad));
    }

    #[test]
    fn base64url_has_no_padding_and_refuses_other_alphabets() {
        assert_eq!(b64(&[0xfb, 0xff]), "-_8");
        assert_eq!(unb64("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(unb64("+/8="), None);
    }
}
