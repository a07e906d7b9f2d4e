//! Claim tokens end to end at the service level (spec/tokens.md): issuance
//! with codes, redemption once and only once, scopes, epochs and key
//! retirement under an injected clock, concurrency, and what reaches disk.
//! The HTTP flow with an independent client is tests/interop/interop.mjs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use buzon::core::Day;
use buzon::core::tokens::{Policy, Scope, base64url};
use buzon::platform::{Clock, OsEntropy};
use buzon::saadd::{Costs, Limits, NewEntity};
use buzon::services::Services;
use buzon::store::{MemoryStore, SledStore, Store, Table};
use buzon::tokens::{IssueError, RedeemError, TokenSettings, client};

/// A clock the test moves.
struct TestClock(AtomicU32);

impl Clock for TestClock {
    fn today(&self) -> Day {
        Day(self.0.load(Ordering::SeqCst))
    }
}

struct Env {
    services: Services,
    clock: Arc<TestClock>,
    a: Scope,
    b: Scope,
}

const EPOCH: u32 = 30;
/// A day in the middle of epoch 680.
const START: u32 = 680 * EPOCH + 3;

async fn env(store: Arc<dyn Store>) -> Env {
    env_with(store, TokenSettings::default().types).await
}

async fn env_with(store: Arc<dyn Store>, types: Vec<privacypass::TokenType>) -> Env {
    let n_types = types.len();
    let clock = Arc::new(TestClock(AtomicU32::new(START)));
    let services = Services::new(
        store,
        Arc::new(buzon::store::keys::MemoryVault::new()),
        clock.clone(),
        Arc::new(OsEntropy),
        Limits::default(),
        Costs::V1,
        1,
        TokenSettings {
            issuer_name: "buzon.test".into(),
            epoch_days: EPOCH,
            types,
        },
    )
    .unwrap();
    let mut ids = Vec::new();
    for slug in ["uno", "dos"] {
        let e = services
            .saadd
            .add_entity(NewEntity {
                slug: slug.into(),
                name: format!("Entidad {slug}"),
                complaints_office: "OIC".into(),
                first_response_days: 3,
                answer_days: 10,
                zone: None,
            })
            .await
            .unwrap();
        ids.push(e.id);
        services
            .tokens
            .set_policy(&Scope::Entity(e.id), Policy::Token)
            .await
            .unwrap();
    }
    let m = services.maintain_tokens().await.unwrap();
    assert_eq!(
        m.created,
        4 * n_types,
        "two entities × each token type × this epoch and the next"
    );
    Env {
        services,
        clock,
        a: Scope::Entity(ids[0]),
        b: Scope::Entity(ids[1]),
    }
}

impl Env {
    fn set_day(&self, day: u32) {
        self.clock.0.store(day, Ordering::SeqCst);
    }

    async fn code(&self, scope: Scope, per_epoch: u32) -> String {
        let codes = self
            .services
            .tokens
            .make_codes(scope, 1, per_epoch, 365)
            .await
            .unwrap();
        codes[0].display()
    }

    /// Fetches one token of `ty` for `scope` as a client would.
    async fn token(&self, scope: &Scope, ty: u16, code: &str) -> Result<String, IssueError> {
        let ch = self
            .services
            .tokens
            .challenges(scope)
            .into_iter()
            .find(|c| c.token_type as u16 == ty)
            .expect("a challenge of this type");
        let (req, pending) = client::request(ty, &ch.token_key, &ch.challenge, rand32()).unwrap();
        let resp = self.services.tokens.issue(Some(code), &req).await?;
        let token = client::finish(pending, &resp).expect("the response finalises");
        Ok(base64url(&token))
    }
}

fn rand32() -> [u8; 32] {
    buzon::platform::random(&OsEntropy)
}

fn spent_count(store: &dyn Store) -> usize {
    store
        .scan(Table::SpentToken, &[], usize::MAX)
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_token_is_spent_once_only_in_its_own_entity() {
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    for ty in [1u16, 2] {
        let code = env.code(env.a, 5).await;
        let token = env.token(&env.a, ty, &code).await.unwrap();
        // Another entity refuses it before spending anything.
        assert!(matches!(
            t.redeem(&env.b, &token).await,
            Err(RedeemError::WrongScope)
        ));
        let spend = t.redeem(&env.a, &token).await.unwrap();
        drop(spend);
        assert!(matches!(
            t.redeem(&env.a, &token).await,
            Err(RedeemError::Spent)
        ));
        // Pasted with line breaks and without padding: still the same token.
        let wrapped: String = token
            .trim_end_matches('=')
            .chars()
            .enumerate()
            .flat_map(|(i, c)| if i % 50 == 49 { vec![c, '\n'] } else { vec![c] })
            .collect();
        assert!(matches!(
            t.redeem(&env.a, &wrapped).await,
            Err(RedeemError::Spent)
        ));
    }
    assert_eq!(spent_count(t.store().as_ref()), 2);
}

#[tokio::test]
async fn refused_tokens_are_told_apart() {
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    let code = env.code(env.a, 5).await;
    assert!(matches!(
        t.redeem(&env.a, "  ").await,
        Err(RedeemError::Missing)
    ));
    assert!(matches!(
        t.redeem(&env.a, "no es un pase").await,
        Err(RedeemError::Malformed)
    ));
    // A real token with one bit of its authenticator flipped.
    let token = env.token(&env.a, 1, &code).await.unwrap();
    let mut bytes = buzon::core::tokens::decode_token_text(&token).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(matches!(
        t.redeem(&env.a, &base64url(&bytes)).await,
        Err(RedeemError::Malformed)
    ));
    // A forged token leaves no mark: the real one still spends.
    let _ = t.redeem(&env.a, &token).await.unwrap();
    // Trailing bytes are refused.
    let mut longer = buzon::core::tokens::decode_token_text(&token).unwrap();
    longer.push(0);
    assert!(matches!(
        t.redeem(&env.a, &base64url(&longer)).await,
        Err(RedeemError::Malformed)
    ));
}

#[tokio::test]
async fn a_token_for_another_challenge_is_refused() {
    // The crate does not compare the challenge digest; we do. A client
    // that blinds for the right key but another challenge gets a token the
    // key signs, and it must still be refused.
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    let code = env.code(env.a, 5).await;
    for ty in [1u16, 2] {
        let ch = t
            .challenges(&env.a)
            .into_iter()
            .find(|c| c.token_type as u16 == ty)
            .unwrap();
        let other = buzon::tokens::challenge_for(
            client::token_type_of(ty).unwrap(),
            "buzon.test",
            "otra-entidad",
        )
        .serialize()
        .unwrap();
        let (req, pending) = client::request(ty, &ch.token_key, &other, rand32()).unwrap();
        let resp = t.issue(Some(&code), &req).await.unwrap();
        let token = base64url(&client::finish(pending, &resp).unwrap());
        assert!(
            matches!(t.redeem(&env.a, &token).await, Err(RedeemError::WrongScope)),
            "type {ty}"
        );
    }
}

#[tokio::test]
async fn codes_give_their_allowance_per_epoch_and_stop_when_told() {
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    let code = env.code(env.a, 2).await;
    env.token(&env.a, 1, &code).await.unwrap();
    env.token(&env.a, 2, &code).await.unwrap();
    assert!(matches!(
        env.token(&env.a, 1, &code).await,
        Err(IssueError::CodeExhausted)
    ));
    // A code of one entity does not buy tokens of another.
    assert!(matches!(
        env.token(&env.b, 1, &code).await,
        Err(IssueError::CodeWrongScope)
    ));
    // Typed sloppily it is the same code.
    let sloppy = code.to_lowercase().replace('-', " ");
    assert!(matches!(
        env.token(&env.a, 1, &sloppy).await,
        Err(IssueError::CodeExhausted)
    ));
    // The next epoch brings a fresh allowance (and new keys).
    env.set_day(START + EPOCH);
    env.services.maintain_tokens().await.unwrap();
    env.token(&env.a, 1, &code).await.unwrap();
    // Revoked: nothing more.
    assert!(t.revoke_code(env.a, &code).await.unwrap());
    assert!(matches!(
        env.token(&env.a, 1, &code).await,
        Err(IssueError::CodeRevoked)
    ));
    // Unknown, missing and malformed.
    assert!(matches!(
        env.token(&env.a, 1, "0000-0000-0000-0000").await,
        Err(IssueError::CodeUnknown)
    ));
    assert!(matches!(
        t.issue(None, &[0, 1, 2]).await,
        Err(IssueError::CodeMissing)
    ));
    let fresh = env.code(env.a, 2).await;
    assert!(matches!(
        t.issue(Some(&fresh), &[0, 1, 2, 3, 4]).await,
        Err(IssueError::Malformed)
    ));
    // A malformed request costs no allowance.
    env.token(&env.a, 1, &fresh).await.unwrap();
    env.token(&env.a, 1, &fresh).await.unwrap();
    // Codes expire on their day.
    let short = t.make_codes(env.a, 1, 5, 1).await.unwrap()[0].display();
    env.set_day(START + EPOCH + 1);
    assert!(matches!(
        env.token(&env.a, 1, &short).await,
        Err(IssueError::CodeExpired)
    ));
}

#[tokio::test]
async fn keys_rotate_and_expired_keys_stop_redeeming_and_are_pruned() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let env = env(store.clone()).await;
    let t = &env.services.tokens;
    let code = env.code(env.a, 10).await;
    let old = env.token(&env.a, 1, &code).await.unwrap();
    let spent_old = env.token(&env.a, 1, &code).await.unwrap();
    let _ = t.redeem(&env.a, &spent_old).await.unwrap();
    let first_keys = t.directory().len();
    assert_eq!(first_keys, 4);

    // Next epoch: new keys issue, the old ones still redeem.
    env.set_day(START + EPOCH);
    let m = env.services.maintain_tokens().await.unwrap();
    assert_eq!(
        (m.created, m.retired),
        (4, 0),
        "the epoch after is made ahead"
    );
    assert_eq!(t.directory().len(), 8, "current and still-valid keys");
    let newest = t.directory()[0].token_key.clone();
    let current = t.challenges(&env.a)[0].token_key.clone();
    assert!(t.directory().iter().any(|k| k.token_key == current));
    assert_eq!(t.directory()[0].not_before, u64::from(681 * EPOCH) * 86_400);
    let _ = newest;
    let still = env.token(&env.a, 1, &code).await.unwrap();

    // Two epochs on, the first keys are retired: their tokens are
    // "expired" (not "unknown"), their spent set is gone.
    env.set_day(START + 2 * EPOCH);
    assert!(matches!(
        t.redeem(&env.a, &old).await,
        Err(RedeemError::Expired)
    ));
    let m = env.services.maintain_tokens().await.unwrap();
    assert_eq!(m.retired, 4);
    assert_eq!(m.pruned_spent, 1);
    assert_eq!(spent_count(store.as_ref()), 0);
    assert!(matches!(
        t.redeem(&env.a, &old).await,
        Err(RedeemError::Expired)
    ));
    // At another entity an expired token is simply not theirs.
    assert!(matches!(
        t.redeem(&env.b, &old).await,
        Err(RedeemError::WrongScope)
    ));
    // The previous epoch's token still works.
    let _ = t.redeem(&env.a, &still).await.unwrap();
    // No retired key's secret is left in storage.
    assert_eq!(
        store.scan(Table::IssuerKey, &[], usize::MAX).unwrap().len(),
        12,
        "two epochs listed, one made ahead"
    );
    assert_eq!(
        store
            .scan(Table::RetiredKey, &[], usize::MAX)
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn truncated_key_ids_stay_unique_among_active_keys() {
    // VOPRF keys only (RSA key generation is slow): 80 scopes × this epoch
    // and the next = 164 keys in the 256 truncated ids.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let env = env_with(store.clone(), vec![privacypass::TokenType::PrivateP384]).await;
    let mut scopes = Vec::new();
    for i in 0..80u8 {
        scopes.push((
            Scope::Entity(buzon::core::envelope::Id([i; 16])),
            format!("e{i}"),
        ));
    }
    env.services
        .tokens
        .maintain(&scopes, &|_, _, _, _| {})
        .await
        .unwrap();
    assert_eq!(
        env.services.tokens.directory().len(),
        82,
        "listed: this epoch's"
    );
    let mut tids: Vec<u8> = store
        .scan(Table::IssuerKey, &[], usize::MAX)
        .unwrap()
        .iter()
        .map(|(id, _)| id[31])
        .collect();
    assert_eq!(tids.len(), 164);
    tids.sort_unstable();
    tids.dedup();
    assert_eq!(tids.len(), 164, "every truncated key id is unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_spends_of_one_token_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("db")).unwrap());
    let env = env(store).await;
    let tokens = env.services.tokens.clone();
    let code = env.code(env.a, 100).await;
    for round in 0..10 {
        let ty = if round % 2 == 0 { 1 } else { 2 };
        let token = Arc::new(env.token(&env.a, ty, &code).await.unwrap());
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (t, token, scope, barrier) =
                (tokens.clone(), token.clone(), env.a, barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                t.redeem(&scope, &token).await
            }));
        }
        let mut won = 0;
        let mut spent = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => won += 1,
                Err(RedeemError::Spent) => spent += 1,
                Err(e) => panic!("round {round}: unexpected {e:?}"),
            }
        }
        assert_eq!((won, spent), (1, 63), "round {round}, type {ty}");
    }
}

#[tokio::test]
async fn a_refund_makes_the_token_spendable_again() {
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    let code = env.code(env.a, 5).await;
    let token = env.token(&env.a, 2, &code).await.unwrap();
    let spend = t.redeem(&env.a, &token).await.unwrap();
    t.refund(spend).unwrap();
    let _ = t.redeem(&env.a, &token).await.unwrap();
    assert!(matches!(
        t.redeem(&env.a, &token).await,
        Err(RedeemError::Spent)
    ));
}

#[tokio::test]
async fn policy_is_per_entity_and_only_token_entities_take_keys() {
    let env = env(Arc::new(MemoryStore::default())).await;
    let t = &env.services.tokens;
    assert_eq!(t.policy(&env.a).unwrap(), Policy::Token);
    t.set_policy(&env.b, Policy::Open).await.unwrap();
    assert_eq!(t.policy(&env.b).unwrap(), Policy::Open);
    assert_eq!(t.policy(&env.a).unwrap(), Policy::Token);
    assert_eq!(env.services.scopes().unwrap().len(), 1);
    // A new entity is open and gets no key.
    let e = env
        .services
        .saadd
        .add_entity(NewEntity {
            slug: "tres".into(),
            name: "Entidad tres".into(),
            complaints_office: "OIC".into(),
            first_response_days: 3,
            answer_days: 10,
            zone: None,
        })
        .await
        .unwrap();
    let m = env.services.maintain_tokens().await.unwrap();
    assert_eq!(m.created, 0);
    assert!(t.challenges(&Scope::Entity(e.id)).is_empty());
    // An unreadable policy record fails closed.
    let mut b = buzon::store::Batch::new();
    b.put(
        Table::ScopePolicy,
        env.a.name().as_bytes(),
        b"{nonsense".to_vec(),
    );
    t.store().apply(b).unwrap();
    assert!(t.policy(&env.a).is_err());
}

#[tokio::test]
async fn neither_codes_nor_tokens_reach_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&data).unwrap());
    let env = env(store.clone()).await;
    let t = &env.services.tokens;
    let codes: Vec<String> = t
        .make_codes(env.a, 3, 5, 30)
        .await
        .unwrap()
        .iter()
        .map(|c| c.display())
        .collect();
    let mut tokens = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let tok = env.token(&env.a, 1 + (i % 2) as u16, code).await.unwrap();
        let _ = t.redeem(&env.a, &tok).await.unwrap();
        tokens.push(buzon::core::tokens::decode_token_text(&tok).unwrap());
    }
    store.flush().unwrap();
    drop(env);
    drop(store);
    let files = common::files_under(&data);
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        for code in &codes {
            assert!(
                !common::contains(bytes, code.as_bytes()),
                "{path:?} holds a code"
            );
            let bare = code.replace('-', "");
            assert!(
                !common::contains(bytes, bare.as_bytes()),
                "{path:?} holds a code"
            );
        }
        for tok in &tokens {
            // Nonce, authenticator and whole token: none is stored.
            assert!(
                !common::contains(bytes, &tok[2..34]),
                "{path:?} holds a nonce"
            );
            assert!(
                !common::contains(bytes, &tok[98..]),
                "{path:?} holds an authenticator"
            );
        }
    }
}

// ---------------------------------------------------------------- over HTTP

/// Fetches a token over HTTP as `buzon token fetch` does.
async fn fetch_over_http(base: &str, slug: &str, ty: u16, code: &str) -> String {
    let http = reqwest::Client::new();
    let ch: serde_json::Value = http
        .get(format!("{base}/api/v1/entities/{slug}/token-challenge"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = ch["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["token-type"] == ty)
        .unwrap();
    let dec = |k: &str| buzon::core::tokens::decode_token_text(c[k].as_str().unwrap()).unwrap();
    let (req, pending) =
        client::request(ty, &dec("token-key"), &dec("challenge"), rand32()).unwrap();
    let resp = http
        .post(format!("{base}/api/v1/token-request"))
        .header("content-type", "application/private-token-request")
        .header("buzon-issuance-code", code)
        .body(req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/private-token-response"
    );
    let body = resp.bytes().await.unwrap();
    base64url(&client::finish(pending, &body).unwrap())
}

fn data_error(html: &str) -> Option<String> {
    let re = regex::Regex::new(r#"data-error="([a-z-]+)""#).unwrap();
    re.captures(html).map(|c| c[1].to_owned())
}

#[tokio::test]
async fn the_reporter_form_spends_a_pasted_token_once() {
    let logs = common::capture_logs();
    let server = common::TestServer::start().await;
    let fx = common::fixture(&server.saadd).await;
    let services = &server.services;
    let scope = Scope::Entity(fx.entity);
    let mut b = common::Browser::new(&server.base);

    // Open by default: no token field.
    let page = b.get(&format!("/e/{}", fx.slug)).await;
    assert!(!page.body.contains(r#"name="token""#));
    services
        .tokens
        .set_policy(&scope, Policy::Token)
        .await
        .unwrap();
    services.maintain_tokens().await.unwrap();
    let page = b.get(&format!("/e/{}", fx.slug)).await;
    assert!(page.body.contains(r#"name="token""#));
    assert!(page.body.contains(&format!("/e/{}/pases", fx.slug)));

    let reader = fx.coord_a.id.hex();
    let send = async |b: &mut common::Browser, token: &str| {
        let draft = hex::encode(rand32()).get(..32).unwrap().to_owned();
        b.post_multipart(
            &format!("/e/{}/enviar", fx.slug),
            &[
                ("draft", &draft),
                ("kind", "question"),
                ("reader", &reader),
                ("token", token),
            ],
            "¿Puedo aceptar un regalo de un proveedor?",
            &[],
        )
        .await
    };
    // No token: 401 with the entity's challenges, the text kept.
    let r = send(&mut b, "").await;
    assert_eq!(r.status, 401);
    assert_eq!(data_error(&r.body).as_deref(), Some("token-missing"));
    let www = r.headers["www-authenticate"].to_str().unwrap();
    assert_eq!(www.matches("PrivateToken challenge=\"").count(), 2, "{www}");
    assert!(r.body.contains("regalo de un proveedor"));

    let code = services.tokens.make_codes(scope, 1, 3, 30).await.unwrap()[0].display();
    let token = fetch_over_http(&server.base, &fx.slug, 1, &code).await;
    let r = send(&mut b, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(common::receipt_words(&r.body).len(), 10);
    // No link to the other language on a receipt: it would lose the words.
    assert!(!r.body.contains("?lang=en"));
    let r = send(&mut b, &token).await;
    assert_eq!(r.status, 409);
    assert_eq!(data_error(&r.body).as_deref(), Some("token-spent"));
    let r = send(&mut b, "AAEA").await;
    assert_eq!(r.status, 400);
    assert_eq!(data_error(&r.body).as_deref(), Some("token-malformed"));

    // The Authorization header works as well as the field.
    let token2 = fetch_over_http(&server.base, &fx.slug, 2, &code).await;
    let draft = hex::encode(rand32()).get(..32).unwrap().to_owned();
    let form = reqwest::multipart::Form::new()
        .text("draft", draft)
        .text("kind", "claim")
        .text("reader", reader.clone())
        .text("message", "Vi que se alteró una licitación.");
    let r = reqwest::Client::new()
        .post(format!("{}/e/{}/enviar", server.base, fx.slug))
        .header("authorization", format!("PrivateToken token=\"{token2}\""))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The third token from a code for three; the fourth is refused as JSON.
    let _ = fetch_over_http(&server.base, &fx.slug, 1, &code).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/token-request?lang=en", server.base))
        .header("content-type", "application/private-token-request")
        .header("buzon-issuance-code", &code)
        .body(vec![0u8, 1, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"]["code"], "request_malformed");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected format")
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/token-request", server.base))
        .body(vec![0u8; 52])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/nada", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
    server.stop().await;
    // Verbose logs hold neither codes nor tokens nor addresses.
    tracing::info!("log capture probe");
    let text = logs.text();
    assert!(text.contains("log capture probe"), "logs are captured");
    for secret in [code.as_str(), &code.replace('-', ""), &token, &token2] {
        assert!(!text.contains(secret), "a code or token reached the log");
    }
    assert!(!text.contains("127.0.0.1"), "an address reached the log");
}

#[tokio::test]
async fn only_the_issuance_page_may_run_a_script() {
    let server = common::TestServer::start().await;
    let fx = common::fixture(&server.saadd).await;
    let mut b = common::Browser::new(&server.base);
    let page = b.get(&format!("/e/{}/pases", fx.slug)).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"));
    assert!(page.body.contains(r#"<script src="/static/pases.js">"#));
    assert!(page.body.contains("buzon token fetch"));
    let js = b.get("/static/pases.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.len() > 10_000, "the bundled script is served");
    for path in ["/", &format!("/e/{}", fx.slug), "/r"] {
        let p = b.get(path).await;
        let csp = p.headers["content-security-policy"].to_str().unwrap();
        assert!(!csp.contains("script-src"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"));
        assert!(!p.body.contains("<script"), "{path}");
    }
    let dir = b.get("/.well-known/private-token-issuer-directory").await;
    assert_eq!(
        dir.headers["content-type"],
        "application/private-token-issuer-directory"
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_fetched_by_the_cli_are_accepted() {
    let server = common::TestServer::start().await;
    let fx = common::fixture(&server.saadd).await;
    let services = &server.services;
    let scope = Scope::Entity(fx.entity);
    services
        .tokens
        .set_policy(&scope, Policy::Token)
        .await
        .unwrap();
    services.maintain_tokens().await.unwrap();
    let code = services.tokens.make_codes(scope, 1, 4, 30).await.unwrap()[0].display();
    let out = server.dir.path().join("pases.txt");
    for ty in ["1", "2"] {
        // The code on standard input, as the README suggests.
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
            .args([
                "token",
                "fetch",
                "--server",
                &server.base,
                "--entity",
                &fx.slug,
            ])
            .args(["--count", "2", "--type", ty, "--out"])
            .arg(&out)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{}\n", code.to_lowercase()).as_bytes())
            .await
            .unwrap();
        drop(stdin);
        let o = child.wait_with_output().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let tokens: Vec<&str> = text.lines().collect();
    assert_eq!(tokens.len(), 4);
    for t in &tokens {
        let _ = services.tokens.redeem(&scope, t).await.unwrap();
    }
    // The code is used up: the CLI says so in words and fails.
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
        .args([
            "token",
            "fetch",
            "--server",
            &server.base,
            "--entity",
            &fx.slug,
        ])
        .args(["--code", &code])
        .output()
        .await
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("code_exhausted"), "{err}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_gives_exactly_its_allowance_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("db")).unwrap());
    let env = Arc::new(env(store).await);
    let code = env.code(env.a, 5).await;
    // A request whose blinded element is not a point costs nothing.
    let ch = env.services.tokens.challenges(&env.a)[0].clone();
    let (mut bad, _) = client::request(1, &ch.token_key, &ch.challenge, rand32()).unwrap();
    for b in bad.iter_mut().skip(3) {
        *b = 0xFF;
    }
    assert!(matches!(
        env.services.tokens.issue(Some(&code), &bad).await,
        Err(IssueError::Malformed)
    ));
    let mut tasks = Vec::new();
    for i in 0..30u16 {
        let (env, code) = (env.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            let a = env.a;
            env.token(&a, 1 + i % 2, &code).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(IssueError::CodeExhausted) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 5, "exactly the allowance, however many ask at once");
}

#[tokio::test]
async fn the_cli_refuses_a_challenge_made_for_it() {
    // A server that hands each client its own challenge could read the
    // client's code back from every token's challenge digest. The CLI
    // rebuilds the standard challenge and refuses any other, before it
    // sends a single request with the code.
    let env = env(Arc::new(MemoryStore::default())).await;
    let key = env
        .services
        .tokens
        .directory()
        .into_iter()
        .find(|k| k.scope == env.a && k.token_type as u16 == 1)
        .unwrap();
    let standard = env.services.tokens.challenges(&env.a)[0].challenge.clone();
    let tagged = privacypass::auth::authenticate::TokenChallenge::new(
        privacypass::TokenType::PrivateP384,
        "buzon.test",
        Some([7u8; 32]),
        &["uno".to_owned()],
    )
    .serialize()
    .unwrap();
    for (challenge, refused) in [(tagged, true), (standard, false)] {
        let directory = serde_json::json!({
            "issuer-request-uri": "/api/v1/token-request",
            "token-keys": [{
                "token-type": 1,
                "token-key": base64url(&key.token_key),
                "not-before": key.not_before,
                "buzon-scope": "uno",
                "buzon-issuer-name": key.issuer_name,
            }],
        })
        .to_string();
        let ch = serde_json::json!({
            "entity": "uno", "policy": "token",
            "challenges": [{"token-type": 1, "challenge": base64url(&challenge), "token-key": base64url(&key.token_key), "max-age": 60}],
        })
        .to_string();
        let requests = Arc::new(AtomicU32::new(0));
        let counter = requests.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/private-token-issuer-directory",
                axum::routing::get(move || async move { directory }),
            )
            .route(
                "/api/v1/entities/uno/token-challenge",
                axum::routing::get(move || async move { ch }),
            )
            .route(
                "/api/v1/token-request",
                axum::routing::post(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async { (axum::http::StatusCode::FORBIDDEN, "{}") }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
            .args(["token", "fetch", "--server", &format!("http://{addr}")])
            .args(["--entity", "uno", "--code", "0000-0000-0000-0000"])
            .output()
            .await
            .unwrap();
        server.abort();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        if refused {
            assert!(err.contains("not the standard one"), "{err}");
            assert_eq!(
                requests.load(Ordering::SeqCst),
                0,
                "the code was never sent"
            );
        } else {
            assert_eq!(requests.load(Ordering::SeqCst), 1, "{err}");
        }
    }
}
