//! The auditor's check on hand-made logs: cases found by trying the
//! product (spec/retention.md, "What the auditor can check").

use buzon::core::Day;
use buzon::core::retention::{
    EntityId, Entry, Event, Handle, Policy, Rule, Violation, ZoneName, check,
};
use buzon::core::status::Kind;

const E: EntityId = EntityId([1; 16]);
const T: Handle = Handle([2; 16]);

fn at(day: u32, event: Event) -> Entry {
    Entry {
        day: Day(day),
        event,
    }
}

/// An entity set up and its policy shortened for existing threads on the
/// same day, a thread made that day, the server down past the short
/// deadline: the deletion is late under the policy the server applied, and
/// the check says so instead of calling it a mismatch under the old one.
#[test]
fn a_late_deletion_on_a_policy_change_day_is_late_not_a_mismatch() {
    let long = Policy::default_for(Kind::Claim);
    let short = Policy {
        closed: 10,
        inactive: 20,
        receipt: 20,
        cap: 30,
    };
    let d = 20_000;
    let log = vec![
        at(
            d,
            Event::Entity {
                entity: E,
                zone: ZoneName::new("America/Mexico_City").unwrap(),
            },
        ),
        at(
            d,
            Event::Policy {
                entity: E,
                kind: Kind::Claim,
                policy: long,
                existing: false,
            },
        ),
        at(
            d,
            Event::Policy {
                entity: E,
                kind: Kind::Claim,
                policy: short,
                existing: true,
            },
        ),
        at(
            d,
            Event::Created {
                entity: E,
                thread: T,
                kind: Kind::Claim,
                policy: short,
            },
        ),
        at(
            d + 43,
            Event::Deleted {
                entity: E,
                thread: T,
                rule: Rule::Cap,
                deadline: Some(Day(d + 30)),
            },
        ),
    ];
    let r = check(&log, u64::from(d + 45) * 86_400 + 43_200);
    assert!(
        matches!(
            r.violations.as_slice(),
            [Violation::DeletedLate { deadline, .. }] if *deadline == Day(d + 30)
        ),
        "{:?}",
        r.violations
    );
    assert_eq!((r.deleted_late, r.deleted_on_time), (1, 0));
}
