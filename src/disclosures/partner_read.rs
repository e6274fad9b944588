//! The partner read riding the group commit: a batch checks the authorizations of all its
//! partner reads, fetches the subjects, records the disclosures and appends the entries in one
//! transaction, with a handful of statements for the whole batch.
//!
//! The guarantees are those of one transaction per read: the subjects are key-share locked
//! first (like every change about a subject, see `subjects::model::Lock`), so an erasure or
//! restriction waits for the batch or the batch for it, and an erased or restricted subject
//! gets the refusal of an unknown one; the recipients and the authorizations used are
//! share-locked until the batch commits, so a suspension or revocation waits for the
//! disclosures decided on them, and one that has returned binds every later batch (each
//! statement sees what committed before it began).

use super::model::{self, AuthorizationRow, NewDisclosureRow};
use crate::access_log::group_commit::GroupOp;
use crate::access_log::{NewEntry, Outcome};
use crate::db::schema::disclosure_authorizations as auths;
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{AuthorizationId, DisclosureId, RecipientId, SubjectId};
use crate::error::ApiResult;
use crate::subjects::model::Keyed;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// The channel of disclosures made through the partner endpoints.
pub const PARTNER_CHANNEL: &str = "partner_api";

/// One partner's read of one subject.
pub struct PartnerJob {
    pub subject: SubjectId,
    pub recipient: RecipientId,
    /// The `partner.read` entry; appended as allowed or, when nothing may be released, denied.
    pub entry: NewEntry,
    /// `ART14_ENFORCEMENT=block`: a person not yet told (Art. 14) is not released.
    pub block_uninformed: bool,
}

/// What a partner read answers.
pub enum Verdict {
    /// What may be released: the subject's row (still sealed: the request opens it, see
    /// [`model::fields_of`]) and the categories covering it.
    Released(Box<Keyed>, BTreeSet<DataCategory>),
    /// Nothing may be released, whether or not the subject exists (one refusal for both).
    Refused,
    /// Covered, but the person is owed Art. 14 information not yet given and
    /// `ART14_ENFORCEMENT=block`: judged only after the authorization passed.
    NotInformed,
}

/// Checks, records and logs partner reads.
pub struct PartnerRead;

impl GroupOp for PartnerRead {
    type Job = PartnerJob;
    type Answer = Verdict;
    // A disclosure record says data went out: not for a partner that was answered 503.
    const CHANGES_DATA: bool = true;

    fn apply(
        conn: &mut PgConnection,
        jobs: &[PartnerJob],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<Verdict>> {
        let now = Utc::now();
        let releasable = model::lock_releasable_subjects(conn, jobs.iter().map(|j| j.subject))?;
        let grants = grants_of(conn, jobs, now)?;
        let covered: Vec<BTreeSet<DataCategory>> = jobs
            .iter()
            .map(|job| match grants.get(&(job.subject, job.recipient)) {
                Some(g) if releasable.contains(&job.subject) => model::covered(g),
                _ => Ok(BTreeSet::new()),
            })
            .collect::<ApiResult<_>>()?;
        let wanted: Vec<SubjectId> = jobs
            .iter()
            .zip(&covered)
            .filter(|(_, c)| !c.is_empty())
            .map(|(job, _)| job.subject)
            .collect();
        let fields: HashMap<SubjectId, Keyed> = if wanted.is_empty() {
            HashMap::new()
        } else {
            model::subjects_sealed(conn, &wanted)?
                .into_iter()
                .map(|row| (row.0.id, row))
                .collect()
        };
        // A plain read of the statuses, no lock: the order of the batch's locks stays as it was.
        let checked: Vec<SubjectId> = jobs
            .iter()
            .filter(|job| job.block_uninformed && fields.contains_key(&job.subject))
            .map(|job| job.subject)
            .collect();
        let uninformed = crate::art14::model::uninformed(conn, &checked)?;
        let mut rows = Vec::new();
        let mut answers = Vec::with_capacity(jobs.len());
        for (job, covered) in jobs.iter().zip(covered) {
            let released = fields.get(&job.subject).filter(|_| !covered.is_empty());
            let Some(fields) = released else {
                entries.push(denied(&job.entry));
                answers.push(Verdict::Refused);
                continue;
            };
            if job.block_uninformed && uninformed.contains(&job.subject) {
                entries.push(denied(&job.entry));
                answers.push(Verdict::NotInformed);
                continue;
            }
            let used = grants
                .get(&(job.subject, job.recipient))
                .map(|g| model::used_for(g, &covered))
                .transpose()?
                .unwrap_or_default();
            rows.push(disclosure(job, &covered, used, now));
            entries.push(job.entry.clone());
            answers.push(Verdict::Released(Box::new(fields.clone()), covered));
        }
        for chunk in rows.chunks(5000) {
            model::insert_disclosures(conn, chunk)?;
        }
        Ok(answers)
    }
}

/// The authorizations in force for each (subject, recipient) of the batch whose recipient is
/// active, share-locked with their recipients until the batch commits.
fn grants_of(
    conn: &mut PgConnection,
    jobs: &[PartnerJob],
    now: DateTime<Utc>,
) -> ApiResult<HashMap<(SubjectId, RecipientId), Vec<AuthorizationRow>>> {
    let mut recipients: Vec<RecipientId> = jobs.iter().map(|j| j.recipient).collect();
    recipients.sort_unstable();
    recipients.dedup();
    let active = model::lock_active_recipients(conn, &recipients)?;
    let mut grants: HashMap<(SubjectId, RecipientId), Vec<AuthorizationRow>> = HashMap::new();
    if active.is_empty() {
        return Ok(grants);
    }
    let subjects: Vec<SubjectId> = jobs.iter().map(|j| j.subject).collect();
    let rows: Vec<AuthorizationRow> = auths::table
        .filter(auths::subject_id.eq_any(&subjects))
        .filter(auths::recipient_id.eq_any(&active))
        .filter(model::in_force(now))
        .order(auths::id)
        .select(AuthorizationRow::as_select())
        .for_share()
        .load(conn)?;
    for row in rows {
        grants
            .entry((row.subject_id, row.recipient_id))
            .or_default()
            .push(row);
    }
    Ok(grants)
}

fn denied(entry: &NewEntry) -> NewEntry {
    let mut entry = entry.clone();
    entry.outcome = Outcome::Denied.as_str().to_owned();
    entry
}

fn disclosure(
    job: &PartnerJob,
    covered: &BTreeSet<DataCategory>,
    authorization_ids: Vec<AuthorizationId>,
    at: DateTime<Utc>,
) -> NewDisclosureRow {
    NewDisclosureRow {
        id: DisclosureId::new(),
        subject_id: job.subject,
        recipient_id: job.recipient,
        data_categories: DataCategory::names(covered),
        channel: PARTNER_CHANNEL.to_owned(),
        note: None,
        authorization_ids,
        actor: job.entry.actor.clone(),
        at,
        request_id: job.entry.request_id.clone(),
        // Only a staff record may be withheld from the person.
        withheld_until: None,
        withheld_reason: None,
    }
}
