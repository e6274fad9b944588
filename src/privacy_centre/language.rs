//! The language a page opens in: `?lang=`, else the browser's `Accept-Language`, else Estonian.

use crate::domain::language::Language;

/// The best of et, en and ru by an `Accept-Language` header (RFC 9110 §12.5.4): the highest
/// q-value wins, the earlier range on a tie; `ru-RU` counts as `ru`; `*` and other languages do
/// not choose. `None` when the header names none of the three.
pub fn from_accept_language(header: &str) -> Option<Language> {
    let mut best: Option<(u16, Language)> = None;
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or_default();
        let Ok(language) = Language::parse(primary) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(quality))
            .unwrap_or(1000);
        if q > 0 && best.as_ref().is_none_or(|(b, _)| q > *b) {
            best = Some((q, language));
        }
    }
    best.map(|(_, language)| language)
}

/// A q-value in thousandths; an unreadable one counts as 0 (not acceptable).
fn quality(text: &str) -> u16 {
    let value: f32 = text.trim().parse().unwrap_or(0.0);
    if (0.0..=1.0).contains(&value) {
        (value * 1000.0).round() as u16
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_wanted_of_the_three_languages_wins() {
        let cases = [
            ("ru-RU,ru;q=0.9,en;q=0.8", Some(Language::Ru)),
            ("de-DE,de;q=0.9,en-GB;q=0.5,et;q=0.7", Some(Language::Et)),
            ("en;q=0.5, ru;q=0.5", Some(Language::En)),
            ("fi, sv", None),
            ("*", None),
            ("et;q=0, en;q=0.1", Some(Language::En)),
            ("et;q=abc", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(from_accept_language(header), expected, "{header:?}");
        }
    }
}
