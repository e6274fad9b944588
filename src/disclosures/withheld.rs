//! Withheld disclosures (contract v3, A): the one rule, as SQL, of what a person is not shown
//! yet. A legal-obligation disclosure may be withheld from the person until a Europe/Tallinn
//! date; before it, the person's views leave out the disclosure, the authorizations covering it,
//! their entries, and every notice to that recipient about the person with the notices' entries,
//! and the disclosure is not activity. The date is compared when read (no job releases it), so
//! everything appears on that date by itself. Staff views use none of this: they see all.
//!
//! Each function takes the alias of the row it asks about and returns a boolean SQL expression;
//! every view of the person builds its filter from these, never writing the rule again.

/// Today's Europe/Tallinn date in SQL (the transaction's start, as every other date it reads).
const TODAY: &str = "(now() AT TIME ZONE 'Europe/Tallinn')::date";

/// The withheld disclosures `w` of the subject `subject` (an SQL expression), as the tail of a
/// `FROM disclosures w` query. The comparison stays a plain qual, so that the partial index
/// `disclosures_withheld` answers it (nearly always: no row).
fn withheld_of(subject: &str) -> String {
    format!("w.subject_id = {subject} AND w.withheld_until > {TODAY}")
}

/// True when disclosure `d` is shown to its person now: not withheld, or its date has come.
pub fn disclosure_shown(d: &str) -> String {
    format!("({d}.withheld_until IS NULL OR {d}.withheld_until <= {TODAY})")
}

/// True when access-log entry `a` is withheld from its subject now: the entry of a withheld
/// disclosure or of a change of its withholding (both `disclosure.record`, found by request
/// id), the grant or revocation of an authorization covering it, or a notice's entry naming
/// its recipient.
pub fn entry_withheld(a: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM disclosures w WHERE {} AND ( \
           ({a}.action = 'disclosure.record' AND ({a}.request_id = w.request_id \
              OR {a}.request_id = ANY (w.withholding_request_ids))) \
           OR ({a}.action LIKE 'notification.%' AND {a}.recipient_id = w.recipient_id) \
           OR ({a}.action IN ('disclosure.authorize', 'disclosure.revoke') AND EXISTS ( \
              SELECT 1 FROM disclosure_authorizations x WHERE x.id = ANY (w.authorization_ids) \
                AND {a}.request_id IN (x.request_id, x.revoked_request_id)))))",
        withheld_of(&format!("{a}.subject_id"))
    )
}

/// True when authorization `x` covers a disclosure withheld from its subject now.
pub fn authorization_withheld(x: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM disclosures w WHERE {} AND {x}.id = ANY (w.authorization_ids))",
        withheld_of(&format!("{x}.subject_id"))
    )
}

/// True when notice `n` goes to the recipient of a disclosure withheld from its subject now.
pub fn notice_withheld(n: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM disclosures w WHERE {} AND w.recipient_id = {n}.recipient_id)",
        withheld_of(&format!("{n}.subject_id"))
    )
}

/// The last activity of subject `s`: its stored `last_activity_at`, or the moment of a
/// disclosure withheld when recorded (which did not move it) whose date has come, if later.
/// Recording a withheld disclosure leaves `last_activity_at` alone, and no job runs on the
/// date: so every reader of the keep date asks this instead of the column.
pub fn last_activity(s: &str) -> String {
    format!(
        "greatest({s}.last_activity_at, (SELECT max(w.at) FROM disclosures w \
           WHERE w.subject_id = {s}.id AND w.withheld_until <= {TODAY}))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_asks_about_the_alias_it_is_given() {
        assert!(entry_withheld("e").contains("w.subject_id = e.subject_id"));
        assert!(authorization_withheld("x").contains("x.id = ANY"));
        assert!(notice_withheld("n").contains("w.recipient_id = n.recipient_id"));
        assert!(last_activity("s").starts_with("greatest(s.last_activity_at"));
        assert!(disclosure_shown("d").contains("d.withheld_until IS NULL"));
    }
}
