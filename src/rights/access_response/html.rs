//! The access response as one printable page a person can read without help: plain words in
//! their language, tables a screen reader can follow, no script, nothing fetched from anywhere
//! (the only style is inline, allowed by its hash in the page's Content-Security-Policy).

use super::api::AccessResponse;
use super::markup::{categories, escape, para, section, table};
use super::texts::page;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt::Write;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#111;background:#fff;\
margin:0 auto;max-width:48rem;padding:1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;\
margin-top:2rem;border-bottom:1px solid #999}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #ccc;padding:.3rem}\
@media print{body{max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}";

/// The page's Content-Security-Policy: nothing may load or run; only its own style applies.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The page.
pub fn render(r: &AccessResponse) -> String {
    let lang = r.lang;
    let t = |key| page(key, lang);
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><style>{STYLE}</style>\
         </head><body><main><h1>{}</h1>",
        lang.as_str(),
        escape(t("title")),
        escape(t("title"))
    );
    para(&mut out, t("intro"));
    para(
        &mut out,
        &format!(
            "{} {}",
            t("made"),
            r.generated_at.format("%Y-%m-%d %H:%M UTC")
        ),
    );
    section(&mut out, "confirmation", lang);
    let c = &r.confirmation.controller;
    let controller = [
        Some(c.name.clone()),
        c.registry_code.clone(),
        c.address.clone(),
        Some(c.email.clone()),
    ];
    para(&mut out, t("yes"));
    para(
        &mut out,
        &controller
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
    );
    super::html_data::personal_data(&mut out, r);
    section(&mut out, "purposes", lang);
    let purposes = r.purposes.iter().map(|p| {
        vec![
            p.name.clone(),
            p.legal_basis
                .as_ref()
                .map(|b| format!("{} ({})", b.article.as_str(), b.reference))
                .unwrap_or_default(),
            categories(&p.categories, lang),
        ]
    });
    table(
        &mut out,
        &[t("purposes"), t("basis"), t("categories")],
        purposes.collect(),
    );
    section(&mut out, "recipients", lang);
    if r.recipients.is_empty() {
        para(&mut out, t("no_recipients"));
    } else {
        let rows = r.recipients.iter().map(|x| {
            vec![
                [Some(x.name.clone()), x.registry_code.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                categories(&x.data_categories, lang),
                x.first_disclosed_at.format("%Y-%m-%d").to_string(),
                x.last_disclosed_at.format("%Y-%m-%d").to_string(),
                x.count.to_string(),
            ]
        });
        table(
            &mut out,
            &[t("who"), t("categories"), t("first"), t("last"), t("times")],
            rows.collect(),
        );
    }
    section(&mut out, "retention", lang);
    if let Some(until) = r.retention.keep_until {
        para(&mut out, &format!("{} {until}.", t("keep_until")));
    }
    para(&mut out, &r.retention.criterion);
    if !r.retention.holds.is_empty() {
        para(&mut out, t("holds"));
        out.push_str("<ul>");
        for h in &r.retention.holds {
            let _ = write!(
                out,
                "<li>{} ({} {})</li>",
                escape(&h.ground),
                escape(t("review")),
                h.review_on
            );
        }
        out.push_str("</ul>");
    }
    super::html_data::rest(&mut out, r);
    out.push_str("</main></body></html>");
    out
}
