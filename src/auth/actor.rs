//! Who calls: the contract's scopes, and the actor a token makes of its caller.

use super::subject::{SubjectLogin, UNKNOWN_SUBJECT};
use std::sync::Arc;
use uuid::Uuid;

/// The scopes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    SubjectsRead,
    SubjectsWrite,
    ConsentsRead,
    ConsentsWrite,
    RecipientsRead,
    RecipientsWrite,
    DisclosuresRead,
    DisclosuresWrite,
    AccessLogsRead,
    Partner,
    SubjectsErase,
    RetentionRead,
    RetentionWrite,
    RequestsRead,
    RequestsWrite,
    NotificationsRead,
    NotificationsWrite,
    AccessLogsCheckpoint,
    RopaRead,
    RopaWrite,
    BreachesRead,
    BreachesWrite,
}

impl Scope {
    /// Every scope, in the contract's order (version 1, then version 2).
    pub const ALL: [Scope; 22] = [
        Scope::SubjectsRead,
        Scope::SubjectsWrite,
        Scope::ConsentsRead,
        Scope::ConsentsWrite,
        Scope::RecipientsRead,
        Scope::RecipientsWrite,
        Scope::DisclosuresRead,
        Scope::DisclosuresWrite,
        Scope::AccessLogsRead,
        Scope::Partner,
        Scope::SubjectsErase,
        Scope::RetentionRead,
        Scope::RetentionWrite,
        Scope::RequestsRead,
        Scope::RequestsWrite,
        Scope::NotificationsRead,
        Scope::NotificationsWrite,
        Scope::AccessLogsCheckpoint,
        Scope::RopaRead,
        Scope::RopaWrite,
        Scope::BreachesRead,
        Scope::BreachesWrite,
    ];

    /// The scope's name in the `scope` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SubjectsRead => "subjects:read",
            Scope::SubjectsWrite => "subjects:write",
            Scope::ConsentsRead => "consents:read",
            Scope::ConsentsWrite => "consents:write",
            Scope::RecipientsRead => "recipients:read",
            Scope::RecipientsWrite => "recipients:write",
            Scope::DisclosuresRead => "disclosures:read",
            Scope::DisclosuresWrite => "disclosures:write",
            Scope::AccessLogsRead => "access-logs:read",
            Scope::Partner => "partner",
            Scope::SubjectsErase => "subjects:erase",
            Scope::RetentionRead => "retention:read",
            Scope::RetentionWrite => "retention:write",
            Scope::RequestsRead => "requests:read",
            Scope::RequestsWrite => "requests:write",
            Scope::NotificationsRead => "notifications:read",
            Scope::NotificationsWrite => "notifications:write",
            Scope::AccessLogsCheckpoint => "access-logs:checkpoint",
            Scope::RopaRead => "ropa:read",
            Scope::RopaWrite => "ropa:write",
            Scope::BreachesRead => "breaches:read",
            Scope::BreachesWrite => "breaches:write",
        }
    }

    /// The scope of a name in the `scope` claim.
    pub fn from_name(name: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Every scope name, space-separated: what an error lists as the valid ones.
    pub fn names() -> String {
        Self::ALL.map(Scope::as_str).join(" ")
    }

    pub(super) fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Every staff scope (all but `partner`), space-separated: what a development token carries.
    pub fn all_staff() -> String {
        Self::ALL
            .iter()
            .filter(|s| **s != Scope::Partner)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An authenticated caller: who, with which scopes, and for partners which recipient; for a
/// person's own token, their login (no scope: every staff and partner endpoint refuses it).
#[derive(Debug, Clone)]
pub struct Actor {
    /// What the access log records as the actor: the token's `sub`, or for a person
    /// `subject:<id>` once matched (never their code).
    pub sub: String,
    pub(super) scopes: u32,
    pub recipient_id: Option<Uuid>,
    pub login: Option<Arc<SubjectLogin>>,
}

impl Actor {
    /// Builds an actor from a subject and scopes (used by tests and internal jobs).
    pub fn new(sub: impl Into<String>, scopes: &[Scope], recipient_id: Option<Uuid>) -> Self {
        Self {
            sub: sub.into(),
            scopes: scopes.iter().fold(0, |acc, s| acc | s.bit()),
            recipient_id,
            login: None,
        }
    }

    /// A person calling with their own token, not yet matched to a record.
    pub fn person(login: SubjectLogin) -> Self {
        Self {
            sub: UNKNOWN_SUBJECT.to_owned(),
            scopes: 0,
            recipient_id: None,
            login: Some(Arc::new(login)),
        }
    }

    /// True when the token carries the scope.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes & scope.bit() != 0
    }
}
