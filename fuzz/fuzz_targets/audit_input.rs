#![no_main]
// What an auditor's verifier reads from a server it does not trust, and
// what a restore reads from a log export: entries decode or are refused,
// and a decoded entry re-encodes to the same bytes; checkpoints and signed
// notes parse or are refused; never a panic. Then the policy check runs on
// whatever decoded.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use buzon::core::retention::{Entry, check};
    use buzon::core::tlog::{Checkpoint, NoteVerifier};
    let mut entries = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(e) = Entry::decode(line) {
            assert_eq!(e.encode(), line);
            entries.push(e);
        }
    }
    let _ = check(&entries, 1_796_256_000);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(s) {
            assert_eq!(Checkpoint::parse(&cp.body()).as_ref().ok(), Some(&cp));
        }
        let v = NoteVerifier::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .expect("the C2SP example key");
        let _ = v.open(s);
        let _ = NoteVerifier::parse(s);
    }
});
