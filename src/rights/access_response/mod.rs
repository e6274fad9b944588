//! The right of access, complete (contract v3, section B; GDPR Art. 15, EDPB Guidelines
//! 01/2022, CJEU C-154/21): not only the person's data (the export) but what is owed with it,
//! specific to them — recipients by name, their own keep date, source, rights and where to
//! complain — in Estonian, English or Russian, as JSON or as one printable page.
//!
//! A resource: it reads the subjects, activities, retention, holds, disclosures and notices
//! through their own modules and the ledger in `ledger.rs`; nothing below names it.

pub mod api;
pub mod downloads;
pub mod freeze;
pub mod frozen;
pub mod gather;
pub mod html;
mod html_data;
pub mod labels;
mod ledger;
mod markup;
mod parts;
pub mod relink;
pub mod routes;
pub mod texts;
mod withheld;
