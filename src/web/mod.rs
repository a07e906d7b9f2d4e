//! The web layer: reporter pages (no JavaScript, nothing from another
//! origin), staff pages, security headers, translations, sessions. Only
//! this layer turns errors into HTTP status codes.

// Handlers return `Result<Response, Response>`: the error side is a page
// ready to send, built once on a path that ends the request, so boxing it
// would only add an allocation.
#![allow(clippy::result_large_err)]

pub mod api;
mod audit;
mod download;
mod error;
mod form;
pub mod i18n;
mod layout;
mod reporter;
pub mod security;
pub mod session;
mod staff;
mod tokens;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::WebError;
use i18n::{I18n, Lang};
use session::{SessionLimits, Sessions};
pub use tokens::{API_ERROR_CODES, CODE_HEADER};

use crate::platform::Entropy;
use crate::saadd::Saadd;
use crate::services::Services;
use crate::tokens::Tokens;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub saadd: Arc<Saadd>,
    pub tokens: Arc<Tokens>,
    /// The audit log (spec/tlog.md).
    pub audit: Arc<crate::audit::AuditLog>,
    /// Days an encrypted backup stays readable at most, told to reporters
    /// (none when backups are not set up).
    pub backup_horizon_days: Option<u32>,
    /// New threads per hour on an `open` entity, everyone together.
    pub new_threads_per_hour: u32,
    pub open_limiter: Arc<tokens::OpenLimiter>,
    pub sessions: Arc<Sessions>,
    /// API sessions (spec/api.md, "Sessions"), in memory only.
    pub api_sessions: Arc<api::ApiSessions>,
    pub drafts: Arc<session::Drafts>,
    pub i18n: Arc<I18n>,
    pub entropy: Arc<dyn Entropy>,
    /// Name of the service shown in page titles.
    pub site_name: Arc<str>,
    /// Whether cookies carry `Secure` (true unless an operator turns it off
    /// for a plain-HTTP test setup).
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(services: &Services, entropy: Arc<dyn Entropy>) -> Result<AppState, String> {
        Ok(AppState {
            saadd: services.saadd.clone(),
            tokens: services.tokens.clone(),
            audit: services.audit.clone(),
            backup_horizon_days: services.backup.as_ref().map(|b| b.horizon_days()),
            new_threads_per_hour: 60,
            open_limiter: Arc::new(tokens::OpenLimiter::default()),
            sessions: Arc::new(Sessions::new(SessionLimits::default())),
            api_sessions: Arc::new(api::ApiSessions::new(crate::platform::random(
                entropy.as_ref(),
            ))),
            // Long enough to copy ten words by hand and confirm one.
            drafts: Arc::new(session::Drafts::new(Duration::from_secs(60 * 60), 20_000)),
            i18n: Arc::new(I18n::load()?),
            entropy,
            site_name: Arc::from("Buzón de ética"),
            secure_cookies: true,
        })
    }

    pub fn t(&self, ctx: &Ctx, key: &str) -> String {
        self.i18n.t(ctx.lang, key)
    }

    fn random<const N: usize>(&self) -> [u8; N] {
        crate::platform::random(self.entropy.as_ref())
    }

    /// A `Set-Cookie` value with the flags every session cookie carries.
    fn cookie(&self, name: &str, value: &str, path: &str, max_age: Option<u64>) -> HeaderValue {
        let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
        if self.secure_cookies {
            c.push_str("; Secure");
        }
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Per-request context: the page language and the request's cookies.
pub struct Ctx {
    pub lang: Lang,
    /// The language was chosen by `?lang=` on this request: remember it.
    pub lang_chosen: bool,
    pub cookies: HashMap<String, String>,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, Self::Rejection> {
        let mut cookies = HashMap::new();
        for v in parts.headers.get_all(header::COOKIE) {
            if let Ok(s) = v.to_str() {
                for pair in s.split(';') {
                    if let Some((k, v)) = pair.trim().split_once('=') {
                        cookies.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        let query_lang = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::from_code(&v))
        });
        let lang = query_lang
            .or_else(|| cookies.get("lang").and_then(|v| Lang::from_code(v)))
            .unwrap_or_default();
        Ok(Ctx {
            lang,
            lang_chosen: query_lang.is_some(),
            cookies,
            path: parts.uri.path().to_owned(),
        })
    }
}

/// Reads an `application/x-www-form-urlencoded` body into pairs.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The one stylesheet (no fonts, no images, no external anything).
const CSS: &str = include_str!("style.css");

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CSS,
    )
        .into_response()
}

async fn not_found(axum::extract::State(st): axum::extract::State<AppState>, ctx: Ctx) -> Response {
    if ctx.path.starts_with("/api/") {
        return tokens::api_error(&st, &ctx, StatusCode::NOT_FOUND, "not_found");
    }
    WebError::from(crate::saadd::SaaddError::NotFound).page(&st, &ctx)
}

/// A day as people write it: "3 de diciembre de 2026", "3 December 2026".
pub fn date(st: &AppState, ctx: &Ctx, day: crate::core::Day) -> String {
    let (y, m, d) = day.civil();
    let month = st.t(ctx, &format!("month-{m}"));
    st.i18n.ta(
        ctx.lang,
        "date-format",
        &[
            ("day", fluent_bundle::FluentValue::from(d.to_string())),
            ("month", fluent_bundle::FluentValue::from(month)),
            ("year", fluent_bundle::FluentValue::from(y.to_string())),
        ],
    )
}

/// A whole number with thousands separators ("50,000"), as both es-MX and
/// English write it.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Browsers ask for an icon on every visit: answer with nothing rather
/// than a whole error page.
async fn favicon() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CACHE_CONTROL, "public, max-age=86400")],
    )
        .into_response()
}

/// Largest body of a form without files.
pub const SMALL_FORM: usize = 64 * 1024;

async fn method_not_allowed(
    axum::extract::State(st): axum::extract::State<AppState>,
    ctx: Ctx,
) -> Response {
    if ctx.path.starts_with("/api/") {
        return tokens::api_error(&st, &ctx, StatusCode::METHOD_NOT_ALLOWED, "method");
    }
    WebError::new(StatusCode::METHOD_NOT_ALLOWED, "err-method").page(&st, &ctx)
}

/// Largest request body: every attachment of one message at its limit,
/// plus room for the text fields.
pub fn body_limit(saadd: &Saadd) -> usize {
    let l = &saadd.limits;
    (l.attachment_bytes as usize)
        .saturating_mul(l.attachments_per_message)
        .saturating_add(2 * 1024 * 1024)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let upload = DefaultBodyLimit::max(body_limit(&state.saadd));
    Router::new()
        .route("/", get(reporter::home))
        .route("/e/{slug}", get(reporter::entity))
        .route("/e/{slug}/enviar", post(reporter::submit).layer(upload))
        .route(
            "/r",
            get(reporter::return_form).post(reporter::return_login),
        )
        .route(
            "/r/recibo",
            get(reporter::receipt).post(reporter::confirm_receipt),
        )
        .route("/r/hilo", get(reporter::thread))
        .route("/r/responder", post(reporter::reply).layer(upload))
        .route("/r/adjunto/{att}", get(reporter::download))
        .route(
            "/r/retirar",
            get(reporter::withdraw_form).post(reporter::withdraw),
        )
        .route("/r/conceder", post(reporter::grant))
        .route("/r/salir", post(reporter::logout))
        .route("/staff", get(staff::dashboard))
        .route("/staff/login", get(staff::login_form).post(staff::login))
        .route("/staff/salir", post(staff::logout))
        .route(
            "/staff/clave",
            get(staff::password_form).post(staff::password),
        )
        .route("/staff/t/{id}", get(staff::thread))
        .route("/staff/t/{id}/responder", post(staff::reply).layer(upload))
        .route("/staff/t/{id}/estado", post(staff::status))
        .route("/staff/t/{id}/asignar", post(staff::assign))
        .route("/staff/t/{id}/desasignar", post(staff::unassign))
        .route("/staff/t/{id}/reconceder", post(staff::regrant))
        .route("/staff/t/{id}/adjunto/{att}", get(staff::download))
        .route("/static/buzon.css", get(css))
        .route("/static/pases.js", get(tokens::pases_js))
        .route("/e/{slug}/pases", get(tokens::pases_page))
        .route(
            "/.well-known/private-token-issuer-directory",
            get(tokens::directory),
        )
        .route(
            "/api/v1/entities/{slug}/token-challenge",
            get(tokens::challenge),
        )
        .route("/api/v1/token-request", post(tokens::token_request))
        .route("/api/v1/entities", get(api::entities))
        .route("/api/v1/sessions/reporter", post(api::reporter_session))
        .route("/api/v1/sessions/staff", post(api::staff_session))
        .route("/api/v1/sessions", axum::routing::delete(api::end_session))
        .route("/api/v1/threads", post(api::create_thread).layer(upload))
        .route("/api/v1/threads/{id}", get(api::thread))
        .route(
            "/api/v1/threads/{id}/messages",
            post(api::post_message).layer(upload),
        )
        .route(
            "/api/v1/threads/{id}/attachments/{att}/chunks/{index}",
            get(api::chunk),
        )
        .route("/api/v1/threads/{id}/rotate", post(api::rotate))
        .route("/api/v1/threads/{id}/assign", post(api::assign))
        .route("/api/v1/threads/{id}/unassign", post(api::unassign))
        .route("/api/v1/threads/{id}/grant", post(api::grant))
        .route("/api/v1/threads/{id}/status", post(api::status))
        .route("/api/v1/staff/threads", get(api::staff_threads))
        .route("/api/v1/audit/checkpoint", get(audit::checkpoint))
        .route("/api/v1/audit/entries", get(audit::entries))
        .route("/api/v1/audit/proof/inclusion", get(audit::inclusion))
        .route("/api/v1/audit/proof/consistency", get(audit::consistency))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Forms without files: a receipt, a password, a few ids.
        .layer(DefaultBodyLimit::max(SMALL_FORM))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}

/// How long a request may take: five minutes, or an hour for the routes
/// that take files, which over a slow Tor circuit (tens of KB/s) need it.
pub const REQUEST_TIME: Duration = Duration::from_secs(300);
pub const UPLOAD_TIME: Duration = Duration::from_secs(60 * 60);

/// Whether a request may carry files.
fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    if method != axum::http::Method::POST {
        return false;
    }
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "api", "v1", "threads"]
            | ["", "api", "v1", "threads", _, "messages"]
            | ["", "e", _, "enviar"]
            | ["", "r", "responder"]
            | ["", "staff", "t", _, "responder"]
    )
}

/// Ends a request that runs past its time with `408` (made JSON under
/// `/api/` and a page elsewhere by [`security::headers`]). A handler cut
/// off here is dropped: the upload guards remove what it had stored.
async fn time_limit(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let limit = if is_upload(req.method(), req.uri().path()) {
        UPLOAD_TIME
    } else {
        REQUEST_TIME
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Drops expired sessions (pages and API) every minute.
pub fn spawn_session_sweeper(sessions: Arc<Sessions>, api_sessions: Arc<api::ApiSessions>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            sessions.sweep(Instant::now());
            api_sessions.sweep();
        }
    });
}

/// A small url-encoded form, read into pairs. A body over [`SMALL_FORM`]
/// or one that cannot be read is refused with a translated page.
pub struct FormBody(pub zeroize::Zeroizing<Vec<(String, String)>>);

impl FormBody {
    pub fn get(&self, name: &str) -> Option<&str> {
        field(&self.0, name)
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl axum::extract::FromRequest<AppState> for FormBody {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<FormBody, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = match Ctx::from_request_parts(&mut parts, state).await {
            Ok(c) => c,
            Err(never) => match never {},
        };
        let req = axum::extract::Request::from_parts(parts, body);
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(FormBody(zeroize::Zeroizing::new(form_pairs(&b)))),
            Err(rej) => {
                let status = rej.status();
                let key = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "err-form-too-large"
                } else {
                    "err-form"
                };
                Err(WebError::new(status, key).page(state, &ctx))
            }
        }
    }
}

/// How long a client may take to send a request's headers, by default. A
/// client that trickles them (slowloris) would otherwise hold a connection,
/// and a file descriptor, for ever. Bodies are bounded by the 300-second
/// request timeout of [`router`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `app` on `listener` until `shutdown` resolves, then waits up to
/// ten seconds for requests in flight (each acknowledges only after its
/// flush, so none is cut between storing and answering).
///
/// The peer address from `accept` is dropped unread: nothing here can log
/// or store it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
    header_timeout: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    // Out of file descriptors and the like: wait, go on.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                conns.spawn(async move {
                    let mut builder = Builder::new(TokioExecutor::new());
                    builder
                        .http1()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout);
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}
