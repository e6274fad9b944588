//! Retention rules, runs and the due query. The query is one indexed range per rule over
//! `subjects_retention (kind, last_activity_at, id) WHERE erased_at IS NULL`, merged in keyset
//! order, so a page costs the same at a million subjects as at a hundred.

use crate::db::schema::{retention_rules as rules, retention_runs as runs};
use crate::domain::ids::{RetentionRuleId, RetentionRunId, SubjectId};
use crate::domain::retention::due_before;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, Bool, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};

/// A stored rule.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = rules, check_for_backend(diesel::pg::Pg))]
pub struct RuleRow {
    pub id: RetentionRuleId,
    pub version: i32,
    pub subject_kind: String,
    pub keep_months: i32,
    pub legal_basis: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RuleRow {
    /// The rule's months as the date arithmetic takes them (the table allows 1 to 1200).
    pub fn months(&self) -> u32 {
        u32::try_from(self.keep_months).unwrap_or(0)
    }
}

/// A stored run.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = runs, check_for_backend(diesel::pg::Pg))]
pub struct RunRow {
    pub id: RetentionRunId,
    pub status: String,
    pub as_of: NaiveDate,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub erased: i64,
    pub skipped_on_hold: i64,
    pub after_activity_at: Option<DateTime<Utc>>,
    pub after_subject_id: Option<SubjectId>,
}

/// Inserts a rule; 409 when the kind has one.
pub fn insert_rule(conn: &mut PgConnection, row: &RuleRow) -> ApiResult<()> {
    match diesel::insert_into(rules::table).values(row).execute(conn) {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
            ApiError::conflict("this subject_kind has a rule already; change that one"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Every rule, by kind.
pub fn all_rules(conn: &mut PgConnection) -> ApiResult<Vec<RuleRow>> {
    Ok(rules::table
        .order(rules::subject_kind)
        .select(RuleRow::as_select())
        .load(conn)?)
}

/// The rule locked for a change, or 404.
pub fn lock_rule(conn: &mut PgConnection, id: RetentionRuleId) -> ApiResult<RuleRow> {
    rules::table
        .find(id)
        .select(RuleRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("retention rule"))
}

/// Stores a changed rule.
pub fn update_rule(conn: &mut PgConnection, row: &RuleRow) -> ApiResult<()> {
    diesel::update(rules::table.find(row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// The position of a subject in the due order: last activity, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueKey {
    pub last_activity_at: DateTime<Utc>,
    pub subject_id: SubjectId,
}

impl std::fmt::Display for DueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let micros = self.last_activity_at.timestamp_micros();
        write!(f, "{micros}_{}", self.subject_id)
    }
}

impl std::str::FromStr for DueKey {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (micros, id) = s.split_once('_').ok_or(())?;
        Ok(Self {
            last_activity_at: DateTime::from_timestamp_micros(micros.parse().map_err(|_| ())?)
                .ok_or(())?,
            subject_id: SubjectId(id.parse().map_err(|_| ())?),
        })
    }
}

/// What each rule makes due on a day: its kind and the moment before which a last activity is
/// due. A rule whose bound is off the calendar makes nothing due.
#[derive(Debug, Clone)]
pub struct Cutoffs {
    pub kinds: Vec<String>,
    pub before: Vec<DateTime<Utc>>,
    pub rules: Vec<RuleRow>,
}

impl Cutoffs {
    /// The bounds of every rule on `as_of`.
    pub fn on(rules: Vec<RuleRow>, as_of: NaiveDate) -> Self {
        let mut cutoffs = Self {
            kinds: Vec::new(),
            before: Vec::new(),
            rules: Vec::new(),
        };
        for rule in rules {
            if let Some(bound) = due_before(as_of, rule.months()) {
                cutoffs.kinds.push(rule.subject_kind.clone());
                cutoffs.before.push(bound);
                cutoffs.rules.push(rule);
            }
        }
        cutoffs
    }

    /// The rule of a kind.
    pub fn rule_of(&self, kind: &str) -> Option<&RuleRow> {
        self.rules.iter().find(|r| r.subject_kind == kind)
    }

    /// The bound of a kind.
    pub fn before_of(&self, kind: &str) -> Option<DateTime<Utc>> {
        let i = self.kinds.iter().position(|k| k == kind)?;
        self.before.get(i).copied()
    }
}

/// One subject past its keep date.
#[derive(Debug, Clone, QueryableByName)]
pub struct DueRow {
    #[diesel(sql_type = SqlUuid)]
    pub subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The stored `last_activity_at`: what the list is ordered and resumed by.
    #[diesel(sql_type = Timestamptz)]
    pub stored_at: DateTime<Utc>,
    /// The last activity as retention counts it (`withheld::last_activity`).
    #[diesel(sql_type = Timestamptz)]
    pub last_activity_at: DateTime<Utc>,
    /// Whether an active hold covers it now.
    #[diesel(sql_type = Bool)]
    pub on_hold: bool,
}

impl DueRow {
    pub fn key(&self) -> DueKey {
        DueKey {
            last_activity_at: self.stored_at,
            subject_id: self.subject_id,
        }
    }
}

/// True when an active hold covers the subject `s` (a probe of the partial index of active
/// holds): the same rule as `holds::active_hold`, which the erasure itself checks.
const ACTIVE_HOLD: &str =
    "EXISTS (SELECT 1 FROM holds h WHERE h.subject_id = s.id AND h.released_at IS NULL)";

/// Up to `limit` subjects past their keep date after `after`, in (last activity, id) order:
/// per rule an index range (`LATERAL`, each with its own limit), merged. `with_held` keeps the
/// subjects an active hold covers (flagged `on_hold`), which a run counts; the due list leaves
/// them out.
pub fn past_keep_date(
    conn: &mut PgConnection,
    cutoffs: &Cutoffs,
    after: Option<DueKey>,
    limit: i64,
    with_held: bool,
) -> ApiResult<Vec<DueRow>> {
    if cutoffs.kinds.is_empty() {
        return Ok(Vec::new());
    }
    let held = ACTIVE_HOLD;
    let filter = if with_held {
        String::new()
    } else {
        format!("AND NOT {held}")
    };
    // Two texts rather than `$3 IS NULL OR ...`, so that the cursor is always an index bound.
    let after_cursor = if after.is_some() {
        "AND (s.last_activity_at, s.id) > ($3, $4)"
    } else {
        "AND $3::timestamptz IS NULL AND $4::uuid IS NULL"
    };
    // The index range is over the stored column; a withheld disclosure whose date has come
    // can only make the last activity later, so the range holds every subject due and the
    // filter on the last activity as read (`last_activity`) drops the others.
    let last = crate::disclosures::withheld::last_activity("s");
    let sql = format!(
        "SELECT d.subject_id, d.kind, d.stored_at, d.last_activity_at, d.on_hold \
         FROM unnest($1::text[], $2::timestamptz[]) AS r(kind, before), LATERAL ( \
           SELECT s.id AS subject_id, s.kind, s.last_activity_at AS stored_at, \
             {last} AS last_activity_at, {held} AS on_hold \
           FROM subjects s \
           WHERE s.kind = r.kind AND s.erased_at IS NULL AND s.last_activity_at < r.before \
             AND {last} < r.before {after_cursor} {filter} \
           ORDER BY s.last_activity_at, s.id LIMIT $5) AS d \
         ORDER BY d.stored_at, d.subject_id LIMIT $5"
    );
    let rows = diesel::sql_query(sql)
        .bind::<Array<Text>, _>(&cutoffs.kinds)
        .bind::<Array<Timestamptz>, _>(&cutoffs.before)
        .bind::<Nullable<Timestamptz>, _>(after.map(|k| k.last_activity_at))
        .bind::<Nullable<SqlUuid>, _>(after.map(|k| k.subject_id))
        .bind::<Int8, _>(limit)
        .load(conn)?;
    Ok(rows)
}

/// Locks the subject for its erasure by a run, if it is still due under the rule it was found
/// by: not erased, not active since, the rule unchanged (share-locked, so a change of it waits
/// for this erasure). False when any of that no longer holds.
pub fn lock_if_still_due(
    conn: &mut PgConnection,
    subject: SubjectId,
    rule: &RuleRow,
    before: DateTime<Utc>,
) -> ApiResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = SqlUuid)]
        #[expect(dead_code, reason = "only whether a row came back matters")]
        id: SubjectId,
    }
    let found: Option<Found> = diesel::sql_query(format!(
        "SELECT s.id FROM subjects s, retention_rules r \
         WHERE s.id = $1 AND s.erased_at IS NULL AND {} < $2 \
           AND r.id = $3 AND r.version = $4 AND r.subject_kind = s.kind \
         FOR UPDATE OF s FOR SHARE OF r",
        crate::disclosures::withheld::last_activity("s")
    ))
    .bind::<SqlUuid, _>(subject)
    .bind::<Timestamptz, _>(before)
    .bind::<SqlUuid, _>(rule.id)
    .bind::<diesel::sql_types::Int4, _>(rule.version)
    .get_result(conn)
    .optional()?;
    Ok(found.is_some())
}

/// Inserts a run unless one is under way (then 0 rows).
pub fn insert_run(conn: &mut PgConnection, row: &RunRow) -> QueryResult<usize> {
    diesel::insert_into(runs::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
}

/// The run, or 404.
pub fn find_run(conn: &mut PgConnection, id: RetentionRunId) -> ApiResult<RunRow> {
    runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("retention run"))
}

/// The run under way, if any (there is at most one).
pub fn running(conn: &mut PgConnection) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::status.eq("running"))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// When the last run started, if any ran.
pub fn last_started(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    runs::table
        .select(diesel::dsl::max(runs::started_at))
        .first(conn)
}

/// Counts erasures in the run's row, in their transaction (so a crash loses neither
/// or both).
pub fn count_erased(conn: &mut PgConnection, run: RetentionRunId, erased: i64) -> ApiResult<()> {
    diesel::update(runs::table.find(run))
        .set(runs::erased.eq(runs::erased + erased))
        .execute(conn)?;
    Ok(())
}

/// Notes progress in the run's row: counts added and how far it got.
pub fn advance(
    conn: &mut PgConnection,
    run: RetentionRunId,
    erased: i64,
    skipped: i64,
    after: DueKey,
) -> ApiResult<()> {
    diesel::update(runs::table.find(run))
        .set((
            runs::erased.eq(runs::erased + erased),
            runs::skipped_on_hold.eq(runs::skipped_on_hold + skipped),
            runs::after_activity_at.eq(Some(after.last_activity_at)),
            runs::after_subject_id.eq(Some(after.subject_id)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends the run as `finished` or `failed`.
pub fn end(conn: &mut PgConnection, run: RetentionRunId, status: &str) -> ApiResult<()> {
    diesel::update(runs::table.find(run).filter(runs::status.eq("running")))
        .set((
            runs::status.eq(status),
            runs::finished_at.eq(Some(Utc::now())),
        ))
        .execute(conn)?;
    Ok(())
}
