//! Service secrets (webhook secrets and the like): sealed under the service-secrets key, itself
//! wrapped by the master key, so that a rotation of `DATA_KEY` re-wraps one key and every sealed
//! secret stays readable.

use super::cipher::Place;
use super::store::{service_cipher, ServiceKey};
use crate::error::ApiResult;
use diesel::PgConnection;
use zeroize::Zeroizing;

/// Seals `plaintext` as the `purpose` (such as `"webhooks.secret"`) of the row `row` (its id's
/// bytes): it opens only with the same purpose and row.
pub fn seal_service_secret(
    conn: &mut PgConnection,
    purpose: &'static str,
    row: &[u8],
    plaintext: &[u8],
) -> ApiResult<Vec<u8>> {
    let place = Place {
        table: "service_secrets",
        column: purpose,
        row,
    };
    Ok(service_cipher(conn, ServiceKey::Secrets)?.seal(place, plaintext))
}

/// Opens what [`seal_service_secret`] sealed for this purpose and row; `None` when it does not
/// open (another row's secret, or tampered with).
pub fn open_service_secret(
    conn: &mut PgConnection,
    purpose: &'static str,
    row: &[u8],
    sealed: &[u8],
) -> ApiResult<Option<Zeroizing<Vec<u8>>>> {
    let place = Place {
        table: "service_secrets",
        column: purpose,
        row,
    };
    Ok(service_cipher(conn, ServiceKey::Secrets)?.open(place, sealed))
}
