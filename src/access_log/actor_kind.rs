//! What a person is shown of who acted in an entry about them: the actor's kind, never the
//! actor itself (CJEU C-579/21: staff identities stay with the controller).

/// The kind of entry `a`'s actor, as SQL, `$1` being the person's subject id: `recipient` (the
/// entry names a recipient), `system` (`system:*`), `you` (the person's own token, or a link
/// they were sent: `link:*`), else `staff`.
pub const ACTOR_KIND_OF_A: &str = "CASE WHEN a.recipient_id IS NOT NULL THEN 'recipient' \
     WHEN a.actor LIKE 'system:%' THEN 'system' \
     WHEN a.actor LIKE 'link:%' OR a.actor = 'subject:' || $1::text THEN 'you' \
     ELSE 'staff' END";

/// Who acted, as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The person themselves, or a link they were sent.
    You,
    /// An organisation PlanPro discloses data to.
    Recipient,
    /// The service on its own (retention, notices).
    System,
    /// PlanPro's staff (who exactly is not shown).
    Staff,
}

impl ActorKind {
    /// The kind [`ACTOR_KIND_OF_A`] names.
    pub fn of(kind: &str) -> Self {
        match kind {
            "you" => Self::You,
            "recipient" => Self::Recipient,
            "system" => Self::System,
            _ => Self::Staff,
        }
    }

    /// The kind of an entry's actor, decided as [`ACTOR_KIND_OF_A`] decides it; `own` is the
    /// person's own actor (`subject:<id>`).
    pub fn of_entry(actor: &str, recipient: Option<uuid::Uuid>, own: &str) -> Self {
        if recipient.is_some() {
            Self::Recipient
        } else if actor.starts_with("system:") {
            Self::System
        } else if actor.starts_with("link:") || actor == own {
            Self::You
        } else {
            Self::Staff
        }
    }
}
