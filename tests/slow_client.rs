//! A client that trickles its request headers (slowloris) is cut off, and
//! the server keeps answering others.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use buzon::platform::{OsEntropy, SystemClock};
use buzon::saadd::{Costs, Limits};
use buzon::store::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_are_cut_off() {
    let services = buzon::services::Services::new(
        Arc::new(MemoryStore::default()),
        Arc::new(buzon::store::keys::MemoryVault::new()),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
        Limits::default(),
        Costs::V1,
        1,
        buzon::tokens::TokenSettings::default(),
    )
    .unwrap();
    let app =
        buzon::web::router(buzon::web::AppState::new(&services, Arc::new(OsEntropy)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(buzon::web::serve(
        listener,
        app,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(1),
    ));

    let slow = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 256];
        // The server closes the connection (maybe after a 408) long before
        // our 10-second read timeout.
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => panic!("connection still open after {:?}: {e}", start.elapsed()),
            }
        }
        start.elapsed()
    });
    let ok = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(ok.status(), 200, "others are served meanwhile");
    let waited = slow.await.unwrap();
    assert!(waited < Duration::from_secs(5), "cut off after {waited:?}");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}
