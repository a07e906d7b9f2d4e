//! `buzon report …`: the reporter's side of the JSON API, with every seal
//! and open on this machine (src/client/reporter.rs). A network client:
//! it never opens the data directory.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::client::http::Connection;
use crate::client::{Lang, prompt, records, reporter, t, upload};
use crate::core::status::Kind;
use crate::platform::OsEntropy;

/// Where the server is and how to reach it.
#[derive(Args, Clone)]
pub struct ConnectionArgs {
    /// The server's address, e.g. http://127.0.0.1:8080 or an onion
    /// address (with --proxy).
    #[arg(long)]
    server: String,
    /// A proxy for every request, e.g. socks5h://127.0.0.1:9050 for Tor.
    #[arg(long)]
    proxy: Option<String>,
    /// The server's signing key (base64url, as `buzon server-key` prints
    /// it and your entity publishes it). With it, a key list signed by any
    /// other key is refused. Nothing is remembered between runs.
    #[arg(long, env = "BUZON_SERVER_KEY")]
    server_key: Option<String>,
}

impl ConnectionArgs {
    pub fn connection(&self) -> Connection {
        Connection {
            server: self.server.clone(),
            proxy: self.proxy.clone(),
            server_key: self.server_key.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// Send a new question (or, with --claim, a claim). The message is read
    /// from --message-file or standard input. Prints the receipt: the only
    /// way back to the conversation.
    New {
        #[command(flatten)]
        conn: ConnectionArgs,
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// A claim (denuncia) instead of a question.
        #[arg(long)]
        claim: bool,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
        /// Read the message from this file instead of standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// Send only to coordinators who read on their own device (never
        /// through the server).
        #[arg(long)]
        device_only: bool,
        /// Leave out a coordinator (display name or id); repeat for
        /// several. At least one must remain.
        #[arg(long)]
        exclude: Vec<String>,
        /// For entities that ask for a token: a file written by
        /// `buzon token fetch --out`. The token used is taken out of the
        /// file once the server has stored the message.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Show who would be able to read, and how, then stop: nothing is
        /// sent and no message is needed.
        #[arg(long)]
        dry_run: bool,
    },
    /// When nobody at the entity can read your conversation any more (its
    /// readers were removed), give it to the entity's current coordinators.
    /// The receipt is asked as for `read`.
    Grant {
        #[command(flatten)]
        conn: ConnectionArgs,
        /// Only coordinators who read on their own device.
        #[arg(long)]
        device_only: bool,
        /// Leave out a coordinator (display name or id); repeat for several.
        #[arg(long)]
        exclude: Vec<String>,
    },
    /// Read your conversation. The receipt is asked without echo (or read
    /// as the first line of standard input when it is not a terminal).
    Read {
        #[command(flatten)]
        conn: ConnectionArgs,
        /// Save the attachments into this directory.
        #[arg(long)]
        save_attachments: Option<PathBuf>,
    },
    /// Reply in your conversation. The receipt is asked first, then the
    /// message is read from --message-file or the rest of standard input.
    Reply {
        #[command(flatten)]
        conn: ConnectionArgs,
        /// Read the message from this file instead of standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
    },
}

pub(super) fn receipt_prompt(lang: Lang) -> &'static str {
    t(
        lang,
        "Recibo (las diez palabras; no se muestra): ",
        "Receipt (the ten words; not shown): ",
    )
}

/// Runs a `buzon report` command.
pub async fn run(cmd: ReportCmd) -> Result<(), String> {
    let lang = Lang::from_env();
    let fail = |e: crate::client::ClientError| e.message(lang);
    match cmd {
        ReportCmd::New {
            conn,
            entity,
            claim,
            attach,
            message_file,
            device_only,
            exclude,
            token_file,
            dry_run,
        } => {
            let text = if dry_run {
                Default::default()
            } else {
                prompt::message(message_file.as_deref(), lang).map_err(fail)?
            };
            let phrase = reporter::create(
                reporter::NewReport {
                    connection: conn.connection(),
                    entity,
                    kind: if claim { Kind::Claim } else { Kind::Question },
                    text,
                    attach,
                    device_only,
                    exclude,
                    token_file,
                    dry_run,
                },
                lang,
                &OsEntropy,
            )
            .await
            .map_err(fail)?;
            let Some(phrase) = phrase else {
                eprintln!(
                    "{}",
                    t(
                        lang,
                        "Prueba: no se envió nada.",
                        "Dry run: nothing was sent.",
                    )
                );
                return Ok(());
            };
            eprintln!(
                "{}",
                t(
                    lang,
                    "Enviado. Este es tu recibo: cópialo a mano y guárdalo donde nadie más lo vea. Es la única forma de volver a la conversación; no se puede recuperar.",
                    "Sent. This is your receipt: copy it by hand and keep it where nobody else sees it. It is the only way back to the conversation; it cannot be recovered.",
                )
            );
            super::say(&phrase);
            Ok(())
        }
        ReportCmd::Read {
            conn,
            save_attachments,
        } => {
            let typed = prompt::secret_line(receipt_prompt(lang)).map_err(fail)?;
            let session = reporter::sign_in(&conn.connection(), &typed, lang)
                .await
                .map_err(fail)?;
            drop(typed);
            let text = reporter::read(session, save_attachments.as_deref())
                .await
                .map_err(fail)?;
            super::say(&text);
            Ok(())
        }
        ReportCmd::Grant {
            conn,
            device_only,
            exclude,
        } => {
            let connection = conn.connection();
            let pin = connection.pin().map_err(fail)?;
            let typed = prompt::secret_line(receipt_prompt(lang)).map_err(fail)?;
            let session = reporter::sign_in(&connection, &typed, lang)
                .await
                .map_err(fail)?;
            drop(typed);
            let names = reporter::grant(session, pin.as_ref(), device_only, &exclude, &OsEntropy)
                .await
                .map_err(fail)?;
            eprintln!(
                "{}: {}",
                t(lang, "Ahora pueden leerla", "They can read it now"),
                names.join(", ")
            );
            Ok(())
        }
        ReportCmd::Reply {
            conn,
            message_file,
            attach,
        } => {
            let connection = conn.connection();
            let pin = connection.pin().map_err(fail)?;
            let typed = prompt::secret_line(receipt_prompt(lang)).map_err(fail)?;
            let text = prompt::message(message_file.as_deref(), lang).map_err(fail)?;
            records::check_text(&text).map_err(fail)?;
            let files = upload::plan_all(&attach).map_err(fail)?;
            let session = reporter::sign_in(&connection, &typed, lang)
                .await
                .map_err(fail)?;
            drop(typed);
            let seq = reporter::reply(session, pin.as_ref(), &text, files, &OsEntropy)
                .await
                .map_err(fail)?;
            eprintln!(
                "{} (#{})",
                t(lang, "Respuesta enviada", "Reply sent"),
                seq + 1
            );
            Ok(())
        }
    }
}
