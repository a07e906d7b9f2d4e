//! The client half of issuance (RFC 9578): blind a token input for a
//! challenge, then finalise the issuer's response into a token. Used by
//! `buzon token fetch` and by tests; the server never runs it.

use blind_rsa_signatures::{Deterministic, PSS, Sha384};
use p384::NistP384;
use privacypass::auth::authenticate::TokenChallenge;
use privacypass::common::private::deserialize_public_key;
use privacypass::{Serialize as _, TokenType};

type PrivateRequest = privacypass::private_tokens::TokenRequest<NistP384>;
type PrivateState = privacypass::private_tokens::TokenState<NistP384>;
type PrivateResponse = privacypass::private_tokens::TokenResponse<NistP384>;
type RsaPublic = blind_rsa_signatures::PublicKey<Sha384, PSS, Deterministic>;

/// Why a token could not be made on this side.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The `token-key` is not a valid key of its type (for type 2: not an
    /// RSASSA-PSS SHA-384 key with a 48-byte salt).
    BadKey,
    BadChallenge,
    UnsupportedType,
    /// The issuer's response does not finalise: wrong length, or (type 1)
    /// its proof does not verify, or (type 2) the signature is invalid.
    BadResponse,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientError::BadKey => "the issuer's key is not a valid key of its token type",
            ClientError::BadChallenge => "the challenge cannot be read",
            ClientError::UnsupportedType => "this token type is not supported",
            ClientError::BadResponse => "the issuer's response does not verify",
        })
    }
}

/// A request on its way; keeps the blinding secret until the response.
pub enum Pending {
    Private(Box<PrivateState>),
    Public(Box<privacypass::public_tokens::TokenState>),
}

/// Makes a TokenRequest for `challenge` under `token_key`. `seed` feeds
/// the blinding of type 2 (type 1 blinds with the operating system's
/// generator inside the crate).
pub fn request(
    ty: u16,
    token_key: &[u8],
    challenge: &[u8],
    seed: [u8; 32],
) -> Result<(Vec<u8>, Pending), ClientError> {
    let challenge =
        TokenChallenge::deserialize(challenge).map_err(|_| ClientError::BadChallenge)?;
    if challenge.token_type() as u16 != ty {
        return Err(ClientError::BadChallenge);
    }
    match ty {
        1 => {
            let pk =
                deserialize_public_key::<NistP384>(token_key).map_err(|_| ClientError::BadKey)?;
            let (req, state) =
                PrivateRequest::new(pk, &challenge).map_err(|_| ClientError::BadKey)?;
            let bytes = req
                .tls_serialize_detached()
                .map_err(|_| ClientError::BadKey)?;
            Ok((bytes, Pending::Private(Box::new(state))))
        }
        2 => {
            let pk = rsa_key(token_key)?;
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::from_seed(seed);
            let (req, state) =
                privacypass::public_tokens::TokenRequest::new(&mut rng, pk, &challenge)
                    .map_err(|_| ClientError::BadKey)?;
            let bytes = req
                .tls_serialize_detached()
                .map_err(|_| ClientError::BadKey)?;
            Ok((bytes, Pending::Public(Box::new(state))))
        }
        _ => Err(ClientError::UnsupportedType),
    }
}

/// Reads a type 2 `token-key`. The crate's `from_spki` checks only the
/// algorithm OID (FACTS.md), so the key is written back out and must come
/// out byte for byte: that pins SHA-384, MGF1-SHA-384 and a 48-byte salt.
fn rsa_key(spki: &[u8]) -> Result<RsaPublic, ClientError> {
    let pk = RsaPublic::from_spki(spki).map_err(|_| ClientError::BadKey)?;
    match pk.to_spki() {
        Ok(again) if again == spki => Ok(pk),
        _ => Err(ClientError::BadKey),
    }
}

/// Finalises the issuer's response into a serialised token.
pub fn finish(pending: Pending, response: &[u8]) -> Result<Vec<u8>, ClientError> {
    match pending {
        Pending::Private(state) => {
            let resp =
                PrivateResponse::try_from_bytes(response).map_err(|_| ClientError::BadResponse)?;
            if response.len() != 48 + 1 + 96 {
                return Err(ClientError::BadResponse);
            }
            let token = resp
                .issue_token(&state)
                .map_err(|_| ClientError::BadResponse)?;
            token
                .tls_serialize_detached()
                .map_err(|_| ClientError::BadResponse)
        }
        Pending::Public(state) => {
            use privacypass::Deserialize as _;
            let resp = privacypass::public_tokens::TokenResponse::tls_deserialize_exact(response)
                .map_err(|_| ClientError::BadResponse)?;
            let token = resp
                .issue_token(&state)
                .map_err(|_| ClientError::BadResponse)?;
            token
                .tls_serialize_detached()
                .map_err(|_| ClientError::BadResponse)
        }
    }
}

/// The token type of a challenge's first two bytes.
pub fn token_type_of(ty: u16) -> Option<TokenType> {
    match ty {
        1 => Some(TokenType::PrivateP384),
        2 => Some(TokenType::Public),
        _ => None,
    }
}
