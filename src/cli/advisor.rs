//! `buzon advisor …`: an advisor who reads on their own device. `keygen`
//! makes the key pair here; the other commands sign in with it
//! (src/client/staff.rs). Coordinators share the staff commands
//! ([`StaffArgs`], [`run_staff`]). Network clients: they never open the
//! data directory.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::report::ConnectionArgs;
use crate::client::upload::FilePlan;
use crate::client::{ClientError, Lang, keyfile, prompt, records, staff, t};
use crate::core::envelope::Id;
use crate::core::status::Status;
use crate::platform::OsEntropy;

/// Who signs in, and where.
#[derive(Args, Clone)]
pub struct StaffArgs {
    #[command(flatten)]
    conn: ConnectionArgs,
    /// Your sign-in name.
    #[arg(long)]
    login: String,
    /// Your key file (made by `buzon advisor keygen` or `buzon coordinator keygen`). Its passphrase is
    /// asked without echo (or read as the first line of standard input
    /// when it is not a terminal).
    #[arg(long)]
    key: PathBuf,
}

/// A staff command on one conversation.
#[derive(Args, Clone)]
pub struct OnThread {
    #[command(flatten)]
    who: StaffArgs,
    /// The conversation's id (32 hex digits, as `list` shows).
    #[arg(long)]
    thread: String,
}

impl OnThread {
    pub fn split(self) -> Result<(StaffArgs, Id), ClientError> {
        Ok((self.who, thread_id(&self.thread)?))
    }
}

/// The commands advisors and coordinators share (`buzon advisor …`;
/// `buzon coordinator …` adds assignment).
#[derive(Subcommand)]
pub enum StaffCmd {
    /// Make your key pair on this machine. The private key is written to
    /// --key, sealed under a passphrase you choose; the public key is
    /// printed with the command the operator runs to register you.
    Keygen {
        /// Where to write the key file (never overwritten).
        #[arg(long)]
        key: PathBuf,
    },
    /// Print the public key of a key file (no passphrase needed: the
    /// public key is stored in the clear beside the sealed private key).
    PublicKey {
        #[arg(long)]
        key: PathBuf,
    },
    /// List the conversations you can read.
    List(StaffArgs),
    /// Read a conversation.
    Read {
        #[command(flatten)]
        on: OnThread,
        /// Save the attachments into this directory.
        #[arg(long)]
        save_attachments: Option<PathBuf>,
    },
    /// Reply in a conversation. The passphrase is read first, then the
    /// message from --message-file or the rest of standard input.
    Reply {
        #[command(flatten)]
        on: OnThread,
        /// Read the message from this file instead of standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
    },
    /// Change a conversation's status.
    Status {
        #[command(flatten)]
        on: OnThread,
        /// acknowledged, in_progress, answered, not_competent, closed or
        /// received (or the words `list` shows, in Spanish or English).
        #[arg(long)]
        to: String,
    },
}

/// What a signed-in staff member asked for, checked before signing in.
pub enum StaffAction {
    List,
    Read {
        thread: Id,
        save: Option<PathBuf>,
    },
    Reply {
        thread: Id,
        message_file: Option<PathBuf>,
        attach: Vec<PathBuf>,
    },
    Assign {
        thread: Id,
        advisor: String,
    },
    Unassign {
        thread: Id,
        advisor: String,
    },
    Regrant {
        thread: Id,
        coordinator: String,
    },
    Status {
        thread: Id,
        to: Status,
    },
}

/// Reads a `--thread` value.
pub fn thread_id(text: &str) -> Result<Id, ClientError> {
    staff::parse_thread(text)
}

/// Reads a `--to` value.
pub fn status(text: &str) -> Result<Status, ClientError> {
    let typed = text.trim();
    let fold = |s: &str| {
        use unicode_normalization::UnicodeNormalization;
        s.nfd()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .collect::<String>()
            .to_lowercase()
            .replace([' ', '-'], "_")
    };
    Status::from_key(typed)
        .or_else(|| Status::from_key(&fold(typed)))
        // The words `list` and `read` show, in either language.
        .or_else(|| {
            Status::ALL.into_iter().find(|s| {
                [crate::client::Lang::Es, crate::client::Lang::En]
                    .into_iter()
                    .any(|l| fold(&crate::client::show::status(l, s.key())) == fold(typed))
            })
        })
        .ok_or_else(|| ClientError::UnknownStatus(text.to_owned()))
}

/// Runs a shared staff command; `role` names the role in `keygen`'s
/// registration hint.
pub async fn run_common(cmd: StaffCmd, role: &str) -> Result<(), String> {
    let lang = Lang::from_env();
    let fail = |e: ClientError| e.message(lang);
    let (who, action) = match cmd {
        StaffCmd::Keygen { key } => return keygen(key, role, lang).await.map_err(fail),
        StaffCmd::PublicKey { key } => return public_key(&key).map_err(fail),
        StaffCmd::List(who) => (who, StaffAction::List),
        StaffCmd::Read {
            on,
            save_attachments,
        } => {
            let (who, thread) = on.split().map_err(fail)?;
            let save = save_attachments;
            (who, StaffAction::Read { thread, save })
        }
        StaffCmd::Reply {
            on,
            message_file,
            attach,
        } => {
            let (who, thread) = on.split().map_err(fail)?;
            let action = StaffAction::Reply {
                thread,
                message_file,
                attach,
            };
            (who, action)
        }
        StaffCmd::Status { on, to } => {
            let (who, thread) = on.split().map_err(fail)?;
            let to = status(&to).map_err(fail)?;
            (who, StaffAction::Status { thread, to })
        }
    };
    run_staff(who, action, lang).await.map_err(fail)
}

/// Prints a key file's public key.
pub fn public_key(path: &std::path::Path) -> Result<(), ClientError> {
    let record = keyfile::read(path)?;
    super::say(&hex::encode(record.public.0));
    Ok(())
}

/// Makes a key file; `role` names the role in the registration command.
pub async fn keygen(path: PathBuf, role: &str, lang: Lang) -> Result<(), ClientError> {
    // Refused before the passphrase is asked, not after.
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(ClientError::KeyFileExists(path.display().to_string()));
    }
    let passphrase = prompt::new_passphrase(lang)?;
    eprintln!(
        "{}",
        t(
            lang,
            "Sellando la llave (256 MiB de memoria, unos segundos)…",
            "Sealing the key (256 MiB of memory, a few seconds)…",
        )
    );
    let record =
        tokio::task::spawn_blocking(move || keyfile::generate_default(&passphrase, &OsEntropy))
            .await
            .map_err(|_| ClientError::Kdf)??;
    keyfile::write_new(&path, &record)?;
    let public = hex::encode(record.public.0);
    super::say(&format!(
        "{}: {public}\n{}\n  buzon staff add --entity ENTIDAD --role {role} --login LOGIN --name \"NOMBRE\" --public-key {public}\n{} {}",
        t(lang, "Llave pública", "Public key"),
        t(
            lang,
            "Dásela a la administración de tu institución, que te registra con:",
            "Give it to your entity's operator, who registers you with:",
        ),
        t(
            lang,
            "Guarda el archivo de llave y su frase de paso: sin ellos no podrás leer. Archivo:",
            "Keep the key file and its passphrase: without them you cannot read. File:",
        ),
        path.display()
    ));
    Ok(())
}

/// Signs in and runs one staff action (advisors and coordinators).
pub async fn run_staff(who: StaffArgs, action: StaffAction, lang: Lang) -> Result<(), ClientError> {
    let connection = who.conn.connection();
    connection.pin()?;
    let passphrase = prompt::secret_line(t(
        lang,
        "Frase de paso de tu llave (no se muestra): ",
        "Your key's passphrase (not shown): ",
    ))?;
    // A reply's text and files are read and checked before signing in.
    let reply = match &action {
        StaffAction::Reply {
            message_file,
            attach,
            ..
        } => {
            let text = prompt::message(message_file.as_deref(), lang)?;
            records::check_text(&text)?;
            Some((text, staff::plan_files(attach)?))
        }
        _ => None,
    };
    let session = staff::sign_in(&connection, &who.login, &who.key, passphrase, lang).await?;
    let result = act(&session, action, reply, lang).await;
    session.end().await;
    result
}

async fn act(
    session: &staff::StaffSession,
    action: StaffAction,
    reply: Option<(zeroize::Zeroizing<String>, Vec<FilePlan>)>,
    lang: Lang,
) -> Result<(), ClientError> {
    match action {
        StaffAction::List => super::say(&session.list().await?),
        StaffAction::Read { thread, save } => {
            super::say(&session.read(thread, save.as_deref()).await?)
        }
        StaffAction::Reply { thread, .. } => {
            let (text, files) = reply.ok_or(ClientError::EmptyMessage)?;
            let seq = session.reply(thread, &text, files, &OsEntropy).await?;
            eprintln!(
                "{} (#{})",
                t(lang, "Respuesta enviada", "Reply sent"),
                seq + 1
            );
        }
        StaffAction::Assign { thread, advisor } => {
            let name = session.assign(thread, &advisor, &OsEntropy).await?;
            eprintln!("{} «{name}»", t(lang, "Asignada a", "Assigned to"));
        }
        StaffAction::Regrant {
            thread,
            coordinator,
        } => {
            let name = session.regrant(thread, &coordinator, &OsEntropy).await?;
            eprintln!(
                "«{name}» {}",
                t(lang, "puede leerla de nuevo", "can read it again")
            );
        }
        StaffAction::Unassign { thread, advisor } => {
            let name = session.unassign(thread, &advisor, &OsEntropy).await?;
            eprintln!(
                "«{name}» {}",
                t(
                    lang,
                    "ya no puede leer la conversación (la llave se cambió)",
                    "can no longer read the conversation (the key was changed)"
                )
            );
        }
        StaffAction::Status { thread, to } => {
            session.status(thread, to).await?;
            eprintln!("{}", t(lang, "Estado cambiado", "Status changed"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_the_key_or_the_word_lists_show() {
        assert_eq!(status("acknowledged").ok(), Some(Status::Acknowledged));
        assert_eq!(status("en atención").ok(), Some(Status::InProgress));
        assert_eq!(status("EN ATENCION").ok(), Some(Status::InProgress));
        assert_eq!(
            status("fuera de competencia").ok(),
            Some(Status::NotCompetent)
        );
        assert_eq!(status("in progress").ok(), Some(Status::InProgress));
        assert_eq!(status("cerrada").ok(), Some(Status::Closed));
        assert!(status("archivada").is_err());
    }
}
