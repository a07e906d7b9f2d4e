#![no_main]
// What an API client sends (spec/api.md, "What the server checks"): the
// JSON bodies and the sealed records inside them never panic the parsers,
// and a wrap that parses re-encodes to the same bytes.
use buzon::core::api::{MessageIn, NewThreadIn, RotationIn, unb64};
use buzon::core::envelope;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(w) = envelope::parse_wrap_inner(data) {
        assert_eq!(w.encode(), data);
    }
    let _ = envelope::message_shape(data);
    let _ = envelope::attachment_shape(data, true);
    let _ = envelope::attachment_shape(data, false);
    let _ = envelope::link_shape(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = unb64(text);
        if let Ok(t) = serde_json::from_str::<NewThreadIn>(text) {
            for w in &t.wraps {
                if let Some(b) = unb64(&w.wrap) {
                    let _ = envelope::parse_wrap_inner(&b);
                }
            }
            if let Some(m) = unb64(&t.message) {
                let _ = envelope::message_shape(&m);
            }
        }
        let _ = serde_json::from_str::<MessageIn>(text);
        let _ = serde_json::from_str::<RotationIn>(text);
    }
});
