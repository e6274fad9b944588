// The privacy centre. The token is read from the address's fragment and the fragment removed
// before anything else happens; it then lives only in this module's memory. Without a usable
// token the page explains what to do and calls nothing.
import { t, languageSwitch, date, dateTime } from "./i18n.js";
import { call, tokenState, takeFromFragment } from "./api.js";
import { h, notice } from "./dom.js";
import { consentsSection } from "./consents.js";
import { logSection } from "./log.js";
import { requestsSection, copySection } from "./requests.js";

const token = takeFromFragment("access_token");
const main = document.getElementById("main");
const live = h("p", { role: "status", class: "visually-hidden", id: "live" });
const content = h("div", { id: "content" });
main.replaceChildren(live, content);

const state = { phase: "loading", me: null, sections: {} };

const ctx = {
  state,
  api: (path, options = {}) => call(path, { ...options, token }),
  render: () => render(),
  announce: (text) => { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); },
};

/** The phase a refused first call puts the page in. */
function phaseOf(error) {
  if (error.status === 401 && /insufficient_user_authentication/.test(error.challenge)) return "weak";
  if (error.status === 401 || error.status === 403) return "refused";
  if (error.status === 404 && error.code === "no-record") return "noRecord";
  if (error.status === 0 || error.status === 503) return "unavailable";
  return "failed";
}

async function start() {
  state.phase = "loading";
  render();
  try {
    state.me = await ctx.api("/v1/me");
  } catch (error) {
    state.phase = phaseOf(error);
    render();
    return;
  }
  state.phase = "ready";
  render();
  for (const section of [consentsSection, logSection, requestsSection]) section.load(ctx);
}

function stop(title, body) {
  return notice(title, body, { bad: true });
}

function dataSection(me) {
  const name = [me.given_name, me.family_name].filter(Boolean).join(" ");
  const address = me.address
    ? [me.address.street, me.address.postal_code, me.address.city, me.address.country].filter(Boolean).join(", ")
    : "";
  const source = me.source?.type === "data_subject" ? t("sourceYou") : (me.source?.name || me.source?.type);
  const rows = [
    [t("fName"), name], [t("fCode"), me.personal_code], [t("fEmail"), me.email],
    [t("fPhone"), me.phone], [t("fAddress"), address], [t("fLanguage"), languageName(me.preferred_language)],
    [t("fSource"), source], [t("fSince"), date(me.created_at)],
  ];
  return h("section", { "aria-labelledby": "data-title" },
    h("h2", { id: "data-title" }, t("dataTitle")),
    me.restriction ? h("p", { class: "notice" }, t("restricted", { date: dateTime(me.restriction.since) })) : null,
    h("dl", { class: "data" }, rows.flatMap(([label, value]) => [
      h("dt", {}, label), h("dd", {}, value || t("none")),
    ])),
    h("p", { class: "hint" }, t("dataHint")));
}

function languageName(code) {
  return ["et", "en", "ru"].includes(code) ? t(`l_${code}`) : "";
}

function render() {
  const focused = document.activeElement?.id;
  document.title = `${t("title")} | PlanPro`;
  const body = [h("h1", {}, t("title"))];
  const retry = h("button", { type: "button", id: "retry", class: "primary", onclick: start }, t("retry"));
  switch (state.phase) {
    case "noToken": body.push(stop(t("noTokenTitle"), [t("noTokenBody"), t("noTokenReload")])); break;
    case "expired": body.push(stop(t("expiredTitle"), [t("signInAgain")])); break;
    case "refused": body.push(stop(t("refusedTitle"), [t("signInAgain")])); break;
    case "weak": body.push(stop(t("weakTitle"), [t("weakBody")])); break;
    case "noRecord": body.push(notice(t("noRecordTitle"), [t("noRecordBody")])); break;
    case "unavailable": body.push(notice(null, [t("unavailable")], { bad: true, actions: [retry] })); break;
    case "failed": body.push(notice(null, [t("failed")], { bad: true, actions: [retry] })); break;
    case "loading": body.push(h("p", { "aria-busy": "true" }, t("loading"))); break;
    default:
      body.push(h("p", { class: "hint" }, t("intro")), dataSection(state.me),
        consentsSection.render(ctx), logSection.render(ctx), requestsSection.render(ctx), copySection.render(ctx));
  }
  content.replaceChildren(...body);
  if (focused) document.getElementById(focused)?.focus();
}

const initial = tokenState(token);
if (initial === "ok") {
  languageSwitch(document.querySelector("nav.langs"), render);
  start();
} else {
  state.phase = initial === "expired" ? "expired" : "noToken";
  languageSwitch(document.querySelector("nav.langs"), render);
}
