//! API sessions (spec/api.md, "Sessions"): the server wraps a random
//! session secret to the caller's public key; only the holder of the
//! private key unwraps it, and the secret is then the bearer of every
//! call. No password and no receipt crosses the network.

use zeroize::Zeroizing;

use super::error::ClientError;
use crate::core::api::{self, SessionChallenge};
use crate::core::envelope::{Id, Slot, session_context};
use crate::core::wrap::{self, RecipientSecret};

/// Who a session is for, as the server named it in its challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFor {
    /// A reporter session on this thread.
    Thread(Id),
    /// A staff session for this staff member.
    Staff(Id),
}

/// Unwraps a challenge. `Ok` holds the bearer value (base64url of the
/// session secret). A challenge that does not open is the one error
/// `wrong` for the caller's kind (reporter: the receipt does not open the
/// thread; staff: login or key wrong, one message for both).
/// `staff` is the caller's own id, found in the signed entity document by
/// their public key (the server's answer does not name it; spec/api.md,
/// "Sessions"); `None` for a reporter.
pub fn open_challenge(
    secret: &RecipientSecret,
    answer: &SessionChallenge,
    staff: Option<Id>,
) -> Result<(SessionFor, Zeroizing<String>), ClientError> {
    let reporter = staff.is_none();
    let wrong = if reporter {
        ClientError::ReceiptDoesNotOpen
    } else {
        ClientError::StaffLogin
    };
    let (who, context) = if reporter {
        let thread = answer.thread.ok_or(ClientError::BadAnswer("thread"))?;
        (
            SessionFor::Thread(thread),
            session_context(thread, &Slot::Reporter),
        )
    } else {
        let staff = staff.ok_or(ClientError::StaffLogin)?;
        (
            SessionFor::Staff(staff),
            session_context(Id([0; 16]), &Slot::Staff(staff)),
        )
    };
    let wrapped = api::unb64(&answer.challenge).ok_or(ClientError::BadAnswer("challenge"))?;
    let key = wrap::unwrap(secret, &context, &wrapped).map_err(|_| wrong)?;
    Ok((
        who,
        Zeroizing::new(format!("{}.{}", answer.session, api::b64(key.expose()))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secret::Key32;

    fn challenge(to: &RecipientSecret, context: &[u8], key: &Key32) -> String {
        api::b64(&wrap::wrap(&to.public(), [3; 32], [4; 24], context, key).unwrap())
    }

    #[test]
    fn the_right_key_opens_its_session_and_no_other() {
        let me = RecipientSecret::from_bytes([1; 32]);
        let other = RecipientSecret::from_bytes([2; 32]);
        let secret = Key32::from_bytes([0x5a; 32]);
        let thread = Id([7; 16]);
        let answer = SessionChallenge {
            thread: Some(thread),
            staff: None,
            session: "c2Vzc2lvbg".into(),
            challenge: challenge(&me, &session_context(thread, &Slot::Reporter), &secret),
        };
        let (who, bearer) = open_challenge(&me, &answer, None).unwrap();
        assert_eq!(who, SessionFor::Thread(thread));
        assert_eq!(
            bearer.as_str(),
            format!("c2Vzc2lvbg.{}", api::b64(&[0x5a; 32]))
        );
        assert!(matches!(
            open_challenge(&other, &answer, None),
            Err(ClientError::ReceiptDoesNotOpen)
        ));

        let staff = Id([8; 16]);
        let answer = SessionChallenge {
            thread: None,
            session: "c2Vzc2lvbg".into(),
            staff: None,
            challenge: challenge(
                &me,
                &session_context(Id([0; 16]), &Slot::Staff(staff)),
                &secret,
            ),
        };
        assert_eq!(
            open_challenge(&me, &answer, Some(staff)).unwrap().0,
            SessionFor::Staff(staff)
        );
        assert!(matches!(
            open_challenge(&other, &answer, Some(staff)),
            Err(ClientError::StaffLogin)
        ));
        // A challenge made for another staff id does not open.
        assert!(matches!(
            open_challenge(&me, &answer, Some(Id([9; 16]))),
            Err(ClientError::StaffLogin)
        ));
    }
}
