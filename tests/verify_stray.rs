//! `verify` finds an entry that bypassed the chain however the counts are arranged: it counts
//! the entries below the horizon against the links only when no chained entry's `txid` was moved
//! past the horizon, so a forger who lifts one chained entry out of the count and slips one of
//! their own in is still named.

use crate::access_log::{chained_log, ids, tamper, verify};

#[actix_web::test]
async fn verify_finds_a_stray_entry_when_a_chained_one_left_the_count() {
    let app = chained_log(4).await;
    let ids = ids(&app);
    tamper(
        &app,
        &format!(
            "UPDATE access_log SET txid = 9223372036854775000 WHERE id = '{}';
             INSERT INTO access_log (id, at, actor, action, outcome, request_id, txid)
             VALUES ('00000000-0000-7000-8000-000000000002', now() - interval '1 day', 'forger',
                     'subject.read', 'allowed', 'x', 1)",
            ids[1]
        ),
    );
    let v = verify(&app).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_id"], "00000000-0000-7000-8000-000000000002");
}
