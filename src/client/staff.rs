//! Commands of staff who read on their own device (`buzon advisor …`,
//! `buzon coordinator …`): sign in by unwrapping a challenge with the key
//! file's private key, then read, reply, assign, unassign and set status.
//!
//! The passphrase opens the key file here (Argon2id at the file's cost);
//! neither it nor the private key is ever sent. A challenge that does not
//! open means the login or the key is wrong: one message for both, as the
//! server answers unknown logins with a challenge no key opens.

use std::path::{Path, PathBuf};

use super::document;
use super::error::ClientError;
use super::http::{Api, Connection};
use super::keyfile;
use super::lang::Lang;
use super::records;
use super::reporter::save_all;
use super::rotate;
use super::session::{self, SessionFor};
use super::show;
use super::thread::{self, OpenedThread};
use super::upload::{self, FilePlan};
use crate::core::api::{
    Created, Reads, SessionChallenge, StaffSessionRequest, StatusIn, ThreadList, UnassignIn,
};
use crate::core::envelope::{Id, Slot};
use crate::core::status::Status;
use crate::core::wrap::RecipientSecret;
use crate::platform::Entropy;

/// A staff member signed in.
pub struct StaffSession {
    pub api: Api,
    pub id: Id,
    secret: RecipientSecret,
    pin: Option<[u8; 32]>,
}

/// Opens the key file with the passphrase (off the async threads: 256 MiB
/// of Argon2id), then signs in as `login`.
pub async fn sign_in(
    connection: &Connection,
    login: &str,
    key_file: &Path,
    passphrase: zeroize::Zeroizing<String>,
    lang: Lang,
) -> Result<StaffSession, ClientError> {
    let pin = connection.pin()?;
    let mut api = connection.api(lang)?;
    let record = keyfile::read(key_file)?;
    // The server proves its key (when pinned) before anything else.
    let doc = super::document::fetch(&api, pin.as_ref()).await?;
    let secret = tokio::task::spawn_blocking(move || keyfile::open(&record, &passphrase))
        .await
        .map_err(|_| ClientError::Kdf)??;
    // Our id is the one the signed document lists with our key; a key it
    // does not list (not registered, or replaced) cannot sign in.
    let mine = secret.public();
    let own_id = doc
        .document
        .entities
        .iter()
        .flat_map(|e| e.staff.iter())
        .find(|s| s.public_key == mine)
        .map(|s| s.id)
        .ok_or(ClientError::StaffLogin)?;
    let challenge: SessionChallenge = api
        .post_json(
            "/api/v1/sessions/staff",
            &StaffSessionRequest {
                login: login.to_owned(),
            },
            "session",
        )
        .await?;
    let (who, bearer) = session::open_challenge(&secret, &challenge, Some(own_id))?;
    let SessionFor::Staff(id) = who else {
        return Err(ClientError::BadAnswer("session"));
    };
    api.set_bearer(bearer);
    Ok(StaffSession {
        api,
        id,
        secret,
        pin,
    })
}

/// Reads a `--thread` value.
pub fn parse_thread(text: &str) -> Result<Id, ClientError> {
    Id::from_hex(&text.trim().to_ascii_lowercase())
        .ok_or_else(|| ClientError::BadThreadId(text.to_owned()))
}

impl StaffSession {
    fn slot(&self) -> Slot {
        Slot::Staff(self.id)
    }

    async fn open(&self, thread: Id) -> Result<OpenedThread, ClientError> {
        thread::fetch(&self.api, thread, self.slot(), &self.secret).await
    }

    /// Ends the session on the server.
    pub async fn end(mut self) {
        self.api.end_session().await;
    }

    /// `GET /api/v1/staff/threads`, printed.
    pub async fn list(&self) -> Result<String, ClientError> {
        let list: ThreadList = self
            .api
            .get_json("/api/v1/staff/threads", "threads")
            .await?;
        Ok(show::thread_list(self.api.lang(), &list.threads))
    }

    /// The thread, printed; its attachments saved into `save` when given.
    pub async fn read(&self, thread: Id, save: Option<&Path>) -> Result<String, ClientError> {
        let opened = self.open(thread).await?;
        if let Some(dir) = save {
            save_all(&self.api, &opened, dir).await?;
        }
        Ok(show::thread(self.api.lang(), &opened))
    }

    /// Posts a reply (rotating first when due); returns its `seq`. A
    /// reply that crossed another message (`stale`) is sealed again at the
    /// new place and sent once more, so the text typed is not lost.
    pub async fn reply(
        &self,
        thread: Id,
        text: &str,
        files: Vec<FilePlan>,
        entropy: &dyn Entropy,
    ) -> Result<u32, ClientError> {
        upload::once_more_if_stale(|| self.reply_once(thread, text, files.clone(), entropy)).await
    }

    async fn reply_once(
        &self,
        thread: Id,
        text: &str,
        files: Vec<FilePlan>,
        entropy: &dyn Entropy,
    ) -> Result<u32, ClientError> {
        let opened = self.open(thread).await?;
        let opened =
            rotate::rotate_if_due(&self.api, opened, &self.secret, self.pin.as_ref(), entropy)
                .await?;
        // Replies are signed with the name readers know this person by.
        let label = opened
            .view
            .readers
            .iter()
            .find(|r| r.id == self.id)
            .map(|r| r.display_name.clone())
            .unwrap_or_default();
        let out = records::reply(&opened, &label, text, files, entropy)?;
        let created: Created = upload::send(
            &self.api,
            &format!("/api/v1/threads/{}/messages", thread.hex()),
            "message",
            &out,
            None,
            "created",
        )
        .await?;
        Ok(created.seq.unwrap_or(opened.view.messages))
    }

    /// Wraps the current key for an advisor of the thread's entity, named
    /// by display name or id (rotating first when due).
    pub async fn assign(
        &self,
        thread: Id,
        advisor: &str,
        entropy: &dyn Entropy,
    ) -> Result<String, ClientError> {
        self.give_key(thread, advisor, Give::Assign, entropy).await
    }

    /// Gives a colleague coordinator the current key again (after they
    /// registered a new key): only one the reporter kept, named by display
    /// name or id.
    pub async fn regrant(
        &self,
        thread: Id,
        coordinator: &str,
        entropy: &dyn Entropy,
    ) -> Result<String, ClientError> {
        self.give_key(thread, coordinator, Give::Regrant, entropy)
            .await
    }

    /// Wraps the current key for the person `who` names, after the checks
    /// the server would make (so a refusal says why in words), rotating
    /// first when due.
    async fn give_key(
        &self,
        thread: Id,
        who: &str,
        how: Give,
        entropy: &dyn Entropy,
    ) -> Result<String, ClientError> {
        let opened = self.open(thread).await?;
        let doc = document::fetch(&self.api, self.pin.as_ref()).await?;
        let entity = doc.entity(&opened.view.entity)?;
        let chosen = match how {
            Give::Assign => document::find_advisor(entity, who)?,
            Give::Regrant => document::find_coordinator(entity, who)?,
        };
        let name = chosen.display_name.clone();
        if how == Give::Regrant && !opened.view.shown.contains(&chosen.id) {
            return Err(ClientError::NotShown(name));
        }
        if opened
            .view
            .readers
            .iter()
            .any(|r| r.id == chosen.id && r.active)
        {
            return Err(ClientError::AlreadyReader(name));
        }
        if opened.view.device_only && chosen.reads == Reads::Server {
            return Err(ClientError::AdvisorReadsOnServer(name));
        }
        let opened =
            rotate::rotate_if_due(&self.api, opened, &self.secret, self.pin.as_ref(), entropy)
                .await?;
        let path = format!("/api/v1/threads/{}/", thread.hex());
        match how {
            Give::Assign => {
                let body = records::assign(&opened, chosen, entropy)?;
                self.api.post_json_ok(&(path + "assign"), &body).await?;
            }
            Give::Regrant => {
                let body = records::grant(&opened, std::slice::from_ref(chosen), entropy)?;
                self.api.post_json_ok(&(path + "grant"), &body).await?;
            }
        }
        Ok(name)
    }

    /// Removes an advisor and rotates in the same request: the new key is
    /// wrapped for the reporter and every remaining reader, not for them.
    pub async fn unassign(
        &self,
        thread: Id,
        advisor: &str,
        entropy: &dyn Entropy,
    ) -> Result<String, ClientError> {
        let opened = self.open(thread).await?;
        let removed = document::find_reader(&opened.view.readers, advisor)?.clone();
        let rotation = rotate::checked_rotation(
            &self.api,
            &opened,
            Some(removed.id),
            self.pin.as_ref(),
            entropy,
        )
        .await?;
        self.api
            .post_json_ok(
                &format!("/api/v1/threads/{}/unassign", thread.hex()),
                &UnassignIn {
                    advisor: removed.id,
                    rotation,
                },
            )
            .await?;
        Ok(removed.display_name)
    }

    /// Moves the thread to `status` (the transitions of `src/core/status.rs`;
    /// the server refuses any other).
    pub async fn status(&self, thread: Id, status: Status) -> Result<(), ClientError> {
        self.api
            .post_json_ok(
                &format!("/api/v1/threads/{}/status", thread.hex()),
                &StatusIn {
                    status: status.key().to_owned(),
                },
            )
            .await
    }
}

/// How a staff member gives someone a thread's key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Give {
    /// An advisor (`assign`).
    Assign,
    /// A coordinator the reporter kept (`grant`).
    Regrant,
}

/// Files to attach, looked at before signing in.
pub fn plan_files(paths: &[PathBuf]) -> Result<Vec<FilePlan>, ClientError> {
    upload::plan_all(paths)
}
