//! The operations that ride the access log's group commit, in the order a batch runs them.
//! That order is also the order in which a batch takes row locks: an operation that locks rows
//! another one reads goes first. Adding a batched operation is one line here.

use crate::access_log::group_commit::GroupOps;

/// Every batched operation.
pub fn operations() -> GroupOps {
    GroupOps::new()
        .with::<crate::consents::batch::op::ChangeConsent>()
        .with::<crate::subjects::read::ReadSubject>()
        .with::<crate::disclosures::partner_read::PartnerRead>()
}
