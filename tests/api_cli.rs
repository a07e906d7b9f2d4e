//! The command-line clients against a live server (spec/api.md, "What
//! crosses the wire"): every byte the `buzon` binary sends goes through a
//! recording proxy, and neither the message, the attachment nor the
//! receipt, in any spelling, is among them. An advisor whose key exists
//! only in a local file reads and answers; the reporter reads the answer
//! with the command line and again on the pages.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use buzon::core::wrap::RecipientKey;
use buzon::saadd::Role;
use common::{Browser, TestServer, contains, files_under, fixture, message_texts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A SOCKS5 proxy on loopback (RFC 1928, no authentication, CONNECT only)
/// that sends every connection to `target`, whatever host it names, and
/// keeps every byte a client sent. The CLI reaches it with `socks5h://`,
/// so the server's name (an onion address here) is resolved by the proxy,
/// as Tor would, never on the client.
async fn recording_socks(
    target: std::net::SocketAddr,
) -> (String, Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<String>>>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (log, names) = (sent.clone(), hosts.clone());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (log, names) = (log.clone(), names.clone());
            tokio::spawn(async move {
                // Greeting: version 5, methods; answer "no authentication".
                let mut head = [0u8; 2];
                if client.read_exact(&mut head).await.is_err() || head[0] != 5 {
                    return;
                }
                let mut methods = vec![0u8; head[1] as usize];
                if client.read_exact(&mut methods).await.is_err() {
                    return;
                }
                let _ = client.write_all(&[5, 0]).await;
                // Request: 5, CONNECT, 0, address type, address, port.
                let mut req = [0u8; 4];
                if client.read_exact(&mut req).await.is_err() || req[1] != 1 {
                    return;
                }
                let host = match req[3] {
                    3 => {
                        let mut len = [0u8; 1];
                        let _ = client.read_exact(&mut len).await;
                        let mut name = vec![0u8; len[0] as usize];
                        let _ = client.read_exact(&mut name).await;
                        String::from_utf8_lossy(&name).into_owned()
                    }
                    1 => {
                        let mut ip = [0u8; 4];
                        let _ = client.read_exact(&mut ip).await;
                        format!("{ip:?}")
                    }
                    _ => return,
                };
                let mut port = [0u8; 2];
                let _ = client.read_exact(&mut port).await;
                names.lock().unwrap().push(host);
                let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                    let _ = client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
                    return;
                };
                let _ = client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await;
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (format!("socks5h://{addr}"), sent, hosts)
}

/// An onion address nobody can resolve: only the proxy knows where it goes.
const ONION: &str = "http://buzonpruebaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The SOCKS proxy every command that talks to the server goes through.
static PROXY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Runs the `buzon` binary with `stdin` piped in; commands that talk to a
/// server go through [`PROXY`].
async fn buzon(args: &[&str], stdin: &str, dir: &Path) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    if let Some(p) = PROXY.get()
        && args.contains(&"--server")
    {
        all.extend(["--proxy", p.as_str()]);
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
        .args(&all)
        .current_dir(dir)
        .env("LANG", "es_MX.UTF-8")
        .env_remove("BUZON_SERVER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn strip_accents(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect()
}

/// The ten receipt words printed by `report new`: the one line that
/// parses as a receipt.
fn receipt_words(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find(|l| buzon::core::receipt::Receipt::parse(l).is_ok())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_else(|| panic!("no receipt in: {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_sends_only_sealed_records_and_reads_with_the_pages() {
    let server = TestServer::start().await;
    let saadd = server.saadd.clone();
    let f = fixture(&saadd).await;
    let (proxy, sent, hosts) = recording_socks(server.addr).await;
    PROXY.set(proxy).unwrap();
    let base = ONION.to_owned();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let server_key = saadd.server_key().unwrap();

    // An advisor makes her key on her machine; only the public key is
    // registered.
    let passphrase = "otoño-cántaro-velero-bruma-sesenta";
    let keygen = buzon(
        &["advisor", "keygen", "--key", "ana.key"],
        &format!("{passphrase}\n{passphrase}\n"),
        dir,
    )
    .await;
    assert_eq!(keygen.code, 0, "{}{}", keygen.stdout, keygen.stderr);
    let public_hex = keygen
        .stdout
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .expect("keygen prints the public key")
        .to_owned();
    let mut public = [0u8; 32];
    hex::decode_to_slice(&public_hex, &mut public).unwrap();
    let key_file = std::fs::read(dir.join("ana.key")).unwrap();
    assert!(!contains(&key_file, passphrase.as_bytes()));
    let ana = saadd
        .add_device_staff(
            f.entity,
            Role::Advisor,
            "ana",
            "Asesora Ana",
            RecipientKey(public),
        )
        .await
        .unwrap();

    // A coordinator with a device key too.
    let cpass = "coordinación-en-su-equipo-sesenta-y-dos";
    let ckey = buzon(
        &["coordinator", "keygen", "--key", "coord.key"],
        &format!("{cpass}\n"),
        dir,
    )
    .await;
    assert_eq!(ckey.code, 0, "{}", ckey.stderr);
    let cpub = buzon(
        &["coordinator", "public-key", "--key", "coord.key"],
        "",
        dir,
    )
    .await;
    let mut cpk = [0u8; 32];
    hex::decode_to_slice(cpub.stdout.trim(), &mut cpk).unwrap();
    saadd
        .add_device_staff(
            f.entity,
            Role::Coordinator,
            "coord-disp",
            "Coordinación en su equipo",
            RecipientKey(cpk),
        )
        .await
        .unwrap();

    // The reporter writes, with an attachment, through the CLI.
    let text =
        "Recibí instrucciones de alterar el padrón de beneficiarios. ¿Debo hacerlo? — ñandú 🦤";
    std::fs::write(dir.join("mensaje.txt"), text).unwrap();
    let attachment: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("oficio.pdf"), &attachment).unwrap();
    let new = buzon(
        &[
            "report",
            "new",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--entity",
            &f.slug,
            "--claim",
            "--message-file",
            "mensaje.txt",
            "--attach",
            "oficio.pdf",
        ],
        "",
        dir,
    )
    .await;
    assert_eq!(new.code, 0, "{}{}", new.stdout, new.stderr);
    let words = receipt_words(&new.stdout);
    let phrase = words.join(" ");
    // Who can read was shown before sending, with how each reads.
    assert!(new.stderr.contains("Coordinación A"), "{}", new.stderr);
    assert!(new.stderr.contains("servidor"), "{}", new.stderr);

    // A wrong server key is refused before anything is sent.
    let before = sent.lock().unwrap().len();
    let wrong = buzon(
        &[
            "report",
            "new",
            "--server",
            &base,
            "--server-key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "--entity",
            &f.slug,
        ],
        "otro mensaje",
        dir,
    )
    .await;
    assert_ne!(wrong.code, 0);
    let after = sent.lock().unwrap().clone();
    assert!(!contains(&after[before..], b"POST /api/v1/threads"));

    // Every command checks the pinned key before it sends anything of its
    // own: a reporter's lookup handle, a staff member's login.
    let fake = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let before = sent.lock().unwrap().len();
    let rr = buzon(
        &["report", "read", "--server", &base, "--server-key", fake],
        &format!("{phrase}\n"),
        dir,
    )
    .await;
    assert_ne!(rr.code, 0);
    let al = buzon(
        &[
            "advisor",
            "list",
            "--server",
            &base,
            "--server-key",
            fake,
            "--login",
            "ana",
            "--key",
            "ana.key",
        ],
        &format!("{passphrase}\n"),
        dir,
    )
    .await;
    assert_ne!(al.code, 0);
    let after = sent.lock().unwrap().clone();
    assert!(
        !contains(&after[before..], b"/api/v1/sessions"),
        "a session was asked of an unpinned server"
    );

    // A coordinator assigns Ana on the pages.
    let tid = saadd.threads_for(&f.coord_a).unwrap()[0].id;
    let coord = saadd
        .staff_login("coord-a", common::STAFF_PASSWORD)
        .await
        .unwrap();
    saadd.assign(tid, &coord, ana.id).await.unwrap();

    // Ana lists, reads and answers on her machine.
    let list = buzon(
        &[
            "advisor",
            "list",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "ana",
            "--key",
            "ana.key",
        ],
        &format!("{passphrase}\n"),
        dir,
    )
    .await;
    assert_eq!(list.code, 0, "{}{}", list.stdout, list.stderr);
    assert!(list.stdout.contains(&tid.hex()), "{}", list.stdout);
    std::fs::create_dir(dir.join("ana-adjuntos")).unwrap();
    let read = buzon(
        &[
            "advisor",
            "read",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "ana",
            "--key",
            "ana.key",
            "--thread",
            &tid.hex(),
            "--save-attachments",
            "ana-adjuntos",
        ],
        &format!("{passphrase}\n"),
        dir,
    )
    .await;
    assert_eq!(read.code, 0, "{}{}", read.stdout, read.stderr);
    assert!(read.stdout.contains(text), "{}", read.stdout);
    let saved = files_under(&dir.join("ana-adjuntos"));
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0].1, attachment);
    let answer = "Gracias por escribir. No lo hagas; guarda el correo con las instrucciones.";
    let reply = buzon(
        &[
            "advisor",
            "reply",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "ana",
            "--key",
            "ana.key",
            "--thread",
            &tid.hex(),
        ],
        &format!("{passphrase}\n{answer}"),
        dir,
    )
    .await;
    assert_eq!(reply.code, 0, "{}{}", reply.stdout, reply.stderr);

    // The reporter reads the answer with the CLI (receipt on stdin, in
    // capitals and without accents) and replies.
    let typed = strip_accents(&phrase).to_uppercase();
    let rread = buzon(
        &[
            "report",
            "read",
            "--server",
            &base,
            "--server-key",
            &server_key,
        ],
        &format!("{typed}\n"),
        dir,
    )
    .await;
    assert_eq!(rread.code, 0, "{}{}", rread.stdout, rread.stderr);
    assert!(rread.stdout.contains(answer), "{}", rread.stdout);
    assert!(rread.stdout.contains("Asesora Ana"), "{}", rread.stdout);
    let second = "Gracias. Adjunto el correo en mi siguiente mensaje.";
    let rreply = buzon(
        &[
            "report",
            "reply",
            "--server",
            &base,
            "--server-key",
            &server_key,
        ],
        &format!("{phrase}\n{second}"),
        dir,
    )
    .await;
    assert_eq!(rreply.code, 0, "{}{}", rreply.stdout, rreply.stderr);

    // ... and on the pages, with the same receipt.
    let mut browser = Browser::new(&server.base);
    let r = browser.post_form("/r", &[("receipt", &phrase)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = browser.get("/r/hilo").await;
    let shown = message_texts(&page.body);
    assert_eq!(
        shown,
        vec![text.to_owned(), answer.to_owned(), second.to_owned()],
        "{}",
        page.body
    );

    // The device coordinator takes Ana off on their machine: the key
    // changes there, Ana reads nothing more, the reporter reads on.
    let off = buzon(
        &[
            "coordinator",
            "unassign",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "coord-disp",
            "--key",
            "coord.key",
            "--thread",
            &tid.hex(),
            "--advisor",
            "asesora ana",
        ],
        &format!("{cpass}\n"),
        dir,
    )
    .await;
    assert_eq!(off.code, 0, "{}{}", off.stdout, off.stderr);
    assert_eq!(saadd.thread(tid).unwrap().epoch, 1);
    let gone = buzon(
        &[
            "advisor",
            "read",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "ana",
            "--key",
            "ana.key",
            "--thread",
            &tid.hex(),
        ],
        &format!("{passphrase}\n"),
        dir,
    )
    .await;
    assert_ne!(gone.code, 0);
    let again = buzon(
        &[
            "report",
            "read",
            "--server",
            &base,
            "--server-key",
            &server_key,
        ],
        &format!("{phrase}\n"),
        dir,
    )
    .await;
    assert!(
        again.stdout.contains(answer),
        "{}{}",
        again.stdout,
        again.stderr
    );
    // And assigns her again, from the same machine.
    let on = buzon(
        &[
            "coordinator",
            "assign",
            "--server",
            &base,
            "--server-key",
            &server_key,
            "--login",
            "coord-disp",
            "--key",
            "coord.key",
            "--thread",
            &tid.hex(),
            "--advisor",
            "Asesora Ana",
        ],
        &format!("{cpass}\n"),
        dir,
    )
    .await;
    assert_eq!(on.code, 0, "{}{}", on.stdout, on.stderr);

    // A thread made on the pages opens with the CLI, reply included.
    let web_text = "Pregunta enviada desde las páginas, sin JavaScript.";
    let a_hex = f.coord_a.id.hex();
    let mut web = Browser::new(&server.base);
    let r = web
        .post_multipart(
            &format!("/e/{}/enviar", f.slug),
            &[("kind", "question"), ("reader", &a_hex)],
            web_text,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let web_phrase = common::receipt_words(&r.body).join(" ");
    let wread = buzon(
        &[
            "report",
            "read",
            "--server",
            &base,
            "--server-key",
            &server_key,
        ],
        &format!("{web_phrase}\n"),
        dir,
    )
    .await;
    assert_eq!(wread.code, 0, "{}{}", wread.stdout, wread.stderr);
    assert!(wread.stdout.contains(web_text), "{}", wread.stdout);
    let web_reply = "Y esta respuesta la escribí con la línea de órdenes.";
    let wreply = buzon(
        &[
            "report",
            "reply",
            "--server",
            &base,
            "--server-key",
            &server_key,
        ],
        &format!("{web_phrase}\n{web_reply}"),
        dir,
    )
    .await;
    assert_eq!(wreply.code, 0, "{}{}", wreply.stdout, wreply.stderr);
    let mut back = Browser::new(&server.base);
    assert_eq!(
        back.post_form("/r", &[("receipt", &web_phrase)])
            .await
            .status,
        303
    );
    assert_eq!(
        message_texts(&back.get("/r/hilo").await.body),
        vec![web_text.to_owned(), web_reply.to_owned()]
    );

    // Nothing secret crossed the wire: not the texts, not the file, not
    // the receipt in any spelling, not the passphrase or the key file.
    // Every connection went through the proxy, naming the onion address.
    let named = hosts.lock().unwrap().clone();
    assert!(!named.is_empty());
    assert!(
        named.iter().all(|h| ONION.ends_with(h.as_str())),
        "{named:?}"
    );
    let wire = sent.lock().unwrap().clone();
    assert!(
        contains(&wire, b"POST /api/v1/threads"),
        "the proxy saw no submission"
    );
    for (what, needle) in [
        ("message", text.as_bytes().to_vec()),
        ("answer", answer.as_bytes().to_vec()),
        ("second message", second.as_bytes().to_vec()),
        ("reply to the web thread", web_reply.as_bytes().to_vec()),
        ("attachment", attachment[40_000..40_064].to_vec()),
        ("passphrase", passphrase.as_bytes().to_vec()),
        ("key file", key_file[..64].to_vec()),
        ("attachment name", b"oficio.pdf".to_vec()),
    ] {
        assert!(!contains(&wire, &needle), "the {what} crossed the wire");
    }
    for spelling in [
        phrase.clone(),
        words.join("-"),
        words.join(""),
        strip_accents(&phrase),
        phrase.to_uppercase(),
    ] {
        assert!(
            !contains(&wire, spelling.as_bytes()),
            "the receipt crossed the wire"
        );
    }
    for w in &words {
        if w.chars().count() >= 6 {
            assert!(
                !contains(&wire, w.as_bytes()),
                "a receipt word crossed the wire: {w}"
            );
        }
    }

    // And nothing readable at rest.
    saadd.store().flush().unwrap();
    for (path, bytes) in files_under(&server.data_dir()) {
        for needle in [
            text.as_bytes(),
            answer.as_bytes(),
            &attachment[40_000..40_064],
        ] {
            assert!(!contains(&bytes, needle), "{path:?} holds plaintext");
        }
    }
}
