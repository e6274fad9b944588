//! The few pieces of markup the page is made of, every value escaped.

use super::texts::{actor_kind, category, page};
use crate::domain::language::Language;
use std::fmt::Write;

/// Text made safe to put between tags or in a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn row(out: &mut String, cells: &[String]) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{}</td>", escape(cell));
    }
    out.push_str("</tr>");
}

pub fn table(out: &mut String, heads: &[&str], rows: Vec<Vec<String>>) {
    out.push_str("<table><thead><tr>");
    for h in heads {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for cells in rows {
        row(out, &cells);
    }
    out.push_str("</tbody></table>");
}

pub fn section(out: &mut String, key: &str, lang: Language) {
    let _ = write!(out, "<h2>{}</h2>", escape(page(key, lang)));
}

pub fn para(out: &mut String, text: &str) {
    let _ = write!(out, "<p>{}</p>", escape(text));
}

pub fn categories(list: &[String], lang: Language) -> String {
    list.iter()
        .map(|c| category(c, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who acted, for the log table.
pub fn who(kind: &str, organisation: &str, lang: Language) -> String {
    format!("{} ({organisation})", actor_kind(kind, lang))
}
