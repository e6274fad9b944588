// "Your choices": one switch per purpose. Granting sends the version whose text is shown, so
// the person agrees to exactly what they read; a text changed meanwhile is refused and reloaded.
import { t, lang, pickWithLanguage, date } from "./i18n.js";
import { h } from "./dom.js";

const ON_STATES = ["given", "renewed", "pending_confirmation"];
const slot = (ctx) => (ctx.state.sections.consents ??= { items: null, error: false, messages: {} });
const idOf = (purpose) => `consent-${purpose.replace(/[^A-Za-z0-9_-]/g, "_")}`;

/** The last day a grant is valid: `expires_at` is the start (Tallinn) of the day after it. */
function lastDay(expiresAt) {
  return date(new Date(Date.parse(expiresAt) - 1).toISOString());
}

function isOn(flag) {
  return ON_STATES.includes(flag.state) || (flag.state === "unset" && flag.eligible);
}

function describe(flag) {
  switch (flag.state) {
    case "given":
    case "renewed":
      return [t("sOn", { date: date(flag.given_at) }), flag.expires_at ? t("sUntil", { date: lastDay(flag.expires_at) }) : ""].join(" ");
    case "pending_confirmation": return t("sPending");
    case "unset": return flag.eligible ? t("sOptOut") : t("sUnset");
    case "expired": return flag.expires_at ? t("sExpired", { date: lastDay(flag.expires_at) }) : t("sUnconfirmed");
    case "invalidated": return t("sInvalidated");
    case "withdrawn": return t("sWithdrawn", { date: date(flag.updated_at) });
    case "refused": return t("sRefused", { date: date(flag.updated_at) });
    default: return "";
  }
}

async function load(ctx) {
  const s = slot(ctx);
  try {
    s.items = (await ctx.api("/v1/me/consents")).items;
    s.error = false;
  } catch {
    s.error = true;
  }
  ctx.render();
}

async function change(ctx, flag, on) {
  const s = slot(ctx);
  const name = firstLine(flag);
  s.busy = flag.purpose;
  s.messages[flag.purpose] = { text: t("saving") };
  ctx.render();
  const body = on ? { status: "granted", purpose_version: flag.current_version } : { status: "withdrawn" };
  try {
    const saved = await ctx.api(`/v1/me/consents/${encodeURIComponent(flag.purpose)}`, { method: "PUT", body });
    Object.assign(flag, saved);
    s.messages[flag.purpose] = { text: t(on ? "savedOn" : "savedOff", { name }), ok: true };
  } catch (error) {
    let text = t("notSaved");
    if (error.code === "purpose-version-stale") text = t("stale");
    if (["guardian-consent-required", "age-unknown"].includes(error.code)) text = t("guardian");
    if (error.status === 401) text = t("expiredTitle") + ". " + t("signInAgain");
    s.messages[flag.purpose] = { text, bad: true };
    if (error.code === "purpose-version-stale") await load(ctx);
  }
  s.busy = null;
  ctx.render();
  ctx.announce(s.messages[flag.purpose].text);
}

function firstLine(flag) {
  const [text] = pickWithLanguage(flag.purpose_text);
  return (text || flag.purpose).split("\n")[0];
}

function item(ctx, flag) {
  const s = slot(ctx);
  const id = idOf(flag.purpose);
  const [text, textLang] = pickWithLanguage(flag.purpose_text);
  const rest = (text || flag.purpose).split("\n").slice(1).join("\n").trim();
  // A text missing in the page's language is shown in another, marked for screen readers.
  const other = textLang !== lang() ? textLang : null;
  const message = s.messages[flag.purpose];
  return h("li", {},
    h("div", { class: "switch-row" },
      h("input", {
        type: "checkbox", role: "switch", id, checked: isOn(flag),
        "aria-describedby": `${id}-state`, "aria-busy": s.busy === flag.purpose ? "true" : null,
        onchange: (e) => {
          // One change at a time; the switch stays focusable meanwhile (a disabled one drops focus).
          if (s.busy) { e.target.checked = !e.target.checked; return; }
          change(ctx, flag, e.target.checked);
        },
      }),
      h("div", {},
        h("label", { for: id, lang: other }, firstLine(flag)),
        h("p", { class: "state", id: `${id}-state` }, describe(flag),
          flag.current_version ? ` ${t("version", { n: flag.current_version })}.` : ""),
        rest ? h("details", {}, h("summary", {}, t("fullText")), h("p", { class: "fulltext", lang: other }, rest)) : null,
        message ? h("p", { class: message.bad ? "bad" : message.ok ? "ok" : "state" }, message.text) : null)));
}

function render(ctx) {
  const s = slot(ctx);
  let body;
  if (s.error) {
    body = h("p", { class: "bad" }, t("failed"), " ",
      h("button", { type: "button", id: "consents-retry", onclick: () => load(ctx) }, t("retry")));
  } else if (s.items === null) {
    body = h("p", { "aria-busy": "true" }, t("loading"));
  } else if (s.items.length === 0) {
    body = h("p", {}, t("consentsEmpty"));
  } else {
    body = h("ul", { class: "plain" }, s.items.map((flag) => item(ctx, flag)));
  }
  return h("section", { "aria-labelledby": "consents-title" },
    h("h2", { id: "consents-title" }, t("consentsTitle")),
    h("p", { class: "hint" }, t("consentsHint")), body);
}

export const consentsSection = { load, render };
