//! Errors of the SAADD service. The web layer maps each to a status code
//! and a translated message; none carries user data.

use std::fmt;

use crate::store::StoreError;

#[derive(Debug)]
pub enum SaaddError {
    /// No such entity, thread, staff member or attachment (or not yours).
    NotFound,
    /// The reporter excluded every coordinator: nobody could read it.
    NoReader,
    /// The message is empty or only blanks.
    EmptyMessage,
    /// The message is longer than the limit (characters).
    MessageTooLong { limit: usize },
    /// The message contains a NUL character.
    NulInMessage,
    /// The message is not valid UTF-8 text.
    NotText,
    /// One attachment is larger than the limit (bytes).
    AttachmentTooLarge { limit: u64 },
    /// More attachments than allowed on one message or thread.
    TooManyAttachments { limit: usize },
    /// The thread has reached its message limit.
    ThreadFull { limit: u32 },
    /// The receipt does not open any thread. One variant for every cause.
    WrongReceipt,
    /// Login name or password wrong. One variant for both.
    WrongLogin,
    /// Too many key derivations are queued; try again shortly.
    Busy,
    /// The action is not allowed for this person or in this state.
    Forbidden,
    /// The status change is not allowed from the current status.
    BadStatusChange,
    /// The new password is too easy to guess.
    WeakPassword,
    /// A slug or login name already exists.
    Taken,
    /// The thread is for readers on their own device only, and this staff
    /// member reads through the server.
    DeviceOnly,
    /// A record or field a client sent has the wrong shape, place or
    /// epoch (spec/api.md, "What the server checks"); names the field.
    Malformed(&'static str),
    /// A client-sealed record carries a day other than today or yesterday.
    WrongDay,
    /// The thread changed since the caller read it (a message was added,
    /// the key rotated, a reader left): read again and retry.
    Stale,
    /// Someone lost access: the caller must rotate the key before writing.
    RotationDue,
    /// A field was invalid (which one is named for operators, never user data).
    Invalid(&'static str),
    /// A stored record could not be read: corruption or a bug.
    Corrupt(&'static str),
    /// Storage failed.
    Store(StoreError),
}

impl fmt::Display for SaaddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaaddError::NotFound => f.write_str("not found"),
            SaaddError::NoReader => f.write_str("no reader would remain"),
            SaaddError::Malformed(what) => write!(f, "malformed {what}"),
            SaaddError::WrongDay => f.write_str("wrong day"),
            SaaddError::Stale => f.write_str("the thread changed meanwhile"),
            SaaddError::RotationDue => f.write_str("the key must rotate first"),
            SaaddError::DeviceOnly => f.write_str("the thread is for device-only readers"),
            SaaddError::EmptyMessage => f.write_str("empty message"),
            SaaddError::MessageTooLong { limit } => {
                write!(f, "message longer than {limit} characters")
            }
            SaaddError::NulInMessage => f.write_str("NUL character in message"),
            SaaddError::NotText => f.write_str("message is not UTF-8 text"),
            SaaddError::AttachmentTooLarge { limit } => {
                write!(f, "attachment larger than {limit} bytes")
            }
            SaaddError::TooManyAttachments { limit } => write!(f, "more than {limit} attachments"),
            SaaddError::ThreadFull { limit } => write!(f, "thread has {limit} messages"),
            SaaddError::WrongReceipt => f.write_str("wrong receipt"),
            SaaddError::WrongLogin => f.write_str("wrong login"),
            SaaddError::Busy => f.write_str("busy"),
            SaaddError::Forbidden => f.write_str("forbidden"),
            SaaddError::BadStatusChange => f.write_str("status change not allowed"),
            SaaddError::WeakPassword => f.write_str("password too weak"),
            SaaddError::Taken => f.write_str("already exists"),
            SaaddError::Invalid(what) => write!(f, "invalid {what}"),
            SaaddError::Corrupt(what) => write!(f, "unreadable stored {what}"),
            SaaddError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SaaddError {}

impl From<StoreError> for SaaddError {
    fn from(e: StoreError) -> Self {
        SaaddError::Store(e)
    }
}
