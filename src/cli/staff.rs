//! `buzon staff …`

use clap::Subcommand;

use crate::operator::Command;

#[derive(Subcommand)]
pub enum StaffCmd {
    /// Add a staff member. A one-time password is printed; they choose
    /// their own at first sign-in.
    Add {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// coordinator (receives threads, assigns them), advisor (answers
        /// assigned threads) or entity-admin (manages staff).
        #[arg(long)]
        role: String,
        /// Sign-in name.
        #[arg(long)]
        login: String,
        /// Name shown to reporters and colleagues, e.g. "Coordinación de Ética".
        #[arg(long)]
        name: String,
        /// The public key from `buzon advisor keygen` (64 hex digits): the
        /// private key stays on the member's own machine, no password is
        /// made, and they sign in only with the command line.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Register a new device key for a member who lost theirs. Their
    /// threads must be granted to them again.
    SetKey {
        #[arg(long)]
        login: String,
        #[arg(long)]
        public_key: String,
    },
    /// List an entity's staff.
    List {
        #[arg(long)]
        entity: String,
    },
    /// Remove a staff member: they lose access to every thread at once.
    Remove {
        #[arg(long)]
        login: String,
    },
    /// Reset a forgotten password. This makes a new key: a coordinator
    /// must grant the person their threads again.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
}

impl StaffCmd {
    pub fn into_command(self) -> Command {
        match self {
            StaffCmd::Add {
                entity,
                role,
                login,
                name,
                public_key,
            } => Command::StaffAdd {
                entity,
                role,
                login,
                name,
                public_key,
            },
            StaffCmd::SetKey { login, public_key } => Command::StaffSetKey { login, public_key },
            StaffCmd::List { entity } => Command::StaffList { entity },
            StaffCmd::Remove { login } => Command::StaffRemove { login },
            StaffCmd::ResetPassword { login } => Command::StaffResetPassword { login },
        }
    }
}
