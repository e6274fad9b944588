//! Media-type negotiation (RFC 9110 §12.5.1): which of the types an answer can take the client's
//! `Accept` header prefers, by q-value, the most specific matching range deciding each type's
//! (`type/subtype`, then `type/*`, then `*/*`). Parameters other than `q` are not compared.

/// Of `offered` (each `type/subtype`, the default first), the one `accept` prefers: the highest
/// quality, the earlier offered on a tie. Without an `Accept` header, or when it accepts none of
/// them, the first: an answer is still sent rather than a 406.
pub fn preferred<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    let first = offered.first().copied();
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return first;
    };
    let mut best: Option<(&'a str, u16)> = None;
    for media in offered {
        let q = quality(accept, media);
        if q > 0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((media, q));
        }
    }
    best.map(|(media, _)| media).or(first)
}

/// The quality (in thousandths) `accept` gives `media`: that of the most specific range matching
/// it, the highest among equally specific ones; 0 when no range matches.
pub fn quality(accept: &str, media: &str) -> u16 {
    let media = media.trim().to_ascii_lowercase();
    let kind = media.split('/').next().unwrap_or_default();
    let mut found: Option<(u8, u16)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let specificity = if name == media {
            2
        } else if name.strip_suffix("/*") == Some(kind) {
            1
        } else if name == "*/*" {
            0
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(1000, |(_, v)| thousandths(v.trim()));
        found = match found {
            Some((s, best)) if s > specificity || (s == specificity && best >= q) => found,
            _ => Some((specificity, q)),
        };
    }
    found.map_or(0, |(_, q)| q)
}

/// A q-value (`0` to `1` with at most three decimals) in thousandths; one that is not a number
/// counts as 1, as a range without `q` does.
fn thousandths(value: &str) -> u16 {
    value
        .parse::<f32>()
        .ok()
        .filter(|q| q.is_finite())
        .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOSE: [&str; 2] = ["application/jose", "text/plain"];

    #[test]
    fn the_default_stands_without_a_preference() {
        assert_eq!(preferred(None, &JOSE), Some("application/jose"));
        assert_eq!(preferred(Some(""), &JOSE), Some("application/jose"));
        assert_eq!(preferred(Some("*/*"), &JOSE), Some("application/jose"));
        assert_eq!(
            preferred(Some("image/png"), &JOSE),
            Some("application/jose")
        );
        assert_eq!(
            preferred(Some("text/plain, application/jose"), &JOSE),
            Some("application/jose")
        );
        assert_eq!(preferred(None, &[]), None);
    }

    #[test]
    fn q_values_and_wildcards_decide() {
        assert_eq!(preferred(Some("text/plain"), &JOSE), Some("text/plain"));
        assert_eq!(
            preferred(Some("TEXT/Plain; charset=utf-8"), &JOSE),
            Some("text/plain")
        );
        assert_eq!(preferred(Some("text/*"), &JOSE), Some("text/plain"));
        assert_eq!(
            preferred(Some("application/jose;q=0.5, text/plain"), &JOSE),
            Some("text/plain")
        );
        // Refused outright: q=0 on the exact type outweighs the wildcard.
        assert_eq!(
            preferred(Some("text/plain, application/jose;q=0"), &JOSE),
            Some("text/plain")
        );
        assert_eq!(
            preferred(Some("*/*;q=0.1, text/plain;q=0"), &JOSE),
            Some("application/jose")
        );
    }

    #[test]
    fn prometheus_gets_openmetrics_and_a_browser_the_classic_text() {
        let offered = ["text/plain", "application/openmetrics-text"];
        let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,\
            application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(
            preferred(Some(prometheus), &offered),
            Some("application/openmetrics-text")
        );
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(preferred(Some(browser), &offered), Some("text/plain"));
    }

    #[test]
    fn qualities_are_read_in_thousandths() {
        assert_eq!(quality("a/b;q=0.25", "a/b"), 250);
        assert_eq!(quality("a/b;q=1.0", "a/b"), 1000);
        assert_eq!(quality("a/b;q=x", "a/b"), 1000);
        assert_eq!(quality("a/*;q=0.5, a/b;q=0.1", "a/b"), 100);
        assert_eq!(quality("c/d", "a/b"), 0);
    }
}
