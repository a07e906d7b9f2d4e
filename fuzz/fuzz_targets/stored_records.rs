#![no_main]
// Stored bytes from a damaged or hostile data directory never panic a
// reader, and what decodes re-encodes to the same bytes.
use buzon::core::envelope::{self, EpochKeys, Id, Slot, StaffKeyRecord};
use buzon::core::secret::Key32;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(r) = StaffKeyRecord::decode(data) {
        assert_eq!(r.encode(), data);
    }
    if let Ok(s) = Slot::decode(data) {
        assert_eq!(s.encode(), data);
    }
    let _ = buzon::core::padding::unpad(data);
    let _ = envelope::message_header(data);
    let keys = EpochKeys::new(0, Key32::from_bytes([0; 32]));
    let _ = envelope::open_message(&keys, Id([0; 16]), 0, data);
    let _ = envelope::open_chunk(&keys, Id([0; 16]), Id([1; 16]), 0, data);
    let _ = envelope::open_attachment_meta(&keys, Id([0; 16]), Id([1; 16]), data);
});
