//! Claim tokens: one Privacy Pass issuer with keys per scope (RFC 9578
//! issuance, RFC 9577 redemption), issuance codes, and the spent-token set.
//! spec/tokens.md describes the protocol; this module maps the `privacypass`
//! crate's key and nonce stores onto the project's [`Store`].
//!
//! Privacy: nothing stored here names a person. A code record holds its
//! scope, allowance and the count used in the current epoch; a spent token
//! is its key id and random nonce, which the issuer never saw unblinded.

pub mod client;
mod keys;

use std::sync::{Arc, Mutex, RwLock};

use privacypass::Deserialize as _;
use privacypass::TokenType;
use privacypass::auth::authenticate::TokenChallenge;
use privacypass::auth::authorize::Token;
use serde::{Deserialize, Serialize};
use typenum::{U48, U256};

use crate::core::Day;
use crate::core::tokens::{
    CodeRecord, CodeRefusal, Epochs, IssuanceCode, Policy, Scope, decode_token_text,
};
use crate::platform::{Clock, Entropy};
use crate::store::{Batch, Store, StoreError, Table};

pub use keys::{ActiveKey, KeySecret, key_id};

/// Settings of the issuer.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// The issuer's name in every TokenChallenge (RFC 9577 `issuer_name`).
    pub issuer_name: String,
    /// Days per key epoch.
    pub epoch_days: u32,
    /// Token types issued, in order of preference.
    pub types: Vec<TokenType>,
}

impl Default for TokenSettings {
    fn default() -> TokenSettings {
        TokenSettings {
            issuer_name: "buzon".to_owned(),
            epoch_days: 30,
            types: vec![TokenType::PrivateP384, TokenType::Public],
        }
    }
}

/// Most codes made by one command.
pub const MAX_CODES_PER_BATCH: u32 = 10_000;
/// Most tokens one code yields per epoch.
pub const MAX_TOKENS_PER_CODE: u32 = 1_000;

/// Why a token request got no token. Each has a stable code for the API.
#[derive(Debug)]
pub enum IssueError {
    CodeMissing,
    CodeUnknown,
    CodeExpired,
    CodeRevoked,
    CodeExhausted,
    /// The code belongs to another entity than the key asked for.
    CodeWrongScope,
    /// No current key has the request's truncated key id and type.
    KeyUnknown,
    Malformed,
    Store(StoreError),
}

impl IssueError {
    pub fn code(&self) -> &'static str {
        match self {
            IssueError::CodeMissing => "code_missing",
            IssueError::CodeUnknown => "code_unknown",
            IssueError::CodeExpired => "code_expired",
            IssueError::CodeRevoked => "code_revoked",
            IssueError::CodeExhausted => "code_exhausted",
            IssueError::CodeWrongScope => "code_wrong_entity",
            IssueError::KeyUnknown => "key_unknown",
            IssueError::Malformed => "request_malformed",
            IssueError::Store(_) => "unavailable",
        }
    }
}

/// Why a token was not accepted. Distinct for the reporter, yet none says
/// anything that links the token to its issuance.
#[derive(Debug)]
pub enum RedeemError {
    Missing,
    /// Not a token, or a token whose authenticator does not verify.
    Malformed,
    /// Issued for another entity (or by another issuer).
    WrongScope,
    /// Its key is past its redemption window.
    Expired,
    /// Already spent.
    Spent,
    Store(StoreError),
}

impl RedeemError {
    pub fn code(&self) -> &'static str {
        match self {
            RedeemError::Missing => "token-missing",
            RedeemError::Malformed => "token-malformed",
            RedeemError::WrongScope => "token-wrong-entity",
            RedeemError::Expired => "token-expired",
            RedeemError::Spent => "token-spent",
            RedeemError::Store(_) => "unavailable",
        }
    }
}

impl From<StoreError> for IssueError {
    fn from(e: StoreError) -> IssueError {
        IssueError::Store(e)
    }
}
impl From<StoreError> for RedeemError {
    fn from(e: StoreError) -> RedeemError {
        RedeemError::Store(e)
    }
}

/// A token accepted and marked spent, not yet durable: the caller's own
/// commit (which flushes) makes it so, or [`Tokens::refund`] undoes it when
/// the submission it paid for is refused.
#[derive(Debug)]
#[must_use]
pub struct Spend {
    key: Vec<u8>,
}

/// One challenge a scope presents (RFC 9577): its bytes and the key that
/// issues for it.
#[derive(Clone, Debug)]
pub struct ScopeChallenge {
    pub token_type: TokenType,
    pub challenge: Vec<u8>,
    pub token_key: Vec<u8>,
    /// Seconds this challenge and key stay current (until the epoch ends).
    pub max_age: u32,
}

/// A directory entry (RFC 9578 §4).
#[derive(Clone, Debug)]
pub struct DirectoryKey {
    pub token_type: TokenType,
    pub token_key: Vec<u8>,
    pub not_before: u64,
    pub scope: Scope,
    /// The challenge this key issues for is fixed by these two: the
    /// issuer name and the origin (the entity's slug). Published so that
    /// clients can rebuild the challenge and refuse any other.
    pub issuer_name: String,
    pub origin: String,
}

/// What a maintenance pass did, in counts only.
/// Adds the audit entry of an issuer key made (`true`) or retired
/// (`false`) to the batch that makes or retires it.
pub type KeyLog = dyn Fn(&mut Batch, Scope, [u8; 32], bool) + Sync;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Maintained {
    pub created: usize,
    /// Keys not made: the one-byte truncated key ids are all taken.
    pub no_room: usize,
    pub retired: usize,
    pub pruned_spent: usize,
}

#[derive(Serialize, Deserialize)]
struct RetiredRecord {
    v: u8,
    scope: Scope,
    epoch: u32,
}

/// The issuer and redeemer.
pub struct Tokens {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    settings: TokenSettings,
    epochs: Epochs,
    /// Active keys, loaded from the store by [`Tokens::maintain`].
    active: RwLock<Arc<Vec<Arc<ActiveKey>>>>,
    /// Serialises key maintenance and policy changes.
    writes: tokio::sync::Mutex<()>,
    /// Serialises changes to code records (allowances, revocation).
    codes: tokio::sync::Mutex<()>,
}

impl Tokens {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        settings: TokenSettings,
    ) -> Result<Tokens, StoreError> {
        let epochs = Epochs::new(settings.epoch_days);
        let t = Tokens {
            store,
            clock,
            entropy,
            settings,
            epochs,
            active: RwLock::new(Arc::new(Vec::new())),
            writes: tokio::sync::Mutex::new(()),
            codes: tokio::sync::Mutex::new(()),
        };
        t.reload()?;
        Ok(t)
    }

    pub fn epochs(&self) -> Epochs {
        self.epochs
    }

    pub fn today(&self) -> Day {
        self.clock.today()
    }

    fn active(&self) -> Arc<Vec<Arc<ActiveKey>>> {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn reload(&self) -> Result<(), StoreError> {
        let mut keys = Vec::new();
        for (id, value) in self.store.scan(Table::IssuerKey, &[], usize::MAX)? {
            match ActiveKey::load(&id, &value) {
                Some(k) => keys.push(Arc::new(k)),
                None => tracing::error!("an issuer key record does not load; it is ignored"),
            }
        }
        // Newest epoch first: clients that take the first key of the
        // directory take the one that issues.
        keys.sort_by(|a, b| b.epoch.cmp(&a.epoch).then(a.id.cmp(&b.id)));
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(())
    }

    // ------------------------------------------------------------ policy

    /// The scope's policy: `open` unless set. A record that does not read
    /// is an error, not `open`: the gate fails closed.
    pub fn policy(&self, scope: &Scope) -> Result<Policy, StoreError> {
        match self
            .store
            .get(Table::ScopePolicy, scope.name().as_bytes())?
        {
            None => Ok(Policy::Open),
            Some(v) => serde_json::from_slice(&v)
                .map_err(|_| StoreError::Engine("unreadable policy record".into())),
        }
    }

    pub async fn set_policy(&self, scope: &Scope, policy: Policy) -> Result<(), StoreError> {
        let _w = self.writes.lock().await;
        let mut b = Batch::new();
        b.put(
            Table::ScopePolicy,
            scope.name().as_bytes(),
            serde_json::to_vec(&policy).unwrap_or_default(),
        );
        self.store.apply(b)?;
        self.store.flush()
    }

    // ------------------------------------------------------------ keys

    /// Makes sure every scope has a key of every type for the current
    /// epoch, retires keys past their redemption window (their secret is
    /// deleted and their spent set pruned) and reloads the active keys.
    /// Idempotent; safe to run at any time.
    /// `log` adds the audit entry of each key made (`true`) or retired
    /// (`false`) to the batch that makes or retires it (spec/tlog.md).
    pub async fn maintain(
        &self,
        scopes: &[(Scope, String)],
        log: &KeyLog,
    ) -> Result<Maintained, StoreError> {
        let _w = self.writes.lock().await;
        let today = self.today();
        let epoch = self.epochs.of(today);
        let mut done = Maintained::default();
        // Retire first so the truncated ids of expired keys are free again.
        // The spent set goes before the key: a pass stopped halfway finds
        // the key still there and finishes the job next time.
        for k in self.active().iter() {
            if k.redeems(today) || !k.started(today) {
                continue;
            }
            done.pruned_spent += self.prune_spent(&k.id)?;
            let mut b = Batch::new();
            b.delete(Table::IssuerKey, k.id);
            b.put(
                Table::RetiredKey,
                k.id,
                serde_json::to_vec(&RetiredRecord {
                    v: 1,
                    scope: k.scope,
                    epoch: k.epoch,
                })
                .unwrap_or_default(),
            );
            log(&mut b, k.scope, k.id, false);
            self.store.apply(b)?;
            done.retired += 1;
        }
        self.store.flush()?;
        self.reload()?;
        // This epoch's keys and the next one's: the next epoch's keys are
        // made ahead (and listed only once their epoch starts), so issuance
        // never waits for a maintenance pass at the turn of an epoch.
        let wanted = [epoch, epoch.saturating_add(1)];
        for (scope, origin) in scopes {
            let pairs: Vec<(TokenType, u32)> = self
                .settings
                .types
                .iter()
                .flat_map(|&ty| wanted.map(|e| (ty, e)))
                .collect();
            for (ty, epoch) in pairs {
                let has = self.active().iter().any(|k| {
                    k.scope == *scope
                        && k.token_type == ty
                        && k.epoch == epoch
                        && k.window == self.epochs
                });
                if has {
                    continue;
                }
                let taken: Vec<u8> = self.active().iter().map(|k| k.truncated_id()).collect();
                if taken.len() >= 250 {
                    // RFC 9578's one-byte truncated key id: no room left.
                    done.no_room += 1;
                    continue;
                }
                // Seeds the RSA key generation (the crate draws VOPRF keys
                // from the operating system itself).
                let seed: [u8; 32] = crate::platform::random(self.entropy.as_ref());
                let (scope, issuer) = (*scope, self.settings.issuer_name.clone());
                let origin = origin.clone();
                let window = self.epochs;
                let made = tokio::task::spawn_blocking(move || {
                    keys::generate(ty, &taken, seed, scope, &origin, (epoch, window), &issuer)
                })
                .await
                .map_err(|_| StoreError::Engine("key generation stopped".into()))?;
                let Some((id, record)) = made else {
                    done.no_room += 1;
                    continue;
                };
                let mut b = Batch::new();
                b.put(Table::IssuerKey, id, record);
                log(&mut b, scope, id, true);
                self.store.apply(b)?;
                self.store.flush()?;
                self.reload()?;
                done.created += 1;
            }
        }
        Ok(done)
    }

    fn prune_spent(&self, key_id: &[u8; 32]) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            let page = self.store.scan(Table::SpentToken, key_id, 1000)?;
            if page.is_empty() {
                return Ok(n);
            }
            let mut b = Batch::new();
            for (k, _) in &page {
                b.delete(Table::SpentToken, k);
            }
            n += page.len();
            self.store.apply(b)?;
        }
    }

    /// Every key that issues or redeems today, issuing ones first (RFC
    /// 9578 directory). Keys made ahead for the next epoch are not listed.
    pub fn directory(&self) -> Vec<DirectoryKey> {
        let today = self.today();
        self.active()
            .iter()
            .filter(|k| k.started(today) && k.redeems(today))
            .map(|k| DirectoryKey {
                token_type: k.token_type,
                token_key: k.token_key.clone(),
                not_before: u64::from(k.window.first_day(k.epoch).0) * 86_400,
                scope: k.scope,
                issuer_name: k.issuer_name.clone(),
                origin: k.origin.clone(),
            })
            .collect()
    }

    /// Every stored key with its state, for operators: `issuing`,
    /// `redeeming` (a previous epoch's) or `ahead` (made for the next).
    pub fn keys(&self) -> Vec<(DirectoryKey, &'static str)> {
        let today = self.today();
        self.active()
            .iter()
            .map(|k| {
                let state = if !k.started(today) {
                    "ahead"
                } else if k.issues(today) {
                    "issuing"
                } else {
                    "redeeming"
                };
                let d = DirectoryKey {
                    token_type: k.token_type,
                    token_key: k.token_key.clone(),
                    not_before: u64::from(k.window.first_day(k.epoch).0) * 86_400,
                    scope: k.scope,
                    issuer_name: k.issuer_name.clone(),
                    origin: k.origin.clone(),
                };
                (d, state)
            })
            .collect()
    }

    /// The key of `scope` and `ty` that issues today: of the configured
    /// types only, and of the configured epoch length first.
    fn issuing_key(&self, scope: &Scope, ty: TokenType) -> Option<Arc<ActiveKey>> {
        if !self.settings.types.contains(&ty) {
            return None;
        }
        let today = self.today();
        let keys = self.active();
        let mut candidates: Vec<&Arc<ActiveKey>> = keys
            .iter()
            .filter(|k| k.scope == *scope && k.token_type == ty && k.issues(today))
            .collect();
        candidates.sort_by_key(|k| k.window != self.epochs);
        candidates.first().map(|k| Arc::clone(k))
    }

    /// The challenges a scope presents today: one per configured token
    /// type whose key issues now.
    pub fn challenges(&self, scope: &Scope) -> Vec<ScopeChallenge> {
        let today = self.today();
        let mut out = Vec::new();
        for &ty in &self.settings.types {
            let Some(k) = self.issuing_key(scope, ty) else {
                continue;
            };
            // Whole days left after today: the clock gives days, not
            // hours, so today is not counted and max-age never overstates.
            let left = k
                .window
                .issue_end(k.epoch)
                .0
                .saturating_sub(today.0)
                .saturating_sub(1);
            if let Ok(challenge) = k.challenge().serialize() {
                out.push(ScopeChallenge {
                    token_type: ty,
                    challenge,
                    token_key: k.token_key.clone(),
                    max_age: left.saturating_mul(86_400),
                });
            }
        }
        out
    }

    // ------------------------------------------------------------ codes

    /// Makes `count` codes for `scope`, each yielding up to `per_epoch`
    /// tokens per key epoch, valid for `days` days from today.
    pub async fn make_codes(
        &self,
        scope: Scope,
        count: u32,
        per_epoch: u32,
        days: u32,
    ) -> Result<Vec<IssuanceCode>, StoreError> {
        let _c = self.codes.lock().await;
        let today = self.today();
        let mut codes = Vec::with_capacity(count as usize);
        let mut b = Batch::new();
        for _ in 0..count.min(MAX_CODES_PER_BATCH) {
            let code = IssuanceCode::from_random(crate::platform::random(self.entropy.as_ref()));
            let record = CodeRecord {
                v: 1,
                scope,
                per_epoch: per_epoch.clamp(1, MAX_TOKENS_PER_CODE),
                expires: Day(today.0.saturating_add(days.clamp(1, 3660))),
                revoked: false,
                epoch: 0,
                used: 0,
            };
            b.put(
                Table::IssuanceCode,
                code.lookup(),
                serde_json::to_vec(&record).unwrap_or_default(),
            );
            codes.push(code);
        }
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(codes)
    }

    /// Revokes a code of `scope`. `Ok(false)` when no such code exists.
    pub async fn revoke_code(&self, scope: Scope, typed: &str) -> Result<bool, StoreError> {
        let Some(code) = IssuanceCode::parse(typed) else {
            return Ok(false);
        };
        let _c = self.codes.lock().await;
        let Some(mut record) = self.code_record(&code)? else {
            return Ok(false);
        };
        if record.scope != scope {
            return Ok(false);
        }
        record.revoked = true;
        let mut b = Batch::new();
        b.put(
            Table::IssuanceCode,
            code.lookup(),
            serde_json::to_vec(&record).unwrap_or_default(),
        );
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(true)
    }

    fn code_record(&self, code: &IssuanceCode) -> Result<Option<CodeRecord>, StoreError> {
        Ok(self
            .store
            .get(Table::IssuanceCode, &code.lookup())?
            .and_then(|v| serde_json::from_slice(&v).ok()))
    }

    // ------------------------------------------------------------ issuance

    /// Answers one RFC 9578 TokenRequest paid for by an issuance code. The
    /// code's allowance is taken and made durable before the response
    /// leaves, so a crash cannot hand out more than the allowance.
    pub async fn issue(&self, code: Option<&str>, request: &[u8]) -> Result<Vec<u8>, IssueError> {
        let code = code.ok_or(IssueError::CodeMissing)?;
        let code = IssuanceCode::parse(code).ok_or(IssueError::CodeUnknown)?;
        let &[t0, t1, tid, ..] = request else {
            return Err(IssueError::Malformed);
        };
        let ty = u16::from_be_bytes([t0, t1]);
        // RFC 9578 sizes: a request of the wrong length is malformed
        // whatever key it names.
        let expected = match ty {
            1 => 52,
            2 => 259,
            _ => return Err(IssueError::Malformed),
        };
        if request.len() != expected {
            return Err(IssueError::Malformed);
        }
        let today = self.today();
        let key = self
            .active()
            .iter()
            .find(|k| {
                k.token_type as u16 == ty
                    && k.truncated_id() == tid
                    && k.issues(today)
                    && self.settings.types.contains(&k.token_type)
            })
            .cloned()
            .ok_or(IssueError::KeyUnknown)?;
        // The allowance counts per issuing period: the first day of the
        // key's epoch (not an epoch number, whose meaning changes with the
        // configured length).
        let epoch = key.window.first_day(key.epoch).0;
        // Parse before counting: a malformed request costs no allowance.
        let parsed = keys::parse_request(key.token_type, request).ok_or(IssueError::Malformed)?;
        if !keys::blinded_element_valid(key.token_type, request) {
            return Err(IssueError::Malformed);
        }
        // An unknown code is told at once, without waiting for the lock.
        if self.code_record(&code)?.is_none() {
            return Err(IssueError::CodeUnknown);
        }
        // The allowance is taken and made durable under the codes' lock;
        // the signing (milliseconds) happens outside it, off the async
        // threads, so requests of different codes proceed in parallel.
        {
            let _c = self.codes.lock().await;
            let mut record = self.code_record(&code)?.ok_or(IssueError::CodeUnknown)?;
            if record.scope != key.scope {
                return Err(IssueError::CodeWrongScope);
            }
            record.take(epoch, today).map_err(|r| match r {
                CodeRefusal::Expired => IssueError::CodeExpired,
                CodeRefusal::Revoked => IssueError::CodeRevoked,
                CodeRefusal::Exhausted => IssueError::CodeExhausted,
            })?;
            self.put_code(&code, &record)?;
        }
        let signer = key.clone();
        let response =
            tokio::task::spawn_blocking(move || futures_executor::block_on(signer.respond(parsed)))
                .await
                .ok()
                .flatten();
        match response {
            Some(r) => Ok(r),
            None => {
                // Nothing was handed out: the allowance goes back.
                let _c = self.codes.lock().await;
                if let Some(mut record) = self.code_record(&code)?
                    && record.epoch == epoch
                {
                    record.used = record.used.saturating_sub(1);
                    self.put_code(&code, &record)?;
                }
                Err(IssueError::Malformed)
            }
        }
    }

    fn put_code(&self, code: &IssuanceCode, record: &CodeRecord) -> Result<(), StoreError> {
        let mut b = Batch::new();
        b.put(
            Table::IssuanceCode,
            code.lookup(),
            serde_json::to_vec(record).unwrap_or_default(),
        );
        self.store.apply(b)?;
        self.store.flush()
    }

    // ------------------------------------------------------------ redemption

    /// Checks a pasted or header-borne token for `scope` and marks it
    /// spent. The mark is an atomic insert-if-absent: of any number of
    /// concurrent spends of one token exactly one succeeds.
    pub async fn redeem(&self, scope: &Scope, text: &str) -> Result<Spend, RedeemError> {
        if text.trim().is_empty() {
            return Err(RedeemError::Missing);
        }
        let bytes = decode_token_text(text).ok_or(RedeemError::Malformed)?;
        let &[t0, t1, ..] = bytes.as_slice() else {
            return Err(RedeemError::Malformed);
        };
        let ty = u16::from_be_bytes([t0, t1]);
        let token = match ty {
            1 => ParsedToken::Private(
                Token::<U48>::tls_deserialize_exact(&bytes).map_err(|_| RedeemError::Malformed)?,
            ),
            2 => ParsedToken::Public(Box::new(
                Token::<U256>::tls_deserialize_exact(&bytes).map_err(|_| RedeemError::Malformed)?,
            )),
            _ => return Err(RedeemError::Malformed),
        };
        let key_id = *token.key_id();
        let today = self.today();
        let Some(key) = self.active().iter().find(|k| k.id == key_id).cloned() else {
            return Err(self.unknown_key(scope, &key_id)?);
        };
        if key.scope != *scope {
            return Err(RedeemError::WrongScope);
        }
        if !key.redeems(today) {
            return Err(RedeemError::Expired);
        }
        if key.token_type as u16 != ty {
            return Err(RedeemError::Malformed);
        }
        // The crate does not compare the challenge digest (spec/tokens.md):
        // a token made for another challenge must not pass.
        let expected = key
            .challenge()
            .digest()
            .map_err(|_| RedeemError::Malformed)?;
        if *token.challenge_digest() != expected {
            return Err(RedeemError::WrongScope);
        }
        let spent = keys::SpentSet::new(self.store.as_ref(), key_id);
        let verdict = match token {
            ParsedToken::Private(t) => key.redeem_private(&spent, t).await,
            ParsedToken::Public(t) => key.redeem_public(&spent, *t).await,
        };
        if let Some(e) = spent.take_error() {
            return Err(RedeemError::Store(e));
        }
        match verdict {
            Ok(()) => Ok(Spend {
                key: spent.key_for(&verdict_nonce(&bytes)),
            }),
            Err(privacypass::common::errors::RedeemTokenError::DoubleSpending) => {
                Err(RedeemError::Spent)
            }
            Err(_) => Err(RedeemError::Malformed),
        }
    }

    fn unknown_key(&self, scope: &Scope, key_id: &[u8; 32]) -> Result<RedeemError, StoreError> {
        let retired: Option<RetiredRecord> = self
            .store
            .get(Table::RetiredKey, key_id)?
            .and_then(|v| serde_json::from_slice(&v).ok());
        Ok(match retired {
            Some(r) if r.scope == *scope => RedeemError::Expired,
            _ => RedeemError::WrongScope,
        })
    }

    /// Gives a spent token back: the submission it paid for was refused
    /// before anything was acknowledged.
    pub fn refund(&self, spend: Spend) -> Result<(), StoreError> {
        let mut b = Batch::new();
        b.delete(Table::SpentToken, &spend.key);
        self.store.apply(b)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

enum ParsedToken {
    Private(Token<U48>),
    Public(Box<Token<U256>>),
}

impl ParsedToken {
    fn key_id(&self) -> &[u8; 32] {
        match self {
            ParsedToken::Private(t) => t.token_key_id(),
            ParsedToken::Public(t) => t.token_key_id(),
        }
    }
    fn challenge_digest(&self) -> &[u8; 32] {
        match self {
            ParsedToken::Private(t) => t.challenge_digest(),
            ParsedToken::Public(t) => t.challenge_digest(),
        }
    }
}

/// The nonce of a serialised token: bytes 2..34 (after the type).
fn verdict_nonce(token: &[u8]) -> [u8; 32] {
    token
        .get(2..34)
        .and_then(|n| n.try_into().ok())
        .unwrap_or([0u8; 32])
}

/// The challenge of a scope's key (RFC 9577 §2.1): this issuer, no
/// redemption context, and the scope's public name as origin info.
pub fn challenge_for(ty: TokenType, issuer_name: &str, origin: &str) -> TokenChallenge {
    TokenChallenge::new(ty, issuer_name, None, &[origin.to_owned()])
}

/// Makes [`Mutex`] usable without poisoning concerns for tiny sections.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
