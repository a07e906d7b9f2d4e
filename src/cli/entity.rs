//! `buzon entity …`

use clap::Subcommand;

use crate::operator::Command;

#[derive(Subcommand)]
pub enum EntityCmd {
    /// Add an entity. Reporters then find it on the home page.
    Add {
        /// Short name used in addresses, e.g. `sej` (letters, digits, -).
        #[arg(long)]
        slug: String,
        /// Full name shown to reporters.
        #[arg(long)]
        name: String,
        /// Where to file a formal complaint (the internal control body),
        /// shown to reporters before they write.
        #[arg(long)]
        complaints_office: String,
        /// Working days within which a first reply is promised.
        #[arg(long, default_value_t = 3)]
        first_response_days: u16,
        /// Working days within which an answer is promised.
        #[arg(long, default_value_t = 10)]
        answer_days: u16,
        /// IANA time zone whose calendar days retention counts (default
        /// America/Mexico_City). Fixed once the entity exists.
        #[arg(long)]
        zone: Option<String>,
    },
    /// List entities.
    List,
}

impl EntityCmd {
    pub fn into_command(self) -> Command {
        match self {
            EntityCmd::Add {
                slug,
                name,
                complaints_office,
                first_response_days,
                answer_days,
                zone,
            } => Command::EntityAdd {
                slug,
                name,
                complaints_office,
                first_response_days,
                answer_days,
                zone,
            },
            EntityCmd::List => Command::EntityList,
        }
    }
}
