//! The reporter's commands (`buzon report new|read|reply`): every step of
//! spec/api.md done on the reporter's machine.
//!
//! What crosses the wire from here: the lookup handle (to read), public
//! keys, the lookup index (at creation), sealed records, and a Privacy
//! Pass token when the entity asks for one. Never the receipt, the private
//! key, a thread key or any plaintext. The receipt is shown once, after
//! the server has stored the thread, and never written to disk.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::document;
use super::download;
use super::error::ClientError;
use super::http::{Api, Connection};
use super::lang::{Lang, t};
use super::records::{self, NewThreadPlan};
use super::rotate;
use super::session;
use super::show;
use super::thread::{self, OpenedThread};
use super::upload;
use crate::core::api::{Created, ReporterSessionRequest, SessionChallenge, b64};
use crate::core::envelope::Slot;
use crate::core::receipt::{self, RECEIPT_COST, Receipt, ReporterKeys};
use crate::core::status::Kind;
use crate::platform::Entropy;

/// Derives the receipt's keys (Argon2id, 64 MiB) off the async threads.
pub async fn derive(receipt: Receipt) -> Result<ReporterKeys, ClientError> {
    tokio::task::spawn_blocking(move || receipt::derive(&receipt, RECEIPT_COST))
        .await
        .map_err(|_| ClientError::Kdf)?
        .map_err(|_| ClientError::Kdf)
}

/// A token file written by `buzon token fetch`: one token per line.
struct TokenFile {
    path: PathBuf,
    token: Zeroizing<String>,
    rest: Zeroizing<String>,
}

impl TokenFile {
    fn read(path: &Path) -> Result<TokenFile, ClientError> {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| ClientError::file(path, e))?);
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let token = Zeroizing::new(lines.next().ok_or(ClientError::NoToken)?.to_owned());
        let mut rest = Zeroizing::new(String::new());
        for l in lines {
            rest.push_str(l);
            rest.push('\n');
        }
        Ok(TokenFile {
            path: path.to_owned(),
            token,
            rest,
        })
    }

    /// Takes the spent token out: the file keeps the others, or goes when
    /// none is left.
    fn spend(self) -> Result<(), ClientError> {
        if self.rest.is_empty() {
            return std::fs::remove_file(&self.path).map_err(|e| ClientError::file(&self.path, e));
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let written = o.open(&tmp).and_then(|mut f| {
            use std::io::Write;
            f.write_all(self.rest.as_bytes())?;
            f.sync_all()
        });
        written
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| ClientError::file(&self.path, e))
    }
}

/// What `buzon report new` was asked.
pub struct NewReport {
    pub connection: Connection,
    pub entity: String,
    pub kind: Kind,
    pub text: Zeroizing<String>,
    pub attach: Vec<PathBuf>,
    pub device_only: bool,
    pub exclude: Vec<String>,
    pub token_file: Option<PathBuf>,
    /// Show the readers and stop.
    pub dry_run: bool,
}

/// Creates a thread; returns the receipt phrase, to be shown once (`None`
/// for a dry run, which shows the readers and sends nothing).
pub async fn create(
    req: NewReport,
    lang: Lang,
    entropy: &dyn Entropy,
) -> Result<Option<Zeroizing<String>>, ClientError> {
    // Everything that can be checked on this machine is, before any
    // request: the text, the files, the pin, the token file.
    if !req.dry_run {
        records::check_text(&req.text)?;
    }
    let files = upload::plan_all(&req.attach)?;
    let pin = req.connection.pin()?;
    let token = req.token_file.as_deref().map(TokenFile::read).transpose()?;
    let api = req.connection.api(lang)?;

    let doc = document::fetch(&api, pin.as_ref()).await?;
    let entity = doc.entity(&req.entity)?;
    let coordinators = document::choose_coordinators(entity, req.device_only, &req.exclude)?;
    let token = match (entity.policy.as_str(), token) {
        ("token", None) if !req.dry_run => return Err(ClientError::TokenNeeded),
        ("token", Some(tok)) => Some(tok),
        (_, Some(_)) => {
            eprintln!(
                "{}",
                t(
                    lang,
                    "Esta institución no pide pase por ahora: el tuyo no se gasta.",
                    "This entity does not ask for a token at the moment: yours is not spent.",
                )
            );
            None
        }
        (_, None) => None,
    };
    eprintln!(
        "{}",
        show::readers_of_new_thread(lang, &entity.name, &coordinators)
    );
    if let Some(r) = &entity.retention {
        eprintln!("{}", show::retention(lang, r, req.kind == Kind::Claim));
    }
    if req.dry_run {
        return Ok(None);
    }

    let receipt = records::draw_receipt(entropy);
    let keys = derive(receipt.clone()).await?;
    let out = records::new_thread(
        NewThreadPlan {
            entity: &entity.slug,
            kind: req.kind,
            day: doc.document.day,
            coordinators: &coordinators,
            device_only: req.device_only,
            text: &req.text,
            files,
        },
        &keys,
        entropy,
    )?;
    let created: Created = upload::send(
        &api,
        "/api/v1/threads",
        "thread",
        &out,
        token.as_ref().map(|tok| tok.token.as_str()),
        "created",
    )
    .await?;
    if created.thread.is_some_and(|id| id != out.thread) {
        return Err(ClientError::BadAnswer("thread"));
    }
    // The thread is stored: from here on, failing would lose the receipt.
    if let Some(tok) = token
        && let Err(e) = tok.spend()
    {
        eprintln!(
            "{}: {}",
            t(
                lang,
                "el pase ya se gastó, pero no se pudo quitar del archivo",
                "the token is spent but could not be taken out of its file"
            ),
            e.message(lang)
        );
    }
    Ok(Some(receipt.phrase()))
}

/// A reporter signed in: the session, the opened thread and the keys.
pub struct ReporterSession {
    pub api: Api,
    pub opened: OpenedThread,
    keys: ReporterKeys,
}

/// Derives from the typed receipt, opens a session and reads the thread.
pub async fn sign_in(
    connection: &Connection,
    typed: &str,
    lang: Lang,
) -> Result<ReporterSession, ClientError> {
    let receipt = Receipt::parse(typed).map_err(|_| ClientError::NotAReceipt)?;
    let mut api = connection.api(lang)?;
    // The server proves its key before anything of the receipt's is sent.
    document::fetch(&api, connection.pin()?.as_ref()).await?;
    let keys = derive(receipt).await?;
    let challenge: SessionChallenge = api
        .post_json(
            "/api/v1/sessions/reporter",
            &ReporterSessionRequest {
                lookup: b64(keys.lookup.expose()),
            },
            "session",
        )
        .await?;
    let (who, bearer) = session::open_challenge(&keys.secret, &challenge, None)?;
    let session::SessionFor::Thread(id) = who else {
        return Err(ClientError::BadAnswer("session"));
    };
    api.set_bearer(bearer);
    let opened = match thread::fetch(&api, id, Slot::Reporter, &keys.secret).await {
        Ok(o) => o,
        Err(e) => {
            api.end_session().await;
            return Err(e);
        }
    };
    Ok(ReporterSession { api, opened, keys })
}

/// Prints the thread and saves its attachments into `save` when given.
pub async fn read(mut s: ReporterSession, save: Option<&Path>) -> Result<String, ClientError> {
    let text = show::thread(s.api.lang(), &s.opened);
    let saved = match save {
        Some(dir) => save_all(&s.api, &s.opened, dir).await,
        None => Ok(()),
    };
    s.api.end_session().await;
    saved.map(|_| text)
}

/// Saves every attachment that opened; reports each file on stderr.
pub async fn save_all(api: &Api, opened: &OpenedThread, dir: &Path) -> Result<(), ClientError> {
    for a in opened.attachments.iter().filter(|a| a.meta.is_some()) {
        let path = download::save(api, opened, a.id, dir).await?;
        eprintln!("{}: {}", t(api.lang(), "guardado", "saved"), path.display());
    }
    Ok(())
}

/// Posts a reply, rotating first when the thread is due.
pub async fn reply(
    s: ReporterSession,
    pin: Option<&[u8; 32]>,
    text: &str,
    files: Vec<upload::FilePlan>,
    entropy: &dyn Entropy,
) -> Result<u32, ClientError> {
    let ReporterSession {
        mut api,
        opened,
        keys,
    } = s;
    let result = async {
        // A view whose reporter key is not this receipt's would make a
        // rotation wrap the new key for someone else.
        if opened.view.reporter_key != keys.secret.public() {
            return Err(ClientError::ThreadDoesNotOpen);
        }
        if !opened.view.readers.iter().any(|r| r.active) {
            return Err(ClientError::NobodyReads);
        }
        let id = opened.id();
        let path = format!("/api/v1/threads/{}/messages", id.hex());
        // The view read at sign-in serves the first attempt; a second one
        // reads the thread again.
        let mut first = Some(opened);
        let (api, keys, path) = (&api, &keys, &path);
        upload::once_more_if_stale(|| {
            let cached = first.take();
            let files = files.clone();
            async move {
                let opened = match cached {
                    Some(o) => o,
                    None => thread::fetch(api, id, Slot::Reporter, &keys.secret).await?,
                };
                let opened = rotate::rotate_if_due(api, opened, &keys.secret, pin, entropy).await?;
                let out = records::reply(&opened, "", text, files, entropy)?;
                let created: Created =
                    upload::send(api, path, "message", &out, None, "created").await?;
                Ok(created.seq.unwrap_or(opened.view.messages))
            }
        })
        .await
    }
    .await;
    api.end_session().await;
    result
}

/// Gives the entity's current coordinators the key when nobody can read
/// the thread any more (all its readers were removed): every coordinator of
/// the signed list, less `exclude`, only device readers with `device_only`
/// or when the thread is device-only. Returns their names.
pub async fn grant(
    s: ReporterSession,
    pin: Option<&[u8; 32]>,
    device_only: bool,
    exclude: &[String],
    entropy: &dyn Entropy,
) -> Result<Vec<String>, ClientError> {
    let ReporterSession {
        mut api,
        opened,
        keys,
    } = s;
    let result = async {
        if opened.view.reporter_key != keys.secret.public() {
            return Err(ClientError::ThreadDoesNotOpen);
        }
        if opened.view.readers.iter().any(|r| r.active) {
            return Err(ClientError::StillRead);
        }
        let opened = rotate::rotate_if_due(&api, opened, &keys.secret, pin, entropy).await?;
        let doc = document::fetch(&api, pin).await?;
        let entity = doc.entity(&opened.view.entity)?;
        let chosen =
            document::choose_coordinators(entity, device_only || opened.view.device_only, exclude)?;
        eprintln!(
            "{}",
            show::readers_of_new_thread(api.lang(), &entity.name, &chosen)
        );
        let body = records::grant(&opened, &chosen, entropy)?;
        api.post_json_ok(
            &format!("/api/v1/threads/{}/grant", opened.id().hex()),
            &body,
        )
        .await?;
        Ok(chosen.iter().map(|c| c.display_name.clone()).collect())
    }
    .await;
    api.end_session().await;
    result
}
