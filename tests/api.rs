//! The JSON API from the server's side (spec/api.md): a thread sealed by
//! the caller is stored as the pages store theirs and read by either path;
//! and every check of "What the server checks" refuses what it should,
//! with its stable code. The test plays a minimal client with the
//! functions of `src/core` only, independent of `src/client`.

mod common;

use std::sync::Arc;

use buzon::core::Day;
use buzon::core::api::{self, EntityDocument, Reads, SignedDocument, ThreadOut, b64, unb64};
use buzon::core::envelope::{
    self, AttachmentMeta, Author, CHUNK_DATA, EpochKeys, Id, MessageBody, MessagePlace, Slot,
};
use buzon::core::receipt::{self, RECEIPT_COST, Receipt};
use buzon::core::secret::Key32;
use buzon::core::wrap::{RecipientKey, RecipientSecret};
use buzon::saadd::{Role, Saadd};
use common::{TestServer, contains, files_under, fixture};
use serde_json::{Value, json};

fn rnd<const N: usize>() -> [u8; N] {
    buzon::platform::random(&buzon::platform::OsEntropy)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> (u16, Vec<u8>) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        let resp = r.send().await.unwrap();
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    }

    async fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
        let mut r = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn multipart(
        &self,
        path: &str,
        bearer: Option<&str>,
        first: (&str, &Value),
        chunks: &[(Id, u32, Vec<u8>)],
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            first.0.to_owned(),
            reqwest::multipart::Part::text(first.1.to_string()),
        );
        for (att, i, bytes) in chunks {
            form = form.part(
                format!("chunk:{}:{i}", att.hex()),
                reqwest::multipart::Part::bytes(bytes.clone()),
            );
        }
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .multipart(form);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn document(&self) -> (EntityDocument, Vec<u8>, SignedDocument) {
        let (status, body) = self.get("/api/v1/entities", None).await;
        assert_eq!(status, 200);
        let signed: SignedDocument = serde_json::from_slice(&body).unwrap();
        let doc = unb64(&signed.document).unwrap();
        (serde_json::from_slice(&doc).unwrap(), doc, signed)
    }

    async fn reporter_session(&self, lookup: &Key32, secret: &RecipientSecret) -> (Id, String) {
        let (status, v) = self
            .post(
                "/api/v1/sessions/reporter",
                None,
                &json!({ "lookup": b64(lookup.expose()) }),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        let thread = Id::from_hex(v["thread"].as_str().unwrap()).unwrap();
        let ch = unb64(v["challenge"].as_str().unwrap()).unwrap();
        let key = buzon::core::wrap::unwrap(
            secret,
            &envelope::session_context(thread, &Slot::Reporter),
            &ch,
        )
        .unwrap();
        let session = v["session"].as_str().unwrap();
        (thread, format!("{session}.{}", b64(key.expose())))
    }

    async fn staff_session(&self, login: &str, secret: &RecipientSecret) -> Option<String> {
        let (status, v) = self
            .post("/api/v1/sessions/staff", None, &json!({ "login": login }))
            .await;
        assert_eq!(status, 200, "{v}");
        assert!(v.get("staff").is_none(), "the answer names no staff id");
        // As the client does: our id is the one listed with our key.
        let (doc, _, _) = self.document().await;
        let staff = doc
            .entities
            .iter()
            .flat_map(|e| e.staff.iter())
            .find(|s| s.public_key == secret.public())
            .map(|s| s.id)?;
        let ch = unb64(v["challenge"].as_str().unwrap()).unwrap();
        buzon::core::wrap::unwrap(
            secret,
            &envelope::session_context(Id([0; 16]), &Slot::Staff(staff)),
            &ch,
        )
        .ok()
        .map(|k| format!("{}.{}", v["session"].as_str().unwrap(), b64(k.expose())))
    }

    async fn thread(&self, id: Id, bearer: &str) -> ThreadOut {
        let (status, body) = self
            .get(&format!("/api/v1/threads/{}", id.hex()), Some(bearer))
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn wrap_for(thread: Id, slot: Slot, epoch: u32, to: &RecipientKey, tk: &Key32) -> Value {
    let inner = envelope::seal_wrap_inner(thread, &slot, epoch, to, tk, rnd(), rnd()).unwrap();
    let slot = match slot {
        Slot::Reporter => "reporter".to_owned(),
        Slot::Staff(id) => id.hex(),
    };
    json!({ "slot": slot, "wrap": b64(&inner) })
}

// Each argument is one field of the message's place or body.
#[allow(clippy::too_many_arguments)]
fn message(
    tk: &Key32,
    thread: Id,
    seq: u32,
    epoch: u32,
    author: Author,
    day: Day,
    text: &str,
    atts: &[Id],
) -> String {
    let place = MessagePlace {
        thread,
        seq,
        epoch,
        author,
        day,
    };
    let body = MessageBody {
        text: text.to_owned(),
        author_label: String::new(),
        attachments: atts.to_vec(),
    };
    b64(&envelope::seal_message(tk, &place, &body, rnd()).unwrap())
}

/// Chunk records to send: attachment, index, record.
type Chunks = Vec<(Id, u32, Vec<u8>)>;

/// An attachment sealed as the client seals it: record and chunks.
fn attachment(tk: &Key32, thread: Id, epoch: u32, data: &[u8]) -> (Id, Value, Chunks) {
    let id = Id(rnd());
    let pieces: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(CHUNK_DATA).collect()
    };
    let chunks: Vec<(Id, u32, Vec<u8>)> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                id,
                i as u32,
                envelope::seal_chunk(tk, thread, id, i as u32, epoch, p, rnd()).unwrap(),
            )
        })
        .collect();
    let meta = AttachmentMeta {
        name: "informe-privado.pdf".into(),
        content_type: "application/pdf".into(),
        size: data.len() as u64,
        chunks: chunks.len() as u32,
    };
    let record = envelope::seal_attachment_meta(tk, thread, id, epoch, &meta, rnd()).unwrap();
    (
        id,
        json!({ "id": id.hex(), "record": b64(&record), "chunks": chunks.len() }),
        chunks,
    )
}

/// Keys a reader gets from a thread view: their wrap and the links.
fn keys_of(view: &ThreadOut, slot: Slot, secret: &RecipientSecret) -> EpochKeys {
    let opened = envelope::parse_wrap_inner(&unb64(&view.wrap).unwrap()).unwrap();
    let tk = envelope::unwrap_thread_key(&opened, view.id, &slot, secret).unwrap();
    let mut keys = EpochKeys::new(view.epoch, tk);
    let mut links = view.links.clone();
    links.sort_by_key(|l| std::cmp::Reverse(l.epoch));
    for l in links {
        keys.follow_link(view.id, &unb64(&l.link).unwrap()).unwrap();
    }
    keys
}

struct Made {
    thread: Id,
    tk: Key32,
    receipt: Receipt,
    lookup: Key32,
    secret: RecipientSecret,
}

/// A new thread body for `coordinators`, sealed on "the device".
async fn make_thread(
    api: &Api,
    saadd: &Saadd,
    slug: &str,
    coordinators: &[(Id, RecipientKey)],
    text: &str,
    file: Option<&[u8]>,
    device_only: bool,
) -> (Made, Value, Vec<(Id, u32, Vec<u8>)>) {
    let thread = Id(rnd());
    let tk = Key32::from_bytes(rnd());
    let receipt = Receipt::from_random(rnd());
    let r2 = receipt.clone();
    let keys = tokio::task::spawn_blocking(move || receipt::derive(&r2, RECEIPT_COST).unwrap())
        .await
        .unwrap();
    let mut wraps = vec![wrap_for(
        thread,
        Slot::Reporter,
        0,
        &keys.secret.public(),
        &tk,
    )];
    for (id, key) in coordinators {
        wraps.push(wrap_for(thread, Slot::Staff(*id), 0, key, &tk));
    }
    let (atts, chunks) = match file {
        Some(data) => {
            let (id, rec, chunks) = attachment(&tk, thread, 0, data);
            (vec![(id, rec)], chunks)
        }
        None => (vec![], vec![]),
    };
    let ids: Vec<Id> = atts.iter().map(|a| a.0).collect();
    let body = json!({
        "entity": slug,
        "id": thread.hex(),
        "kind": "claim",
        "reporter_key": hex::encode(keys.secret.public().0),
        "receipt_index": hex::encode(keys.index()),
        "device_only": device_only,
        "wraps": wraps,
        "message": message(&tk, thread, 0, 0, Author::Reporter, saadd.today(), text, &ids),
        "attachments": atts.iter().map(|a| a.1.clone()).collect::<Vec<_>>(),
    });
    let _ = api;
    (
        Made {
            thread,
            tk,
            receipt,
            lookup: keys.lookup,
            secret: keys.secret,
        },
        body,
        chunks,
    )
}

fn public_of(saadd: &Saadd, id: Id) -> RecipientKey {
    let s = saadd.staff(id).unwrap();
    match s.device_key {
        Some(k) => k,
        None => {
            let bytes = hex::decode(&s.key).unwrap();
            envelope::StaffKeyRecord::decode(&bytes).unwrap().public
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_sealed_on_the_device_is_read_by_both_paths() {
    let server = TestServer::start().await;
    let saadd = server.saadd.clone();
    let f = fixture(&saadd).await;
    let ana = RecipientSecret::from_bytes(rnd());
    let ana_rec = saadd
        .add_device_staff(
            f.entity,
            Role::Advisor,
            "ana-dispositivo",
            "Asesora Ana",
            ana.public(),
        )
        .await
        .unwrap();
    let api = Api::new(&server.base);

    // The signed document: every coordinator and advisor, how each reads,
    // no entity admin and no login name.
    let (doc, doc_bytes, signed) = api.document().await;
    let server_key: [u8; 32] = unb64(&signed.server_key).unwrap().try_into().unwrap();
    assert!(api::verify_document(
        &server_key,
        &doc_bytes,
        &unb64(&signed.signature).unwrap()
    ));
    let mut tampered = doc_bytes.clone();
    tampered[5] ^= 1;
    assert!(!api::verify_document(
        &server_key,
        &tampered,
        &unb64(&signed.signature).unwrap()
    ));
    assert_eq!(signed.server_key, saadd.server_key().unwrap());
    let e = doc.entities.iter().find(|e| e.slug == f.slug).unwrap();
    assert_eq!(e.policy, "open");
    let ana_entry = e.staff.iter().find(|s| s.id == ana_rec.id).unwrap();
    assert_eq!(ana_entry.reads, Reads::Device);
    assert_eq!(ana_entry.public_key, ana.public());
    let coord = e.staff.iter().find(|s| s.id == f.coord_a.id).unwrap();
    assert_eq!(coord.reads, Reads::Server);
    assert!(
        !contains(&doc_bytes, b"coord-a"),
        "a login name is in the public document"
    );

    // Create with an attachment of two chunks, to coordinator A only.
    let text = "Mi jefe firma contratos con la empresa de su cuñado. ¿Qué hago?";
    let file: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let coords = [(f.coord_a.id, public_of(&saadd, f.coord_a.id))];
    let (made, body, chunks) =
        make_thread(&api, &saadd, &f.slug, &coords, text, Some(&file), false).await;
    let (status, v) = api
        .multipart("/api/v1/threads", None, ("thread", &body), &chunks)
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["thread"], made.thread.hex());

    // The pages' path opens it with the receipt: same bytes.
    let (tid, secret) = saadd
        .open_with_receipt(&made.receipt.phrase())
        .await
        .unwrap();
    assert_eq!(tid, made.thread);
    let view = saadd.read(tid, Slot::Reporter, &secret).unwrap();
    assert_eq!(view.messages[0].body.text, text);
    assert_eq!(view.attachments.len(), 1);
    let (_, mut reader) = saadd
        .attachment(tid, view.attachments[0].0, Slot::Reporter, &secret)
        .unwrap();
    let mut back = Vec::new();
    while let Some(c) = reader.next_chunk().unwrap() {
        back.extend_from_slice(c.expose());
    }
    assert_eq!(back, file);

    // A coordinator on the pages assigns the device advisor (server-side
    // wrap for a public key is all the server needs).
    let coord_login = saadd
        .staff_login("coord-a", common::STAFF_PASSWORD)
        .await
        .unwrap();
    saadd.assign(tid, &coord_login, ana_rec.id).await.unwrap();

    // The advisor reads on her device and answers.
    let bearer = api.staff_session("ana-dispositivo", &ana).await.unwrap();
    let (status, list) = api.get("/api/v1/staff/threads", Some(&bearer)).await;
    assert_eq!(status, 200);
    let list: api::ThreadList = serde_json::from_slice(&list).unwrap();
    assert_eq!(list.threads.len(), 1);
    let tv = api.thread(tid, &bearer).await;
    let keys = keys_of(&tv, Slot::Staff(ana_rec.id), &ana);
    let rec = unb64(&tv.message_records[0].record).unwrap();
    let (_, opened) = envelope::open_message(&keys, tid, 0, &rec).unwrap();
    assert_eq!(opened.text, text);
    let chunk = api
        .get(
            &format!(
                "/api/v1/threads/{}/attachments/{}/chunks/1",
                tid.hex(),
                tv.attachment_records[0].id.hex()
            ),
            Some(&bearer),
        )
        .await;
    assert_eq!(chunk.0, 200);
    let data = envelope::open_chunk(&keys, tid, tv.attachment_records[0].id, 1, &chunk.1).unwrap();
    assert_eq!(data.expose(), &file[CHUNK_DATA..]);
    let answer = "Gracias. Documenta las fechas y no compartas esto con tu jefe.";
    let rec = message(
        keys.current_key(),
        tid,
        tv.messages,
        tv.epoch,
        Author::Staff,
        tv.day,
        answer,
        &[],
    );
    let (status, v) = api
        .multipart(
            &format!("/api/v1/threads/{}/messages", tid.hex()),
            Some(&bearer),
            ("message", &json!({ "seq": tv.messages, "record": rec })),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{v}");

    // The reporter reads the answer on the pages' path, and on the API.
    let view = saadd.read(tid, Slot::Reporter, &secret).unwrap();
    assert_eq!(view.messages[1].body.text, answer);
    assert_eq!(view.record.status.key(), "in_progress");
    let (_, rb) = api.reporter_session(&made.lookup, &made.secret).await;
    let rv = api.thread(tid, &rb).await;
    let rkeys = keys_of(&rv, Slot::Reporter, &made.secret);
    let (_, m1) = envelope::open_message(
        &rkeys,
        tid,
        1,
        &unb64(&rv.message_records[1].record).unwrap(),
    )
    .unwrap();
    assert_eq!(m1.text, answer);
    let _ = &made.tk;

    // A reporter session opens its own thread only.
    let (other, obody, _) =
        make_thread(&api, &saadd, &f.slug, &coords, "otro hilo", None, false).await;
    let (status, _) = api
        .multipart("/api/v1/threads", None, ("thread", &obody), &[])
        .await;
    assert_eq!(status, 201);
    let (status, v) = api
        .get(
            &format!("/api/v1/threads/{}", other.thread.hex()),
            Some(&rb),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(code(&serde_json::from_slice(&v).unwrap()), "not_found");

    // Nothing readable at rest: text, file bytes, receipt words.
    server.saadd.store().flush().unwrap();
    let words = made.receipt.words();
    for (path, bytes) in files_under(&server.data_dir()) {
        assert!(
            !contains(&bytes, text.as_bytes()),
            "{path:?} holds the text"
        );
        assert!(
            !contains(&bytes, answer.as_bytes()),
            "{path:?} holds the answer"
        );
        assert!(
            !contains(&bytes, &file[1000..1064]),
            "{path:?} holds the file"
        );
        assert!(
            !contains(&bytes, words.join(" ").as_bytes()),
            "{path:?} holds the receipt"
        );
    }
    let _ = Arc::clone(&server.saadd);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_refuses_what_it_can_check() {
    let server = TestServer::start().await;
    let saadd = server.saadd.clone();
    let f = fixture(&saadd).await;
    let api = Api::new(&server.base);
    let dev_c = RecipientSecret::from_bytes(rnd());
    let dev_coord = saadd
        .add_device_staff(
            f.entity,
            Role::Coordinator,
            "coord-disp",
            "Coordinación en dispositivo",
            dev_c.public(),
        )
        .await
        .unwrap();
    let ana = RecipientSecret::from_bytes(rnd());
    let ana_rec = saadd
        .add_device_staff(f.entity, Role::Advisor, "ana", "Asesora Ana", ana.public())
        .await
        .unwrap();
    // One key, one person; one shown name per entity.
    assert!(
        saadd
            .add_device_staff(f.entity, Role::Advisor, "ana-2", "Otra", ana.public())
            .await
            .is_err()
    );
    let fresh = RecipientSecret::from_bytes(rnd()).public();
    assert!(
        saadd
            .add_device_staff(f.entity, Role::Advisor, "ana-3", " asesora ana ", fresh)
            .await
            .is_err()
    );
    let coords = [(dev_coord.id, dev_c.public())];
    let create = |body: Value, chunks: Vec<(Id, u32, Vec<u8>)>| {
        let api = &api;
        async move {
            api.multipart("/api/v1/threads", None, ("thread", &body), &chunks)
                .await
        }
    };

    // Sessions: none, garbage, unknown handle.
    let (status, v) = api.get("/api/v1/staff/threads", None).await;
    assert_eq!(
        (status, code(&serde_json::from_slice(&v).unwrap())),
        (401, "session")
    );
    let (status, _) = api.get("/api/v1/staff/threads", Some("AAAA")).await;
    assert_eq!(status, 401);
    let (status, v) = api
        .post(
            "/api/v1/sessions/reporter",
            None,
            &json!({ "lookup": b64(&[7; 32]) }),
        )
        .await;
    assert_eq!((status, code(&v)), (404, "receipt_unknown"));
    let (status, v) = api
        .post(
            "/api/v1/sessions/reporter",
            None,
            &json!({ "lookup": "%%%" }),
        )
        .await;
    assert_eq!((status, code(&v)), (400, "request_malformed"));
    let r = api
        .http
        .post(format!("{}/api/v1/sessions/reporter", api.base))
        .header("content-type", "text/plain")
        .body(json!({ "lookup": b64(&[7; 32]) }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415, "JSON bodies are declared as JSON");
    // An unknown login and a password login get a challenge of the same
    // shape, which the real key of nobody opens.
    // Nothing in the answer is stable for a device login either: asked
    // twice, unknown, password and device logins all answer fresh bytes of
    // one shape, and no staff id (real ids are in the signed document).
    let mut shapes = std::collections::BTreeSet::new();
    for login in ["nadie", "nadie", "coord-a", "coord-a", "ana", "ana"] {
        let (status, v) = api
            .post("/api/v1/sessions/staff", None, &json!({ "login": login }))
            .await;
        assert_eq!(status, 200);
        assert!(v.get("staff").is_none() && v.get("thread").is_none(), "{v}");
        assert_eq!(unb64(v["challenge"].as_str().unwrap()).unwrap().len(), 104);
        let session = v["session"].as_str().unwrap().to_owned();
        shapes.insert(session.len());
        assert!(!session.contains(&b64(&ana_rec.id.0)));
    }
    assert_eq!(shapes.len(), 1, "every session has one length");
    assert!(api.staff_session("nadie", &ana).await.is_none());
    assert!(
        api.staff_session("ana", &dev_c).await.is_none(),
        "another key opened a session"
    );

    // Device-only refuses a password coordinator, at creation.
    let pw_coord = [(f.coord_a.id, public_of(&saadd, f.coord_a.id))];
    let (_, body, _) = make_thread(&api, &saadd, &f.slug, &pw_coord, "hola", None, true).await;
    let (status, v) = create(body, vec![]).await;
    assert_eq!((status, code(&v)), (403, "device_only"));

    // Wrong day, wrong epoch, a wrap for another key, no coordinator.
    let (m, mut body, _) = make_thread(&api, &saadd, &f.slug, &coords, "hola", None, true).await;
    body["message"] = json!(message(
        &m.tk,
        m.thread,
        0,
        0,
        Author::Reporter,
        Day(saadd.today().0 - 2),
        "hola",
        &[]
    ));
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "wrong_day");
    body["message"] = json!(message(
        &m.tk,
        m.thread,
        0,
        1,
        Author::Reporter,
        saadd.today(),
        "hola",
        &[]
    ));
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "malformed");
    body["message"] = json!(message(
        &m.tk,
        m.thread,
        0,
        0,
        Author::Staff,
        saadd.today(),
        "hola",
        &[]
    ));
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "malformed");
    body["message"] = json!(message(
        &m.tk,
        m.thread,
        0,
        0,
        Author::Reporter,
        saadd.today(),
        "hola",
        &[]
    ));
    let good_wraps = body["wraps"].clone();
    body["wraps"][1] = wrap_for(m.thread, Slot::Staff(dev_coord.id), 0, &ana.public(), &m.tk);
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "malformed");
    body["wraps"] = json!([good_wraps[0].clone()]);
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "no_reader");
    body["wraps"] = good_wraps;
    body["message"] = json!("not base64!");
    assert_eq!(code(&create(body.clone(), vec![]).await.1), "malformed");
    body["message"] = json!(message(
        &m.tk,
        m.thread,
        0,
        0,
        Author::Reporter,
        saadd.today(),
        "hola",
        &[]
    ));

    // Attachments: a chunk missing, a chunk for nothing announced, a
    // chunk at another epoch.
    let data = vec![9u8; CHUNK_DATA + 10];
    let (_, rec, chunks) = attachment(&m.tk, m.thread, 0, &data);
    body["attachments"] = json!([rec]);
    let (status, v) = create(body.clone(), chunks[..1].to_vec()).await;
    assert_eq!((status, code(&v)), (400, "malformed"));
    let mut extra = chunks.clone();
    extra.push((Id(rnd()), 0, chunks[1].2.clone()));
    assert_eq!(code(&create(body.clone(), extra).await.1), "malformed");
    let wrong_epoch = envelope::seal_chunk(
        &m.tk,
        m.thread,
        chunks[0].0,
        1,
        3,
        &data[CHUNK_DATA..],
        rnd(),
    )
    .unwrap();
    let bad = vec![chunks[0].clone(), (chunks[0].0, 1, wrong_epoch)];
    assert_eq!(code(&create(body.clone(), bad).await.1), "malformed");
    // Refused uploads leave no chunk behind.
    assert!(
        saadd
            .store()
            .scan(buzon::store::Table::Chunk, &m.thread.0, 10)
            .unwrap()
            .is_empty()
    );

    // Finally a good one; the same id again is taken.
    let (status, v) = create(body.clone(), chunks.clone()).await;
    assert_eq!(status, 201, "{v}");
    let (status, v) = create(body.clone(), chunks.clone()).await;
    assert_eq!((status, code(&v)), (409, "taken"));

    // Posting: stale seq, a reporter's record from staff.
    let coord_bearer = api.staff_session("coord-disp", &dev_c).await.unwrap();
    let tv = api.thread(m.thread, &coord_bearer).await;
    let keys = keys_of(&tv, Slot::Staff(dev_coord.id), &dev_c);
    let post = |seq: u32, rec: String, bearer: String| {
        let api = &api;
        let path = format!("/api/v1/threads/{}/messages", m.thread.hex());
        async move {
            api.multipart(
                &path,
                Some(&bearer),
                ("message", &json!({ "seq": seq, "record": rec })),
                &[],
            )
            .await
        }
    };
    let rec = message(
        keys.current_key(),
        m.thread,
        1,
        0,
        Author::Staff,
        tv.day,
        "respuesta",
        &[],
    );
    assert_eq!(
        code(&post(0, rec.clone(), coord_bearer.clone()).await.1),
        "stale"
    );
    let as_reporter = message(
        keys.current_key(),
        m.thread,
        1,
        0,
        Author::Reporter,
        tv.day,
        "x",
        &[],
    );
    assert_eq!(
        code(&post(1, as_reporter, coord_bearer.clone()).await.1),
        "malformed"
    );
    assert_eq!(post(1, rec, coord_bearer.clone()).await.0, 201);

    // Device-only: assigning a password advisor is refused on the API
    // and on the pages.
    let w = wrap_for(
        m.thread,
        Slot::Staff(f.adv_1.id),
        0,
        &public_of(&saadd, f.adv_1.id),
        keys.current_key(),
    );
    let (status, v) = api
        .post(
            &format!("/api/v1/threads/{}/assign", m.thread.hex()),
            Some(&coord_bearer),
            &json!({ "advisor": f.adv_1.id.hex(), "wrap": w["wrap"] }),
        )
        .await;
    assert_eq!((status, code(&v)), (403, "device_only"));
    let w = wrap_for(
        m.thread,
        Slot::Staff(ana_rec.id),
        0,
        &ana.public(),
        keys.current_key(),
    );
    let (status, v) = api
        .post(
            &format!("/api/v1/threads/{}/assign", m.thread.hex()),
            Some(&coord_bearer),
            &json!({ "advisor": ana_rec.id.hex(), "wrap": w["wrap"] }),
        )
        .await;
    assert_eq!(status, 204, "{v}");

    // The advisor may not unassign, and the reporter may not set a status.
    let ana_bearer = api.staff_session("ana", &ana).await.unwrap();
    let (rs, rb) = api.reporter_session(&m.lookup, &m.secret).await;
    assert_eq!(rs, m.thread);
    let (status, v) = api
        .post(
            &format!("/api/v1/threads/{}/status", m.thread.hex()),
            Some(&rb),
            &json!({ "status": "closed" }),
        )
        .await;
    assert_eq!((status, code(&v)), (403, "forbidden"));

    // A plain rotation is for a due key only, and never an advisor's: a
    // reader's garbage wraps would lock everyone else out.
    let rotate = |bearer: String| {
        let api = &api;
        let tk = Key32::from_bytes(rnd());
        let link = envelope::seal_link(&tk, m.thread, 1, keys.current_key(), rnd());
        let body = json!({ "epoch": 1, "link": b64(&link), "wraps": [
            wrap_for(m.thread, Slot::Reporter, 1, &m.secret.public(), &tk),
            wrap_for(m.thread, Slot::Staff(dev_coord.id), 1, &dev_c.public(), &tk),
            wrap_for(m.thread, Slot::Staff(ana_rec.id), 1, &ana.public(), &tk),
        ] });
        let path = format!("/api/v1/threads/{}/rotate", m.thread.hex());
        async move { api.post(&path, Some(&bearer), &body).await }
    };
    let (status, v) = rotate(ana_bearer.clone()).await;
    assert_eq!((status, code(&v)), (403, "forbidden"));
    let (status, v) = rotate(coord_bearer.clone()).await;
    assert_eq!((status, code(&v)), (409, "stale"), "no rotation was due");

    // Unassign rotates: the wraps must cover exactly who remains.
    let new_tk = Key32::from_bytes(rnd());
    let link = envelope::seal_link(&new_tk, m.thread, 1, keys.current_key(), rnd());
    let reporter_w = wrap_for(m.thread, Slot::Reporter, 1, &m.secret.public(), &new_tk);
    let coord_w = wrap_for(
        m.thread,
        Slot::Staff(dev_coord.id),
        1,
        &dev_c.public(),
        &new_tk,
    );
    let ana_w = wrap_for(m.thread, Slot::Staff(ana_rec.id), 1, &ana.public(), &new_tk);
    let unassign = |bearer: String, wraps: Value| {
        let api = &api;
        let body = json!({ "advisor": ana_rec.id.hex(), "rotation": { "epoch": 1, "link": b64(&link), "wraps": wraps } });
        let path = format!("/api/v1/threads/{}/unassign", m.thread.hex());
        async move { api.post(&path, Some(&bearer), &body).await }
    };
    let (status, v) = unassign(ana_bearer.clone(), json!([reporter_w, coord_w])).await;
    assert_eq!((status, code(&v)), (403, "forbidden"));
    let (status, v) = unassign(coord_bearer.clone(), json!([reporter_w, coord_w, ana_w])).await;
    assert_eq!(
        (status, code(&v)),
        (409, "stale"),
        "the removed advisor kept a wrap"
    );
    let (status, v) = unassign(coord_bearer.clone(), json!([reporter_w])).await;
    assert_eq!((status, code(&v)), (409, "stale"));
    let (status, v) = unassign(coord_bearer.clone(), json!([reporter_w, coord_w])).await;
    assert_eq!(status, 204, "{v}");
    // The advisor is out; the reporter reads the whole history with the
    // new key, on both paths.
    let (status, _) = api
        .get(
            &format!("/api/v1/threads/{}", m.thread.hex()),
            Some(&ana_bearer),
        )
        .await;
    assert_eq!(status, 404);
    let rv = api.thread(m.thread, &rb).await;
    assert_eq!(rv.epoch, 1);
    let rkeys = keys_of(&rv, Slot::Reporter, &m.secret);
    for mr in &rv.message_records {
        envelope::open_message(&rkeys, m.thread, mr.seq, &unb64(&mr.record).unwrap()).unwrap();
    }
    let (_, secret) = saadd.open_with_receipt(&m.receipt.phrase()).await.unwrap();
    assert_eq!(
        saadd
            .read(m.thread, Slot::Reporter, &secret)
            .unwrap()
            .messages
            .len(),
        2
    );

    // Removing the coordinator leaves a pending rotation: the reporter
    // must rotate before writing.
    saadd.remove_staff(dev_coord.id).await.unwrap();
    let rv = api.thread(m.thread, &rb).await;
    assert!(rv.rotate);
    let rec = message(
        rkeys.current_key(),
        m.thread,
        2,
        1,
        Author::Reporter,
        rv.day,
        "¿sigue ahí?",
        &[],
    );
    assert_eq!(code(&post(2, rec, rb.clone()).await.1), "rotation_due");
    let tk2 = Key32::from_bytes(rnd());
    let link2 = envelope::seal_link(&tk2, m.thread, 2, rkeys.current_key(), rnd());
    let (status, v) = api
        .post(
            &format!("/api/v1/threads/{}/rotate", m.thread.hex()),
            Some(&rb),
            &json!({ "epoch": 2, "link": b64(&link2), "wraps": [wrap_for(m.thread, Slot::Reporter, 2, &m.secret.public(), &tk2)] }),
        )
        .await;
    assert_eq!(status, 204, "{v}");
    let rec = message(
        &tk2,
        m.thread,
        2,
        2,
        Author::Reporter,
        rv.day,
        "¿sigue ahí?",
        &[],
    );
    assert_eq!(post(2, rec, rb.clone()).await.0, 201);
    // A removed member's session ends with their key.
    assert_eq!(
        api.get("/api/v1/staff/threads", Some(&coord_bearer))
            .await
            .0,
        401
    );

    // Nobody reads now: the reporter grants the entity's coordinators,
    // device readers only on this device-only thread.
    let grant_path = format!("/api/v1/threads/{}/grant", m.thread.hex());
    let pw = wrap_for(
        m.thread,
        Slot::Staff(f.coord_b.id),
        2,
        &public_of(&saadd, f.coord_b.id),
        &tk2,
    );
    let (status, v) = api
        .post(&grant_path, Some(&rb), &json!({ "wraps": [pw] }))
        .await;
    assert_eq!((status, code(&v)), (403, "device_only"));
    let nuevo = RecipientSecret::from_bytes(rnd());
    let nuevo_rec = saadd
        .add_device_staff(
            f.entity,
            Role::Coordinator,
            "coord-nueva",
            "Coordinación nueva",
            nuevo.public(),
        )
        .await
        .unwrap();
    let old_epoch = wrap_for(
        m.thread,
        Slot::Staff(nuevo_rec.id),
        1,
        &nuevo.public(),
        &tk2,
    );
    let (status, v) = api
        .post(&grant_path, Some(&rb), &json!({ "wraps": [old_epoch] }))
        .await;
    assert_eq!((status, code(&v)), (409, "stale"));
    let w = wrap_for(
        m.thread,
        Slot::Staff(nuevo_rec.id),
        2,
        &nuevo.public(),
        &tk2,
    );
    let (status, v) = api
        .post(&grant_path, Some(&rb), &json!({ "wraps": [w.clone()] }))
        .await;
    assert_eq!(status, 204, "{v}");
    // Once someone reads, the reporter grants no more.
    let (status, v) = api
        .post(&grant_path, Some(&rb), &json!({ "wraps": [w] }))
        .await;
    assert_eq!((status, code(&v)), (403, "forbidden"));
    let nb = api.staff_session("coord-nueva", &nuevo).await.unwrap();
    let nv = api.thread(m.thread, &nb).await;
    let nkeys = keys_of(&nv, Slot::Staff(nuevo_rec.id), &nuevo);
    assert_eq!(nkeys.current_epoch(), 2);

    // A coordinator re-grants a colleague the reporter kept, after their
    // new device key; never one the reporter did not keep.
    let otra = RecipientSecret::from_bytes(rnd());
    let otra_rec = saadd
        .add_device_staff(
            f.entity,
            Role::Coordinator,
            "coord-otra",
            "Coordinación otra",
            otra.public(),
        )
        .await
        .unwrap();
    let w = wrap_for(
        m.thread,
        Slot::Staff(otra_rec.id),
        2,
        &otra.public(),
        nkeys.current_key(),
    );
    let (status, v) = api
        .post(&grant_path, Some(&nb), &json!({ "wraps": [w] }))
        .await;
    assert_eq!(
        (status, code(&v)),
        (403, "forbidden"),
        "not shown to the reporter"
    );
    let nuevo2 = RecipientSecret::from_bytes(rnd());
    saadd
        .replace_device_key(nuevo_rec.id, nuevo2.public())
        .await
        .unwrap();
    let nb2 = api.staff_session("coord-nueva", &nuevo2).await.unwrap();
    assert_eq!(
        api.get(&format!("/api/v1/threads/{}", m.thread.hex()), Some(&nb2))
            .await
            .0,
        404,
        "a new key opens nothing until granted"
    );
    // The new key left a rotation due: the reporter rotates, grants both;
    // then "otra" gets a new key and loses access, and "nueva" rotates and
    // re-grants her from her own machine.
    let rotate_path = format!("/api/v1/threads/{}/rotate", m.thread.hex());
    let tk3 = Key32::from_bytes(rnd());
    let link3 = envelope::seal_link(&tk3, m.thread, 3, &tk2, rnd());
    let body = json!({ "epoch": 3, "link": b64(&link3), "wraps": [
        wrap_for(m.thread, Slot::Reporter, 3, &m.secret.public(), &tk3),
    ] });
    let (status, v) = api.post(&rotate_path, Some(&rb), &body).await;
    assert_eq!(status, 204, "{v}");
    let g = json!({ "wraps": [
        wrap_for(m.thread, Slot::Staff(nuevo_rec.id), 3, &nuevo2.public(), &tk3),
        wrap_for(m.thread, Slot::Staff(otra_rec.id), 3, &otra.public(), &tk3),
    ] });
    let (status, v) = api.post(&grant_path, Some(&rb), &g).await;
    assert_eq!(status, 204, "{v}");
    let otra2 = RecipientSecret::from_bytes(rnd());
    saadd
        .replace_device_key(otra_rec.id, otra2.public())
        .await
        .unwrap();
    let ob = api.staff_session("coord-otra", &otra2).await.unwrap();
    assert_eq!(
        api.get(&format!("/api/v1/threads/{}", m.thread.hex()), Some(&ob))
            .await
            .0,
        404
    );
    let nb2 = api.staff_session("coord-nueva", &nuevo2).await.unwrap();
    let nv = api.thread(m.thread, &nb2).await;
    assert!(nv.rotate);
    let w = wrap_for(m.thread, Slot::Staff(otra_rec.id), 3, &otra2.public(), &tk3);
    let (status, v) = api
        .post(&grant_path, Some(&nb2), &json!({ "wraps": [w] }))
        .await;
    assert_eq!((status, code(&v)), (409, "rotation_due"));
    let nk = keys_of(&nv, Slot::Staff(nuevo_rec.id), &nuevo2);
    let tk4 = Key32::from_bytes(rnd());
    let link4 = envelope::seal_link(&tk4, m.thread, 4, nk.current_key(), rnd());
    let body = json!({ "epoch": 4, "link": b64(&link4), "wraps": [
        wrap_for(m.thread, Slot::Reporter, 4, &m.secret.public(), &tk4),
        wrap_for(m.thread, Slot::Staff(nuevo_rec.id), 4, &nuevo2.public(), &tk4),
    ] });
    let (status, v) = api.post(&rotate_path, Some(&nb2), &body).await;
    assert_eq!(status, 204, "{v}");
    let w = wrap_for(m.thread, Slot::Staff(otra_rec.id), 4, &otra2.public(), &tk4);
    let (status, v) = api
        .post(&grant_path, Some(&nb2), &json!({ "wraps": [w] }))
        .await;
    assert_eq!(status, 204, "{v}");
    let ov = api.thread(m.thread, &ob).await;
    let ok = keys_of(&ov, Slot::Staff(otra_rec.id), &otra2);
    for mr in &ov.message_records {
        envelope::open_message(&ok, m.thread, mr.seq, &unb64(&mr.record).unwrap()).unwrap();
    }
}

/// A request cut off by a timeout is dropped without running its clean-up:
/// its chunks stay until the orphan sweep, which must leave uploads still
/// in progress alone and take the rest (pages and API alike).
#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_takes_cut_off_uploads_and_leaves_live_ones() {
    let server = TestServer::start().await;
    let saadd = server.saadd.clone();
    // An API upload: a ticket, then its chunks.
    let (t, a) = (Id(rnd()), Id(rnd()));
    let ticket = saadd.upload_ticket(t, a);
    let mut key = t.0.to_vec();
    key.extend_from_slice(&a.0);
    key.extend_from_slice(&0u32.to_be_bytes());
    let mut b = buzon::store::Batch::new();
    b.put(buzon::store::Table::Chunk, key, vec![1; 600]);
    saadd.store().apply(b).unwrap();
    // A page upload: a sink half fed, as a form cut off mid-file.
    let new = saadd.begin_thread();
    let mut sink = saadd.new_thread_sink(&new);
    sink.write(&vec![7u8; CHUNK_DATA + 10]).unwrap();
    assert_eq!(saadd.sweep_orphan_chunks().unwrap(), 0, "live uploads kept");
    drop(ticket);
    assert_eq!(
        saadd.sweep_orphan_chunks().unwrap(),
        1,
        "the API upload's chunk"
    );
    drop(sink);
    assert_eq!(
        saadd.sweep_orphan_chunks().unwrap(),
        1,
        "the page upload's chunk"
    );
    assert!(
        saadd
            .store()
            .scan(buzon::store::Table::Chunk, &[], 10)
            .unwrap()
            .is_empty()
    );
}
