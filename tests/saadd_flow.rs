//! The whole SAADD flow over real HTTP on loopback, for every message of
//! the corpora: reporter submits, coordinator assigns, advisor decrypts the
//! exact bytes and replies, reporter returns with the receipt (typed in
//! upper case and without accents) and reads the reply. Then: nothing of it
//! on disk or in the logs, and the keys of people not assigned or excluded
//! open nothing.

mod common;

use buzon::core::envelope::{self, Id, Slot};
use buzon::core::status::Status;
use buzon::store::Table;
use common::*;

fn strip_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            'ü' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

enum Expect {
    Accept,
    Refuse(u16, &'static str),
}

fn expectation(body: &str) -> Expect {
    let blank = body.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    });
    if body.contains('\0') {
        Expect::Refuse(400, "carácter nulo")
    } else if blank {
        Expect::Refuse(400, "El mensaje está vacío")
    } else if body.chars().count() > 50_000 {
        Expect::Refuse(413, "50,000 caracteres")
    } else {
        Expect::Accept
    }
}

struct Accepted {
    thread: String,
    body: String,
    phrase: String,
    claim: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_message_goes_round_trip() {
    let logs = capture_logs();
    let server = TestServer::start().await;
    let fx = fixture(&server.saadd).await;
    let base = server.base.clone();

    let mut coord_a = Browser::new(&base);
    coord_a.staff_login("coord-a").await;
    let mut coord_b = Browser::new(&base);
    coord_b.staff_login("coord-b").await;
    let mut adv_1 = Browser::new(&base);
    adv_1.staff_login("asesor-1").await;
    let mut adv_2 = Browser::new(&base);
    adv_2.staff_login("asesor-2").await;

    let entity_page = Browser::new(&base).get("/e/sej").await;
    assert_eq!(entity_page.status, 200);
    for needle in [
        "Coordinación A",
        "Coordinación B",
        "Aviso de privacidad",
        "Órgano Interno de Control",
        "Tor Browser",
        "3 días hábiles",
    ] {
        assert!(
            entity_page.body.contains(needle),
            "entity page lacks {needle}"
        );
    }

    let mut accepted: Vec<Accepted> = Vec::new();
    let mut n = 0;
    for (source, messages) in all_corpora() {
        for (kind, _lang, body) in messages {
            n += 1;
            let claim = kind == "claim";
            let a_hex = fx.coord_a.id.hex();
            let b_hex = fx.coord_b.id.hex();
            let mut fields = vec![("kind", kind.as_str()), ("reader", a_hex.as_str())];
            if !claim {
                fields.push(("reader", b_hex.as_str()));
            }
            let attach = n % 5 == 1;
            let file: Vec<u8> = (0..150_000u32).map(|i| (i * 7 + n) as u8).collect();
            let files: Vec<(&str, Vec<u8>)> = if attach {
                vec![("remisión 1.pdf", file.clone())]
            } else {
                vec![]
            };
            let mut reporter = Browser::new(&base);
            let before = thread_links(&coord_a.get("/staff").await.body);
            let r = reporter
                .post_multipart("/e/sej/enviar", &fields, &body, &files)
                .await;
            match expectation(&body) {
                Expect::Refuse(status, needle) => {
                    assert_eq!(r.status, status, "{source} #{n}: expected refusal");
                    assert!(
                        r.body.contains(needle),
                        "{source} #{n}: message lacks {needle:?}"
                    );
                    if claim {
                        assert!(
                            r.body.contains(r#"value="claim" checked"#),
                            "{source} #{n}: the refused form must keep the kind chosen"
                        );
                    }
                    assert!(r.body.contains("<form"), "{source} #{n}: form shown again");
                    let after = thread_links(&coord_a.get("/staff").await.body);
                    assert_eq!(
                        before, after,
                        "{source} #{n}: a refused message stored nothing"
                    );
                    continue;
                }
                Expect::Accept => {}
            }
            assert_eq!(
                r.status,
                200,
                "{source} #{n}: {}",
                &r.body[..r.body.len().min(400)]
            );
            // The receipt comes in the response to the form itself.
            let words = receipt_words(&r.body);
            assert_eq!(words.len(), 10);
            let i = confirm_index(&r.body);
            let draft = draft_id(&r.body);
            let wrong = reporter
                .post_form("/r/recibo", &[("word", "zzzz"), ("draft", &draft)])
                .await;
            assert_eq!(wrong.status, 400);
            assert_eq!(receipt_words(&wrong.body), words, "shown again");
            let ok = reporter
                .post_form(
                    "/r/recibo",
                    &[("word", &words[i].to_uppercase()), ("draft", &draft)],
                )
                .await;
            assert_eq!(ok.status, 303);
            assert_eq!(ok.location.as_deref(), Some("/r/hilo?guardado=1"));

            let after = thread_links(&coord_a.get("/staff").await.body);
            let new: Vec<&String> = after.iter().filter(|t| !before.contains(t)).collect();
            assert_eq!(
                new.len(),
                1,
                "{source} #{n}: one new thread for the coordinator"
            );
            let thread = new[0].clone();

            let seen = coord_a.get(&format!("/staff/t/{thread}")).await;
            assert_eq!(seen.status, 200);
            assert_eq!(
                message_texts(&seen.body)[0],
                body,
                "{source} #{n}: coordinator reads exact text"
            );
            let r = coord_a
                .post_form(
                    &format!("/staff/t/{thread}/asignar"),
                    &[("advisor", &fx.adv_1.id.hex())],
                )
                .await;
            assert_eq!(r.status, 303, "assign: {}", r.body);

            let seen = adv_1.get(&format!("/staff/t/{thread}")).await;
            assert_eq!(seen.status, 200);
            assert_eq!(
                message_texts(&seen.body)[0],
                body,
                "{source} #{n}: advisor reads exact text"
            );
            if attach {
                let link = regex::Regex::new(&format!(
                    r#"href="(/staff/t/{thread}/adjunto/[0-9a-f]{{32}})""#
                ))
                .unwrap();
                let href = link.captures(&seen.body).expect("attachment link")[1].to_owned();
                let dl = adv_1
                    .http
                    .get(format!("{base}{href}"))
                    .header(
                        reqwest::header::COOKIE,
                        format!("buzon_s={}", adv_1.cookies["buzon_s"]),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(dl.status(), 200);
                assert_eq!(dl.headers()["content-type"], "application/octet-stream");
                assert!(
                    dl.headers()["content-disposition"]
                        .to_str()
                        .unwrap()
                        .starts_with("attachment")
                );
                assert_eq!(dl.headers()["x-content-type-options"], "nosniff");
                assert_eq!(dl.bytes().await.unwrap().to_vec(), file, "attachment bytes");
            }
            let reply =
                format!("Respuesta de asesoría {n}: gracias por escribir. ¿Puedes contarnos más?");
            let r = adv_1
                .post_multipart(&format!("/staff/t/{thread}/responder"), &[], &reply, &[])
                .await;
            assert_eq!(r.status, 303, "advisor reply: {}", r.body);

            assert_eq!(adv_2.get(&format!("/staff/t/{thread}")).await.status, 404);
            assert!(!thread_links(&adv_2.get("/staff").await.body).contains(&thread));
            let b_status = coord_b.get(&format!("/staff/t/{thread}")).await.status;
            assert_eq!(
                b_status,
                if claim { 404 } else { 200 },
                "excluded coordinator"
            );

            let phrase = words.join(" ");
            for typed in [phrase.to_uppercase(), strip_accents(&words.join("   "))] {
                let mut back = Browser::new(&base);
                let r = back.post_form("/r", &[("receipt", &typed)]).await;
                assert_eq!(r.status, 303, "{source} #{n}: return with {typed:?}");
                let t = back.get("/r/hilo").await;
                assert_eq!(t.status, 200);
                let texts = message_texts(&t.body);
                assert_eq!(
                    texts,
                    vec![body.clone(), reply.clone()],
                    "{source} #{n}: reporter reads both sides"
                );
                assert!(t.body.contains("Asesoría Uno"));
                // The retention dates, as the policy gives them.
                assert!(t.body.contains("Fecha prevista de borrado"));
                assert!(t.body.contains("Tu recibo deja de funcionar el"));
            }
            accepted.push(Accepted {
                thread,
                body: body.clone(),
                phrase,
                claim,
            });
        }
    }
    assert!(accepted.len() >= 16, "most of the corpus is accepted");

    // A wrong receipt: one calm message, whatever is wrong with it.
    for typed in [
        "",
        "hola",
        "ábaco ábaco ábaco ábaco ábaco ábaco ábaco ábaco ábaco ábaco",
    ] {
        let r = Browser::new(&base)
            .post_form("/r", &[("receipt", typed)])
            .await;
        assert_eq!(r.status, 401);
        assert!(r.body.contains("Ese recibo no abre ninguna conversación"));
    }

    // Unassigning rotates the key: the removed advisor cannot read what
    // comes next, and the next message is sealed under epoch 1.
    let first = &accepted[0];
    let r = coord_a
        .post_form(
            &format!("/staff/t/{}/desasignar", first.thread),
            &[("advisor", &fx.adv_1.id.hex())],
        )
        .await;
    assert_eq!(r.status, 303);
    let mut back = Browser::new(&base);
    assert_eq!(
        back.post_form("/r", &[("receipt", &first.phrase)])
            .await
            .status,
        303
    );
    // A refused reply keeps its text above the form (a NUL shown as U+FFFD).
    let r = back
        .post_multipart(
            "/r/responder",
            &[],
            "texto con \0 nulo que se conserva",
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("carácter nulo"));
    assert!(r.body.contains("texto con \u{FFFD} nulo que se conserva"));
    let r = back
        .post_multipart(
            "/r/responder",
            &[],
            "Mensaje después de quitar a la asesoría.",
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        adv_1
            .get(&format!("/staff/t/{}", first.thread))
            .await
            .status,
        404
    );
    let t = Id::from_hex(&first.thread).unwrap();
    let saadd = server.saadd.clone();
    let store = saadd.store().clone();
    let last = store
        .scan(Table::Message, &t.0, 1000)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        envelope::message_header(&last.1).unwrap().0,
        1,
        "new message under epoch 1"
    );

    // Key-level proof: every wrap of a thread, opened down to the key wrap
    // with the storage key, refuses the keys of people not given access.
    let adv_2_key = saadd
        .staff_login("asesor-2", STAFF_PASSWORD)
        .await
        .unwrap()
        .secret;
    let adv_1_key = saadd
        .staff_login("asesor-1", STAFF_PASSWORD)
        .await
        .unwrap()
        .secret;
    let coord_b_key = saadd
        .staff_login("coord-b", STAFF_PASSWORD)
        .await
        .unwrap()
        .secret;
    let claim = accepted.iter().find(|a| a.claim).expect("a claim");
    for (acc, outsiders) in [
        (claim, vec![&adv_2_key, &coord_b_key]),
        (first, vec![&adv_2_key, &adv_1_key]),
    ] {
        let t = Id::from_hex(&acc.thread).unwrap();
        let sk = saadd.vault().get(&t.0).unwrap();
        let sk = buzon::core::secret::Key32::from_bytes(*sk);
        let wraps = store.scan(Table::Wrap, &t.0, 100).unwrap();
        assert!(wraps.len() >= 2);
        for (k, v) in &wraps {
            let slot = Slot::decode(&k[16..]).unwrap();
            let opened = envelope::open_wrap_outer(&sk, t, &slot, v).unwrap();
            for key in &outsiders {
                for any_slot in [
                    slot,
                    Slot::Reporter,
                    Slot::Staff(fx.adv_2.id),
                    Slot::Staff(fx.coord_b.id),
                    Slot::Staff(fx.adv_1.id),
                ] {
                    assert!(
                        envelope::unwrap_thread_key(&opened, t, &any_slot, key).is_err(),
                        "an outsider's key unwrapped a thread key"
                    );
                }
            }
        }
        for key in &outsiders {
            for slot in [
                Slot::Staff(fx.adv_2.id),
                Slot::Staff(fx.coord_b.id),
                Slot::Staff(fx.adv_1.id),
            ] {
                assert!(!saadd.can_open(t, slot, key));
            }
        }
    }

    // Status moves and closing/reopening.
    let t = &accepted[1].thread;
    // The advisor's reply already moved it from "received" to "in progress".
    assert_eq!(
        server
            .saadd
            .thread(Id::from_hex(t).unwrap())
            .unwrap()
            .status,
        Status::InProgress
    );
    for s in [Status::Answered, Status::Closed, Status::InProgress] {
        let r = adv_1
            .post_form(&format!("/staff/t/{t}/estado"), &[("status", s.key())])
            .await;
        assert_eq!(r.status, 303, "status {s:?}");
    }
    let r = adv_1
        .post_form(&format!("/staff/t/{t}/estado"), &[("status", "received")])
        .await;
    assert_eq!(r.status, 400);

    let data = server.data_dir();
    let (_saadd, _dir) = server.stop().await;

    // Nothing of it at rest, nor in the logs.
    let files = files_under(&data);
    assert!(!files.is_empty());
    let log_text = logs.text();
    for a in &accepted {
        let needles: Vec<Vec<u8>> = {
            let mut v = vec![
                a.phrase.as_bytes().to_vec(),
                strip_accents(&a.phrase).into_bytes(),
            ];
            if a.body.len() >= 12 {
                v.push(a.body.as_bytes().to_vec());
                v.push(a.body.as_bytes()[..12].to_vec());
            }
            v
        };
        for needle in &needles {
            for (path, bytes) in &files {
                assert!(
                    !contains(bytes, needle),
                    "plaintext or receipt found in {}",
                    path.display()
                );
            }
            assert!(
                !contains(log_text.as_bytes(), needle),
                "plaintext or receipt in the logs"
            );
        }
        assert!(!log_text.contains(&a.thread), "thread id in the logs");
    }
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, b"127.0.0.1"),
            "client address in {}",
            path.display()
        );
        assert!(
            !path.components().any(|c| c.as_os_str() == "blobs"),
            "sled wrote a separate blob file (its name and times reveal when): {}",
            path.display()
        );
    }
    let leak: Vec<&str> = log_text
        .lines()
        .filter(|l| l.contains("127.0.0.1"))
        .take(3)
        .collect();
    assert!(leak.is_empty(), "client address in the logs: {leak:?}");
}
