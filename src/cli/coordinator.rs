//! `buzon coordinator …`: a coordinator who reads on their own device.
//! Shares sign-in and the thread commands with `buzon advisor`
//! (src/cli/advisor.rs); adds assignment. A network client: it never
//! opens the data directory.

use std::path::PathBuf;

use clap::Subcommand;

use super::advisor::{StaffAction, StaffArgs, run_staff, status, thread_id};
use crate::client::{ClientError, Lang};

#[derive(Subcommand)]
pub enum CoordinatorCmd {
    /// Make your key pair on this machine (as `buzon advisor keygen`).
    Keygen {
        /// Where to write the key file (never overwritten).
        #[arg(long)]
        key: PathBuf,
    },
    /// Print the public key of a key file.
    PublicKey {
        #[arg(long)]
        key: PathBuf,
    },
    /// List the conversations you can read.
    List(StaffArgs),
    /// Read a conversation.
    Read {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// Save the attachments into this directory.
        #[arg(long)]
        save_attachments: Option<PathBuf>,
    },
    /// Reply in a conversation. The passphrase is read first, then the
    /// message from --message-file or the rest of standard input.
    Reply {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// Read the message from this file instead of standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
    },
    /// Let an advisor of the entity read a conversation: the current key is
    /// wrapped for their key from the signed key list.
    Assign {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// The advisor's display name or id.
        #[arg(long)]
        advisor: String,
    },
    /// Give a colleague coordinator the conversation again, after they
    /// registered a new key (`buzon staff set-key`): only one the reporter
    /// kept.
    Regrant {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// The coordinator's display name or id.
        #[arg(long)]
        coordinator: String,
    },
    /// Take an advisor off a conversation. The key is changed in the same
    /// step, for everyone who keeps access, so they cannot read what is
    /// written from now on.
    Unassign {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// The advisor's display name or id.
        #[arg(long)]
        advisor: String,
    },
    /// Change a conversation's status.
    Status {
        #[command(flatten)]
        who: StaffArgs,
        /// The conversation's id (32 hex digits, as `list` shows).
        #[arg(long)]
        thread: String,
        /// acknowledged, in_progress, answered, not_competent, closed or
        /// received.
        #[arg(long)]
        to: String,
    },
}

fn action(cmd: CoordinatorCmd) -> Result<(StaffArgs, StaffAction), ClientError> {
    Ok(match cmd {
        // Handled before a session is needed (`run`).
        CoordinatorCmd::Keygen { .. } | CoordinatorCmd::PublicKey { .. } => {
            return Err(ClientError::Input("keygen".to_owned()));
        }
        CoordinatorCmd::List(who) => (who, StaffAction::List),
        CoordinatorCmd::Read {
            who,
            thread,
            save_attachments,
        } => (
            who,
            StaffAction::Read {
                thread: thread_id(&thread)?,
                save: save_attachments,
            },
        ),
        CoordinatorCmd::Reply {
            who,
            thread,
            message_file,
            attach,
        } => (
            who,
            StaffAction::Reply {
                thread: thread_id(&thread)?,
                message_file,
                attach,
            },
        ),
        CoordinatorCmd::Assign {
            who,
            thread,
            advisor,
        } => (
            who,
            StaffAction::Assign {
                thread: thread_id(&thread)?,
                advisor,
            },
        ),
        CoordinatorCmd::Regrant {
            who,
            thread,
            coordinator,
        } => (
            who,
            StaffAction::Regrant {
                thread: thread_id(&thread)?,
                coordinator,
            },
        ),
        CoordinatorCmd::Unassign {
            who,
            thread,
            advisor,
        } => (
            who,
            StaffAction::Unassign {
                thread: thread_id(&thread)?,
                advisor,
            },
        ),
        CoordinatorCmd::Status { who, thread, to } => (
            who,
            StaffAction::Status {
                thread: thread_id(&thread)?,
                to: status(&to)?,
            },
        ),
    })
}

/// Runs a `buzon coordinator` command.
pub async fn run(cmd: CoordinatorCmd) -> Result<(), String> {
    let lang = Lang::from_env();
    let cmd = match cmd {
        CoordinatorCmd::Keygen { key } => {
            return super::advisor::keygen(key, "coordinator", lang)
                .await
                .map_err(|e| e.message(lang));
        }
        CoordinatorCmd::PublicKey { key } => {
            return super::advisor::public_key(&key).map_err(|e| e.message(lang));
        }
        other => other,
    };
    let (who, act) = action(cmd).map_err(|e| e.message(lang))?;
    run_staff(who, act, lang).await.map_err(|e| e.message(lang))
}
