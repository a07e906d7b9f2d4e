//! The real binary, killed with SIGKILL right after it acknowledged
//! submissions, loses none of them when started again.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &std::path::Path, port: u16) -> Child {
    #[allow(clippy::zombie_processes)] // the caller kills and waits
    let child = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut kept: Vec<(String, String)> = Vec::new();
    let reader_re = regex::Regex::new(r#"name="reader" value="([0-9a-f]{32})""#).unwrap();
    for round in 0..3 {
        let port = free_port();
        let mut child = start(dir.path(), port).await;
        let base = format!("http://127.0.0.1:{port}");
        // Everything acknowledged before earlier kills is still there.
        for (phrase, text) in &kept {
            let mut b = Browser::new(&base);
            assert_eq!(b.post_form("/r", &[("receipt", phrase)]).await.status, 303);
            assert!(message_texts(&b.get("/r/hilo").await.body).contains(text));
        }
        let page = Browser::new(&base).get("/e/demo").await;
        let reader = reader_re.captures(&page.body).unwrap()[1].to_owned();
        let text = format!("Mensaje {round} que debe sobrevivir a un SIGKILL.");
        let mut b = Browser::new(&base);
        let r = b
            .post_multipart(
                "/e/demo/enviar",
                &[("kind", "question"), ("reader", &reader)],
                &text,
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        let words = receipt_words(&r.body);
        child.kill().unwrap();
        child.wait().unwrap();
        kept.push((words.join(" "), text));
    }
    let port = free_port();
    let mut child = start(dir.path(), port).await;
    let base = format!("http://127.0.0.1:{port}");
    for (phrase, text) in &kept {
        let mut b = Browser::new(&base);
        assert_eq!(b.post_form("/r", &[("receipt", phrase)]).await.status, 303);
        assert!(message_texts(&b.get("/r/hilo").await.body).contains(text));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
