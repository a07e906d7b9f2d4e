//! Attachments sent from files (spec/api.md, "Creating a thread", "Posting
//! a message"; spec/envelope.md, "Attachment record", "Chunk record").
//!
//! A file is never held whole in memory: its metadata record is sealed
//! from the file's size before the request starts, and each chunk part of
//! the multipart body is a stream that reads its [`CHUNK_DATA`] bytes from
//! the file and seals them only when the request body gets to it. Every
//! chunk's sealed length is known beforehand (one padding bucket plus the
//! header and AEAD overhead), so the body has an exact length. The nonces
//! are drawn up front from the caller's [`Entropy`], so sealing stays a
//! function of its inputs.
//!
//! The name sealed is the file's base name, cleaned as the web form cleans
//! it (`src/saadd/threads.rs`); the type is guessed from the extension.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::error::ClientError;
use crate::core::api::{AttachmentIn, b64};
use crate::core::envelope::{self, AttachmentMeta, CHUNK_DATA, Id};
use crate::core::padding;
use crate::core::seal::{NONCE_LEN, OVERHEAD};
use crate::core::secret::Key32;
use crate::platform::{Entropy, random};

/// A file to attach, as found on disk before anything is sealed.
#[derive(Clone, Debug)]
pub struct FilePlan {
    pub path: PathBuf,
    /// The cleaned base name that is sealed.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub chunks: u32,
}

/// Looks at a file to attach: a regular file, readable, its size fixed now.
pub fn plan(path: &Path) -> Result<FilePlan, ClientError> {
    let meta = std::fs::metadata(path).map_err(|e| ClientError::file(path, e))?;
    if !meta.is_file() {
        return Err(ClientError::file(path, "not a regular file"));
    }
    // Readable now, so a permission problem shows before anything is sent.
    std::fs::File::open(path).map_err(|e| ClientError::file(path, e))?;
    let size = meta.len();
    let chunks = u32::try_from(size.div_ceil(CHUNK_DATA as u64).max(1))
        .map_err(|_| ClientError::file(path, "too large"))?;
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(FilePlan {
        path: path.to_owned(),
        name: clean_name(&base),
        content_type: guess_type(&base).to_owned(),
        size,
        chunks,
    })
}

/// Looks at every file to attach, refusing more than any server accepts.
pub fn plan_all(paths: &[PathBuf]) -> Result<Vec<FilePlan>, ClientError> {
    let limit = super::records::ATTACHMENTS_PER_MESSAGE;
    if paths.len() > limit {
        return Err(ClientError::TooManyAttachments { limit });
    }
    paths.iter().map(|p| plan(p)).collect()
}

/// An attachment whose metadata record is sealed; its chunks are sealed
/// while the request is sent.
pub struct SealedAttachment {
    pub id: Id,
    pub record: Vec<u8>,
    pub plan: FilePlan,
    nonces: Vec<[u8; NONCE_LEN]>,
}

impl SealedAttachment {
    /// The entry of the `attachments` list of the JSON part.
    pub fn entry(&self) -> AttachmentIn {
        AttachmentIn {
            id: self.id,
            record: b64(&self.record),
            chunks: self.plan.chunks,
        }
    }
}

/// Draws an attachment id and the nonces, and seals the metadata under
/// `tk` of `epoch`.
pub fn seal_attachment(
    tk: &Key32,
    thread: Id,
    epoch: u32,
    plan: FilePlan,
    entropy: &dyn Entropy,
) -> Result<SealedAttachment, ClientError> {
    let id = Id(random(entropy));
    let meta = AttachmentMeta {
        name: plan.name.clone(),
        content_type: plan.content_type.clone(),
        size: plan.size,
        chunks: plan.chunks,
    };
    let record = envelope::seal_attachment_meta(tk, thread, id, epoch, &meta, random(entropy))
        .map_err(|_| ClientError::Seal)?;
    let nonces = (0..plan.chunks).map(|_| random(entropy)).collect();
    Ok(SealedAttachment {
        id,
        record,
        plan,
        nonces,
    })
}

/// Bytes of data in chunk `index` of a file of `size` bytes.
fn chunk_data_len(size: u64, chunks: u32, index: u32) -> usize {
    if index + 1 < chunks {
        CHUNK_DATA
    } else {
        usize::try_from(size - u64::from(chunks - 1) * CHUNK_DATA as u64).unwrap_or(CHUNK_DATA)
    }
}

/// Length of a sealed chunk record holding `data_len` bytes:
/// `version (1) || epoch (4) || nonce || padded frame || tag`.
pub fn sealed_chunk_len(data_len: usize) -> u64 {
    let bucket = padding::BUCKETS
        .iter()
        .copied()
        .find(|b| *b >= data_len + 4)
        .unwrap_or(CHUNK_DATA + 4);
    (1 + 4 + OVERHEAD + bucket) as u64
}

/// Reads chunk `index` of `plan` from its file and seals it. The file must
/// still have the size it had when planned: one that changed meanwhile
/// would not match its sealed metadata.
fn seal_chunk_from_file(
    tk: &Key32,
    thread: Id,
    att: Id,
    epoch: u32,
    plan: &FilePlan,
    index: u32,
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, ClientError> {
    let changed = || ClientError::file(&plan.path, "changed while it was being sent");
    let mut file = std::fs::File::open(&plan.path).map_err(|e| ClientError::file(&plan.path, e))?;
    let now = file
        .metadata()
        .map_err(|e| ClientError::file(&plan.path, e))?
        .len();
    if now != plan.size {
        return Err(changed());
    }
    file.seek(SeekFrom::Start(u64::from(index) * CHUNK_DATA as u64))
        .map_err(|e| ClientError::file(&plan.path, e))?;
    let mut data =
        zeroize::Zeroizing::new(vec![0u8; chunk_data_len(plan.size, plan.chunks, index)]);
    file.read_exact(&mut data).map_err(|_| changed())?;
    envelope::seal_chunk(tk, thread, att, index, epoch, &data, nonce).map_err(|_| ClientError::Seal)
}

/// Where a chunk stream leaves the reason it failed, for the error shown
/// after reqwest reports a broken request.
#[derive(Clone, Default)]
pub struct FailureSlot(Arc<Mutex<Option<ClientError>>>);

impl FailureSlot {
    fn set(&self, e: ClientError) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(e);
        }
    }
    pub fn take(&self) -> Option<ClientError> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// Appends one part per chunk, named `chunk:<attachment id>:<index>`, each
/// sealed from its file only when the body is sent.
pub fn add_chunk_parts(
    mut form: reqwest::multipart::Form,
    tk: &Arc<Key32>,
    thread: Id,
    epoch: u32,
    attachments: &[SealedAttachment],
    failure: &FailureSlot,
) -> reqwest::multipart::Form {
    for att in attachments {
        for (index, nonce) in (0u32..).zip(att.nonces.iter().copied()) {
            let len = sealed_chunk_len(chunk_data_len(att.plan.size, att.plan.chunks, index));
            let tk = Arc::clone(tk);
            let plan = att.plan.clone();
            let id = att.id;
            let failure = failure.clone();
            let sealed = futures_util::stream::once(async move {
                let done = tokio::task::spawn_blocking(move || {
                    seal_chunk_from_file(&tk, thread, id, epoch, &plan, index, nonce)
                })
                .await
                .unwrap_or(Err(ClientError::Seal));
                done.map_err(|e| {
                    failure.set(e);
                    std::io::Error::other("attachment chunk")
                })
            });
            form = form.part(
                format!("chunk:{}:{index}", att.id.hex()),
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(sealed),
                    len,
                ),
            );
        }
    }
    form
}

/// Sends a sealed message as `multipart/form-data`: first the JSON part
/// named `first` (`thread` or `message`), then the chunk parts.
pub async fn send<T: serde::de::DeserializeOwned>(
    api: &super::http::Api,
    path: &str,
    first: &'static str,
    out: &super::records::Outgoing,
    token: Option<&str>,
    what: &'static str,
) -> Result<T, ClientError> {
    let json = reqwest::multipart::Part::text(out.json.clone())
        .mime_str("application/json")
        .map_err(|_| ClientError::Seal)?;
    let failure = FailureSlot::default();
    let form = add_chunk_parts(
        reqwest::multipart::Form::new().part(first, json),
        &out.tk,
        out.thread,
        out.epoch,
        &out.attachments,
        &failure,
    );
    api.post_multipart(path, form, token, &failure, what).await
}

pub use crate::core::names::clean_name;

/// Runs `attempt` once more when the server answered `stale`: another
/// message came first, so the reply is sealed again at the new place
/// rather than the typed text being lost.
pub async fn once_more_if_stale<T, F, Fut>(mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    match attempt().await {
        Err(ClientError::Server { code, .. }) if code == "stale" => attempt().await,
        other => other,
    }
}

/// The content type of a file name's extension; `application/octet-stream`
/// for anything not listed.
pub fn guess_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "rtf" => "application/rtf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "zip" => "application/zip",
        "7z" => "application/x-7z-compressed",
        "gz" => "application/gzip",
        "eml" => "message/rfc822",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "tif" | "tiff" => "image/tiff",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::envelope::{EpochKeys, open_attachment_meta, open_chunk};

    /// Counter bytes: every draw differs, every run is the same.
    pub(crate) struct Counter(pub std::sync::atomic::AtomicU8);
    impl Entropy for Counter {
        fn fill(&self, out: &mut [u8]) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for (i, b) in out.iter_mut().enumerate() {
                *b = n.wrapping_mul(31).wrapping_add(i as u8);
            }
        }
    }
    pub(crate) fn counter() -> Counter {
        Counter(std::sync::atomic::AtomicU8::new(1))
    }

    #[test]
    fn sealed_chunk_lengths_are_exact() {
        let tk = Key32::from_bytes([1; 32]);
        for n in [0, 1, 507, 508, 509, 4000, 65_531, CHUNK_DATA] {
            let rec =
                envelope::seal_chunk(&tk, Id([1; 16]), Id([2; 16]), 0, 0, &vec![7; n], [0; 24])
                    .unwrap();
            assert_eq!(rec.len() as u64, sealed_chunk_len(n), "{n}");
        }
    }

    #[test]
    fn chunk_sizes_cover_the_file() {
        assert_eq!(chunk_data_len(0, 1, 0), 0);
        let size = 2 * CHUNK_DATA as u64 + 10;
        assert_eq!(chunk_data_len(size, 3, 0), CHUNK_DATA);
        assert_eq!(chunk_data_len(size, 3, 2), 10);
    }

    #[test]
    fn a_file_is_sealed_chunk_by_chunk_and_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("informe final.pdf");
        let data: Vec<u8> = (0..(CHUNK_DATA + 1000)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let p = plan(&path).unwrap();
        assert_eq!((p.size, p.chunks), (data.len() as u64, 2));
        assert_eq!(p.name, "informe final.pdf");
        assert_eq!(p.content_type, "application/pdf");
        let tk = Key32::from_bytes([3; 32]);
        let thread = Id([4; 16]);
        let att = seal_attachment(&tk, thread, 2, p, &counter()).unwrap();
        let keys = EpochKeys::new(2, tk.clone());
        let meta = open_attachment_meta(&keys, thread, att.id, &att.record).unwrap();
        assert_eq!(meta.size, data.len() as u64);
        assert_eq!(meta.chunks, 2);
        let mut back = Vec::new();
        for i in 0..2 {
            let rec =
                seal_chunk_from_file(&tk, thread, att.id, 2, &att.plan, i, att.nonces[i as usize])
                    .unwrap();
            back.extend_from_slice(open_chunk(&keys, thread, att.id, i, &rec).unwrap().expose());
        }
        assert_eq!(back, data);
        // A file that changes after planning is refused, not sent half-new.
        std::fs::write(&path, b"short").unwrap();
        assert!(seal_chunk_from_file(&tk, thread, att.id, 2, &att.plan, 0, [0; 24]).is_err());
    }

    #[test]
    fn an_empty_file_is_one_empty_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vacío");
        std::fs::write(&path, b"").unwrap();
        let p = plan(&path).unwrap();
        assert_eq!((p.size, p.chunks), (0, 1));
        assert_eq!(p.content_type, "application/octet-stream");
        assert!(plan(dir.path()).is_err(), "a directory is not attached");
    }

    #[test]
    fn types_are_guessed_from_the_extension() {
        assert_eq!(guess_type("FOTO.JPG"), "image/jpeg");
        assert_eq!(guess_type("noext"), "application/octet-stream");
    }
}
