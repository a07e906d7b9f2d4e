//! `buzon coordinator …`: a coordinator who reads on their own device.
//! Shares sign-in and the thread commands with `buzon advisor`
//! (src/cli/advisor.rs); adds assignment. A network client: it never
//! opens the data directory.

use clap::Subcommand;

use super::advisor::{OnThread, StaffAction, StaffCmd, run_common, run_staff};
use crate::client::{ClientError, Lang};
use crate::core::envelope::Id;

#[derive(Subcommand)]
pub enum CoordinatorCmd {
    /// Let an advisor of the entity read a conversation: the current key is
    /// wrapped for their key from the signed key list.
    Assign {
        #[command(flatten)]
        on: OnThread,
        /// The advisor's display name or id.
        #[arg(long)]
        advisor: String,
    },
    /// Take an advisor off a conversation. The key is changed in the same
    /// step, for everyone who keeps access, so they cannot read what is
    /// written from now on.
    Unassign {
        #[command(flatten)]
        on: OnThread,
        /// The advisor's display name or id.
        #[arg(long)]
        advisor: String,
    },
    /// Give a colleague coordinator the conversation again, after they
    /// registered a new key (`buzon staff set-key`): only one the reporter
    /// kept.
    Regrant {
        #[command(flatten)]
        on: OnThread,
        /// The coordinator's display name or id.
        #[arg(long)]
        coordinator: String,
    },
    #[command(flatten)]
    Common(StaffCmd),
}

/// Runs a `buzon coordinator` command.
pub async fn run(cmd: CoordinatorCmd) -> Result<(), String> {
    let lang = Lang::from_env();
    let fail = |e: ClientError| e.message(lang);
    // Each names someone on one conversation.
    type Make = fn(Id, String) -> StaffAction;
    let (on, make, name): (OnThread, Make, String) = match cmd {
        CoordinatorCmd::Common(c) => return run_common(c, "coordinator").await,
        CoordinatorCmd::Assign { on, advisor } => (
            on,
            |thread, advisor| StaffAction::Assign { thread, advisor },
            advisor,
        ),
        CoordinatorCmd::Unassign { on, advisor } => (
            on,
            |thread, advisor| StaffAction::Unassign { thread, advisor },
            advisor,
        ),
        CoordinatorCmd::Regrant { on, coordinator } => (
            on,
            |thread, coordinator| StaffAction::Regrant {
                thread,
                coordinator,
            },
            coordinator,
        ),
    };
    let (who, thread) = on.split().map_err(fail)?;
    run_staff(who, make(thread, name), lang).await.map_err(fail)
}
