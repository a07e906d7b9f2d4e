//! Published Privacy Pass test vectors, run through the pinned libraries
//! (`voprf-ng`, `privacypass`, `blind-rsa-signatures`).
//!
//! - RFC 9497 VOPRF (mode 1), suites P384-SHA384 and ristretto255-SHA512:
//!   key derivation, deterministic blinding, blind evaluation with the
//!   vector's proof scalar (batch 1 and batch 2), finalisation, evaluation.
//! - RFC 9578 token type 1 (VOPRF P-384) and type 2 (blind RSA): token
//!   request, response, token, key ids, challenge digest, and server-side
//!   verification and redemption of the vector's token.
//! - RFC 9577: `TokenChallenge` encoding, token authenticator inputs and the
//!   `WWW-Authenticate` header examples.
//! - RFC 9474: the four RSABSSA-SHA384 variants.
//!
//! The vectors are copies of the files described in the shared vectors
//! README (CFRG `allVectors.json`, the RFC 9578 JSON from
//! `cloudflare/privacypass-ts`, and transcriptions of the RFC 9577 and
//! RFC 9474 appendices). They live in `tests/vectors/rfc*.json` and are read
//! at test time; every expected value comes from those files.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use axum::http::{HeaderValue, header::WWW_AUTHENTICATE};
use blind_rsa_signatures::reexports::hmac_sha256;
use blind_rsa_signatures::{
    Deterministic, MessagePrepare, MessageRandomizer, PSS, PSSZero, Randomized, SaltMode,
    SecretKey, Sha384, Signature,
};
use p384::NistP384;
use privacypass::auth::authenticate::{
    TokenChallenge, build_www_authenticate_header, parse_www_authenticate_header,
};
use privacypass::common::errors::RedeemTokenError;
use privacypass::common::private::{PrivateCipherSuite, serialize_public_key};
use privacypass::common::store::PrivateKeyStore;
use privacypass::private_tokens::PrivateToken;
use privacypass::public_tokens::det_rng::DeterministicRng;
use privacypass::public_tokens::server::{IssuerKeyStore, OriginKeyStore};
use privacypass::public_tokens::{PublicKey, PublicToken, public_key_to_truncated_token_key_id};
use privacypass::{
    Deserialize as _, Nonce, NonceStore, Serialize as _, TokenKeyId, TokenType,
    TruncatedTokenKeyId, private_tokens, public_tokens,
};
use rand::{TryCryptoRng, TryRng};
use rsa::{BoxedUint, RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use voprf::{
    CipherSuite, EvaluationElement, Group, Mode, Proof, Ristretto255, VoprfClient, VoprfServer,
    VoprfServerBatchEvaluateFinishResult,
};

const RFC9497_FILE: &str = "rfc9497-oprf-voprf-poprf-allVectors.json";
const RFC9578_TYPE1_FILE: &str = "rfc9578-privacypass-type1-voprf-p384.json";
const RFC9578_TYPE2_FILE: &str = "rfc9578-privacypass-type2-blindrsa.json";
const RFC9577_TOKEN_FILE: &str = "rfc9577-privacypass-auth-scheme-token-vectors.json";
const RFC9577_HEADER_FILE: &str = "rfc9577-privacypass-auth-scheme-header-vectors.json";
const RFC9474_FILE: &str = "rfc9474-rsabssa-test-vectors.json";

/// `mode` of the VOPRF entries in `allVectors.json` (RFC 9497 §3.1).
const VOPRF_MODE: u64 = 1;

type RsaKeyPair = blind_rsa_signatures::KeyPair<Sha384, PSS, Deterministic>;

// ------------------------------------------------------------------ loading

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

/// The top-level array of a vector file; never empty.
fn load_list(name: &str) -> Vec<Value> {
    let list = load(name)
        .as_array()
        .unwrap_or_else(|| panic!("{name} is not a JSON array"))
        .clone();
    assert!(!list.is_empty(), "{name} holds no vectors");
    list
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} missing or not a string"))
}

fn hex_field(value: &Value, field: &str) -> Vec<u8> {
    hex::decode(text(value, field)).unwrap_or_else(|e| panic!("field {field} is not hex: {e}"))
}

/// A comma-separated list of hex values (RFC 9497 batch vectors).
fn hex_list(value: &Value, field: &str) -> Vec<Vec<u8>> {
    text(value, field)
        .split(',')
        .map(|item| hex::decode(item).unwrap_or_else(|e| panic!("field {field} is not hex: {e}")))
        .collect()
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("vector field is UTF-8")
}

fn sha256(data: &[u8]) -> [u8; 32] {
    hmac_sha256::Hash::hash(data)
}

/// Decodes base64url with or without `=` padding (RFC 4648 §5).
fn base64url_decode(encoded: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("{encoded:?} is not base64url: {e}"))
}

// --------------------------------------------------------------- randomness

/// An RNG that hands out the vector's random values, in order, one per
/// request, and checks that each request asks for exactly that many bytes.
struct ScriptedRng {
    chunks: VecDeque<Vec<u8>>,
}

impl ScriptedRng {
    fn new(chunks: Vec<Vec<u8>>) -> Self {
        Self {
            chunks: chunks.into(),
        }
    }

    fn assert_used_up(&self) {
        assert!(
            self.chunks.is_empty(),
            "{} scripted random values were not consumed",
            self.chunks.len()
        );
    }
}

impl TryRng for ScriptedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("only fill_bytes is scripted")
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("only fill_bytes is scripted")
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        let chunk = self
            .chunks
            .pop_front()
            .expect("asked for more randomness than the vector provides");
        assert_eq!(dest.len(), chunk.len(), "random value of unexpected length");
        dest.copy_from_slice(&chunk);
        Ok(())
    }
}

impl TryCryptoRng for ScriptedRng {}

// ------------------------------------------------------------------- stores

/// The crate's key stores, over one map from truncated key id to key: an
/// insert refuses an id already taken.
struct MapStore<V> {
    keys: Mutex<HashMap<TruncatedTokenKeyId, V>>,
}

impl<V> Default for MapStore<V> {
    fn default() -> Self {
        MapStore {
            keys: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> MapStore<V> {
    fn put(&self, id: TruncatedTokenKeyId, value: V) -> bool {
        let mut keys = self.keys.lock().expect("key store lock");
        let fresh = !keys.contains_key(&id);
        if fresh {
            keys.insert(id, value);
        }
        fresh
    }
    fn find(&self, id: &TruncatedTokenKeyId) -> Option<V> {
        self.keys.lock().expect("key store lock").get(id).cloned()
    }
    fn drop_key(&self, id: &TruncatedTokenKeyId) -> bool {
        self.keys
            .lock()
            .expect("key store lock")
            .remove(id)
            .is_some()
    }
}

/// Issuer key store for token type 1 (VOPRF P-384).
type VoprfKeyStore = MapStore<VoprfServer<NistP384>>;
/// Issuer key store for token type 2 (blind RSA).
type RsaIssuerKeyStore = MapStore<RsaKeyPair>;
/// Origin key store for token type 2: public keys by truncated key id.
type RsaOriginKeyStore = MapStore<Vec<PublicKey>>;

#[async_trait]
impl PrivateKeyStore for VoprfKeyStore {
    type CS = NistP384;
    async fn insert(&self, id: TruncatedTokenKeyId, server: VoprfServer<NistP384>) -> bool {
        MapStore::put(self, id, server)
    }
    async fn get(&self, id: &TruncatedTokenKeyId) -> Option<VoprfServer<NistP384>> {
        MapStore::find(self, id)
    }
    async fn remove(&self, id: &TruncatedTokenKeyId) -> bool {
        MapStore::drop_key(self, id)
    }
}

#[async_trait]
impl IssuerKeyStore for RsaIssuerKeyStore {
    async fn insert(&self, id: TruncatedTokenKeyId, pair: RsaKeyPair) -> bool {
        MapStore::put(self, id, pair)
    }
    async fn get(&self, id: &TruncatedTokenKeyId) -> Option<RsaKeyPair> {
        MapStore::find(self, id)
    }
    async fn remove(&self, id: &TruncatedTokenKeyId) -> bool {
        MapStore::drop_key(self, id)
    }
}

#[async_trait]
impl OriginKeyStore for RsaOriginKeyStore {
    async fn insert(&self, id: TruncatedTokenKeyId, key: PublicKey) {
        self.keys
            .lock()
            .expect("key store lock")
            .entry(id)
            .or_default()
            .push(key);
    }
    async fn get(&self, id: &TruncatedTokenKeyId) -> Vec<PublicKey> {
        MapStore::find(self, id).unwrap_or_default()
    }
    async fn remove(&self, id: &TruncatedTokenKeyId) -> bool {
        MapStore::drop_key(self, id)
    }
}

/// Nonce store with the reserve / commit / release states of `NonceStore`.
#[derive(Default)]
struct SpentNonces {
    /// `false` while reserved, `true` once committed.
    nonces: Mutex<HashMap<Nonce, bool>>,
}

#[async_trait]
impl NonceStore for SpentNonces {
    async fn reserve(&self, nonce: &Nonce) -> bool {
        let mut nonces = self.nonces.lock().expect("nonce store lock");
        let fresh = !nonces.contains_key(nonce);
        if fresh {
            nonces.insert(*nonce, false);
        }
        fresh
    }
    async fn commit(&self, nonce: &Nonce) {
        if let Some(committed) = self.nonces.lock().expect("nonce store lock").get_mut(nonce) {
            *committed = true;
        }
    }
    async fn release(&self, nonce: &Nonce) {
        let mut nonces = self.nonces.lock().expect("nonce store lock");
        if nonces.get(nonce) == Some(&false) {
            nonces.remove(nonce);
        }
    }
}

// ------------------------------------------------------------- RFC 9497

/// The `allVectors.json` entry for one suite and mode.
fn rfc9497_suite(identifier: &str, mode: u64) -> Value {
    load_list(RFC9497_FILE)
        .into_iter()
        .find(|suite| suite["identifier"] == identifier && suite["mode"] == mode)
        .unwrap_or_else(|| panic!("no {identifier} mode {mode} entry in {RFC9497_FILE}"))
}

/// Checks DeriveKeyPair and every VOPRF vector of one suite; returns how
/// many vectors were checked.
fn check_voprf_suite<CS: CipherSuite>(identifier: &str) -> usize {
    let suite = rfc9497_suite(identifier, VOPRF_MODE);
    let seed = hex_field(&suite, "seed");
    let key_info = hex_field(&suite, "keyInfo");
    let sk_sm = hex_field(&suite, "skSm");
    let pk_sm = hex_field(&suite, "pkSm");

    // DeriveKeyPair(seed, info) in VOPRF mode.
    let derived = voprf::derive_key::<CS>(&seed, &key_info, Mode::Voprf).expect("derive_key");
    assert_eq!(
        CS::Group::serialize_scalar(derived).as_slice(),
        sk_sm.as_slice(),
        "{identifier}: skSm from seed and keyInfo"
    );
    let from_seed = VoprfServer::<CS>::new_from_seed(&seed, &key_info).expect("new_from_seed");
    assert_eq!(
        from_seed.serialize().as_slice(),
        [sk_sm.as_slice(), pk_sm.as_slice()].concat(),
        "{identifier}: server from seed holds skSm || pkSm"
    );
    let server = VoprfServer::<CS>::new_with_key(&sk_sm).expect("new_with_key");
    assert_eq!(
        CS::Group::serialize_elem(server.get_public_key()).as_slice(),
        pk_sm.as_slice(),
        "{identifier}: pkSm from skSm"
    );
    let public_key = CS::Group::deserialize_elem(&pk_sm).expect("pkSm is a group element");

    let vectors = suite["vectors"].as_array().expect("vectors array");
    assert!(!vectors.is_empty(), "{identifier}: no vectors");
    for (index, vector) in vectors.iter().enumerate() {
        check_voprf_vector::<CS>(
            &format!("{identifier} vector {index}"),
            &server,
            public_key,
            vector,
        );
    }
    vectors.len()
}

fn check_voprf_vector<CS: CipherSuite>(
    label: &str,
    server: &VoprfServer<CS>,
    public_key: <CS::Group as Group>::Elem,
    vector: &Value,
) {
    let batch = usize::try_from(vector["Batch"].as_u64().expect("Batch")).expect("batch size");
    let inputs = hex_list(vector, "Input");
    let blinds = hex_list(vector, "Blind");
    let expected_blinded = hex_list(vector, "BlindedElement");
    let expected_evaluated = hex_list(vector, "EvaluationElement");
    let expected_outputs = hex_list(vector, "Output");
    let expected_proof = hex_field(&vector["Proof"], "proof");
    let proof_scalar = hex_field(&vector["Proof"], "r");
    for list in [&inputs, &blinds, &expected_blinded, &expected_evaluated] {
        assert_eq!(list.len(), batch, "{label}: list length differs from Batch");
    }
    assert_eq!(expected_outputs.len(), batch, "{label}: Output count");

    // Client: Blind(input) with the vector's blind.
    let mut clients = Vec::new();
    let mut blinded = Vec::new();
    for ((input, blind), expected) in inputs.iter().zip(&blinds).zip(&expected_blinded) {
        let blind = CS::Group::deserialize_scalar(blind).expect("Blind is a scalar");
        let result = VoprfClient::<CS>::deterministic_blind_unchecked(input, blind)
            .expect("deterministic blind");
        assert_eq!(
            result.message.serialize().as_slice(),
            expected.as_slice(),
            "{label}: BlindedElement"
        );
        clients.push(result.state);
        blinded.push(result.message);
    }

    // Server: BlindEvaluate over the whole batch, one proof, with the vector's
    // proof random scalar as the only randomness.
    let prepared: Vec<_> = server
        .batch_blind_evaluate_prepare(blinded.iter())
        .collect();
    let mut rng = ScriptedRng::new(vec![proof_scalar.clone()]);
    let VoprfServerBatchEvaluateFinishResult { messages, proof } = server
        .batch_blind_evaluate_finish(&mut rng, blinded.iter(), &prepared)
        .expect("batch blind evaluate");
    rng.assert_used_up();
    let messages: Vec<EvaluationElement<CS>> = messages.collect();
    assert_eq!(messages.len(), batch, "{label}: evaluated element count");
    for (message, expected) in messages.iter().zip(&expected_evaluated) {
        assert_eq!(
            message.serialize().as_slice(),
            expected.as_slice(),
            "{label}: EvaluationElement (batch)"
        );
    }
    assert_eq!(
        proof.serialize().as_slice(),
        expected_proof.as_slice(),
        "{label}: Proof (batch)"
    );

    // The single-element entry point gives the same for Batch = 1.
    if batch == 1 {
        let mut rng = ScriptedRng::new(vec![proof_scalar]);
        let result = server
            .blind_evaluate(&mut rng, &blinded[0])
            .expect("blind evaluate");
        rng.assert_used_up();
        assert_eq!(
            result.message.serialize().as_slice(),
            expected_evaluated[0].as_slice(),
            "{label}: EvaluationElement"
        );
        assert_eq!(
            result.proof.serialize().as_slice(),
            expected_proof.as_slice(),
            "{label}: Proof"
        );
    }

    // Client: Finalize from the vector's own EvaluationElement and Proof;
    // this verifies the published proof under pkSm.
    let evaluated: Vec<EvaluationElement<CS>> = expected_evaluated
        .iter()
        .map(|bytes| EvaluationElement::deserialize(bytes).expect("EvaluationElement"))
        .collect();
    let vector_proof = Proof::<CS>::deserialize(&expected_proof).expect("Proof");
    let outputs =
        VoprfClient::batch_finalize(&inputs, &clients, &evaluated, &vector_proof, public_key)
            .expect("the vector's proof verifies");
    let mut finalized = 0;
    for (output, expected) in outputs.zip(&expected_outputs) {
        let output = output.expect("finalize");
        assert_eq!(output.as_slice(), expected.as_slice(), "{label}: Output");
        finalized += 1;
    }
    assert_eq!(finalized, batch, "{label}: finalized output count");
    if batch == 1 {
        let output = clients[0]
            .finalize(&inputs[0], &evaluated[0], &vector_proof, public_key)
            .expect("finalize");
        assert_eq!(
            output.as_slice(),
            expected_outputs[0].as_slice(),
            "{label}: Output (single finalize)"
        );
    }

    // Server: Evaluate(input) without blinding gives the same Output.
    for (input, expected) in inputs.iter().zip(&expected_outputs) {
        let output = server.evaluate(input).expect("evaluate");
        assert_eq!(
            output.as_slice(),
            expected.as_slice(),
            "{label}: Output (server evaluate)"
        );
    }
}

#[test]
fn rfc9497_voprf_p384_sha384() {
    let checked = check_voprf_suite::<NistP384>("P384-SHA384");
    println!("RFC 9497 VOPRF P384-SHA384: {checked} vectors");
}

#[test]
fn rfc9497_voprf_ristretto255_sha512() {
    let checked = check_voprf_suite::<Ristretto255>("ristretto255-SHA512");
    println!("RFC 9497 VOPRF ristretto255-SHA512: {checked} vectors");
}

// ------------------------------------------------------------- RFC 9578

/// Fields shared by the type 1 and type 2 token vectors.
struct TokenVector {
    pk_s: Vec<u8>,
    token_challenge: Vec<u8>,
    nonce: Nonce,
    blind: Vec<u8>,
    token_request: Vec<u8>,
    token_response: Vec<u8>,
    token: Vec<u8>,
}

impl TokenVector {
    fn read(vector: &Value) -> Self {
        Self {
            pk_s: hex_field(vector, "pkS"),
            token_challenge: hex_field(vector, "token_challenge"),
            nonce: hex_field(vector, "nonce")
                .as_slice()
                .try_into()
                .expect("32-byte nonce"),
            blind: hex_field(vector, "blind"),
            token_request: hex_field(vector, "token_request"),
            token_response: hex_field(vector, "token_response"),
            token: hex_field(vector, "token"),
        }
    }

    /// token_key_id = SHA-256(pkS encoding) (RFC 9578 §5.1, §6.1).
    fn token_key_id(&self) -> TokenKeyId {
        sha256(&self.pk_s)
    }

    /// The challenge, checked to re-encode to the vector's bytes and to
    /// digest to SHA-256 of them.
    fn challenge(&self, label: &str, token_type: TokenType) -> TokenChallenge {
        let challenge =
            TokenChallenge::deserialize(&self.token_challenge).expect("token_challenge parses");
        assert_eq!(
            challenge.token_type(),
            token_type,
            "{label}: challenge type"
        );
        assert_eq!(
            challenge.serialize().expect("serialize challenge"),
            self.token_challenge,
            "{label}: challenge re-encodes"
        );
        assert_eq!(
            challenge.digest().expect("challenge digest"),
            sha256(&self.token_challenge),
            "{label}: challenge digest"
        );
        challenge
    }

    /// TokenRequest = token_type || truncated_token_key_id || blinded_msg,
    /// where the truncated id is the last byte of token_key_id.
    fn check_request_header(&self, label: &str, token_type: TokenType) {
        assert_eq!(
            self.token_request[..2],
            (token_type as u16).to_be_bytes(),
            "{label}: token_request type"
        );
        assert_eq!(
            Some(&self.token_request[2]),
            self.token_key_id().last(),
            "{label}: truncated_token_key_id is the last byte of SHA-256(pkS)"
        );
    }
}

/// The fields of a parsed token must be those of the vector.
fn check_token_fields(
    label: &str,
    vector: &TokenVector,
    token_type: TokenType,
    parsed_type: TokenType,
    nonce: Nonce,
    challenge_digest: &[u8; 32],
    token_key_id: &TokenKeyId,
) {
    assert_eq!(parsed_type, token_type, "{label}: token type");
    assert_eq!(nonce, vector.nonce, "{label}: token nonce");
    assert_eq!(
        challenge_digest,
        &sha256(&vector.token_challenge),
        "{label}: challenge_digest = SHA-256(token_challenge)"
    );
    assert_eq!(
        token_key_id,
        &vector.token_key_id(),
        "{label}: token_key_id = SHA-256(pkS)"
    );
}

async fn check_type1_vector(label: &str, vector: &Value) {
    let sk_s = hex_field(vector, "skS");
    let v = TokenVector::read(vector);
    let token_type = NistP384::token_type();

    // Issuer key from skS.
    let key_store = VoprfKeyStore::default();
    let issuer = private_tokens::server::Server::<NistP384>::new();
    let public_key = issuer.set_key(&key_store, &sk_s).await.expect("set_key");
    assert_eq!(
        serialize_public_key::<NistP384>(public_key),
        v.pk_s,
        "{label}: pkS from skS"
    );

    // Client: TokenRequest from (pkS, challenge, nonce, blind).
    let challenge = v.challenge(label, token_type);
    let blind = <<NistP384 as CipherSuite>::Group as Group>::deserialize_scalar(&v.blind)
        .expect("blind is a scalar");
    let (request, state) =
        private_tokens::TokenRequest::<NistP384>::issue_token_request_with_params(
            public_key, &challenge, v.nonce, blind,
        )
        .expect("token request");
    assert_eq!(
        request.tls_serialize_detached().expect("serialize request"),
        v.token_request,
        "{label}: token_request"
    );
    v.check_request_header(label, token_type);

    // Issuer: evaluate the request. The proof is randomised, so only the
    // evaluated element can equal the vector's.
    let response = issuer
        .issue_token_response(&key_store, request)
        .await
        .expect("issue token response");
    let vector_response =
        private_tokens::TokenResponse::<NistP384>::try_from_bytes(&v.token_response)
            .expect("token_response parses");
    assert_eq!(
        vector_response
            .tls_serialize_detached()
            .expect("serialize response"),
        v.token_response,
        "{label}: token_response re-encodes"
    );
    assert_eq!(
        response.evaluate_msg(),
        vector_response.evaluate_msg(),
        "{label}: evaluated element of token_response"
    );

    // Client: finalise the vector's response (its proof must verify under
    // pkS) and the issuer's own response; both give the vector's token.
    let token = vector_response
        .issue_token(&state)
        .expect("finalise token_response");
    assert_eq!(
        token.tls_serialize_detached().expect("serialize token"),
        v.token,
        "{label}: token from token_response"
    );
    let token = response.issue_token(&state).expect("finalise own response");
    assert_eq!(
        token.tls_serialize_detached().expect("serialize token"),
        v.token,
        "{label}: token from a fresh response"
    );

    // The vector's token, as a server receives it.
    let parsed = PrivateToken::<NistP384>::tls_deserialize_exact(&v.token).expect("token parses");
    check_token_fields(
        label,
        &v,
        token_type,
        parsed.token_type(),
        parsed.nonce(),
        parsed.challenge_digest(),
        parsed.token_key_id(),
    );

    // Verification without the crate's redemption code: the authenticator
    // is the VOPRF output of token_input under skS.
    let token_input = &v.token[..v.token.len() - parsed.authenticator().len()];
    let voprf = VoprfServer::<NistP384>::new_with_key(&sk_s).expect("VOPRF key");
    assert_eq!(
        voprf.evaluate(token_input).expect("evaluate").as_slice(),
        parsed.authenticator(),
        "{label}: authenticator = Evaluate(skS, token_input)"
    );

    // Redemption through the crate: accepted once, then a double spend.
    let nonces = SpentNonces::default();
    issuer
        .redeem_token(&key_store, &nonces, parsed.clone())
        .await
        .unwrap_or_else(|e| panic!("{label}: token not redeemed: {e}"));
    let again = issuer.redeem_token(&key_store, &nonces, parsed).await;
    assert!(
        matches!(again, Err(RedeemTokenError::DoubleSpending)),
        "{label}: second redemption gave {again:?}"
    );

    // A token with one authenticator bit flipped is refused.
    let mut tampered = v.token.clone();
    *tampered.last_mut().expect("non-empty token") ^= 1;
    let tampered = PrivateToken::<NistP384>::tls_deserialize_exact(&tampered).expect("parses");
    let refused = issuer
        .redeem_token(&key_store, &SpentNonces::default(), tampered)
        .await;
    assert!(
        matches!(refused, Err(RedeemTokenError::AuthenticatorMismatch { .. })),
        "{label}: tampered token gave {refused:?}"
    );
}

#[tokio::test]
async fn rfc9578_type1_voprf_p384_tokens() {
    let vectors = load_list(RFC9578_TYPE1_FILE);
    for (index, vector) in vectors.iter().enumerate() {
        check_type1_vector(&format!("type 1 vector {index}"), vector).await;
    }
    println!("RFC 9578 token type 1: {} vectors", vectors.len());
}

async fn check_type2_vector(label: &str, vector: &Value) {
    let sk_pem = utf8(hex_field(vector, "skS"));
    let salt = hex_field(vector, "salt");
    let v = TokenVector::read(vector);
    let token_type = TokenType::Public;

    // Keys: pkS is the RSASSA-PSS SPKI of the key in skS.
    let secret_key =
        SecretKey::<Sha384, PSS, Deterministic>::from_pem(&sk_pem).expect("skS is a PEM key");
    let public_key = PublicKey::from_spki(&v.pk_s).expect("pkS is an RSASSA-PSS SPKI");
    assert_eq!(
        secret_key
            .public_key()
            .expect("public key of skS")
            .to_spki()
            .expect("SPKI"),
        v.pk_s,
        "{label}: pkS is the public key of skS"
    );
    assert_eq!(
        public_tokens::server::serialize_public_key(&public_key).expect("serialize pkS"),
        v.pk_s,
        "{label}: pkS re-encodes"
    );
    let truncated_key_id = public_key_to_truncated_token_key_id(&public_key).expect("key id");
    assert_eq!(
        Some(&truncated_key_id),
        v.token_key_id().last(),
        "{label}: crate's truncated key id"
    );

    let issuer_keys = RsaIssuerKeyStore::default();
    let origin_keys = RsaOriginKeyStore::default();
    let issuer = public_tokens::server::IssuerServer::new();
    let origin = public_tokens::server::OriginServer::new();
    issuer
        .set_keypair(
            &issuer_keys,
            RsaKeyPair {
                sk: secret_key,
                pk: public_key.clone(),
            },
        )
        .await
        .expect("set_keypair");
    origin_keys
        .insert(truncated_key_id, public_key.clone())
        .await;

    // Client: the crate draws nonce, salt and the blinding factor r from the
    // RNG, in that order; r is read little-endian, the vector's blind is
    // big-endian (as in the crate's own KAT test).
    let challenge = v.challenge(label, token_type);
    let mut blind = v.blind.clone();
    blind.reverse();
    let mut det_rng = DeterministicRng::new(v.nonce.to_vec(), salt, blind);
    let (request, state) =
        public_tokens::TokenRequest::new(&mut det_rng, public_key.clone(), &challenge)
            .expect("token request");
    assert!(
        det_rng.additional_blind().is_none(),
        "{label}: the vector's blind was rejected and replaced"
    );
    assert_eq!(
        request.tls_serialize_detached().expect("serialize request"),
        v.token_request,
        "{label}: token_request"
    );
    v.check_request_header(label, token_type);

    // Issuer: RSA blind signing is deterministic, so the response is exact.
    let response = issuer
        .issue_token_response(&issuer_keys, request)
        .await
        .expect("issue token response");
    assert_eq!(
        response
            .tls_serialize_detached()
            .expect("serialize response"),
        v.token_response,
        "{label}: token_response"
    );

    // Client: finalise the vector's response.
    let vector_response = public_tokens::TokenResponse::tls_deserialize_exact(&v.token_response)
        .expect("token_response parses");
    let token = vector_response
        .issue_token(&state)
        .expect("finalise token_response");
    assert_eq!(
        token.tls_serialize_detached().expect("serialize token"),
        v.token,
        "{label}: token"
    );

    // The vector's token, as a server receives it.
    let parsed = PublicToken::tls_deserialize_exact(&v.token).expect("token parses");
    check_token_fields(
        label,
        &v,
        token_type,
        parsed.token_type(),
        parsed.nonce(),
        parsed.challenge_digest(),
        parsed.token_key_id(),
    );

    // Verification without the crate's redemption code: the authenticator
    // is an RSABSSA-SHA384-PSS-Deterministic signature of token_input.
    let token_input = &v.token[..v.token.len() - parsed.authenticator().len()];
    public_key
        .verify(
            &Signature(parsed.authenticator().to_vec()),
            None,
            token_input,
        )
        .unwrap_or_else(|e| panic!("{label}: authenticator does not verify under pkS: {e}"));

    // Redemption through the crate: accepted once, then a double spend.
    let nonces = SpentNonces::default();
    origin
        .redeem_token(&origin_keys, &nonces, parsed.clone())
        .await
        .unwrap_or_else(|e| panic!("{label}: token not redeemed: {e}"));
    let again = origin.redeem_token(&origin_keys, &nonces, parsed).await;
    assert!(
        matches!(again, Err(RedeemTokenError::DoubleSpending)),
        "{label}: second redemption gave {again:?}"
    );

    // A token with one authenticator bit flipped is refused.
    let mut tampered = v.token.clone();
    *tampered.last_mut().expect("non-empty token") ^= 1;
    let tampered = PublicToken::tls_deserialize_exact(&tampered).expect("parses");
    let refused = origin
        .redeem_token(&origin_keys, &SpentNonces::default(), tampered)
        .await;
    assert!(
        matches!(refused, Err(RedeemTokenError::InvalidSignature { .. })),
        "{label}: tampered token gave {refused:?}"
    );
}

#[tokio::test]
async fn rfc9578_type2_blind_rsa_tokens() {
    let vectors = load_list(RFC9578_TYPE2_FILE);
    for (index, vector) in vectors.iter().enumerate() {
        check_type2_vector(&format!("type 2 vector {index}"), vector).await;
    }
    println!("RFC 9578 token type 2: {} vectors", vectors.len());
}

// ------------------------------------------------------------- RFC 9577

/// The TokenChallenge struct of RFC 9577 §2.1, encoded field by field.
fn encode_token_challenge(
    token_type: &[u8],
    issuer_name: &[u8],
    redemption_context: &[u8],
    origin_info: &[u8],
) -> Vec<u8> {
    let u16_len = |bytes: &[u8]| u16::try_from(bytes.len()).expect("fits u16").to_be_bytes();
    let mut out = token_type.to_vec();
    out.extend_from_slice(&u16_len(issuer_name));
    out.extend_from_slice(issuer_name);
    out.push(u8::try_from(redemption_context.len()).expect("fits u8"));
    out.extend_from_slice(redemption_context);
    out.extend_from_slice(&u16_len(origin_info));
    out.extend_from_slice(origin_info);
    out
}

/// `TokenChallenge::new` takes the origins as a list and joins them with ",".
fn origin_list(origin_info: &str) -> Vec<String> {
    if origin_info.is_empty() {
        Vec::new()
    } else {
        origin_info.split(',').map(String::from).collect()
    }
}

#[test]
fn rfc9577_token_challenges_and_authenticator_inputs() {
    let vectors = load_list(RFC9577_TOKEN_FILE);
    let mut built = 0;
    for (index, vector) in vectors.iter().enumerate() {
        let label = format!("RFC 9577 token vector {index}");
        let token_type_bytes = hex_field(vector, "token_type");
        let expected_input = hex_field(vector, "token_authenticator_input");

        if vector.get("issuer_name").is_none() {
            // Grease type (0x0000): only random bytes are given. The crate
            // must refuse the unknown type rather than misread it.
            assert!(
                TokenType::tls_deserialize_exact(&token_type_bytes).is_err(),
                "{label}: grease token type accepted"
            );
            assert!(
                PublicToken::tls_deserialize_exact(&expected_input).is_err(),
                "{label}: grease token parsed"
            );
            continue;
        }

        let token_type =
            TokenType::tls_deserialize_exact(&token_type_bytes).expect("known token type");
        let issuer_name = hex_field(vector, "issuer_name");
        let redemption_context = hex_field(vector, "redemption_context");
        let origin_info = hex_field(vector, "origin_info");
        let nonce = hex_field(vector, "nonce");
        let token_key_id = hex_field(vector, "token_key_id");

        let context = if redemption_context.is_empty() {
            None
        } else {
            Some(
                redemption_context
                    .as_slice()
                    .try_into()
                    .expect("32-byte redemption_context"),
            )
        };
        let challenge = TokenChallenge::new(
            token_type,
            &utf8(issuer_name.clone()),
            context,
            &origin_list(&utf8(origin_info.clone())),
        );
        let encoded = challenge.serialize().expect("serialize challenge");
        assert_eq!(
            encoded,
            encode_token_challenge(
                &token_type_bytes,
                &issuer_name,
                &redemption_context,
                &origin_info
            ),
            "{label}: TokenChallenge encoding"
        );
        let digest = sha256(&encoded);
        assert_eq!(
            challenge.digest().expect("digest"),
            digest,
            "{label}: challenge digest"
        );

        // token_input = token_type || nonce || challenge_digest || token_key_id
        let input = [token_type_bytes.as_slice(), &nonce, &digest, &token_key_id].concat();
        assert_eq!(input, expected_input, "{label}: token_authenticator_input");

        // The crate's Token starts with the same bytes.
        let mut token_bytes = expected_input.clone();
        token_bytes.resize(expected_input.len() + public_tokens::NK, 0);
        let token = PublicToken::tls_deserialize_exact(&token_bytes).expect("token parses");
        assert_eq!(token.token_type(), token_type, "{label}: token type");
        assert_eq!(token.nonce().as_slice(), nonce, "{label}: nonce");
        assert_eq!(token.challenge_digest(), &digest, "{label}: digest");
        assert_eq!(
            token.token_key_id().as_slice(),
            token_key_id,
            "{label}: token_key_id"
        );
        built += 1;
    }
    assert!(built > 0, "no buildable RFC 9577 token vectors");
    println!(
        "RFC 9577 token vectors: {built} built, {} grease",
        vectors.len() - built
    );
}

/// One challenge of a `WWW-Authenticate` value: the scheme and its
/// parameters (names lower-cased, quoted values unescaped).
#[derive(Debug)]
struct AuthChallenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl AuthChallenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// RFC 9110 tchar.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Splits one parameter value off `input`: a quoted-string, or else the
/// characters up to the next comma or whitespace. The unquoted form is
/// lenient: it also takes the `=` padding the crate leaves unquoted.
fn split_param_value(input: &str) -> (String, &str) {
    let Some(quoted) = input.strip_prefix('"') else {
        let end = input.find([',', ' ', '\t']).unwrap_or(input.len());
        return (input[..end].to_string(), &input[end..]);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[at + 1..]),
            '\\' => value.push(chars.next().expect("escape at end of header").1),
            _ => value.push(c),
        }
    }
    panic!("unterminated quoted-string in {input:?}");
}

/// Parses a `WWW-Authenticate` value: `#challenge`, where a challenge is
/// `auth-scheme [ 1*SP #auth-param ]` (RFC 9110 §11.6.1; no token68).
fn parse_auth_challenges(header: &str) -> Vec<AuthChallenge> {
    let mut challenges: Vec<AuthChallenge> = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return challenges;
        }
        let name_end = rest.find(|c: char| !is_tchar(c)).unwrap_or(rest.len());
        assert!(name_end > 0, "unexpected character at {rest:?}");
        let (name, after) = rest.split_at(name_end);
        let after_space = after.trim_start_matches([' ', '\t']);
        if let Some(value) = after_space.strip_prefix('=') {
            let (value, remaining) = split_param_value(value.trim_start_matches([' ', '\t']));
            challenges
                .last_mut()
                .expect("auth-param before any auth-scheme")
                .params
                .push((name.to_ascii_lowercase(), value));
            rest = remaining;
        } else {
            challenges.push(AuthChallenge {
                scheme: name.to_string(),
                params: Vec::new(),
            });
            rest = after;
        }
    }
}

/// The PrivateToken challenges of one header vector, in order, with the
/// vector's `token-type-N`, `token-key-N`, `max-age-N`, `token-challenge-N`.
struct HeaderCase {
    token_type: u16,
    token_key: Vec<u8>,
    max_age: Option<u32>,
    challenge: Vec<u8>,
}

fn header_cases(vector: &Value) -> Vec<HeaderCase> {
    (0..)
        .map_while(|n| {
            let token_type = vector.get(format!("token-type-{n}"))?.as_str()?;
            let token_type = token_type.strip_prefix("0x").expect("0x-prefixed type");
            Some(HeaderCase {
                token_type: u16::from_str_radix(token_type, 16).expect("hex token type"),
                token_key: hex_field(vector, &format!("token-key-{n}")),
                max_age: vector
                    .get(format!("max-age-{n}"))
                    .map(|age| age.as_str().expect("max-age string").parse().expect("u32")),
                challenge: hex_field(vector, &format!("token-challenge-{n}")),
            })
        })
        .collect()
}

#[test]
fn rfc9577_www_authenticate_headers() {
    let vectors = load_list(RFC9577_HEADER_FILE);
    let mut rebuilt = 0;
    for (index, vector) in vectors.iter().enumerate() {
        let label = format!("RFC 9577 header vector {index}");
        let header = text(vector, "WWW-Authenticate");
        let cases = header_cases(vector);
        let challenges = parse_auth_challenges(header);
        let private: Vec<&AuthChallenge> = challenges
            .iter()
            .filter(|c| c.scheme.eq_ignore_ascii_case("PrivateToken"))
            .collect();
        assert_eq!(private.len(), cases.len(), "{label}: PrivateToken count");

        for (n, (case, parsed)) in cases.iter().zip(&private).enumerate() {
            let label = format!("{label} challenge {n}");
            let challenge_text = parsed.param("challenge").expect("challenge parameter");
            let key_text = parsed.param("token-key").expect("token-key parameter");

            // The header carries the vector's values.
            assert_eq!(
                base64url_decode(challenge_text),
                case.challenge,
                "{label}: challenge"
            );
            assert_eq!(
                case.challenge[..2],
                case.token_type.to_be_bytes(),
                "{label}: token type"
            );
            assert_eq!(
                base64url_decode(key_text),
                case.token_key,
                "{label}: token-key"
            );
            assert_eq!(
                parsed.param("max-age").map(|age| age.parse().expect("u32")),
                case.max_age,
                "{label}: max-age"
            );

            let Ok(challenge) = TokenChallenge::deserialize(&case.challenge) else {
                // A grease type: the crate has no TokenType for it. RFC 9577
                // clients ignore such challenges.
                assert!(
                    TokenType::tls_deserialize_exact(&case.challenge[..2]).is_err(),
                    "{label}: a known token type did not parse"
                );
                continue;
            };

            // The crate's encodings of the challenge.
            assert_eq!(
                challenge.serialize().expect("serialize"),
                case.challenge,
                "{label}: challenge re-encodes"
            );
            let rebuilt_challenge = TokenChallenge::new(
                challenge.token_type(),
                &challenge.issuer_name(),
                challenge.redemption_context(),
                &challenge.origin_info(),
            );
            assert_eq!(
                rebuilt_challenge.serialize().expect("serialize"),
                case.challenge,
                "{label}: TokenChallenge::new from the parsed fields"
            );
            assert_eq!(
                challenge.to_base64().expect("base64"),
                challenge_text,
                "{label}: base64url challenge text"
            );

            // The crate's header carries the same values, and its parser
            // reads them back. (Its syntax differs; see
            // `rfc9577_known_gaps_in_crate_header_syntax`.)
            let (name, value) =
                build_www_authenticate_header(&challenge, &case.token_key, case.max_age)
                    .expect("build header");
            assert_eq!(name, WWW_AUTHENTICATE, "{label}: header name");
            let built = value.to_str().expect("ASCII header");
            let built_challenges = parse_auth_challenges(built);
            assert_eq!(built_challenges.len(), 1, "{label}: one challenge built");
            let own = &built_challenges[0];
            assert!(own.scheme.eq_ignore_ascii_case("PrivateToken"));
            assert_eq!(own.param("challenge"), Some(challenge_text), "{label}");
            assert_eq!(own.param("token-key"), Some(key_text), "{label}");
            assert_eq!(
                own.param("max-age"),
                parsed.param("max-age"),
                "{label}: built max-age"
            );

            let read_back = parse_www_authenticate_header(&value).expect("crate parses own header");
            assert_eq!(read_back.len(), 1, "{label}: crate read one challenge");
            assert_eq!(read_back[0].token_challenge(), &challenge, "{label}");
            assert_eq!(read_back[0].token_key(), case.token_key, "{label}");
            assert_eq!(read_back[0].max_age(), case.max_age, "{label}");
            rebuilt += 1;
        }
    }
    assert!(rebuilt > 0, "no RFC 9577 header challenge was rebuilt");
    println!("RFC 9577 header vectors: {rebuilt} PrivateToken challenges rebuilt");
}

/// Known gaps, pinned so that a crate upgrade that fixes them shows up as a
/// failure here (then turn these into equality checks):
///
/// 1. `parse_www_authenticate_header` cannot read the RFC's own examples:
///    it takes no quoted-string values, no unknown parameters and no other
///    schemes in the same header.
/// 2. `build_www_authenticate_header` writes the base64url values unquoted,
///    so a `=`-padded challenge is not an RFC 9110 `token` there; the RFC
///    examples quote them.
#[test]
fn rfc9577_known_gaps_in_crate_header_syntax() {
    let vectors = load_list(RFC9577_HEADER_FILE);
    for (index, vector) in vectors.iter().enumerate() {
        let header = HeaderValue::from_str(text(vector, "WWW-Authenticate")).expect("header");
        assert!(
            parse_www_authenticate_header(&header).is_err(),
            "vector {index}: the crate now parses the RFC header form; \
             check its result against the vector instead"
        );
    }

    let vector = &vectors[0];
    let case = &header_cases(vector)[0];
    let challenge = TokenChallenge::deserialize(&case.challenge).expect("challenge");
    let (_, value) = build_www_authenticate_header(&challenge, &case.token_key, case.max_age)
        .expect("build header");
    let built = value.to_str().expect("ASCII header");
    let padded = challenge.to_base64().expect("base64");
    assert!(
        padded.ends_with('=') && built.contains(&format!("challenge={padded},")),
        "the crate now quotes or unpads its header values: {built}"
    );
}

// ------------------------------------------------------------- RFC 9474

fn big_uint(vector: &Value, field: &str) -> BoxedUint {
    BoxedUint::from_be_slice_vartime(&hex_field(vector, field))
}

/// One RFC 9474 vector: blind with the vector's prefix, salt and r (the
/// inverse of `inv`), sign, finalise and verify.
fn check_rsabssa_vector<S: SaltMode, M: MessagePrepare>(vector: &Value) {
    let name = text(vector, "name");
    let n = big_uint(vector, "n");
    let inner = RsaPrivateKey::from_components(
        n.clone(),
        big_uint(vector, "e"),
        big_uint(vector, "d"),
        vec![big_uint(vector, "p"), big_uint(vector, "q")],
    )
    .expect("RSA key from p, q, n, e, d");
    let secret_key = SecretKey::<Sha384, S, M>::new(inner);
    let public_key = secret_key.public_key().expect("public key");
    assert_eq!(
        public_key.components().n(),
        hex_field(vector, "n"),
        "{name}: n"
    );

    let msg = hex_field(vector, "msg");
    let msg_prefix = hex_field(vector, "msg_prefix");
    let inv = hex_field(vector, "inv");
    let modulus = n.to_nz().into_option().expect("n is non-zero");
    let r = BoxedUint::from_be_slice(&inv, n.bits_precision())
        .expect("inv fits the modulus")
        .invert_mod(&modulus)
        .into_option()
        .expect("inv is invertible");

    let mut chunks = Vec::new();
    if M::RANDOMIZE {
        chunks.push(msg_prefix.clone());
    }
    chunks.push(hex_field(vector, "salt"));
    chunks.push(r.to_le_bytes().to_vec());
    let mut rng = ScriptedRng::new(chunks);

    let blinding = public_key.blind(&mut rng, &msg).expect("blind");
    rng.assert_used_up();
    assert_eq!(blinding.secret.0, inv, "{name}: inv");
    assert_eq!(
        blinding.blind_message.0,
        hex_field(vector, "blinded_msg"),
        "{name}: blinded_msg"
    );
    let randomizer = blinding.msg_randomizer;
    assert_eq!(
        randomizer.map(|r| r.0.to_vec()),
        M::RANDOMIZE.then(|| msg_prefix.clone()),
        "{name}: msg_prefix"
    );
    assert_eq!(
        [msg_prefix.as_slice(), &msg].concat(),
        hex_field(vector, "prepared_msg"),
        "{name}: prepared_msg"
    );

    let blind_sig = secret_key
        .blind_sign(&blinding.blind_message)
        .expect("blind sign");
    assert_eq!(
        blind_sig.0,
        hex_field(vector, "blind_sig"),
        "{name}: blind_sig"
    );

    let sig = public_key
        .finalize(&blind_sig, &blinding, &msg)
        .expect("finalize");
    let expected_sig = hex_field(vector, "sig");
    assert_eq!(sig.0, expected_sig, "{name}: sig");

    // RSAVP1: sig^e mod n is the published EMSA-PSS encoding of msg.
    let bits = n.bits_precision();
    let sig_value = BoxedUint::from_be_slice(&expected_sig, bits).expect("sig fits the modulus");
    let rsa_key: &RsaPublicKey = public_key.as_ref();
    assert_eq!(
        rsa::hazmat::rsa_encrypt(rsa_key, &sig_value).expect("RSAVP1"),
        BoxedUint::from_be_slice(&hex_field(vector, "encoded_msg"), bits).expect("encoded_msg"),
        "{name}: encoded_msg"
    );

    // The published signature verifies on its own, and not for another message.
    let published = Signature(expected_sig);
    let prefix = M::RANDOMIZE.then(|| {
        MessageRandomizer(
            msg_prefix
                .as_slice()
                .try_into()
                .expect("32-byte msg_prefix"),
        )
    });
    public_key
        .verify(&published, prefix, &msg)
        .unwrap_or_else(|e| panic!("{name}: published sig does not verify: {e}"));
    let other = [msg.as_slice(), b"!"].concat();
    assert!(
        public_key.verify(&published, prefix, &other).is_err(),
        "{name}: signature verified for another message"
    );
}

#[test]
fn rfc9474_rsabssa_sha384() {
    let vectors = load_list(RFC9474_FILE);
    for vector in &vectors {
        match text(vector, "name") {
            "RSABSSA-SHA384-PSS-Randomized" => check_rsabssa_vector::<PSS, Randomized>(vector),
            "RSABSSA-SHA384-PSSZERO-Randomized" => {
                check_rsabssa_vector::<PSSZero, Randomized>(vector)
            }
            "RSABSSA-SHA384-PSS-Deterministic" => {
                check_rsabssa_vector::<PSS, Deterministic>(vector)
            }
            "RSABSSA-SHA384-PSSZERO-Deterministic" => {
                check_rsabssa_vector::<PSSZero, Deterministic>(vector)
            }
            other => panic!("unknown RFC 9474 variant {other}"),
        }
    }
    println!("RFC 9474 RSABSSA-SHA384: {} vectors", vectors.len());
}
