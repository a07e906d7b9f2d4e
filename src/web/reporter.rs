//! Reporter pages: plain HTML and CSS, no scripts, nothing from another
//! origin, usable in Tor Browser at its Safest level.

use std::time::Instant;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use maud::{Markup, html};

use super::form::{self, MessageForm};
use super::layout::{form_page, page};
use super::session::{DraftStart, ReporterSession, SessionData};
use super::{AppState, Ctx, FormBody, WebError};
use crate::core::envelope::{Author, Id, Slot};
use crate::core::receipt::{self, Receipt};
use crate::core::status::Kind;
use crate::saadd::{EntityRecord, SaaddError, ThreadView};

type Page = Result<Response, Response>;

const COOKIE: &str = "buzon_r";

fn fail(st: &AppState, ctx: &Ctx, e: impl Into<WebError>) -> Response {
    e.into().page(st, ctx)
}

/// The reporter's session, or the page that says it ended.
fn session(
    st: &AppState,
    ctx: &Ctx,
) -> Result<std::sync::Arc<std::sync::Mutex<SessionData>>, Response> {
    let s = ctx
        .cookies
        .get(COOKIE)
        .and_then(|id| st.sessions.get(id, Instant::now()));
    match s {
        Some(s) if matches!(&*lock(&s), SessionData::Reporter(_)) => Ok(s),
        _ => Err(WebError::new(StatusCode::UNAUTHORIZED, "err-session-ended").page(st, ctx)),
    }
}

fn lock(s: &std::sync::Mutex<SessionData>) -> std::sync::MutexGuard<'_, SessionData> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The thread and key of a reporter session.
fn reporter_keys(
    s: &std::sync::Mutex<SessionData>,
) -> Option<(Id, crate::core::wrap::RecipientSecret)> {
    match &*lock(s) {
        SessionData::Reporter(r) => Some((r.thread, r.secret.clone())),
        SessionData::Staff(_) => None,
    }
}

fn status_key(s: crate::core::status::Status) -> String {
    format!("status-{}", s.key().replace('_', "-"))
}

fn kind_key(k: Kind) -> &'static str {
    match k {
        Kind::Question => "kind-question",
        Kind::Claim => "kind-claim",
    }
}

// ---------------------------------------------------------------- home

pub async fn home(State(st): State<AppState>, ctx: Ctx) -> Page {
    let entities = st.saadd.entities().map_err(|e| fail(&st, &ctx, e))?;
    let body = html! {
        p.lead { (st.t(&ctx, "home-lead")) }
        section {
            h2 { (st.t(&ctx, "home-choose-entity")) }
            @if entities.is_empty() {
                p { (st.t(&ctx, "home-no-entities")) }
            }
            ul.entities {
                @for e in &entities {
                    li { a href={ "/e/" (e.slug) } { (e.name) } }
                }
            }
        }
        section {
            h2 { (st.t(&ctx, "home-return-title")) }
            p { (st.t(&ctx, "home-return-text")) }
            p { a.button href="/r" { (st.t(&ctx, "home-return-link")) } }
        }
        (safety(&st, &ctx))
    };
    Ok(page(&st, &ctx, &st.t(&ctx, "home-title"), body))
}

fn safety(st: &AppState, ctx: &Ctx) -> Markup {
    html! {
        section.safety {
            h2 { (st.t(ctx, "safety-title")) }
            ul {
                li { (st.t(ctx, "safety-device")) }
                li { (st.t(ctx, "safety-tor")) }
                li { (st.t(ctx, "safety-style")) }
                li { (st.t(ctx, "safety-metadata")) }
            }
        }
    }
}

// ---------------------------------------------------------------- entity page and form

/// What the reporter typed, kept when a submission is refused.
#[derive(Default)]
struct Draft {
    kind: Option<Kind>,
    text: String,
    excluded: Vec<Id>,
    /// Files came with the refused form: browsers cannot keep a file
    /// input's choice, so the reporter is asked to choose them again.
    files_lost: bool,
}

/// The retention policy, shown before anyone writes (spec/retention.md,
/// "What reporters are shown").
fn retention_section(st: &AppState, ctx: &Ctx, entity: &EntityRecord) -> Result<Markup, Response> {
    let mut items = Vec::new();
    for (kind, key) in [
        (Kind::Question, "retention-question"),
        (Kind::Claim, "retention-claim"),
    ] {
        let p = st
            .saadd
            .policy(entity.id, kind)
            .map_err(|e| fail(st, ctx, e))?;
        items.push(st.i18n.ta(
            ctx.lang,
            key,
            &[
                ("closed", FluentValue::from(u64::from(p.closed))),
                ("inactive", FluentValue::from(u64::from(p.inactive))),
                ("cap", FluentValue::from(u64::from(p.cap))),
                ("receipt", FluentValue::from(u64::from(p.receipt))),
            ],
        ));
    }
    Ok(html! {
        section #conservacion {
            h2 { (st.t(ctx, "retention-title")) }
            ul {
                @for i in &items {
                    li { (i) }
                }
            }
            p { (st.t(ctx, "retention-shred")) }
            @if let Some(days) = st.backup_horizon_days {
                p { (st.i18n.ta(ctx.lang, "retention-backups", &[("days", FluentValue::from(u64::from(days)))])) }
            }
            p { (st.t(ctx, "retention-audit")) }
        }
    })
}

fn entity_page(
    st: &AppState,
    ctx: &Ctx,
    entity: &EntityRecord,
    draft: &Draft,
    error: Option<&WebError>,
) -> Result<Markup, Response> {
    let coordinators = st
        .saadd
        .coordinators(entity.id)
        .map_err(|e| fail(st, ctx, e))?;
    let days = |key: &str, n: u16| {
        st.i18n
            .ta(ctx.lang, key, &[("days", FluentValue::from(u64::from(n)))])
    };
    let kind = draft.kind.unwrap_or(Kind::Question);
    Ok(html! {
        section {
            h2 { (st.t(ctx, "entity-who-reads")) }
            p { (st.t(ctx, "entity-who-reads-text")) }
            ul {
                @for c in &coordinators {
                    li { (c.display_name) " — " (st.t(ctx, "role-coordinator")) }
                }
            }
            p { (st.t(ctx, "entity-advisors-later")) }
        }
        section {
            h2 { (st.t(ctx, "entity-times")) }
            ul {
                li { (days("entity-first-response", entity.first_response_days)) }
                li { (days("entity-answer", entity.answer_days)) }
            }
        }
        (retention_section(st, ctx, entity)?)
        section {
            h2 { (st.t(ctx, "entity-claim-title")) }
            p { (st.t(ctx, "entity-claim-text")) }
            p { (st.t(ctx, "entity-claim-where")) " " strong { (entity.complaints_office) } }
            p { (st.t(ctx, "entity-claim-protection")) }
        }
        details {
            summary { (st.t(ctx, "privacy-title")) }
            p { (st.t(ctx, "privacy-what")) }
            p { (st.t(ctx, "privacy-not")) }
            p { (st.t(ctx, "privacy-purpose")) }
            p { (st.t(ctx, "privacy-rights")) }
        }
        (safety(st, ctx))
        section #escribir {
            h2 { (st.t(ctx, "form-title")) }
            @if let Some(e) = error {
                div.notice.error role="alert" data-error=(e.code()) {
                    p { (e.message(st, ctx)) }
                    @if draft.files_lost { p { (st.t(ctx, "form-files-again")) } }
                }
            }
            // The fragment brings a refusal (shown in this section) into view.
            form method="post" action={ "/e/" (entity.slug) "/enviar#escribir" } enctype="multipart/form-data" {
                // Makes sending this form twice show the first receipt again.
                input type="hidden" name="draft" value=(hex::encode(st.random::<16>()));
                fieldset {
                    legend { (st.t(ctx, "form-kind")) }
                    label {
                        input type="radio" name="kind" value="question" checked[kind == Kind::Question];
                        " " strong { (st.t(ctx, "kind-question")) } " — " (st.t(ctx, "kind-question-help"))
                    }
                    label {
                        input type="radio" name="kind" value="claim" checked[kind == Kind::Claim];
                        " " strong { (st.t(ctx, "kind-claim")) } " — " (st.t(ctx, "kind-claim-help"))
                    }
                }
                label for="message" { (st.t(ctx, "form-message")) }
                p.hint { (st.i18n.ta(ctx.lang, "form-message-help", &[("limit", FluentValue::from(super::grouped(st.saadd.limits.message_chars as u64)))])) }
                textarea #message name="message" rows="12" required { (echo(&draft.text)) }
                fieldset {
                    legend { (st.t(ctx, "form-readers")) }
                    p.hint { (st.t(ctx, "form-readers-help")) }
                    @for c in &coordinators {
                        label {
                            input type="checkbox" name="reader" value=(c.id.hex()) checked[!draft.excluded.contains(&c.id)];
                            " " (c.display_name)
                            " " span.hint { "(" (st.t(ctx, reads_key(c))) ")" }
                        }
                    }
                }
                @if super::tokens::policy_of(st, entity) == crate::core::tokens::Policy::Token {
                    fieldset {
                        legend { (st.t(ctx, "form-token")) }
                        p.hint { (st.t(ctx, "form-token-help")) " " a href={ "/e/" (entity.slug) "/pases" } { (st.t(ctx, "form-token-get")) } }
                        label for="token" { (st.t(ctx, "form-token-label")) }
                        textarea #token name="token" rows="3" autocomplete="off" spellcheck="false" required {}
                    }
                }
                label for="file" { (st.t(ctx, "form-files")) }
                p.hint { (st.i18n.ta(ctx.lang, "form-files-help", &[
                    ("count", FluentValue::from(st.saadd.limits.attachments_per_message as u64)),
                    ("mib", FluentValue::from((st.saadd.limits.attachment_bytes / (1024 * 1024)).to_string())),
                ])) }
                p.warning { (st.t(ctx, "form-files-metadata")) }
                input #file type="file" name="file" multiple;
                p { button type="submit" { (st.t(ctx, "form-submit")) } }
            }
        }
    })
}

pub async fn entity(State(st): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Page {
    let entity = st
        .saadd
        .entity_by_slug(&slug)
        .map_err(|e| fail(&st, &ctx, e))?;
    let body = entity_page(&st, &ctx, &entity, &Draft::default(), None)?;
    Ok(page(&st, &ctx, &entity.name, body))
}

fn refuse_form(
    st: &AppState,
    ctx: &Ctx,
    entity: &EntityRecord,
    draft: &Draft,
    err: WebError,
) -> Response {
    match entity_page(st, ctx, entity, draft, Some(&err)) {
        Ok(body) => (err.status, page(st, ctx, &entity.name, body)).into_response(),
        Err(r) => r,
    }
}

pub async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    headers: axum::http::HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Page {
    let entity = st
        .saadd
        .entity_by_slug(&slug)
        .map_err(|e| fail(&st, &ctx, e))?;
    let mp = mp.map_err(|_| {
        fail(
            &st,
            &ctx,
            WebError::new(StatusCode::BAD_REQUEST, "err-form"),
        )
    })?;
    let new = st.saadd.begin_thread();
    let f: MessageForm = form::read(&st.saadd, mp, || st.saadd.new_thread_sink(&new)).await;
    // The form's draft id makes sending idempotent: a refresh or a second
    // click shows the first receipt again instead of storing twice.
    let draft_id = f
        .field("draft")
        .filter(|d| d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(st.random::<16>()));
    match st.drafts.start(&draft_id, Instant::now()) {
        DraftStart::New => {}
        DraftStart::Sending => {
            let _ = st.saadd.discard(new.id, f.files);
            return Err(WebError::new(StatusCode::CONFLICT, "err-still-sending").page(&st, &ctx));
        }
        DraftStart::Sent(r, i) => {
            let _ = st.saadd.discard(new.id, f.files);
            return Ok(receipt_page(&st, &ctx, &r, i, &draft_id, false));
        }
    }
    let kind = match f.field("kind").map(Kind::from_key) {
        None => Kind::Question,
        Some(Some(k)) => k,
        Some(None) => {
            st.drafts.forget(&draft_id);
            let _ = st.saadd.discard(new.id, f.files);
            return Err(WebError::new(StatusCode::BAD_REQUEST, "err-form").page(&st, &ctx));
        }
    };
    let coordinators = match st.saadd.coordinators(entity.id) {
        Ok(c) => c,
        Err(e) => {
            st.drafts.forget(&draft_id);
            let _ = st.saadd.discard(new.id, f.files);
            return Err(fail(&st, &ctx, e));
        }
    };
    let chosen: Vec<&str> = f.all("reader");
    let readers: Vec<Id> = coordinators
        .iter()
        .filter(|c| chosen.contains(&c.id.hex().as_str()))
        .map(|c| c.id)
        .collect();
    let draft = Draft {
        kind: Some(kind),
        text: f.text.clone().unwrap_or_default(),
        excluded: coordinators
            .iter()
            .filter(|c| !readers.contains(&c.id))
            .map(|c| c.id)
            .collect(),
        files_lost: !f.files.is_empty(),
    };
    let token_text = f.field("token").map(str::to_owned);
    let error = f
        .error
        .or_else(|| readers.is_empty().then(|| SaaddError::NoReader.into()));
    if let Some(err) = error {
        st.drafts.forget(&draft_id);
        let _ = st.saadd.discard(new.id, f.files);
        return Err(refuse_form(&st, &ctx, &entity, &draft, err));
    }
    // The entity's gate: a token spent (token policy) or a slot of the
    // shared hourly allowance taken (open policy). Neither names anyone.
    // Guarded: a request cut off from here (time limit, client gone)
    // gives the token or slot back.
    let gate = match pass_gate(&st, &entity, &headers, token_text.as_deref()).await {
        Ok(g) => GateGuard::new(&st, entity.id, g),
        Err(refusal) => {
            st.drafts.forget(&draft_id);
            let _ = st.saadd.discard(new.id, f.files);
            let mut resp = refuse_form(&st, &ctx, &entity, &draft, refusal.error);
            if let Some(v) = refusal.challenge {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            return Err(resp);
        }
    };
    let text = f.text.unwrap_or_default();
    let thread = new.id;
    let ids: Vec<Id> = f.files.iter().map(|a| a.id).collect();
    // The thread's commit flushes the store, which makes a spent token
    // durable before the receipt is shown.
    let submitted = st
        .saadd
        .submit(entity.id, kind, &text, &readers, new, f.files)
        .await;
    let submitted = match submitted {
        Ok(s) => s,
        Err(e) => {
            st.drafts.forget(&draft_id);
            let _ = st.saadd.discard_ids(thread, &ids);
            // A storage failure may come after the thread was written (a
            // failed flush): the token may have paid for it, so it stays
            // spent. Refusals before anything was written give it back.
            if matches!(e, SaaddError::Store(_)) {
                gate.settle();
            }
            return Err(refuse_form(&st, &ctx, &entity, &draft, e.into()));
        }
    };
    gate.settle();
    // The receipt is in this very response: it does not depend on a
    // cookie, a session or a second request reaching the server.
    let confirm_index = usize::from(st.random::<1>()[0]) % receipt::WORDS;
    st.drafts.sent(
        &draft_id,
        submitted.receipt.clone(),
        confirm_index,
        Instant::now(),
    );
    let mut resp = receipt_page(
        &st,
        &ctx,
        &submitted.receipt,
        confirm_index,
        &draft_id,
        false,
    );
    let data = SessionData::Reporter(ReporterSession {
        thread: submitted.thread,
        secret: submitted.secret,
    });
    // A session lets the reporter go straight to the thread; without one
    // (cookies refused, sessions full) they come back with the receipt.
    if let Some(id) = st.sessions.create(st.random(), data, Instant::now()) {
        resp.headers_mut()
            .append(header::SET_COOKIE, st.cookie(COOKIE, &id, "/", None));
    }
    Ok(resp)
}

/// What let a submission through.
pub(super) enum Gate {
    Token(crate::tokens::Spend),
    Open,
}

impl Gate {
    pub(super) fn give_back(self, st: &AppState, entity: Id) {
        match self {
            Gate::Token(spend) => {
                if let Err(e) = st.tokens.refund(spend) {
                    tracing::error!(error = %e, "a refused submission's token could not be given back");
                }
            }
            Gate::Open => st.open_limiter.give_back(entity),
        }
    }

    /// The submission is stored (and flushed): the token stays spent.
    pub(super) fn settled(self) {}
}

/// A gate that gives its token or slot back when dropped unless settled:
/// a request cut off while its files arrive (a timeout, a client gone)
/// does not keep a reporter's token spent.
pub(super) struct GateGuard {
    st: AppState,
    entity: Id,
    gate: Option<Gate>,
}

impl GateGuard {
    pub(super) fn new(st: &AppState, entity: Id, gate: Gate) -> GateGuard {
        GateGuard {
            st: st.clone(),
            entity,
            gate: Some(gate),
        }
    }

    /// The submission is stored: the token stays spent.
    pub(super) fn settle(mut self) {
        if let Some(g) = self.gate.take() {
            g.settled();
        }
    }
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        if let Some(g) = self.gate.take() {
            g.give_back(&self.st, self.entity);
        }
    }
}

pub(super) struct Refusal {
    pub(super) error: WebError,
    pub(super) challenge: Option<axum::http::HeaderValue>,
}

pub(super) async fn pass_gate(
    st: &AppState,
    entity: &EntityRecord,
    headers: &axum::http::HeaderMap,
    field: Option<&str>,
) -> Result<Gate, Refusal> {
    use crate::core::tokens::{Policy, Scope};
    use crate::tokens::RedeemError;
    let scope = Scope::Entity(entity.id);
    // Fails closed: a policy that cannot be read lets nothing through.
    let policy = st.tokens.policy(&scope).map_err(|err| {
        tracing::error!(error = %err, "an entity's token policy cannot be read");
        Refusal {
            error: WebError::new(StatusCode::SERVICE_UNAVAILABLE, "err-busy"),
            challenge: None,
        }
    })?;
    match policy {
        Policy::Open => {
            if st
                .open_limiter
                .take(entity.id, st.new_threads_per_hour, Instant::now())
            {
                Ok(Gate::Open)
            } else {
                Err(Refusal {
                    error: WebError::new(StatusCode::TOO_MANY_REQUESTS, "err-new-threads-busy"),
                    challenge: None,
                })
            }
        }
        Policy::Token => {
            let from_header = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.len() > 12 && v[..12].eq_ignore_ascii_case("PrivateToken"));
            let text = field
                .filter(|t| !t.trim().is_empty())
                .or(from_header)
                .unwrap_or("");
            match st.tokens.redeem(&scope, text).await {
                Ok(spend) => Ok(Gate::Token(spend)),
                Err(e) => {
                    let (status, key) = match &e {
                        RedeemError::Missing => (StatusCode::UNAUTHORIZED, "err-token-missing"),
                        RedeemError::Malformed => (StatusCode::BAD_REQUEST, "err-token-malformed"),
                        RedeemError::WrongScope => {
                            (StatusCode::FORBIDDEN, "err-token-wrong-entity")
                        }
                        RedeemError::Expired => (StatusCode::FORBIDDEN, "err-token-expired"),
                        RedeemError::Spent => (StatusCode::CONFLICT, "err-token-spent"),
                        RedeemError::Store(err) => {
                            tracing::error!(error = %err, "token redemption failed in storage");
                            (StatusCode::SERVICE_UNAVAILABLE, "err-busy")
                        }
                    };
                    Err(Refusal {
                        error: WebError::new(status, key),
                        challenge: super::tokens::www_authenticate(st, &scope),
                    })
                }
            }
        }
    }
}

fn start_session(st: &AppState, ctx: &Ctx, data: SessionData, to: &str) -> Page {
    let id = st
        .sessions
        .create(st.random(), data, Instant::now())
        .ok_or_else(|| fail(st, ctx, SaaddError::Busy))?;
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, st.cookie(COOKIE, &id, "/", None));
    Ok(resp)
}

// ---------------------------------------------------------------- receipt

fn receipt_page(
    st: &AppState,
    ctx: &Ctx,
    r: &Receipt,
    confirm_index: usize,
    draft_id: &str,
    wrong: bool,
) -> Response {
    let words = r.words();
    let body = html! {
        div.notice.ok role="status" { p { (st.t(ctx, "receipt-sent")) } }
        p.warning { strong { (st.t(ctx, "receipt-warning")) } }
        ol.receipt lang="es" {
            @for w in words.iter() { li { (w) } }
        }
        p { (st.t(ctx, "receipt-how")) }
        p { (st.t(ctx, "receipt-forgiving")) }
        @if wrong {
            div.notice.error role="alert" { p { (st.t(ctx, "receipt-confirm-wrong")) } }
        }
        form method="post" action="/r/recibo" {
            input type="hidden" name="draft" value=(draft_id);
            label for="word" {
                (st.i18n.ta(ctx.lang, "receipt-confirm", &[("n", FluentValue::from((confirm_index + 1) as u64))]))
            }
            input #word type="text" name="word" autocomplete="off" autocapitalize="none" spellcheck="false" required;
            p { button type="submit" { (st.t(ctx, "receipt-confirm-button")) } }
        }
        p.hint { (st.t(ctx, "receipt-skip-help")) " " a href="/r/hilo" { (st.t(ctx, "receipt-skip")) } }
    };
    let mut resp = super::layout::receipt_page(st, ctx, &st.t(ctx, "receipt-title"), body);
    if wrong {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}

/// The receipt is shown in the response to the form; this address only
/// takes the confirmation. A visit goes to the thread.
pub async fn receipt() -> Response {
    Redirect::to("/r/hilo").into_response()
}

pub async fn confirm_receipt(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let typed = form.get("word").unwrap_or("");
    let draft_id = form.get("draft").unwrap_or("");
    let Some((receipt, index)) = st.drafts.receipt(draft_id, Instant::now()) else {
        // Too late to check here (an hour passed, or the server restarted):
        // the message is stored all the same.
        let body = html! {
            p { (st.t(&ctx, "receipt-confirm-expired")) }
            p { a.button href="/r" { (st.t(&ctx, "home-return-link")) } }
        };
        return Ok(page(&st, &ctx, &st.t(&ctx, "receipt-title"), body));
    };
    let expected = receipt.words().get(index).copied().unwrap_or_default();
    if !Receipt::same_word(typed, expected) {
        return Ok(receipt_page(&st, &ctx, &receipt, index, draft_id, true));
    }
    st.drafts.forget(draft_id);
    let has_session = ctx
        .cookies
        .get(COOKIE)
        .and_then(|id| st.sessions.get(id, Instant::now()))
        .is_some();
    if has_session {
        return Ok(Redirect::to("/r/hilo?guardado=1").into_response());
    }
    let body = html! {
        div.notice.ok role="status" { p { (st.t(&ctx, "receipt-confirmed")) } }
        p { (st.t(&ctx, "receipt-confirmed-no-session")) }
        p { a.button href="/r" { (st.t(&ctx, "home-return-link")) } }
    };
    Ok(page(&st, &ctx, &st.t(&ctx, "receipt-title"), body))
}

// ---------------------------------------------------------------- coming back

fn return_page(st: &AppState, ctx: &Ctx, error: Option<&WebError>) -> Response {
    let body = html! {
        p { (st.t(ctx, "return-text")) }
        p.hint { (st.t(ctx, "receipt-forgiving")) }
        @if let Some(e) = error {
            div.notice.error role="alert" { p { (e.message(st, ctx)) } }
        }
        form method="post" action="/r" {
            label for="receipt" { (st.t(ctx, "return-label")) }
            textarea #receipt name="receipt" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" required {}
            p { button type="submit" { (st.t(ctx, "return-button")) } }
        }
        p.hint { (st.t(ctx, "return-lost")) }
    };
    form_page(st, ctx, &st.t(ctx, "return-title"), body, error)
}

pub async fn return_form(State(st): State<AppState>, ctx: Ctx) -> Page {
    Ok(return_page(&st, &ctx, None))
}

pub async fn return_login(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let typed = form.get("receipt").unwrap_or("");
    match st.saadd.open_with_receipt(typed).await {
        Ok((thread, secret)) => {
            let data = SessionData::Reporter(ReporterSession { thread, secret });
            start_session(&st, &ctx, data, "/r/hilo")
        }
        Err(e) => Err(return_page(&st, &ctx, Some(&e.into()))),
    }
}

// ---------------------------------------------------------------- the thread

/// How a reader reads, as reporters are told (spec/api.md, "Entity keys").
fn reads_key(s: &crate::saadd::StaffRecord) -> &'static str {
    match crate::saadd::admin::reads(s) {
        crate::core::api::Reads::Device => "reads-device",
        crate::core::api::Reads::Server => "reads-server",
    }
}

fn readers_list(st: &AppState, ctx: &Ctx, view: &ThreadView) -> Markup {
    let readers: Vec<(String, String)> = view
        .record
        .readers
        .iter()
        .filter_map(|id| st.saadd.staff(*id).ok())
        .map(|s| {
            (
                s.display_name.clone(),
                format!(
                    "{}, {}",
                    st.t(ctx, &format!("role-{}", s.role.key().replace('_', "-"))),
                    st.t(ctx, reads_key(&s))
                ),
            )
        })
        .collect();
    html! {
        section {
            h2 { (st.t(ctx, "thread-readers")) }
            @if readers.is_empty() {
                p { (st.t(ctx, "thread-no-readers")) }
            } @else {
                ul { @for (n, r) in &readers { li { (n) " — " (r) } } }
            }
            p.hint { (st.t(ctx, "thread-readers-how")) }
        }
    }
}

/// The messages of a thread, shared with the staff view.
pub(super) fn messages(
    st: &AppState,
    ctx: &Ctx,
    view: &ThreadView,
    base: &str,
    reporter: bool,
) -> Markup {
    html! {
        section.messages {
            @for m in &view.messages {
                article.message.(if m.author == Author::Reporter { "from-reporter" } else { "from-staff" }) {
                    header {
                        strong {
                            @match (m.author, reporter) {
                                (Author::Reporter, true) => (st.t(ctx, "author-you")),
                                (Author::Reporter, false) => (st.t(ctx, "author-reporter")),
                                (Author::Staff, _) => (m.body.author_label),
                            }
                        }
                        " · " time datetime=(m.day.iso()) { (super::date(st, ctx, m.day)) }
                    }
                    div.text dir="auto" { (m.body.text) }
                    @if !m.body.attachments.is_empty() {
                        ul.attachments {
                            @for a in &m.body.attachments {
                                @if let Some((_, meta)) = view.attachments.iter().find(|(id, _)| id == a) {
                                    li {
                                        a href={ (base) (a.hex()) } download { (meta.name) }
                                        " (" (human_size(meta.size)) ")"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn human_size(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", n.div_ceil(1024).max(1))
    }
}

pub async fn thread(State(st): State<AppState>, ctx: Ctx, q: axum::extract::RawQuery) -> Page {
    let s = session(&st, &ctx)?;
    let (thread, secret) = reporter_keys(&s).ok_or_else(|| Redirect::to("/r").into_response())?;
    let saved = q.0.as_deref().is_some_and(|q| q.contains("guardado=1"));
    thread_page(&st, &ctx, thread, &secret, saved, None)
}

/// A refused reply, shown again above the form with its text kept.
pub(super) struct Refused {
    pub text: String,
    pub error: WebError,
    pub files_lost: bool,
}

/// Text to put back into a form: a NUL (the reason it may have been
/// refused) becomes U+FFFD rather than a raw control byte in the page.
pub(super) fn echo(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn thread_page(
    st: &AppState,
    ctx: &Ctx,
    thread: Id,
    secret: &crate::core::wrap::RecipientSecret,
    saved: bool,
    refused: Option<Refused>,
) -> Page {
    let view = st
        .saadd
        .read(thread, Slot::Reporter, secret)
        .map_err(|e| fail(st, ctx, e))?;
    let coordinators = if view.record.readers.is_empty() {
        st.saadd
            .coordinators(view.record.entity)
            .map_err(|e| fail(st, ctx, e))?
            .into_iter()
            // A device-only thread can be granted only to device readers.
            .filter(|c| !view.record.device_only || c.device_key.is_some())
            .collect()
    } else {
        Vec::new()
    };
    let r = &view.record;
    let body = html! {
        @if saved { div.notice.ok role="status" { p { (st.t(ctx, "receipt-confirmed")) } } }
        dl.facts {
            dt { (st.t(ctx, "thread-kind")) } dd { (st.t(ctx, kind_key(r.kind))) }
            dt { (st.t(ctx, "thread-status")) } dd { (st.t(ctx, &status_key(r.status))) }
            dt { (st.t(ctx, "thread-created")) } dd { (super::date(st, ctx, r.created)) }
            dt { (st.t(ctx, "thread-deleted-by")) } dd { (super::date(st, ctx, crate::saadd::retention::thread_deadline(r).1)) }
            dt { (st.t(ctx, "thread-receipt-until")) } dd { (super::date(st, ctx, crate::saadd::retention::clock_of(r).receipt_deadline())) }
        }
        @if r.device_only {
            div.notice role="note" data-notice="device_only" { p { (st.t(ctx, "thread-device-only")) } }
        }
        (readers_list(st, ctx, &view))
        @if r.readers.is_empty() {
            section.notice {
                h2 { (st.t(ctx, "grant-title")) }
                p { (st.t(ctx, "grant-text")) }
                form method="post" action="/r/conceder" {
                    @for c in &coordinators {
                        label { input type="checkbox" name="reader" value=(c.id.hex()); " " (c.display_name) " " span.hint { "(" (st.t(ctx, reads_key(c))) ")" } }
                    }
                    p { button type="submit" { (st.t(ctx, "grant-button")) } }
                }
            }
        }
        (messages(st, ctx, &view, "/r/adjunto/", true))
        section {
            h2 { (st.t(ctx, "reply-title")) }
            @if let Some(r) = &refused {
                div.notice.error role="alert" {
                    p { (r.error.message(st, ctx)) }
                    @if r.files_lost { p { (st.t(ctx, "form-files-again")) } }
                }
            }
            form method="post" action="/r/responder" enctype="multipart/form-data" {
                label for="message" { (st.t(ctx, "reply-label")) }
                textarea #message name="message" rows="8" required {
                    @if let Some(r) = &refused { (echo(&r.text)) }
                }
                label for="file" { (st.t(ctx, "form-files")) }
                p.warning { (st.t(ctx, "form-files-metadata")) }
                input #file type="file" name="file" multiple;
                p { button type="submit" { (st.t(ctx, "reply-button")) } }
            }
        }
        section.actions {
            form method="post" action="/r/salir" {
                button.secondary type="submit" { (st.t(ctx, "logout")) }
            }
            p { a href="/r/retirar" { (st.t(ctx, "withdraw-link")) } }
        }
    };
    let error = refused.as_ref().map(|r| &r.error);
    Ok(form_page(st, ctx, &st.t(ctx, "thread-title"), body, error))
}

pub async fn reply(
    State(st): State<AppState>,
    ctx: Ctx,
    mp: Result<Multipart, MultipartRejection>,
) -> Page {
    let s = session(&st, &ctx)?;
    let (thread, secret) = reporter_keys(&s).ok_or_else(|| Redirect::to("/r").into_response())?;
    let mp = mp.map_err(|_| {
        fail(
            &st,
            &ctx,
            WebError::new(StatusCode::BAD_REQUEST, "err-form"),
        )
    })?;
    let draft = st
        .saadd
        .begin_reply(thread, Slot::Reporter, &secret)
        .await
        .map_err(|e| fail(&st, &ctx, e))?;
    let f = form::read(&st.saadd, mp, || st.saadd.reply_sink(&draft)).await;
    let text = f.text.clone().unwrap_or_default();
    let files_lost = !f.files.is_empty();
    let refused = |error: WebError| Refused {
        text: text.clone(),
        error,
        files_lost,
    };
    if let Some(err) = f.error {
        let _ = st.saadd.discard(thread, f.files);
        return Err(
            thread_page(&st, &ctx, thread, &secret, false, Some(refused(err)))
                .unwrap_or_else(|r| r),
        );
    }
    let ids: Vec<Id> = f.files.iter().map(|a| a.id).collect();
    if let Err(e) = st
        .saadd
        .post(draft, Slot::Reporter, &secret, "", &text, f.files)
        .await
    {
        let _ = st.saadd.discard_ids(thread, &ids);
        return Err(
            thread_page(&st, &ctx, thread, &secret, false, Some(refused(e.into())))
                .unwrap_or_else(|r| r),
        );
    }
    Ok(Redirect::to("/r/hilo").into_response())
}

pub async fn download(State(st): State<AppState>, ctx: Ctx, Path(att): Path<String>) -> Page {
    let s = session(&st, &ctx)?;
    let (thread, secret) = reporter_keys(&s).ok_or_else(|| Redirect::to("/r").into_response())?;
    let att = Id::from_hex(&att).ok_or_else(|| fail(&st, &ctx, SaaddError::NotFound))?;
    super::download::respond(&st, &ctx, thread, att, Slot::Reporter, &secret)
}

pub async fn grant(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let s = session(&st, &ctx)?;
    let (thread, secret) = reporter_keys(&s).ok_or_else(|| Redirect::to("/r").into_response())?;
    let ids: Vec<Id> = form
        .all("reader")
        .into_iter()
        .filter_map(Id::from_hex)
        .collect();
    st.saadd
        .reporter_grant(thread, &secret, &ids)
        .await
        .map_err(|e| fail(&st, &ctx, e))?;
    Ok(Redirect::to("/r/hilo").into_response())
}

pub async fn withdraw_form(State(st): State<AppState>, ctx: Ctx) -> Page {
    session(&st, &ctx)?;
    let body = html! {
        p.warning { (st.t(&ctx, "withdraw-warning")) }
        form method="post" action="/r/retirar" {
            label { input type="checkbox" name="sure" value="yes" required; " " (st.t(&ctx, "withdraw-sure")) }
            p { button.danger type="submit" { (st.t(&ctx, "withdraw-button")) } }
        }
        p { a href="/r/hilo" { (st.t(&ctx, "withdraw-cancel")) } }
    };
    Ok(page(&st, &ctx, &st.t(&ctx, "withdraw-title"), body))
}

pub async fn withdraw(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let s = session(&st, &ctx)?;
    let (thread, secret) = reporter_keys(&s).ok_or_else(|| Redirect::to("/r").into_response())?;
    if form.get("sure") != Some("yes") {
        return Err(WebError::new(StatusCode::BAD_REQUEST, "err-withdraw-unsure").page(&st, &ctx));
    }
    st.saadd
        .withdraw(thread, &secret)
        .await
        .map_err(|e| fail(&st, &ctx, e))?;
    Ok(session_ended(&st, &ctx, "withdraw-title", "withdraw-done"))
}

pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Page {
    Ok(session_ended(&st, &ctx, "logout-title", "logout-done"))
}

/// Ends the reporter's session (its key is wiped with it), clears the
/// cookie and says what happened.
fn session_ended(st: &AppState, ctx: &Ctx, title: &str, done: &str) -> Response {
    if let Some(id) = ctx.cookies.get(COOKIE) {
        st.sessions.end(id);
    }
    let body = html! {
        div.notice.ok role="status" { p { (st.t(ctx, done)) } }
        p { a href="/" { (st.t(ctx, "nav-back-home")) } }
    };
    let mut resp = page(st, ctx, &st.t(ctx, title), body);
    resp.headers_mut()
        .append(header::SET_COOKIE, st.cookie(COOKIE, "", "/", Some(0)));
    resp
}
