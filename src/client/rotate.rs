//! Rotating a thread's key from the client (spec/api.md, "Rotation"):
//! when the view says `rotate: true`, the next writer makes the new epoch
//! before writing. The new key is wrapped only for the reporter and the
//! active readers, each of whose keys must first match the signed entity
//! document ([`super::document::check_readers`]): the client will not
//! hand the new key to a key the server made up. The reporter's key is in
//! no signed list; a reporter checks it is their own before rotating
//! ([`super::reporter::reply`]), staff must take the view's word for it.

use super::document;
use super::error::ClientError;
use super::http::Api;
use super::lang::t;
use super::records;
use super::thread::{self, OpenedThread};
use crate::core::api::RotationIn;
use crate::core::envelope::Id;
use crate::core::wrap::RecipientSecret;
use crate::platform::Entropy;

/// Builds a rotation that leaves out `remove`, after checking the readers
/// that keep access against the signed document.
pub async fn checked_rotation(
    api: &Api,
    opened: &OpenedThread,
    remove: Option<Id>,
    pin: Option<&[u8; 32]>,
    entropy: &dyn Entropy,
) -> Result<RotationIn, ClientError> {
    let doc = document::fetch(api, pin).await?;
    let entity = doc.entity(&opened.view.entity)?;
    let keep: Vec<_> = records::remaining_readers(&opened.view.readers, remove)
        .into_iter()
        .cloned()
        .collect();
    document::check_readers(entity, &keep)?;
    records::rotation(opened, remove, entropy)
}

/// Rotates when the thread is due, and returns the thread as it is now
/// (read again after a rotation).
pub async fn rotate_if_due(
    api: &Api,
    opened: OpenedThread,
    secret: &RecipientSecret,
    pin: Option<&[u8; 32]>,
    entropy: &dyn Entropy,
) -> Result<OpenedThread, ClientError> {
    if !opened.view.rotate {
        return Ok(opened);
    }
    // Only the reporter and coordinators rotate (spec/api.md, "Rotation").
    if let crate::core::envelope::Slot::Staff(me) = opened.slot
        && !opened
            .view
            .readers
            .iter()
            .any(|r| r.id == me && r.role == "coordinator")
    {
        return Err(ClientError::RotationPending);
    }
    let rotation = checked_rotation(api, &opened, None, pin, entropy).await?;
    api.post_json_ok(
        &format!("/api/v1/threads/{}/rotate", opened.id().hex()),
        &rotation,
    )
    .await?;
    eprintln!(
        "{}",
        t(
            api.lang(),
            "Alguien había perdido el acceso: la llave de la conversación se cambió antes de escribir.",
            "Someone had lost access: the conversation's key was changed before writing.",
        )
    );
    thread::fetch(api, opened.id(), opened.slot, secret).await
}
