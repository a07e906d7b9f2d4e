//! Reading a message form (multipart): text fields, the message, and files
//! sealed chunk by chunk as they arrive. A refused form is always read to
//! its end, so the browser gets the error page instead of a reset
//! connection.

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::http::StatusCode;

use super::WebError;
use crate::saadd::{AttachmentSink, FinishedAttachment, Saadd, SaaddError};

/// Longest value accepted for a short field (kind, reader ids, words).
const SHORT_FIELD: usize = 4096;

/// What a message form held.
pub struct MessageForm {
    /// Short fields, in order.
    pub fields: Vec<(String, String)>,
    /// The message text, when it was readable and within the byte cap.
    pub text: Option<String>,
    /// Files stored so far (sealed; not yet visible to anyone).
    pub files: Vec<FinishedAttachment>,
    /// The first problem found; later parts were read and dropped.
    pub error: Option<WebError>,
}

impl MessageForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        super::field(&self.fields, name)
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

async fn drain(field: &mut Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

/// Reads a value up to `cap` bytes; `None` (after draining) when longer.
async fn read_capped(field: &mut Field<'_>, cap: usize) -> Result<Option<Vec<u8>>, WebError> {
    let mut buf = Vec::new();
    let mut over = false;
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if !over && buf.len() + c.len() <= cap {
                    buf.extend_from_slice(&c);
                } else {
                    over = true;
                    buf.clear();
                }
            }
            Ok(None) => break,
            Err(_) => return Err(WebError::new(StatusCode::BAD_REQUEST, "err-form")),
        }
    }
    Ok((!over).then_some(buf))
}

/// Reads a message form; `sink` makes a sink for each file.
pub async fn read(
    saadd: &Saadd,
    mut mp: Multipart,
    mut sink: impl FnMut() -> AttachmentSink,
) -> MessageForm {
    let limits = saadd.limits.clone();
    let text_cap = limits.message_chars.saturating_mul(4).saturating_add(16);
    let mut form = MessageForm {
        fields: Vec::new(),
        text: None,
        files: Vec::new(),
        error: None,
    };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                form.error
                    .get_or_insert(WebError::new(StatusCode::BAD_REQUEST, "err-form"));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "message" => match read_capped(&mut field, text_cap).await {
                Ok(Some(bytes)) => match String::from_utf8(bytes) {
                    Ok(t) => {
                        if let Err(e) = saadd.check_text(&t) {
                            form.error.get_or_insert(e.into());
                        }
                        form.text = Some(t);
                    }
                    Err(_) => {
                        form.error.get_or_insert(SaaddError::NotText.into());
                    }
                },
                Ok(None) => {
                    form.error.get_or_insert(
                        SaaddError::MessageTooLong {
                            limit: limits.message_chars,
                        }
                        .into(),
                    );
                }
                Err(e) => {
                    form.error.get_or_insert(e);
                }
            },
            "file" => {
                let file_name = field.file_name().unwrap_or("").to_owned();
                let content_type = field.content_type().unwrap_or("").to_owned();
                if form.error.is_some() {
                    drain(&mut field).await;
                    continue;
                }
                let mut s: Option<AttachmentSink> = None;
                let mut failed = false;
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if failed || c.is_empty() {
                                continue;
                            }
                            if s.is_none() {
                                if form.files.len() >= limits.attachments_per_message {
                                    form.error.get_or_insert(
                                        SaaddError::TooManyAttachments {
                                            limit: limits.attachments_per_message,
                                        }
                                        .into(),
                                    );
                                    failed = true;
                                    continue;
                                }
                                s = Some(sink());
                            }
                            if let Some(w) = s.as_mut() {
                                if let Err(e) = w.write(&c) {
                                    form.error.get_or_insert(e.into());
                                    failed = true;
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            form.error
                                .get_or_insert(WebError::new(StatusCode::BAD_REQUEST, "err-form"));
                            failed = true;
                            break;
                        }
                    }
                }
                match s {
                    Some(w) if failed => {
                        let _ = w.discard();
                    }
                    Some(w) => match w.finish(&file_name, &content_type) {
                        Ok(f) => form.files.push(f),
                        Err(e) => {
                            form.error.get_or_insert(e.into());
                        }
                    },
                    // An empty file input (no file chosen): nothing to keep.
                    None => {}
                }
            }
            _ => match read_capped(&mut field, SHORT_FIELD).await {
                Ok(Some(v)) => {
                    if let Ok(v) = String::from_utf8(v) {
                        form.fields.push((name, v));
                    }
                }
                Ok(None) => {
                    form.error
                        .get_or_insert(WebError::new(StatusCode::BAD_REQUEST, "err-form"));
                }
                Err(e) => {
                    form.error.get_or_insert(e);
                }
            },
        }
    }
    form
}
