//! Staff key lifecycle at the service level (in-memory store, cheap KDF
//! costs): removal, password reset and re-grant, a thread left with no
//! reader, password change, and who may assign. Every "cannot" here is a
//! failed unwrap, not only a refused check.

use std::sync::Arc;

use buzon::core::envelope::{Id, Slot};
use buzon::core::receipt::KdfCost;
use buzon::core::status::Kind;
use buzon::platform::{OsEntropy, SystemClock};
use buzon::saadd::{Costs, Limits, NewEntity, Role, Saadd, SaaddError, StaffLogin};
use buzon::store::MemoryStore;

const PW: &str = "cántaro-ventisca-otoñal-brújula-42";
const CHEAP: KdfCost = KdfCost {
    memory_kib: 64,
    iterations: 1,
    lanes: 1,
};

struct World {
    s: Saadd,
    entity: Id,
}

async fn world() -> World {
    let s = Saadd::new(
        Arc::new(MemoryStore::default()),
        Arc::new(buzon::store::keys::MemoryVault::new()),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
        Limits::default(),
        Costs {
            receipt: CHEAP,
            staff: CHEAP,
        },
        2,
    );
    let e = s
        .add_entity(NewEntity {
            slug: "ent".into(),
            name: "Entidad".into(),
            complaints_office: "OIC".into(),
            first_response_days: 3,
            answer_days: 10,
            zone: None,
        })
        .await
        .unwrap();
    World { s, entity: e.id }
}

impl World {
    async fn staff(&self, role: Role, login: &str) -> StaffLogin {
        self.s
            .add_staff(self.entity, role, login, login, Some(PW))
            .await
            .unwrap();
        self.s.staff_login(login, PW).await.unwrap()
    }

    /// The coordinators a reporter leaves ticked: all but `excluded`.
    fn readers(&self, excluded: &[Id]) -> Vec<Id> {
        self.s
            .coordinators(self.entity)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .filter(|id| !excluded.contains(id))
            .collect()
    }

    async fn submit(&self, excluded: &[Id]) -> (Id, buzon::core::wrap::RecipientSecret) {
        let new = self.s.begin_thread();
        let readers = self.readers(excluded);
        let sub = self
            .s
            .submit(
                self.entity,
                Kind::Claim,
                "Texto de prueba",
                &readers,
                new,
                vec![],
            )
            .await
            .unwrap();
        (sub.thread, sub.secret)
    }

    fn opens(&self, t: Id, who: &StaffLogin) -> bool {
        self.s.can_open(t, Slot::Staff(who.staff.id), &who.secret)
    }

    async fn reporter_says(&self, t: Id, secret: &buzon::core::wrap::RecipientSecret, text: &str) {
        let d = self.s.begin_reply(t, Slot::Reporter, secret).await.unwrap();
        self.s
            .post(d, Slot::Reporter, secret, "", text, vec![])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn removed_staff_lose_access_and_the_key_rotates_at_the_next_write() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let b = w.staff(Role::Coordinator, "b").await;
    let (t, rep) = w.submit(&[]).await;
    assert!(w.opens(t, &a) && w.opens(t, &b));
    w.s.remove_staff(b.staff.id).await.unwrap();
    assert!(!w.opens(t, &b), "removed coordinator's wrap is gone");
    assert!(w.s.thread(t).unwrap().rotate);
    assert_eq!(
        w.s.staff_login("b", PW).await.err().map(|e| e.to_string()),
        Some("wrong login".into())
    );
    w.reporter_says(t, &rep, "sigo aquí").await;
    let rec = w.s.thread(t).unwrap();
    assert_eq!(rec.epoch, 1, "the next writer rotated");
    assert!(!rec.rotate);
    assert!(
        w.opens(t, &a),
        "remaining coordinator still reads after rotation"
    );
    let view = w.s.read(t, Slot::Staff(a.staff.id), &a.secret).unwrap();
    assert_eq!(view.messages.len(), 2);
    assert!(!w.opens(t, &b));
}

#[tokio::test]
async fn reset_password_needs_a_regrant_and_only_for_people_shown() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let b = w.staff(Role::Coordinator, "b").await;
    let adv = w.staff(Role::Advisor, "adv").await;
    // b excluded by the reporter.
    let (t, _rep) = w.submit(&[b.staff.id]).await;
    assert!(!w.opens(t, &b));
    w.s.assign(t, &a, adv.staff.id).await.unwrap();
    assert!(w.opens(t, &adv));

    let pw = w.s.reset_password(adv.staff.id).await.unwrap();
    let adv_new = w.s.staff_login("adv", &pw).await.unwrap();
    assert!(
        !w.opens(t, &adv_new),
        "a new key opens nothing until re-granted"
    );
    assert!(!w.opens(t, &adv), "the old key's wrap is gone");
    w.s.assign(t, &a, adv.staff.id).await.unwrap();
    assert!(w.opens(t, &adv_new), "re-assignment grants the new key");

    // The excluded coordinator can never be granted by a colleague.
    assert!(matches!(
        w.s.regrant_coordinator(t, &a, b.staff.id).await,
        Err(SaaddError::Forbidden)
    ));
    // An advisor cannot assign.
    assert!(matches!(
        w.s.assign(t, &adv_new, adv.staff.id).await,
        Err(SaaddError::Forbidden)
    ));
}

#[tokio::test]
async fn a_thread_with_no_reader_waits_for_the_reporter() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let b = w.staff(Role::Coordinator, "b").await;
    let (t, rep) = w.submit(&[b.staff.id]).await;
    w.s.remove_staff(a.staff.id).await.unwrap();
    assert!(w.s.thread(t).unwrap().readers.is_empty());
    // Nobody but the reporter can give it to b (not shown at submission).
    assert!(!w.opens(t, &b));
    let c = w.staff(Role::Coordinator, "c").await;
    w.s.reporter_grant(t, &rep, &[c.staff.id]).await.unwrap();
    assert!(w.opens(t, &c));
    assert!(!w.opens(t, &b));
    let rec = w.s.thread(t).unwrap();
    assert_eq!(
        rec.epoch, 1,
        "granting rotated away from the removed coordinator's key"
    );
    // Once someone reads it, the reporter cannot grant more.
    assert!(matches!(
        w.s.reporter_grant(t, &rep, &[b.staff.id]).await,
        Err(SaaddError::Forbidden)
    ));
}

#[tokio::test]
async fn changing_a_password_replaces_the_key_pair() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let (t, _) = w.submit(&[]).await;
    let new =
        w.s.change_password(&a, "otra-frase-muy-larga-y-poco-comun-77")
            .await
            .unwrap();
    assert_ne!(new.secret.public(), a.secret.public());
    assert!(w.opens(t, &new));
    assert!(
        !w.opens(t, &a),
        "the key the one-time password sealed opens nothing"
    );
    assert!(
        w.s.thread(t).unwrap().rotate,
        "and the thread key rotates at the next write"
    );
    assert!(matches!(
        w.s.change_password(&new, "corto").await,
        Err(SaaddError::WeakPassword)
    ));
}

#[tokio::test]
async fn unassigned_advisor_cannot_read_later_messages() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let adv = w.staff(Role::Advisor, "adv").await;
    let (t, rep) = w.submit(&[]).await;
    w.s.assign(t, &a, adv.staff.id).await.unwrap();
    assert!(w.opens(t, &adv));
    w.s.unassign(t, &a, adv.staff.id).await.unwrap();
    assert!(!w.opens(t, &adv));
    w.reporter_says(t, &rep, "nuevo").await;
    assert_eq!(w.s.thread(t).unwrap().epoch, 1);
    let view = w.s.read(t, Slot::Staff(a.staff.id), &a.secret).unwrap();
    assert_eq!(
        view.messages.len(),
        2,
        "history still readable by those who remain"
    );
}

#[tokio::test]
async fn attachments_are_chunked_and_size_limited() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let new = w.s.begin_thread();
    let mut sink = w.s.new_thread_sink(&new);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for part in data.chunks(7_777) {
        sink.write(part).unwrap();
    }
    let f = sink
        .finish("../../etc/passwd\u{0007}.pdf", "text/html; x=\"y\"")
        .unwrap();
    let sub =
        w.s.submit(
            w.entity,
            Kind::Question,
            "con archivo",
            &w.readers(&[]),
            new,
            vec![f],
        )
        .await
        .unwrap();
    let view =
        w.s.read(sub.thread, Slot::Staff(a.staff.id), &a.secret)
            .unwrap();
    let (att, meta) = &view.attachments[0];
    assert_eq!(
        meta.name, "passwd.pdf",
        "path and control characters removed"
    );
    assert_eq!(meta.content_type, "application/octet-stream");
    assert_eq!(meta.size, 200_000);
    let (_, mut reader) =
        w.s.attachment(sub.thread, *att, Slot::Staff(a.staff.id), &a.secret)
            .unwrap();
    let mut back = Vec::new();
    while let Some(c) = reader.next_chunk().unwrap() {
        back.extend_from_slice(c.expose());
    }
    assert_eq!(back, data);

    let other = w.s.begin_thread();
    let mut big = w.s.new_thread_sink(&other);
    let mb = vec![0u8; 1024 * 1024];
    let mut refused = false;
    for _ in 0..11 {
        if let Err(SaaddError::AttachmentTooLarge { limit }) = big.write(&mb) {
            assert_eq!(limit, 10 * 1024 * 1024);
            refused = true;
            break;
        }
    }
    assert!(refused);
    big.discard().unwrap();
}

#[tokio::test]
async fn passwords_are_compared_composed() {
    let w = world().await;
    let decomposed = "razo\u{301}n-cantaro-ventisca-otoñal-42";
    w.s.add_staff(w.entity, Role::Advisor, "nfd", "nfd", Some(decomposed))
        .await
        .unwrap();
    assert!(
        w.s.staff_login("nfd", "razón-cantaro-ventisca-otoñal-42")
            .await
            .is_ok()
    );
    assert!(w.s.staff_login("nfd", decomposed).await.is_ok());
    assert!(
        w.s.staff_login("nfd", "razon-cantaro-ventisca-otoñal-42")
            .await
            .is_err()
    );
    let pw = w.s.generate_password();
    assert!(
        pw.is_ascii(),
        "generated passwords can be typed on any keyboard"
    );
    assert_eq!(
        pw.as_str(),
        unicode_normalization::UnicodeNormalization::nfc(pw.as_str()).collect::<String>()
    );
}

#[tokio::test]
async fn only_coordinators_the_reporter_kept_are_readers() {
    let w = world().await;
    let a = w.staff(Role::Coordinator, "a").await;
    let stale_page = w.readers(&[]);
    // A coordinator added after the reporter's page was shown.
    let late = w.staff(Role::Coordinator, "late").await;
    let new = w.s.begin_thread();
    let sub =
        w.s.submit(w.entity, Kind::Claim, "texto", &stale_page, new, vec![])
            .await
            .unwrap();
    assert!(w.opens(sub.thread, &a));
    assert!(
        !w.opens(sub.thread, &late),
        "never wrapped for someone not shown"
    );
    let new = w.s.begin_thread();
    assert!(matches!(
        w.s.submit(w.entity, Kind::Claim, "texto", &[], new, vec![])
            .await,
        Err(SaaddError::NoReader)
    ));
}
