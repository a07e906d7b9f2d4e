//! Shared test harness: an in-process server on a loopback port over a
//! real sled directory, and a small browser-like HTTP client.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use buzon::core::envelope::Id;
use buzon::platform::{OsEntropy, SystemClock};
use buzon::saadd::{Costs, Limits, NewEntity, Role, Saadd, StaffRecord};
use buzon::store::SledStore;

/// Every log line written while the test runs.
#[derive(Clone, Default)]
pub struct LogBuffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Installs a subscriber that records every log line (once per test binary).
pub fn capture_logs() -> LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = LogBuffer::default();
        let writer = buf.clone();
        let sub = tracing_subscriber::fmt()
            // What the server does at its most verbose (client-side crates
            // of the test itself are silenced; they are not the server).
            .with_env_filter(buzon::logging::filter(Some(
                "trace,hyper_util::client=off,reqwest=off,hyper::client=off",
            )))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(sub);
        buf
    })
    .clone()
}

/// A clock tests set: seconds since 1970, moved by hand.
#[derive(Default)]
pub struct TestClock(pub std::sync::atomic::AtomicU64);

impl TestClock {
    /// Noon in Mexico City (18:00 UTC) of the day `iso` (YYYY-MM-DD).
    pub fn at(iso: &str) -> Arc<TestClock> {
        let c = Arc::new(TestClock::default());
        c.set_day(iso);
        c
    }
    pub fn set_day(&self, iso: &str) {
        let d: jiff::civil::Date = iso.parse().unwrap();
        let days = d.since(jiff::civil::date(1970, 1, 1)).unwrap().get_days() as u64;
        self.set(days * 86_400 + 18 * 3600);
    }
    pub fn set(&self, unix: u64) {
        self.0.store(unix, std::sync::atomic::Ordering::SeqCst);
    }
    pub fn unix(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
    /// Moves the clock on by whole days.
    pub fn advance_days(&self, n: u64) {
        self.set(self.unix() + n * 86_400);
    }
}

impl buzon::platform::Clock for TestClock {
    fn today(&self) -> buzon::core::Day {
        buzon::core::Day::from_unix_seconds(self.unix())
    }
    fn unix_seconds(&self) -> u64 {
        self.unix()
    }
}

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub saadd: Arc<Saadd>,
    pub services: buzon::services::Services,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        TestServer::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> TestServer {
        TestServer::start_with_clock(dir, Arc::new(SystemClock)).await
    }

    /// A server whose days come from `clock` (retention tests move it).
    pub async fn start_with_clock(
        dir: tempfile::TempDir,
        clock: Arc<dyn buzon::platform::Clock>,
    ) -> TestServer {
        let store = SledStore::open(&dir.path().join("db")).unwrap();
        let services = buzon::services::Services::new(
            Arc::new(store),
            Arc::new(
                buzon::store::vault::Vault::open(&dir.path().join("vault"), Arc::new(OsEntropy))
                    .unwrap(),
            ),
            clock,
            Arc::new(OsEntropy),
            Limits::default(),
            Costs::V1,
            2,
            buzon::tokens::TokenSettings::default(),
        )
        .unwrap();
        let saadd = services.saadd.clone();
        let mut state = buzon::web::AppState::new(&services, Arc::new(OsEntropy)).unwrap();
        // Tests send many threads to one entity; the open limit has its
        // own test.
        state.new_threads_per_hour = 1_000_000;
        let app = buzon::web::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            addr,
            saadd,
            services,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn stop(mut self) -> (Arc<Saadd>, tempfile::TempDir) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.saadd.store().flush().unwrap();
        (self.saadd.clone(), self.dir)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

pub const STAFF_PASSWORD: &str = "cántaro-ventisca-otoñal-brújula-42";

/// An entity with two coordinators and two advisors.
pub struct Fixture {
    pub entity: Id,
    pub slug: String,
    pub coord_a: StaffRecord,
    pub coord_b: StaffRecord,
    pub adv_1: StaffRecord,
    pub adv_2: StaffRecord,
}

pub async fn fixture(saadd: &Saadd) -> Fixture {
    let e = saadd
        .add_entity(NewEntity {
            slug: "sej".into(),
            name: "Secretaría de Ejemplo de Jalisco".into(),
            complaints_office: "Órgano Interno de Control".into(),
            first_response_days: 3,
            answer_days: 10,
            zone: None,
        })
        .await
        .unwrap();
    let add = async |role, login: &str, name: &str| {
        saadd
            .add_staff(e.id, role, login, name, Some(STAFF_PASSWORD))
            .await
            .unwrap()
            .0
    };
    let coord_a = add(Role::Coordinator, "coord-a", "Coordinación A").await;
    let coord_b = add(Role::Coordinator, "coord-b", "Coordinación B").await;
    let adv_1 = add(Role::Advisor, "asesor-1", "Asesoría Uno").await;
    let adv_2 = add(Role::Advisor, "asesor-2", "Asesoría Dos").await;
    Fixture {
        entity: e.id,
        slug: e.slug,
        coord_a,
        coord_b,
        adv_1,
        adv_2,
    }
}

/// A client that keeps cookies by hand (as a browser would, including
/// `Secure` ones on loopback) and never follows redirects on its own.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Resp {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let first = s.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            if v.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap_or_default();
        Resp {
            status,
            location,
            body,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body: String = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        text: &str,
        files: &[(&str, Vec<u8>)],
    ) -> Resp {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(
            "message",
            reqwest::multipart::Part::bytes(text.as_bytes().to_vec()),
        );
        for (name, data) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(data.clone())
                    .file_name(name.to_string())
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        }
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Signs a staff member in (changing the password when asked).
    pub async fn staff_login(&mut self, login: &str) {
        let r = self
            .post_form(
                "/staff/login",
                &[("login", login), ("password", STAFF_PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 303, "staff login for {login}: {}", r.body);
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The text of each message on a thread page, unescaped exactly as maud
/// escaped it (no HTML parser: carriage returns survive).
pub fn message_texts(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"(?s)<div class="text" dir="auto">(.*?)</div>"#).unwrap();
    re.captures_iter(html).map(|c| unescape(&c[1])).collect()
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The ten receipt words shown on the receipt page.
pub fn receipt_words(html: &str) -> Vec<String> {
    let ol = html
        .split(r#"<ol class="receipt" lang="es">"#)
        .nth(1)
        .expect("receipt list")
        .split("</ol>")
        .next()
        .unwrap();
    let re = regex::Regex::new(r"<li>([^<]+)</li>").unwrap();
    re.captures_iter(ol).map(|c| c[1].to_owned()).collect()
}

/// The draft id a receipt page's confirmation form carries.
pub fn draft_id(html: &str) -> String {
    let re = regex::Regex::new(r#"name="draft" value="([0-9a-f]{32})""#).unwrap();
    re.captures(html).expect("draft id")[1].to_owned()
}

/// Thread ids linked from the staff list.
pub fn thread_links(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"href="/staff/t/([0-9a-f]{32})""#).unwrap();
    re.captures_iter(html).map(|c| c[1].to_owned()).collect()
}

/// The number asked for on the receipt confirmation ("palabra número N").
pub fn confirm_index(html: &str) -> usize {
    let re = regex::Regex::new(r"número (\d+)").unwrap();
    re.captures(html).unwrap()[1].parse::<usize>().unwrap() - 1
}

/// Every file under `dir`, read whole.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let Ok(e) = e else { continue };
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// One corpus line: (kind, lang, body).
pub type Line = (String, String, String);

/// Corpus lines: (kind, lang, body).
pub fn corpus(path: &Path) -> Vec<Line> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["kind"].as_str().unwrap().to_owned(),
                v["lang"].as_str().unwrap().to_owned(),
                v["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Our fixtures, plus the shared corpus when present (required in CI).
pub fn all_corpora() -> Vec<(String, Vec<Line>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![(
        "tests/fixtures/saadd.jsonl".to_owned(),
        corpus(&root.join("tests/fixtures/saadd.jsonl")),
    )];
    let shared = root.join("../shared/corpus/saadd.jsonl");
    if shared.exists() {
        out.push(("../shared/corpus/saadd.jsonl".to_owned(), corpus(&shared)));
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but ../shared/corpus/saadd.jsonl is missing");
    }
    out
}
