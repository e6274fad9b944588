//! The page's parts that show the person's own data, where it came from, who used it, and what
//! they can do about it.

use super::api::AccessResponse;
use super::markup::{escape, para, section, table, who};
use super::texts::page;
use crate::domain::language::Language;
use serde_json::Value;
use std::fmt::Write;

/// A field of the record in words: `(json key, et, en, ru)`.
const FIELDS: [(&str, &str, &str, &str); 7] = [
    ("given_name", "Eesnimi", "Given name", "Имя"),
    ("family_name", "Perekonnanimi", "Family name", "Фамилия"),
    (
        "personal_code",
        "Isikukood",
        "Personal identification code",
        "Личный код",
    ),
    ("email", "E-post", "E-mail", "Эл. почта"),
    ("phone", "Telefon", "Phone", "Телефон"),
    (
        "preferred_language",
        "Suhtluskeel",
        "Language",
        "Язык общения",
    ),
    (
        "last_activity_at",
        "Viimane tegevus",
        "Last activity",
        "Последнее действие",
    ),
];

fn words(lang: Language, et: &'static str, en: &'static str, ru: &'static str) -> &'static str {
    super::texts::pick(lang, et, en, ru)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .values()
            .map(text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The record and the consent flags.
pub fn personal_data(out: &mut String, r: &AccessResponse) {
    let lang = r.lang;
    section(out, "data", lang);
    let subject = serde_json::to_value(&r.personal_data.subject).unwrap_or(Value::Null);
    let mut rows: Vec<Vec<String>> = FIELDS
        .iter()
        .map(|(key, et, en, ru)| {
            let mut value = text(&subject[*key]);
            if key.ends_with("_at") {
                value.truncate(10);
            }
            vec![words(lang, et, en, ru).to_owned(), value]
        })
        .collect();
    rows.push(vec![
        words(lang, "Aadress", "Address", "Адрес").to_owned(),
        text(&subject["address"]),
    ]);
    let heads = [
        words(lang, "Andmed", "Data", "Данные"),
        words(lang, "Väärtus", "Value", "Значение"),
    ];
    table(out, &heads, rows);
    let _ = write!(out, "<h3>{}</h3>", escape(page("consents", lang)));
    let consents = r
        .personal_data
        .consents
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let yes = c["eligible"].as_bool() == Some(true);
            let id = c["purpose"].as_str().unwrap_or_default();
            let name = r
                .purposes
                .iter()
                .find(|p| p.id == id)
                .map_or(id, |p| &p.name);
            vec![
                name.to_owned(),
                if yes {
                    words(lang, "lubatud", "allowed", "разрешено")
                } else {
                    words(lang, "ei ole lubatud", "not allowed", "не разрешено")
                }
                .to_owned(),
            ]
        })
        .collect();
    let heads = [
        words(lang, "Eesmärk", "Purpose", "Цель"),
        words(lang, "Olek", "State", "Состояние"),
    ];
    table(out, &heads, consents);
}

/// Source, transfers, automated decisions, the usage log, rights and where to complain.
pub fn rest(out: &mut String, r: &AccessResponse) {
    let lang = r.lang;
    let t = |key| page(key, lang);
    section(out, "source", lang);
    let kind = match r.source["type"].as_str() {
        Some("data_subject") => words(lang, "Teilt endalt", "From you", "От вас"),
        Some("public_registry") => words(
            lang,
            "Avalikust registrist",
            "From a public register",
            "Из публичного реестра",
        ),
        _ => words(
            lang,
            "Teiselt organisatsioonilt",
            "From another organisation",
            "От другой организации",
        ),
    };
    let details: Vec<String> = ["name", "reference", "collected_at"]
        .iter()
        .map(|k| text(&r.source[*k]))
        .filter(|v| !v.is_empty())
        .collect();
    para(out, &[vec![kind.to_owned()], details].concat().join(", "));
    section(out, "transfers", lang);
    if r.third_country_transfers.is_empty() {
        para(out, t("no_transfers"));
    } else {
        for transfer in &r.third_country_transfers {
            para(
                out,
                &format!(
                    "{} ({}, {})",
                    transfer.country,
                    transfer.safeguard.as_str(),
                    transfer.reference
                ),
            );
        }
    }
    section(out, "automated", lang);
    para(out, t("no_automated"));
    section(out, "log", lang);
    if r.access_log_summary.is_empty() {
        para(out, t("no_log"));
    } else {
        let rows = r
            .access_log_summary
            .iter()
            .map(|s| {
                vec![
                    s.date.to_string(),
                    s.label.clone(),
                    who(&s.actor_kind, &s.organisation.name, lang),
                    s.purpose.clone().unwrap_or_default(),
                    s.count.to_string(),
                ]
            })
            .collect();
        table(
            out,
            &[t("date"), t("what"), t("who"), t("why"), t("times")],
            rows,
        );
    }
    section(out, "rights", lang);
    out.push_str("<ul>");
    for right in &r.rights {
        let _ = write!(out, "<li>{}</li>", escape(&right.how));
    }
    out.push_str("</ul>");
    section(out, "complaint", lang);
    let c = &r.complaint;
    para(
        out,
        &format!("{}, {}, {}, {}", c.authority, c.address, c.email, c.url),
    );
}
