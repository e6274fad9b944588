//! The `webhooks` table: a recipient's endpoints with their sealed secrets. A secret is sealed
//! before it is stored and opened only to sign a delivery; after a rotation the previous secret
//! signs too, until `previous_until`.

use crate::db::schema::webhooks;
use crate::domain::ids::{RecipientId, WebhookId};
use crate::domain::notice::WebhookStatus;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

/// How long the secret a rotation replaces keeps signing.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// A stored webhook (secrets sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: WebhookId,
    pub recipient_id: RecipientId,
    pub url: String,
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_until: Option<DateTime<Utc>>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a sealed secret is in the service-secrets scheme: it opens only as this purpose of
/// this webhook's row, and a rotation of the master key re-wraps the key under it.
const PURPOSE: &str = "webhooks.secret";

fn sealed(conn: &mut PgConnection, id: WebhookId, secret: &str) -> ApiResult<Vec<u8>> {
    crate::at_rest::seal_service_secret(conn, PURPOSE, id.uuid().as_bytes(), secret.as_bytes())
}

fn opened(conn: &mut PgConnection, id: WebhookId, sealed: &[u8]) -> ApiResult<String> {
    let plain = crate::at_rest::open_service_secret(conn, PURPOSE, id.uuid().as_bytes(), sealed)?
        .ok_or_else(|| ApiError::internal("a sealed webhook secret does not open"))?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| ApiError::internal("a webhook secret is not text"))
}

/// Stores a new active webhook with `secret` sealed.
pub fn insert(
    conn: &mut PgConnection,
    recipient: RecipientId,
    url: &str,
    secret: &str,
) -> ApiResult<WebhookRow> {
    let id = WebhookId::new();
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let row = WebhookRow {
        id,
        recipient_id: recipient,
        url: url.to_owned(),
        secret: sealed(conn, id, secret)?,
        previous_secret: None,
        previous_until: None,
        status: WebhookStatus::Active.as_str().to_owned(),
        created_at: now,
        updated_at: now,
    };
    Ok(diesel::insert_into(webhooks::table)
        .values(&row)
        .returning(WebhookRow::as_returning())
        .get_result(conn)?)
}

/// The stored status of a deleted webhook (never shown: deleted webhooks are not listed).
const DELETED: &str = "deleted";

/// The webhooks of a recipient, oldest first.
pub fn of_recipient(conn: &mut PgConnection, recipient: RecipientId) -> ApiResult<Vec<WebhookRow>> {
    Ok(webhooks::table
        .filter(webhooks::recipient_id.eq(recipient))
        .filter(webhooks::status.ne(DELETED))
        .order((webhooks::created_at, webhooks::id))
        .select(WebhookRow::as_select())
        .load(conn)?)
}

/// One webhook of a recipient under a row lock, or 404.
pub fn lock(
    conn: &mut PgConnection,
    recipient: RecipientId,
    id: WebhookId,
) -> ApiResult<WebhookRow> {
    webhooks::table
        .find(id)
        .filter(webhooks::recipient_id.eq(recipient))
        .filter(webhooks::status.ne(DELETED))
        .select(WebhookRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("webhook"))
}

/// Replaces the secret; the current one keeps signing for [`ROTATION_OVERLAP`].
pub fn rotate(conn: &mut PgConnection, row: &WebhookRow, secret: &str) -> ApiResult<WebhookRow> {
    let now = Utc::now();
    Ok(diesel::update(webhooks::table.find(row.id))
        .set((
            webhooks::secret.eq(sealed(conn, row.id, secret)?),
            webhooks::previous_secret.eq(Some(&row.secret)),
            webhooks::previous_until.eq(Some(now + ROTATION_OVERLAP)),
            webhooks::updated_at.eq(now),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)?)
}

/// Deletes a webhook: its secrets are destroyed and its pending notices become `manual`. The row
/// stays (marked deleted, never listed) so that a notice queued at the same moment still has what
/// it references; the worker turns such a notice `manual` when it claims it.
pub fn delete(conn: &mut PgConnection, id: WebhookId) -> ApiResult<()> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::status.eq(DELETED),
            webhooks::secret.eq(Vec::<u8>::new()),
            webhooks::previous_secret.eq(None::<Vec<u8>>),
            webhooks::previous_until.eq(None::<DateTime<Utc>>),
            webhooks::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    super::model::orphan(conn, id)?;
    Ok(())
}

/// Whether a webhook receives notices now.
pub fn active(row: &WebhookRow) -> bool {
    row.status == WebhookStatus::Active.as_str()
}

/// Disables a webhook whose receiver answered 410 Gone; its pending notices become `manual`.
pub fn disable(conn: &mut PgConnection, id: WebhookId) -> ApiResult<()> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::status.eq(WebhookStatus::Disabled.as_str()),
            webhooks::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    super::model::orphan(conn, id)?;
    Ok(())
}

/// The HMAC keys that sign for a webhook now: its secret's, and the previous one's while it
/// still overlaps.
pub fn signing_keys(
    conn: &mut PgConnection,
    row: &WebhookRow,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Vec<u8>>> {
    let mut keys = Vec::with_capacity(2);
    let current = opened(conn, row.id, &row.secret)?;
    keys.push(super::sign::key_of(&current).ok_or_else(|| ApiError::internal("bad secret"))?);
    if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_until) {
        if now < until {
            let previous = opened(conn, row.id, previous)?;
            keys.push(
                super::sign::key_of(&previous).ok_or_else(|| ApiError::internal("bad secret"))?,
            );
        }
    }
    Ok(keys)
}

/// Webhooks by id, for the worker.
pub fn by_ids(conn: &mut PgConnection, ids: &[WebhookId]) -> ApiResult<Vec<WebhookRow>> {
    Ok(webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select(WebhookRow::as_select())
        .load(conn)?)
}
