//! The signed entity document (spec/api.md, "Entity keys (signed)"): its
//! signature check, the server-key pin, and the choices made from it — who
//! a new thread is wrapped for, which advisor an assignment names, and
//! whether the readers a thread view lists hold the keys the signed list
//! gives them.
//!
//! What the check gives: with `--server-key`, a server (or anyone between)
//! cannot hand this client a coordinator key of its own without being
//! caught. Without it, the client prints the key it saw so the person can
//! compare it with the one their entity published; nothing is remembered
//! (no known-servers file: a reporter's disk must not show which server
//! they used).

use super::error::ClientError;
use crate::core::api::{
    self, EntityDocument, EntityKeys, ReaderOut, Reads, SignedDocument, StaffKey,
};
use crate::core::envelope::Id;

/// A document whose signature verified, with the key that signed it.
pub struct VerifiedDocument {
    pub document: EntityDocument,
    /// The server key, base64url, as `buzon server-key` prints it.
    pub server_key: String,
    /// Whether the key was the pinned one (false: nothing was pinned).
    pub pinned: bool,
}

/// Reads a `--server-key` value: 32 bytes in base64url.
pub fn parse_server_key(text: &str) -> Result<[u8; 32], ClientError> {
    api::unb64(text.trim())
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or(ClientError::BadServerKey)
}

/// Checks the signature of `GET /api/v1/entities` and, with a pin, that the
/// server key is the pinned one. The signature is checked under the key
/// the answer names; a pin then compares keys, so a wrong pin and a forged
/// signature are told apart.
pub fn verify(
    signed: &SignedDocument,
    pinned: Option<&[u8; 32]>,
) -> Result<VerifiedDocument, ClientError> {
    let key: [u8; 32] = api::unb64(&signed.server_key)
        .and_then(|b| b.try_into().ok())
        .ok_or(ClientError::BadAnswer("server_key"))?;
    let document = api::unb64(&signed.document).ok_or(ClientError::BadAnswer("document"))?;
    let signature = api::unb64(&signed.signature).ok_or(ClientError::BadAnswer("signature"))?;
    if let Some(pin) = pinned
        && pin != &key
    {
        return Err(ClientError::ServerKeyMismatch {
            seen: api::b64(&key),
        });
    }
    if !api::verify_document(&key, &document, &signature) {
        return Err(ClientError::BadSignature);
    }
    let document: EntityDocument =
        serde_json::from_slice(&document).map_err(|_| ClientError::BadAnswer("document"))?;
    if document.v != api::DOCUMENT_VERSION {
        return Err(ClientError::BadAnswer("document version"));
    }
    Ok(VerifiedDocument {
        document,
        server_key: api::b64(&key),
        pinned: pinned.is_some(),
    })
}

impl VerifiedDocument {
    pub fn entity(&self, slug: &str) -> Result<&EntityKeys, ClientError> {
        self.document
            .entities
            .iter()
            .find(|e| e.slug == slug)
            .ok_or_else(|| ClientError::UnknownEntity(slug.to_owned()))
    }
}

/// Whether `who` (a display name, case-insensitively, or a 32-hex id) names
/// this staff member.
fn names(who: &str, id: &Id, display_name: &str) -> bool {
    let who = who.trim();
    Id::from_hex(&who.to_ascii_lowercase()).is_some_and(|w| w == *id)
        || fold(display_name) == fold(who)
}

/// A name as people type it: case, accents and repeated spaces do not
/// matter (receipts are forgiving the same way).
fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Name (id …), Name (id …)" for an ambiguous name.
fn with_ids<'a>(who: &str, found: impl Iterator<Item = &'a StaffKey>) -> String {
    let list: Vec<String> = found
        .map(|s| format!("{} ({})", s.display_name, s.id.hex()))
        .collect();
    format!("{who}: {}", list.join(", "))
}

/// The coordinators a new thread is wrapped for (spec/api.md, "Creating a
/// thread"): every coordinator of the entity, only those who read on their
/// own device with `device_only`, less any `exclude` (by display name or
/// id). Each `exclude` must name a coordinator (a typo must not silently
/// keep someone), and at least one must remain.
pub fn choose_coordinators(
    entity: &EntityKeys,
    device_only: bool,
    exclude: &[String],
) -> Result<Vec<StaffKey>, ClientError> {
    let all: Vec<&StaffKey> = entity
        .staff
        .iter()
        .filter(|s| s.role == "coordinator")
        .collect();
    if all.is_empty() {
        return Err(ClientError::NoCoordinators);
    }
    for x in exclude {
        if !all.iter().any(|s| names(x, &s.id, &s.display_name)) {
            return Err(ClientError::UnknownExclude(x.clone()));
        }
    }
    let kept: Vec<StaffKey> = all
        .into_iter()
        .filter(|s| !device_only || s.reads == Reads::Device)
        .filter(|s| !exclude.iter().any(|x| names(x, &s.id, &s.display_name)))
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(
            if device_only
                && !entity
                    .staff
                    .iter()
                    .any(|s| s.role == "coordinator" && s.reads == Reads::Device)
            {
                ClientError::NoDeviceCoordinators
            } else {
                ClientError::AllExcluded
            },
        );
    }
    Ok(kept)
}

/// The advisor of the entity that `who` names.
pub fn find_advisor<'a>(entity: &'a EntityKeys, who: &str) -> Result<&'a StaffKey, ClientError> {
    find_staff(entity, "advisor", who).ok_or_else(|| ClientError::UnknownAdvisor(who.to_owned()))?
}

/// The coordinator of the entity that `who` names.
pub fn find_coordinator<'a>(
    entity: &'a EntityKeys,
    who: &str,
) -> Result<&'a StaffKey, ClientError> {
    find_staff(entity, "coordinator", who)
        .ok_or_else(|| ClientError::UnknownExclude(who.to_owned()))?
}

/// The one member of `role` that `who` names: `None` when nobody does, an
/// error listing the ids when several do.
fn find_staff<'a>(
    entity: &'a EntityKeys,
    role: &str,
    who: &str,
) -> Option<Result<&'a StaffKey, ClientError>> {
    let matching = || {
        entity
            .staff
            .iter()
            .filter(move |s| s.role == role && names(who, &s.id, &s.display_name))
    };
    let mut found = matching();
    match (found.next(), found.next()) {
        (Some(a), None) => Some(Ok(a)),
        (Some(_), Some(_)) => Some(Err(ClientError::AmbiguousAdvisor(with_ids(
            who,
            matching(),
        )))),
        (None, _) => None,
    }
}

/// The reader of a thread that `who` names (for unassignment).
pub fn find_reader<'a>(readers: &'a [ReaderOut], who: &str) -> Result<&'a ReaderOut, ClientError> {
    let mut found = readers
        .iter()
        .filter(|r| r.role == "advisor" && names(who, &r.id, &r.display_name));
    match (found.next(), found.next()) {
        (Some(a), None) => Ok(a),
        (Some(_), Some(_)) => Err(ClientError::AmbiguousAdvisor(who.to_owned())),
        (None, _) => Err(ClientError::NotAReader(who.to_owned())),
    }
}

/// Every active reader a thread view lists must be a staff member of the
/// entity in the signed document, with the same key: before this client
/// wraps a thread key for them (rotation), a server that slipped in a key
/// of its own is refused.
pub fn check_readers(entity: &EntityKeys, readers: &[ReaderOut]) -> Result<(), ClientError> {
    for r in readers.iter().filter(|r| r.active) {
        let signed = entity.staff.iter().find(|s| s.id == r.id);
        if signed.is_none_or(|s| s.public_key != r.public_key) {
            return Err(ClientError::ReaderKeyMismatch(r.display_name.clone()));
        }
    }
    Ok(())
}

/// Fetches `GET /api/v1/entities` and verifies it. Without a pin, prints
/// the key seen and how to pin it (to standard error; nothing is stored).
pub async fn fetch(
    api: &super::http::Api,
    pin: Option<&[u8; 32]>,
) -> Result<VerifiedDocument, ClientError> {
    use super::lang::t;
    let signed: SignedDocument = api.get_json("/api/v1/entities", "entities").await?;
    let verified = verify(&signed, pin)?;
    if !verified.pinned {
        let lang = api.lang();
        eprintln!(
            "{} {}\n{}",
            t(
                lang,
                "Llave del servidor (firma la lista de llaves):",
                "Server key (signs the key list):"
            ),
            verified.server_key,
            t(
                lang,
                "Compárala con la que publicó tu institución y, la próxima vez, pásala con --server-key (o BUZON_SERVER_KEY) para que se rechace cualquier otra.",
                "Compare it with the one your entity published and, next time, pass it with --server-key (or BUZON_SERVER_KEY) so that any other is refused.",
            )
        );
    }
    Ok(verified)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::Day;
    use crate::core::wrap::RecipientKey;

    pub(crate) fn staff(id: u8, role: &str, name: &str, reads: Reads) -> StaffKey {
        StaffKey {
            id: Id([id; 16]),
            role: role.into(),
            display_name: name.into(),
            public_key: crate::core::wrap::RecipientSecret::from_bytes([id; 32]).public(),
            reads,
        }
    }

    pub(crate) fn entity() -> EntityKeys {
        EntityKeys {
            id: Id([9; 16]),
            slug: "sej".into(),
            name: "Secretaría".into(),
            complaints_office: "OIC".into(),
            policy: "open".into(),
            staff: vec![
                staff(1, "coordinator", "Coordinación de Ética", Reads::Server),
                staff(2, "coordinator", "Coordinación Dos", Reads::Device),
                staff(3, "advisor", "Asesora Ana", Reads::Device),
                staff(4, "advisor", "Asesor Beto", Reads::Server),
            ],
            retention: None,
        }
    }

    fn signed(seed: &[u8; 32], doc: &EntityDocument) -> SignedDocument {
        let bytes = serde_json::to_vec(doc).unwrap();
        SignedDocument {
            signature: api::b64(&api::sign_document(seed, &bytes).unwrap()),
            document: api::b64(&bytes),
            server_key: api::b64(&api::signing_public(seed).unwrap()),
        }
    }

    fn document() -> EntityDocument {
        EntityDocument {
            v: 1,
            day: Day(20_790),
            entities: vec![entity()],
        }
    }

    #[test]
    fn a_good_signature_verifies_with_and_without_a_pin() {
        let s = signed(&[7; 32], &document());
        let v = verify(&s, None).unwrap();
        assert!(!v.pinned);
        assert_eq!(v.entity("sej").unwrap().staff.len(), 4);
        let pin = api::signing_public(&[7; 32]).unwrap();
        assert!(verify(&s, Some(&pin)).unwrap().pinned);
        assert_eq!(
            parse_server_key(&v.server_key).unwrap(),
            pin,
            "the key printed is the key to pin"
        );
    }

    #[test]
    fn a_wrong_key_or_a_changed_document_is_refused() {
        let s = signed(&[7; 32], &document());
        let other = api::signing_public(&[8; 32]).unwrap();
        assert!(matches!(
            verify(&s, Some(&other)),
            Err(ClientError::ServerKeyMismatch { .. })
        ));
        // A server that re-signs with its own key is caught by the pin.
        let forged = signed(&[8; 32], &document());
        let pin = api::signing_public(&[7; 32]).unwrap();
        assert!(matches!(
            verify(&forged, Some(&pin)),
            Err(ClientError::ServerKeyMismatch { .. })
        ));
        // A document changed after signing fails the signature.
        let mut doc = document();
        doc.entities[0].staff[0].public_key = RecipientKey([5; 32]);
        let mut tampered = s.clone();
        tampered.document = api::b64(&serde_json::to_vec(&doc).unwrap());
        assert!(matches!(
            verify(&tampered, None),
            Err(ClientError::BadSignature)
        ));
        assert!(matches!(
            parse_server_key("not-a-key"),
            Err(ClientError::BadServerKey)
        ));
    }

    #[test]
    fn coordinators_are_chosen_by_device_and_exclusion() {
        let e = entity();
        let all = choose_coordinators(&e, false, &[]).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|s| s.role == "coordinator"));
        let dev = choose_coordinators(&e, true, &[]).unwrap();
        assert_eq!(
            dev.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![Id([2; 16])]
        );
        let ex = choose_coordinators(&e, false, &["coordinación de ética".into()]).unwrap();
        assert_eq!(ex.len(), 1);
        let by_id = choose_coordinators(&e, false, &[Id([2; 16]).hex()]).unwrap();
        assert_eq!(
            by_id.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![Id([1; 16])]
        );
        assert!(matches!(
            choose_coordinators(&e, true, &["Coordinación Dos".into()]),
            Err(ClientError::AllExcluded)
        ));
        assert!(matches!(
            choose_coordinators(&e, false, &["Nadie".into()]),
            Err(ClientError::UnknownExclude(_))
        ));
        // An advisor is not a coordinator to exclude.
        assert!(matches!(
            choose_coordinators(&e, false, &["Asesora Ana".into()]),
            Err(ClientError::UnknownExclude(_))
        ));
        let mut server_only = entity();
        server_only.staff.retain(|s| s.reads == Reads::Server);
        assert!(matches!(
            choose_coordinators(&server_only, true, &[]),
            Err(ClientError::NoDeviceCoordinators)
        ));
        server_only.staff.retain(|s| s.role != "coordinator");
        assert!(matches!(
            choose_coordinators(&server_only, false, &[]),
            Err(ClientError::NoCoordinators)
        ));
    }

    #[test]
    fn advisors_are_found_by_name_or_id() {
        let e = entity();
        assert_eq!(find_advisor(&e, "asesora ana").unwrap().id, Id([3; 16]));
        assert_eq!(
            find_advisor(&e, &Id([4; 16]).hex()).unwrap().id,
            Id([4; 16])
        );
        assert!(matches!(
            find_advisor(&e, "Coordinación de Ética"),
            Err(ClientError::UnknownAdvisor(_))
        ));
    }

    #[test]
    fn a_reader_key_not_in_the_signed_list_is_refused() {
        let e = entity();
        let reader = |s: &StaffKey, active: bool| ReaderOut {
            id: s.id,
            role: s.role.clone(),
            display_name: s.display_name.clone(),
            public_key: s.public_key,
            reads: s.reads,
            active,
        };
        let mut readers = vec![reader(&e.staff[0], true), reader(&e.staff[2], true)];
        assert!(check_readers(&e, &readers).is_ok());
        readers[1].public_key = RecipientKey([0x42; 32]);
        assert!(matches!(
            check_readers(&e, &readers),
            Err(ClientError::ReaderKeyMismatch(_))
        ));
        // An inactive reader gets no wrap, so their key does not matter.
        readers[1].active = false;
        assert!(check_readers(&e, &readers).is_ok());
        let mut stranger = reader(&e.staff[0], true);
        stranger.id = Id([0x77; 16]);
        assert!(matches!(
            check_readers(&e, &[stranger]),
            Err(ClientError::ReaderKeyMismatch(_))
        ));
    }
}
