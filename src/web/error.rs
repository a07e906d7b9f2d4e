//! Errors as pages: a status code and a calm, translated sentence. No
//! internal detail ever reaches the page; internal failures are logged by
//! kind only (their Display carries no user data).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use maud::html;

use super::{AppState, Ctx};
use crate::saadd::SaaddError;

/// An error on its way to becoming a page.
#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    /// Catalogue key of the sentence shown.
    pub key: &'static str,
    /// A number the sentence names (a limit).
    pub number: Option<u64>,
}

impl WebError {
    pub fn new(status: StatusCode, key: &'static str) -> WebError {
        WebError {
            status,
            key,
            number: None,
        }
    }

    /// The stable code of the error, for tests and scripts: the catalogue
    /// key without its `err-` prefix.
    pub fn code(&self) -> &'static str {
        self.key.strip_prefix("err-").unwrap_or(self.key)
    }

    /// The sentence, in the page's language.
    pub fn message(&self, st: &AppState, ctx: &Ctx) -> String {
        match self.number {
            Some(n) => st.i18n.ta(
                ctx.lang,
                self.key,
                &[("limit", FluentValue::from(super::grouped(n)))],
            ),
            None => st.t(ctx, self.key),
        }
    }

    /// A whole page saying what went wrong and where to go next.
    pub fn page(&self, st: &AppState, ctx: &Ctx) -> Response {
        let msg = self.message(st, ctx);
        let back = if ctx.path.starts_with("/staff") {
            "/staff"
        } else {
            "/"
        };
        let body = html! {
            div.notice.error role="alert" data-error=(self.code()) { p { (msg) } }
            p { a href=(back) { (st.t(ctx, "nav-back-home")) } }
        };
        let title = st.t(ctx, "err-title");
        let mut resp = (self.status, super::layout::page(st, ctx, &title, body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        }
        resp
    }
}

impl From<SaaddError> for WebError {
    fn from(e: SaaddError) -> WebError {
        use SaaddError as E;
        let (status, key, number) = match e {
            E::NotFound => (StatusCode::NOT_FOUND, "err-not-found", None),
            E::NoReader => (StatusCode::BAD_REQUEST, "err-no-reader", None),
            E::EmptyMessage => (StatusCode::BAD_REQUEST, "err-empty", None),
            E::MessageTooLong { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "err-too-long",
                Some(limit as u64),
            ),
            E::NulInMessage => (StatusCode::BAD_REQUEST, "err-nul", None),
            E::NotText => (StatusCode::BAD_REQUEST, "err-not-text", None),
            E::AttachmentTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "err-attachment-too-large",
                Some(limit / (1024 * 1024)),
            ),
            E::TooManyAttachments { limit } => (
                StatusCode::BAD_REQUEST,
                "err-too-many-attachments",
                Some(limit as u64),
            ),
            E::ThreadFull { limit } => (
                StatusCode::BAD_REQUEST,
                "err-thread-full",
                Some(u64::from(limit)),
            ),
            E::WrongReceipt => (StatusCode::UNAUTHORIZED, "err-wrong-receipt", None),
            E::WrongLogin => (StatusCode::UNAUTHORIZED, "err-wrong-login", None),
            E::Busy => (StatusCode::TOO_MANY_REQUESTS, "err-busy", None),
            E::Forbidden => (StatusCode::FORBIDDEN, "err-forbidden", None),
            E::DeviceOnly => (StatusCode::FORBIDDEN, "err-device-only", None),
            // Only the API meets these; its own mapping is in web/api.rs.
            E::Malformed(_) | E::WrongDay => (StatusCode::BAD_REQUEST, "err-invalid", None),
            E::Stale | E::RotationDue => (StatusCode::CONFLICT, "err-forbidden", None),
            E::BadStatusChange => (StatusCode::BAD_REQUEST, "err-bad-status", None),
            E::WeakPassword => (StatusCode::BAD_REQUEST, "err-weak-password", None),
            E::Taken => (StatusCode::CONFLICT, "err-taken", None),
            E::Invalid(_) => (StatusCode::BAD_REQUEST, "err-invalid", None),
            E::Corrupt(what) => {
                tracing::error!(what, "unreadable stored record");
                (StatusCode::INTERNAL_SERVER_ERROR, "err-internal", None)
            }
            E::Store(err) => {
                tracing::error!(error = %err, "storage failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "err-internal", None)
            }
        };
        WebError {
            status,
            key,
            number,
        }
    }
}
