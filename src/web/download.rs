//! Attachment downloads: always a download, never rendered. The stored type
//! is not trusted: every file goes out as `application/octet-stream` with
//! `Content-Disposition: attachment` and `nosniff`, under a sandboxing CSP.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, Ctx, WebError};
use crate::core::envelope::{Id, Slot};
use crate::core::wrap::RecipientSecret;

/// `filename*` value: RFC 5987 percent-encoding of the UTF-8 name.
fn encoded_name(name: &str) -> String {
    let mut out = String::from("UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Streams an attachment, opening one chunk at a time.
pub fn respond(
    st: &AppState,
    ctx: &Ctx,
    thread: Id,
    att: Id,
    slot: Slot,
    secret: &RecipientSecret,
) -> Result<Response, Response> {
    let (meta, reader) = st
        .saadd
        .attachment(thread, att, slot, secret)
        .map_err(|e| WebError::from(e).page(st, ctx))?;
    let stream = futures_util::stream::unfold(reader, |mut r| async move {
        match r.next_chunk() {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk.expose().to_vec()), r)),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "attachment chunk unreadable");
                Some((Err(std::io::Error::other("chunk")), r))
            }
        }
    });
    let ascii: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*={}",
        encoded_name(&meta.name)
    );
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    h.insert(
        header::HeaderName::from_static("x-download-options"),
        HeaderValue::from_static("noopen"),
    );
    Ok(resp)
}
