//! Issuer keys and the adapters that let the `privacypass` crate use them:
//! its key stores see exactly the one key this module chose, and its nonce
//! store is the spent-token table of the project's [`Store`].

use std::sync::Mutex;

use async_trait::async_trait;
use blind_rsa_signatures::{Deterministic, KeyPair, PSS, SecretKey, Sha384};
use p384::NistP384;
use privacypass::auth::authenticate::TokenChallenge;
use privacypass::auth::authorize::Token;
use privacypass::common::errors::RedeemTokenError;
use privacypass::common::private::serialize_public_key;
use privacypass::common::store::PrivateKeyStore;
use privacypass::public_tokens::server::{
    IssuerKeyStore, IssuerServer, OriginKeyStore, OriginServer,
};
use privacypass::{Deserialize as _, Serialize as _};
use privacypass::{NonceStore, TokenType, TruncatedTokenKeyId, VoprfServer};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use typenum::{U48, U256};

use super::lock;
use crate::core::tokens::{Epochs, Scope};
use crate::store::{Store, StoreError, Table};

type RsaKeyPair = KeyPair<Sha384, PSS, Deterministic>;
type RsaSecret = SecretKey<Sha384, PSS, Deterministic>;
type RsaPublic = privacypass::public_tokens::PublicKey;
type PrivateServer = privacypass::private_tokens::server::Server<NistP384>;
type PrivateRequest = privacypass::private_tokens::TokenRequest<NistP384>;
type PublicRequest = privacypass::public_tokens::TokenRequest;

/// A key's secret half, ready to use.
pub enum KeySecret {
    Voprf(VoprfServer<NistP384>),
    Rsa(Box<RsaKeyPair>),
}

/// A key that issues or still redeems.
pub struct ActiveKey {
    pub id: [u8; 32],
    pub token_type: TokenType,
    pub scope: Scope,
    pub epoch: u32,
    /// The epochs this key was made in: its own windows stay right if the
    /// configured epoch length changes later.
    pub window: Epochs,
    pub issuer_name: String,
    /// The challenge's `origin_info`: the scope's public name (an entity's
    /// slug), fixed for the key's life.
    pub origin: String,
    /// The `token-key` of RFC 9578: 49-byte compressed point (type 1) or
    /// the RSASSA-PSS SubjectPublicKeyInfo (type 2).
    pub token_key: Vec<u8>,
    secret: KeySecret,
}

/// How a key is stored (Table::IssuerKey, JSON). The secret is kept in the
/// clear: the server must use it on every request (spec/tokens.md).
#[derive(Serialize, Deserialize)]
struct KeyRecord {
    v: u8,
    token_type: u16,
    scope: Scope,
    epoch: u32,
    epoch_days: u32,
    issuer_name: String,
    origin: String,
    token_key: String,
    secret: String,
}

impl ActiveKey {
    pub fn load(id: &[u8], value: &[u8]) -> Option<ActiveKey> {
        let r: KeyRecord = serde_json::from_slice(value).ok()?;
        if r.v != 1 {
            return None;
        }
        let token_key = hex::decode(&r.token_key).ok()?;
        let secret = hex::decode(&r.secret).ok()?;
        let (token_type, secret) = match r.token_type {
            1 => (
                TokenType::PrivateP384,
                KeySecret::Voprf(VoprfServer::<NistP384>::deserialize(&secret).ok()?),
            ),
            2 => {
                let sk = RsaSecret::from_der(&secret).ok()?;
                let pk = sk.public_key().ok()?;
                (
                    TokenType::Public,
                    KeySecret::Rsa(Box::new(RsaKeyPair { pk, sk })),
                )
            }
            _ => return None,
        };
        let id: [u8; 32] = id.try_into().ok()?;
        let key = ActiveKey {
            id,
            token_type,
            scope: r.scope,
            epoch: r.epoch,
            window: Epochs::new(r.epoch_days),
            issuer_name: r.issuer_name,
            origin: r.origin,
            token_key,
            secret,
        };
        // The stored id must be the hash of the stored public key.
        (key_id(&key.token_key) == id).then_some(key)
    }

    pub fn truncated_id(&self) -> u8 {
        self.id[31]
    }

    /// Issues on `day`.
    pub fn issues(&self, day: crate::core::Day) -> bool {
        self.window.issues(self.epoch, day)
    }

    /// Redeems on `day`.
    pub fn redeems(&self, day: crate::core::Day) -> bool {
        self.window.redeems(self.epoch, day)
    }

    /// Its epoch has begun by `day` (keys are made one epoch ahead).
    pub fn started(&self, day: crate::core::Day) -> bool {
        self.window.first_day(self.epoch) <= day
    }

    pub fn challenge(&self) -> TokenChallenge {
        super::challenge_for(self.token_type, &self.issuer_name, &self.origin)
    }

    /// Signs or evaluates a parsed request.
    pub(super) async fn respond(&self, request: ParsedRequest) -> Option<Vec<u8>> {
        match (&self.secret, request) {
            (KeySecret::Voprf(server), ParsedRequest::Private(req)) => {
                let store = OneVoprf(server.clone(), self.truncated_id());
                let resp = PrivateServer::new()
                    .issue_token_response(&store, req)
                    .await
                    .ok()?;
                resp.tls_serialize_detached().ok()
            }
            (KeySecret::Rsa(pair), ParsedRequest::Public(req)) => {
                let store = OneRsa(pair.as_ref().clone(), self.truncated_id());
                let resp = IssuerServer::new()
                    .issue_token_response(&store, *req)
                    .await
                    .ok()?;
                resp.tls_serialize_detached().ok()
            }
            _ => None,
        }
    }

    pub(super) async fn redeem_private(
        &self,
        spent: &SpentSet<'_>,
        token: Token<U48>,
    ) -> Result<(), RedeemTokenError> {
        let KeySecret::Voprf(server) = &self.secret else {
            return Err(RedeemTokenError::KeyIdNotFound);
        };
        let store = OneVoprf(server.clone(), self.truncated_id());
        PrivateServer::new()
            .redeem_token(&store, spent, token)
            .await
    }

    pub(super) async fn redeem_public(
        &self,
        spent: &SpentSet<'_>,
        token: Token<U256>,
    ) -> Result<(), RedeemTokenError> {
        let KeySecret::Rsa(pair) = &self.secret else {
            return Err(RedeemTokenError::KeyIdNotFound);
        };
        let store = OneRsaPublic(pair.pk.clone(), self.truncated_id());
        OriginServer::new().redeem_token(&store, spent, token).await
    }
}

/// SHA-256 of a `token-key` (RFC 9578 `token_key_id`).
pub fn key_id(token_key: &[u8]) -> [u8; 32] {
    Sha256::digest(token_key).into()
}

pub(super) enum ParsedRequest {
    Private(PrivateRequest),
    Public(Box<PublicRequest>),
}

/// Parses a TokenRequest of `ty`, refusing trailing bytes.
pub(super) fn parse_request(ty: TokenType, bytes: &[u8]) -> Option<ParsedRequest> {
    match ty {
        TokenType::PrivateP384 => PrivateRequest::tls_deserialize_exact(bytes)
            .ok()
            .map(ParsedRequest::Private),
        TokenType::Public => PublicRequest::tls_deserialize_exact(bytes)
            .ok()
            .map(|r| ParsedRequest::Public(Box::new(r))),
        TokenType::PrivateRistretto255 => None,
    }
}

/// Whether a request's blinded element can be evaluated: for type 1, a
/// valid P-384 point other than the identity (the crate would refuse it
/// only after the code's allowance was taken).
pub(super) fn blinded_element_valid(ty: TokenType, request: &[u8]) -> bool {
    match ty {
        TokenType::PrivateP384 => request.get(3..).is_some_and(|b| {
            privacypass::private_tokens::BlindedElement::<NistP384>::deserialize(b).is_ok()
        }),
        _ => true,
    }
}

/// Makes a key of `ty` whose truncated id is not in `taken`, through the
/// crate's own key creation (which retries on collision). Returns the key
/// id and the record to store. RSA key generation takes a fraction of a
/// second: run it off the async threads.
pub(super) fn generate(
    ty: TokenType,
    taken: &[u8],
    seed: [u8; 32],
    scope: Scope,
    origin: &str,
    (epoch, window): (u32, Epochs),
    issuer_name: &str,
) -> Option<([u8; 32], Vec<u8>)> {
    let slot = NewKeySlot {
        taken: taken.to_vec(),
        voprf: Mutex::new(None),
        rsa: Mutex::new(None),
    };
    let rt = futures_executor::block_on(async {
        match ty {
            TokenType::PrivateP384 => PrivateServer::new().create_keypair(&slot).await.is_ok(),
            TokenType::Public => {
                let mut rng = rand::rngs::StdRng::from_seed(seed);
                IssuerServer::new()
                    .create_keypair(&mut rng, &slot)
                    .await
                    .is_ok()
            }
            TokenType::PrivateRistretto255 => false,
        }
    });
    if !rt {
        return None;
    }
    let (token_key, secret) = match ty {
        TokenType::PrivateP384 => {
            let server = lock(&slot.voprf).take()?;
            (
                serialize_public_key::<NistP384>(server.get_public_key()),
                server.serialize().to_vec(),
            )
        }
        TokenType::Public => {
            let pair = lock(&slot.rsa).take()?;
            (pair.pk.to_spki().ok()?, pair.sk.to_der().ok()?)
        }
        TokenType::PrivateRistretto255 => return None,
    };
    let id = key_id(&token_key);
    let record = KeyRecord {
        v: 1,
        token_type: ty as u16,
        scope,
        epoch,
        epoch_days: window.length(),
        issuer_name: issuer_name.to_owned(),
        origin: origin.to_owned(),
        token_key: hex::encode(&token_key),
        secret: hex::encode(&secret),
    };
    Some((id, serde_json::to_vec(&record).ok()?))
}

/// The crate's view of key creation: a slot that accepts one key whose
/// truncated id is free among the active keys.
struct NewKeySlot {
    taken: Vec<u8>,
    voprf: Mutex<Option<VoprfServer<NistP384>>>,
    rsa: Mutex<Option<RsaKeyPair>>,
}

#[async_trait]
impl PrivateKeyStore for NewKeySlot {
    type CS = NistP384;
    async fn insert(&self, tid: TruncatedTokenKeyId, server: VoprfServer<NistP384>) -> bool {
        if self.taken.contains(&tid) {
            return false;
        }
        *lock(&self.voprf) = Some(server);
        true
    }
    async fn get(&self, _: &TruncatedTokenKeyId) -> Option<VoprfServer<NistP384>> {
        None
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

#[async_trait]
impl IssuerKeyStore for NewKeySlot {
    async fn insert(&self, tid: TruncatedTokenKeyId, pair: RsaKeyPair) -> bool {
        if self.taken.contains(&tid) {
            return false;
        }
        *lock(&self.rsa) = Some(pair);
        true
    }
    async fn get(&self, _: &TruncatedTokenKeyId) -> Option<RsaKeyPair> {
        None
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

/// A key store holding exactly the key chosen by its full id.
struct OneVoprf(VoprfServer<NistP384>, u8);

#[async_trait]
impl PrivateKeyStore for OneVoprf {
    type CS = NistP384;
    async fn insert(&self, _: TruncatedTokenKeyId, _: VoprfServer<NistP384>) -> bool {
        false
    }
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Option<VoprfServer<NistP384>> {
        (*tid == self.1).then(|| self.0.clone())
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

struct OneRsa(RsaKeyPair, u8);

#[async_trait]
impl IssuerKeyStore for OneRsa {
    async fn insert(&self, _: TruncatedTokenKeyId, _: RsaKeyPair) -> bool {
        false
    }
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Option<RsaKeyPair> {
        (*tid == self.1).then(|| self.0.clone())
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

struct OneRsaPublic(RsaPublic, u8);

#[async_trait]
impl OriginKeyStore for OneRsaPublic {
    async fn insert(&self, _: TruncatedTokenKeyId, _: RsaPublic) {}
    async fn get(&self, tid: &TruncatedTokenKeyId) -> Vec<RsaPublic> {
        if *tid == self.1 {
            vec![self.0.clone()]
        } else {
            Vec::new()
        }
    }
    async fn remove(&self, _: &TruncatedTokenKeyId) -> bool {
        false
    }
}

/// The crate's nonce store over `Table::SpentToken`, for one key: entries
/// are `key id || H(nonce)`, so retiring a key prunes its set by prefix.
///
/// `reserve` is the atomic insert-if-absent; `release` deletes (the crate
/// calls it when the authenticator does not verify); `commit` has nothing
/// to add — the reservation already is the spent mark, made durable by the
/// caller's flush before anything is acknowledged. A crash between
/// reserve and that flush loses at most the reservation itself, or burns
/// one token that no one was told was accepted.
pub struct SpentSet<'a> {
    store: &'a dyn Store,
    key_id: [u8; 32],
    error: Mutex<Option<StoreError>>,
}

impl<'a> SpentSet<'a> {
    pub fn new(store: &'a dyn Store, key_id: [u8; 32]) -> SpentSet<'a> {
        SpentSet {
            store,
            key_id,
            error: Mutex::new(None),
        }
    }

    /// `key id || H(nonce)`: the spent set keeps a hash of each nonce,
    /// not the nonce, so no part of a token is stored.
    pub fn key_for(&self, nonce: &[u8; 32]) -> Vec<u8> {
        let mut k = Vec::with_capacity(64);
        k.extend_from_slice(&self.key_id);
        k.extend_from_slice(&blake3::derive_key("buzon 2026 spent token v1", nonce));
        k
    }

    /// A storage failure seen by `reserve` (which can only answer yes/no).
    pub fn take_error(&self) -> Option<StoreError> {
        lock(&self.error).take()
    }
}

#[async_trait]
impl NonceStore for SpentSet<'_> {
    async fn reserve(&self, nonce: &[u8; 32]) -> bool {
        match self
            .store
            .insert_if_absent(Table::SpentToken, &self.key_for(nonce), &[])
        {
            Ok(fresh) => fresh,
            Err(e) => {
                *lock(&self.error) = Some(e);
                false
            }
        }
    }
    async fn commit(&self, _: &[u8; 32]) {}
    async fn release(&self, nonce: &[u8; 32]) {
        let mut b = crate::store::Batch::new();
        b.delete(Table::SpentToken, self.key_for(nonce));
        if let Err(e) = self.store.apply(b) {
            *lock(&self.error) = Some(e);
        }
    }
}
