//! `buzon retention …`: show and set an entity's retention policy, run a
//! pass now (spec/retention.md).

use clap::Subcommand;

use crate::operator::Command;

#[derive(Subcommand)]
pub enum RetentionCmd {
    /// Show an entity's policy for questions and claims.
    Show {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
    },
    /// Set the policy for one kind of thread. Days are calendar days in the
    /// entity's time zone; each limit is 1 to 3650 days and none longer
    /// than --cap. The audit log records the change.
    Set {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// question or claim.
        #[arg(long)]
        kind: String,
        /// Delete a closed thread this many days after it was closed.
        #[arg(long)]
        closed: u32,
        /// Delete a thread with no message from either side for this many days.
        #[arg(long)]
        inactive: u32,
        /// The receipt stops working this many days after the last message.
        #[arg(long)]
        receipt: u32,
        /// Delete every thread this many days after it was created, whatever
        /// happens (the limit an auditor checks from the creation day alone).
        #[arg(long)]
        cap: u32,
        /// Apply to the entity's existing threads too. Their limits then
        /// count from their own days (creation, closing, last message), but
        /// no deadline falls before today. Only a policy with no longer
        /// limit may: reporters were shown the old one.
        #[arg(long)]
        existing: bool,
        /// With --existing: go ahead even if threads would be past their new
        /// deadline today and deleted at once (without it, nothing changes
        /// and you are told how many).
        #[arg(long)]
        yes: bool,
    },
    /// Run one retention pass now: delete what is due, append the audit
    /// log's batch of days that have ended. The server does this hourly.
    Run,
}

impl RetentionCmd {
    pub fn into_command(self) -> Command {
        match self {
            RetentionCmd::Show { entity } => Command::RetentionShow { entity },
            RetentionCmd::Set {
                entity,
                kind,
                closed,
                inactive,
                receipt,
                cap,
                existing,
                yes,
            } => Command::RetentionSet {
                entity,
                kind,
                closed,
                inactive,
                receipt,
                cap,
                existing,
                yes,
            },
            RetentionCmd::Run => Command::RetentionRun,
        }
    }
}
