#![no_main]
// Whatever a person types back, parsing neither panics nor loops; a parsed
// receipt prints to a phrase that parses to itself.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(r) = buzon::core::receipt::Receipt::parse(s) {
            assert_eq!(buzon::core::receipt::Receipt::parse(&r.phrase()), Ok(r));
        }
    }
});
