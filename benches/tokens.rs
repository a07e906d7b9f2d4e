//! Costs of claim tokens (issue #4): issuance and redemption of one token,
//! for token type 1 (VOPRF P-384) and type 2 (blind RSA 2048), at three
//! depths:
//!
//! - `library/…`: the `privacypass` crate alone, on in-memory key and nonce
//!   stores (bytes in, bytes or verdict out: parsing included);
//! - `service/…`: `buzon::tokens::Tokens` over sled in a temporary
//!   directory, with the flush that makes each step durable
//!   (`service/storage` is that flush's floor);
//! - `http/…`: a real server on loopback (the production router and accept
//!   loop), driven by a reqwest client with keep-alive.
//!
//! Redemption over HTTP only happens inside a new-thread submission, whose
//! cost is dominated by the receipt's Argon2id. So `http/submit` measures
//! a submission to an `open` entity (no token) next to one to a `token`
//! entity, per type; the redemption's share is their difference. The same
//! three are measured again on a server whose receipt KDF is cheap
//! (`http-cheap-kdf/…`), where that difference is not lost in the noise of
//! Argon2id. Requests are blinded once beforehand; each redemption spends a
//! token that the store has not seen (see `redeem_pool`).
//!
//! `*-2-threads` / `*-2-tasks` issue from two threads or tasks at once and
//! report the time per token: the library's shows what two cores can do,
//! the service's whether issuance runs in parallel.
//!
//! Run with `cargo bench --bench tokens`; figures go in notes, never in
//! tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use blind_rsa_signatures::{Deterministic, KeyPair, PSS, Sha384};
use buzon::core::envelope::Id;
use buzon::core::receipt::KdfCost;
use buzon::core::tokens::{Policy, Scope, base64url};
use buzon::platform::{OsEntropy, SystemClock};
use buzon::saadd::{Costs, Limits, NewEntity, Role};
use buzon::services::Services;
use buzon::store::{SledStore, Table};
use buzon::tokens::client;
use buzon::tokens::{TokenSettings, challenge_for};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use p384::NistP384;
use privacypass::auth::authorize::Token;
use privacypass::common::private::serialize_public_key;
use privacypass::common::store::PrivateKeyStore;
use privacypass::public_tokens::server::{
    IssuerKeyStore, IssuerServer, OriginKeyStore, OriginServer,
};
use privacypass::{
    Deserialize as _, NonceStore, Serialize as _, TokenType, TruncatedTokenKeyId, VoprfServer,
};
use typenum::{U48, U256};

type RsaKeyPair = KeyPair<Sha384, PSS, Deterministic>;
type RsaPublic = privacypass::public_tokens::PublicKey;
type P384Server = privacypass::private_tokens::server::Server<NistP384>;
type P384Request = privacypass::private_tokens::TokenRequest<NistP384>;
type RsaRequest = privacypass::public_tokens::TokenRequest;

/// Tokens spent in turn by the redemption benchmarks; see `redeem_pool`.
const POOL: usize = 64;

fn seed() -> [u8; 32] {
    buzon::platform::random(&OsEntropy)
}

// ---------------------------------------------------------------- in-memory stores for the crate

/// The smallest key stores the crate accepts: a list behind a mutex.
#[derive(Default)]
struct P384Keys(Mutex<Vec<(u8, VoprfServer<NistP384>)>>);

#[async_trait]
impl PrivateKeyStore for P384Keys {
    type CS = NistP384;
    async fn insert(&self, tid: TruncatedTokenKeyId, server: VoprfServer<NistP384>) -> bool {
        let mut keys = self.0.lock().unwrap();
        if keys.iter().any(|(t, _)| *t == tid) {
            return false;
        }
        keys.push((tid, server));
        true
    }
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Option<VoprfServer<NistP384>> {
        let keys = self.0.lock().unwrap();
        keys.iter().find(|(t, _)| t == tid).map(|(_, s)| s.clone())
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

#[derive(Default)]
struct RsaKeys(Mutex<Vec<(u8, RsaKeyPair)>>);

#[async_trait]
impl IssuerKeyStore for RsaKeys {
    async fn insert(&self, tid: TruncatedTokenKeyId, pair: RsaKeyPair) -> bool {
        let mut keys = self.0.lock().unwrap();
        if keys.iter().any(|(t, _)| *t == tid) {
            return false;
        }
        keys.push((tid, pair));
        true
    }
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Option<RsaKeyPair> {
        let keys = self.0.lock().unwrap();
        keys.iter().find(|(t, _)| t == tid).map(|(_, k)| k.clone())
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

struct RsaOrigin(u8, RsaPublic);

#[async_trait]
impl OriginKeyStore for RsaOrigin {
    async fn insert(&self, _: TruncatedTokenKeyId, _: RsaPublic) {}
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Vec<RsaPublic> {
        if *tid == self.0 {
            vec![self.1.clone()]
        } else {
            Vec::new()
        }
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

/// Spent nonces in memory.
#[derive(Default)]
struct Nonces(Mutex<HashSet<[u8; 32]>>);

impl Nonces {
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[async_trait]
impl NonceStore for Nonces {
    async fn reserve(&self, nonce: &[u8; 32]) -> bool {
        self.0.lock().unwrap().insert(*nonce)
    }
    async fn commit(&self, _: &[u8; 32]) {}
    async fn release(&self, nonce: &[u8; 32]) {
        self.0.lock().unwrap().remove(nonce);
    }
}

/// An issuer of one type on in-memory stores, with a challenge as the
/// service would make it.
enum LibIssuer {
    P384 { keys: P384Keys },
    Rsa { keys: RsaKeys, origin: RsaOrigin },
}

struct Lib {
    ty: u16,
    issuer: LibIssuer,
    token_key: Vec<u8>,
    challenge: Vec<u8>,
}

impl Lib {
    fn new(ty: u16) -> Lib {
        let (issuer, token_key, token_type) = futures_executor::block_on(async {
            match ty {
                1 => {
                    let keys = P384Keys::default();
                    let pk = P384Server::new().create_keypair(&keys).await.unwrap();
                    let token_key = serialize_public_key::<NistP384>(pk);
                    (LibIssuer::P384 { keys }, token_key, TokenType::PrivateP384)
                }
                _ => {
                    use rand::SeedableRng;
                    let keys = RsaKeys::default();
                    let mut rng = rand::rngs::StdRng::from_seed(seed());
                    let pk = IssuerServer::new()
                        .create_keypair(&mut rng, &keys)
                        .await
                        .unwrap();
                    let token_key = pk.to_spki().unwrap();
                    let tid = keys.0.lock().unwrap().first().unwrap().0;
                    let origin = RsaOrigin(tid, pk);
                    (
                        LibIssuer::Rsa { keys, origin },
                        token_key,
                        TokenType::Public,
                    )
                }
            }
        });
        let challenge = challenge_for(token_type, "buzon", "bench")
            .serialize()
            .unwrap();
        Lib {
            ty,
            issuer,
            token_key,
            challenge,
        }
    }

    fn request(&self) -> (Vec<u8>, client::Pending) {
        client::request(self.ty, &self.token_key, &self.challenge, seed()).unwrap()
    }

    /// The issuer's side: a serialised TokenRequest in, a serialised
    /// TokenResponse out.
    fn issue(&self, request: &[u8]) -> Vec<u8> {
        futures_executor::block_on(async {
            match &self.issuer {
                LibIssuer::P384 { keys } => {
                    let req = P384Request::tls_deserialize_exact(request).unwrap();
                    P384Server::new()
                        .issue_token_response(keys, req)
                        .await
                        .unwrap()
                        .tls_serialize_detached()
                        .unwrap()
                }
                LibIssuer::Rsa { keys, .. } => {
                    let req = RsaRequest::tls_deserialize_exact(request).unwrap();
                    IssuerServer::new()
                        .issue_token_response(keys, req)
                        .await
                        .unwrap()
                        .tls_serialize_detached()
                        .unwrap()
                }
            }
        })
    }

    /// A finalised token, serialised.
    fn token(&self) -> Vec<u8> {
        let (req, pending) = self.request();
        client::finish(pending, &self.issue(&req)).unwrap()
    }

    /// The redeemer's side: a serialised token in, a verdict out.
    fn redeem(&self, nonces: &Nonces, token: &[u8]) {
        futures_executor::block_on(async {
            match &self.issuer {
                LibIssuer::P384 { keys } => {
                    let t = Token::<U48>::tls_deserialize_exact(token).unwrap();
                    P384Server::new().redeem_token(keys, nonces, t).await
                }
                LibIssuer::Rsa { origin, .. } => {
                    let t = Token::<U256>::tls_deserialize_exact(token).unwrap();
                    OriginServer::new().redeem_token(origin, nonces, t).await
                }
            }
        })
        .unwrap();
    }
}

fn library(c: &mut Criterion) {
    let libs = [Lib::new(1), Lib::new(2)];
    let mut g = c.benchmark_group("library/issue");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    for lib in &libs {
        let (req, pending) = lib.request();
        // The response finalises: what is measured is a real issuance.
        client::finish(pending, &lib.issue(&req)).unwrap();
        g.bench_function(format!("type{}", lib.ty), |b| b.iter(|| lib.issue(&req)));
        // The same on two threads at once: what two cores can do, against
        // which `service/issue/type*-2-tasks` compares.
        g.bench_function(format!("type{}-2-threads", lib.ty), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(2);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..2 {
                        s.spawn(|| {
                            for _ in 0..per_thread {
                                lib.issue(&req);
                            }
                        });
                    }
                });
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (2 * per_thread) as f64)
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("library/redeem");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    for lib in &libs {
        let pool: Vec<Vec<u8>> = (0..POOL).map(|_| lib.token()).collect();
        let nonces = Nonces::default();
        g.bench_function(format!("type{}", lib.ty), |b| {
            b.iter_custom(|iters| {
                redeem_pool(iters, &pool, || nonces.clear(), |t| lib.redeem(&nonces, t))
            })
        });
    }
    g.finish();
}

/// Spends `iters` tokens from `pool` in turn, timing only `spend`. Each
/// round through the pool starts with `forget` (untimed), which empties
/// the spent set, so every spend is of a token the store has not seen —
/// as in production — without minting thousands of tokens per sample.
fn redeem_pool(
    iters: u64,
    pool: &[Vec<u8>],
    mut forget: impl FnMut(),
    mut spend: impl FnMut(&[u8]),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut tokens = pool.iter().cycle();
    for i in 0..iters {
        if i as usize % pool.len() == 0 {
            forget();
        }
        let t = tokens.next().unwrap();
        let start = Instant::now();
        spend(t);
        total += start.elapsed();
    }
    total
}

// ---------------------------------------------------------------- a data directory with two entities

/// Services over sled in a temporary directory under `target/tmp` (the
/// project's disk, not a tmpfs), with an `open` entity and a `token`
/// entity, one coordinator each, and this epoch's issuer keys.
struct Site {
    services: Services,
    _dir: tempfile::TempDir,
    open: Entity,
    gated: Entity,
}

struct Entity {
    id: Id,
    slug: String,
    reader: String,
}

impl Site {
    async fn new(costs: Costs) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("bench-tokens-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let store = SledStore::open(&dir.path().join("db")).unwrap();
        let services = Services::new(
            Arc::new(store),
            Arc::new(buzon::store::keys::MemoryVault::new()),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
            Limits::default(),
            costs,
            2,
            TokenSettings::default(),
        )
        .unwrap();
        let open = Site::entity(&services, "abierta").await;
        let gated = Site::entity(&services, "con-pase").await;
        services
            .tokens
            .set_policy(&Scope::Entity(gated.id), Policy::Token)
            .await
            .unwrap();
        services.maintain_tokens().await.unwrap();
        Site {
            services,
            _dir: dir,
            open,
            gated,
        }
    }

    async fn entity(services: &Services, slug: &str) -> Entity {
        let e = services
            .saadd
            .add_entity(NewEntity {
                slug: slug.into(),
                name: format!("Entidad {slug}"),
                complaints_office: "Órgano Interno de Control".into(),
                first_response_days: 3,
                answer_days: 10,
                zone: None,
            })
            .await
            .unwrap();
        let (coord, _) = services
            .saadd
            .add_staff(
                e.id,
                Role::Coordinator,
                &format!("coord-{slug}"),
                "Coordinación",
                Some("cántaro-ventisca-otoñal-brújula-42"),
            )
            .await
            .unwrap();
        Entity {
            id: e.id,
            slug: e.slug,
            reader: coord.id.hex(),
        }
    }

    fn scope(&self) -> Scope {
        Scope::Entity(self.gated.id)
    }

    /// The gated entity's challenge and key for `ty`.
    fn challenge(&self, ty: u16) -> (Vec<u8>, Vec<u8>) {
        let c = self
            .services
            .tokens
            .challenges(&self.scope())
            .into_iter()
            .find(|c| c.token_type as u16 == ty)
            .unwrap();
        (c.challenge, c.token_key)
    }

    fn request(&self, ty: u16) -> (Vec<u8>, client::Pending) {
        let (challenge, key) = self.challenge(ty);
        client::request(ty, &key, &challenge, seed()).unwrap()
    }

    /// Codes for at least `tokens` tokens (1000 a code).
    async fn codes(&self, tokens: u64) -> Vec<String> {
        let count = u32::try_from(tokens / 1000 + 1).unwrap();
        self.services
            .tokens
            .make_codes(self.scope(), count, 1000, 30)
            .await
            .unwrap()
            .iter()
            .map(|c| c.display())
            .collect()
    }

    /// Fresh tokens of `ty`, base64url, made through the service.
    async fn tokens(&self, ty: u16, n: usize) -> Vec<String> {
        let codes = self.codes(n as u64).await;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (req, pending) = self.request(ty);
            let code = codes.get(i / 1000).unwrap();
            let resp = self.services.tokens.issue(Some(code), &req).await.unwrap();
            out.push(base64url(&client::finish(pending, &resp).unwrap()));
        }
        out
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn service(c: &mut Criterion) {
    let rt = runtime();
    let site = rt.block_on(Site::new(Costs::V1));
    let tokens = &site.services.tokens;
    let scope = site.scope();

    // The floor under every durable step: one small insert-if-absent in
    // the spent-token table (under a key id no key has) and the flush.
    let mut g = c.benchmark_group("service/storage");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    g.bench_function("insert+flush", |b| {
        let store = tokens.store();
        b.iter(|| {
            let mut key = vec![0xff; 32];
            key.extend_from_slice(&seed());
            assert!(
                store
                    .insert_if_absent(Table::SpentToken, &key, &[])
                    .unwrap()
            );
            store.flush().unwrap();
        })
    });
    g.finish();

    let mut g = c.benchmark_group("service/issue");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for ty in [1u16, 2] {
        let (req, _) = site.request(ty);
        g.bench_function(format!("type{ty}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let codes = site.codes(iters).await;
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let code = codes.get(i as usize / 1000).unwrap();
                        let start = Instant::now();
                        tokens.issue(Some(code), &req).await.unwrap();
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
    }
    // Two issuers at once on the two worker threads: the time per token
    // shows whether issuance runs in parallel (about half the above) or
    // one at a time.
    for ty in [1u16, 2] {
        let (req, _) = site.request(ty);
        g.bench_function(format!("type{ty}-2-tasks"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let per_task = iters.div_ceil(2);
                    let mut tasks = Vec::new();
                    let mut work = Vec::new();
                    for _ in 0..2 {
                        work.push((site.codes(per_task).await, req.clone()));
                    }
                    let start = Instant::now();
                    for (codes, req) in work {
                        let tokens = tokens.clone();
                        tasks.push(tokio::spawn(async move {
                            for i in 0..per_task {
                                let code = codes.get(i as usize / 1000).unwrap();
                                tokens.issue(Some(code), &req).await.unwrap();
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (2 * per_task) as f64)
                })
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("service/redeem");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for ty in [1u16, 2] {
        let pool = rt.block_on(site.tokens(ty, POOL));
        g.bench_function(format!("type{ty}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    // Spend (timed: redeem, then the flush that makes it
                    // durable), then give back (untimed), so the next round
                    // through the pool spends unseen tokens again.
                    let mut total = Duration::ZERO;
                    for t in pool.iter().cycle().take(iters as usize) {
                        let start = Instant::now();
                        let spend = tokens.redeem(&scope, t).await.unwrap();
                        tokens.store().flush().unwrap();
                        total += start.elapsed();
                        tokens.refund(spend).unwrap();
                        tokens.store().flush().unwrap();
                    }
                    total
                })
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------- through HTTP

struct Server {
    site: Site,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    async fn start(costs: Costs) -> Server {
        let site = Site::new(costs).await;
        let mut state = buzon::web::AppState::new(&site.services, Arc::new(OsEntropy)).unwrap();
        // The open entity takes every submission of the benchmark.
        state.new_threads_per_hour = 1_000_000;
        let app = buzon::web::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            buzon::web::serve(
                listener,
                app,
                async {
                    let _ = rx.await;
                },
                buzon::web::HEADER_READ_TIMEOUT,
            )
            .await
            .unwrap();
        });
        Server {
            site,
            base,
            stop: Some(tx),
        }
    }

    async fn issue(&self, http: &reqwest::Client, code: &str, req: &[u8]) -> Vec<u8> {
        let resp = http
            .post(format!("{}/api/v1/token-request", self.base))
            .header("content-type", "application/private-token-request")
            .header(buzon::web::CODE_HEADER, code)
            .body(req.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "token request refused");
        resp.bytes().await.unwrap().to_vec()
    }

    /// Sends a new question to `e`, with `token` when given; panics unless
    /// the receipt page comes back.
    async fn submit(&self, http: &reqwest::Client, e: &Entity, token: Option<&str>) {
        let draft = hex::encode(buzon::platform::random::<16>(&OsEntropy));
        let mut form = reqwest::multipart::Form::new()
            .text("draft", draft)
            .text("kind", "question")
            .text("message", MESSAGE)
            .text("reader", e.reader.clone());
        if let Some(t) = token {
            form = form.text("token", t.to_owned());
        }
        let resp = http
            .post(format!("{}/e/{}/enviar", self.base, e.slug))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "submission refused: {body}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

const MESSAGE: &str = "Mi jefa me pidió firmar una lista de asistencia de una capacitación \
a la que no fui. ¿Debo firmarla? ¿A quién le puedo preguntar sin que se entere? \
Trabajo en el área de adquisiciones desde hace dos años.";

fn http(c: &mut Criterion) {
    let rt = runtime();
    let server = rt.block_on(Server::start(Costs::V1));
    let cheap = rt.block_on(Server::start(Costs {
        receipt: KdfCost {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        },
        staff: KdfCost {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        },
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut g = c.benchmark_group("http/issue");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for ty in [1u16, 2] {
        let (req, pending) = server.site.request(ty);
        let probe = rt.block_on(async {
            let codes = server.site.codes(1).await;
            server.issue(&http, codes.first().unwrap(), &req).await
        });
        client::finish(pending, &probe).unwrap();
        g.bench_function(format!("type{ty}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let codes = server.site.codes(iters).await;
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let code = codes.get(i as usize / 1000).unwrap();
                        let start = Instant::now();
                        server.issue(&http, code, &req).await;
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
    }
    g.finish();

    for (name, srv, flat) in [
        ("http/submit", &server, true),
        ("http-cheap-kdf/submit", &cheap, false),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10)
            .measurement_time(Duration::from_secs(if flat { 6 } else { 3 }));
        if flat {
            // About 0.2 s an iteration: the same count in every sample.
            g.sampling_mode(SamplingMode::Flat);
        }
        submit_benches(&mut g, &rt, srv, &http);
        g.finish();
    }
    drop(server);
    drop(cheap);
}

fn submit_benches(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    srv: &Server,
    http: &reqwest::Client,
) {
    g.bench_function("open", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    srv.submit(http, &srv.site.open, None).await;
                }
                start.elapsed()
            })
        })
    });
    for ty in [1u16, 2] {
        g.bench_function(format!("token-type{ty}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    // Fresh tokens, made untimed before the timed loop.
                    let pool = srv.site.tokens(ty, iters as usize).await;
                    let start = Instant::now();
                    for t in &pool {
                        srv.submit(http, &srv.site.gated, Some(t)).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
}

/// Short warm-ups and no plots: the whole run stays within a few minutes
/// on two cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = library, service, http
}
criterion_main!(benches);
