// The double opt-in confirmation page. The token is taken from the fragment, which is removed
// at once; the page shows what the person is asked to agree to and confirms only when they
// press the button. A link of the wrong form is explained without calling anything.
import { t, lang, pickWithLanguage, languageSwitch, dateTime } from "./i18n.js";
import { call, takeFromFragment } from "./api.js";
import { h, notice } from "./dom.js";

const token = takeFromFragment("token");
const main = document.getElementById("main");
const live = h("p", { role: "status", class: "visually-hidden" });
const content = h("div", { id: "content" });
main.replaceChildren(live, content);

const state = { phase: /^[A-Za-z0-9_-]{43}$/.test(token || "") ? "loading" : "missing", pending: null };

function failure(error) {
  if (error.code === "subject-erased") return "erased";
  if (error.status === 410) return "expired";
  if (error.status === 404) return "unknown";
  if (error.status === 0 || error.status === 503) return "unavailable";
  return "failed";
}

async function look() {
  state.phase = "loading";
  render();
  try {
    state.pending = await call("/v1/consents/confirmations/purpose", { method: "POST", body: { token } });
    state.phase = "ask";
  } catch (error) {
    state.phase = failure(error);
  }
  render();
}

async function confirm() {
  state.phase = "confirming";
  render();
  try {
    state.done = await call("/v1/consents/confirmations", { method: "POST", body: { token } });
    state.phase = "done";
  } catch (error) {
    state.phase = failure(error);
  }
  render();
  document.getElementById("outcome")?.focus();
}

function render() {
  document.title = `${t("confirmTitle")} | PlanPro`;
  const body = [h("h1", {}, t("confirmTitle"))];
  const retry = h("button", { type: "button", id: "retry", class: "primary", onclick: look }, t("retry"));
  const outcome = (texts, bad) => h("div", { id: "outcome", tabindex: "-1" }, notice(null, texts, { bad }));
  switch (state.phase) {
    case "missing": body.push(outcome([t("linkMissing")], true)); break;
    case "unknown": body.push(outcome([t("linkUnknown")], true)); break;
    case "expired": body.push(outcome([t("linkExpired")], true)); break;
    case "erased": body.push(outcome([t("erased")], true)); break;
    case "unavailable": body.push(notice(null, [t("unavailable")], { bad: true, actions: [retry] })); break;
    case "failed": body.push(notice(null, [t("failed")], { bad: true, actions: [retry] })); break;
    case "loading": body.push(h("p", { "aria-busy": "true" }, t("loading"))); break;
    case "done":
      body.push(outcome([t("confirmed", { date: dateTime(state.done.confirmed_at) }), t("confirmedMore")], false));
      break;
    default: {
      const p = state.pending;
      const [text, textLang] = pickWithLanguage(p.text);
      body.push(
        h("p", {}, t("confirmLead")),
        h("blockquote", { class: "purpose-text", id: "purpose-text", lang: textLang !== lang() ? textLang : null },
          text || p.purpose),
        p.policy_url ? h("p", {}, h("a", { href: p.policy_url, rel: "noopener noreferrer" }, t("policy"))) : null,
        h("p", { class: "hint" }, t("linkUntil", { date: dateTime(p.confirmation_expires_at) })),
        h("div", { class: "buttons" }, h("button", {
          type: "button", class: "primary", id: "confirm", disabled: state.phase === "confirming",
          onclick: confirm,
        }, state.phase === "confirming" ? t("confirming") : t("confirmButton"))),
        h("p", {}, t("confirmNo")));
    }
  }
  content.replaceChildren(...body);
}

languageSwitch(document.querySelector("nav.langs"), render);
if (state.phase === "loading") look();
