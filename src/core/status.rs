//! The life of a thread, as staff move it along.

use serde::{Deserialize, Serialize};

/// Kind of thread the reporter chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// *Pregunta*: an ethics question.
    Question,
    /// *Denuncia*: a report of wrongdoing.
    Claim,
}

impl Kind {
    /// The stored and API word (`question`, `claim`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Question => "question",
            Kind::Claim => "claim",
        }
    }

    pub fn from_key(s: &str) -> Option<Kind> {
        [Kind::Question, Kind::Claim]
            .into_iter()
            .find(|k| k.key() == s)
    }
}

/// Status of a thread: received → acknowledged → in progress → answered /
/// not within competence → closed; a closed thread can be reopened (it goes
/// back to in progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Acknowledged,
    InProgress,
    Answered,
    NotCompetent,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::Acknowledged,
        Status::InProgress,
        Status::Answered,
        Status::NotCompetent,
        Status::Closed,
    ];

    /// Whether staff may move a thread from `self` to `to`.
    pub fn may_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (a, b) if a == b => false,
            (Closed, InProgress) => true,
            (Closed, _) => false,
            (_, Received) => false,
            (Received, _) => true,
            (Acknowledged, InProgress | Answered | NotCompetent | Closed) => true,
            (InProgress, Answered | NotCompetent | Closed) => true,
            (Answered | NotCompetent, InProgress | Closed) => true,
            _ => false,
        }
    }

    /// The statuses reachable from `self`.
    pub fn next(self) -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|s| self.may_become(*s))
            .collect()
    }

    pub fn key(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Answered => "answered",
            Status::NotCompetent => "not_competent",
            Status::Closed => "closed",
        }
    }

    pub fn from_key(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.key() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_only_from_closed_to_in_progress() {
        assert_eq!(Status::Closed.next(), vec![Status::InProgress]);
        assert!(!Status::Answered.may_become(Status::Received));
        assert!(Status::Received.may_become(Status::Acknowledged));
    }
}
