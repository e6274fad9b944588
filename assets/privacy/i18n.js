// The page's language: texts in Estonian, English and Russian, dates in the person's language
// (Tallinn time), and the switch between them. Switching never reloads the page, since the
// token lives only in this page's memory.
import et from "./texts-et.js";
import en from "./texts-en.js";
import ru from "./texts-ru.js";

export const LANGUAGES = ["et", "en", "ru"];
const TEXTS = { et, en, ru };
const LOCALES = { et: "et-EE", en: "en-GB", ru: "ru-RU" };

let current = LANGUAGES.includes(document.documentElement.lang) ? document.documentElement.lang : "et";

export function lang() {
  return current;
}

/** The text `key` in the page's language, with `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const text = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  // A date that ends in a period ("2026 г.") ends the sentence too.
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? "")).replace(/\.\./g, ".");
}

/** A text of the service given in each language (`{et, en, ru}`), in the page's language. */
export function pick(texts) {
  return pickWithLanguage(texts)[0];
}

/** The same, with the language it is in (English or Estonian when the page's is missing). */
export function pickWithLanguage(texts) {
  for (const code of [current, "en", "et"]) {
    if (texts?.[code]) return [texts[code], code];
  }
  return ["", current];
}

/** An instant as the person reads it: date and time in Tallinn. */
export function dateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(LOCALES[current], {
    dateStyle: "long", timeStyle: "short", timeZone: "Europe/Tallinn",
  }).format(new Date(iso));
}

/** An instant's date in Tallinn, or a calendar date (`YYYY-MM-DD`) as it is. */
export function date(value) {
  if (!value) return "";
  const plain = /^\d{4}-\d{2}-\d{2}$/.test(value);
  return new Intl.DateTimeFormat(LOCALES[current], {
    dateStyle: "long", timeZone: plain ? "UTC" : "Europe/Tallinn",
  }).format(new Date(plain ? `${value}T00:00:00Z` : value));
}

/**
 * Puts the language switch into `nav` and calls `render` now and after every switch. The
 * address keeps `?lang=` so that opening the page again starts in the chosen language.
 */
export function languageSwitch(nav, render) {
  const draw = () => {
    document.documentElement.lang = current;
    nav.setAttribute("aria-label", t("langNav"));
    nav.replaceChildren(...LANGUAGES.map((code) => {
      const button = document.createElement("button");
      button.type = "button";
      button.lang = code;
      button.textContent = TEXTS[code].langName;
      button.setAttribute("aria-pressed", String(code === current));
      button.dataset.lang = code;
      button.addEventListener("click", () => {
        if (code === current) return;
        current = code;
        const url = new URL(location.href);
        url.searchParams.set("lang", code);
        history.replaceState(null, "", url.pathname + url.search);
        draw();
        nav.querySelector(`[data-lang="${code}"]`)?.focus();
      });
      return button;
    }));
    const skip = document.querySelector(".skip");
    if (skip) skip.textContent = t("skip");
    render();
  };
  draw();
}
