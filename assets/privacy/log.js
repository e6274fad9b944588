// "Who has used your data": the entries about the person, newest first, each with a button
// that fetches its inclusion proof and checks it here, against the signed checkpoint.
import { t, pick, dateTime } from "./i18n.js";
import { h } from "./dom.js";
import { save } from "./api.js";
import { verifyInclusion } from "./verify.js";

const PAGE = 50;
const slot = (ctx) => (ctx.state.sections.log ??= { items: null, next: null, error: false, checks: {} });

async function load(ctx, more = false) {
  const s = slot(ctx);
  const cursor = more && s.next ? `&cursor=${encodeURIComponent(s.next)}` : "";
  try {
    const page = await ctx.api(`/v1/me/access-log?limit=${PAGE}${cursor}`);
    s.items = more ? [...(s.items || []), ...page.items] : page.items;
    s.next = page.next_cursor || null;
    s.error = false;
  } catch {
    s.error = true;
  }
  ctx.render();
}

function who(entry) {
  switch (entry.actor_kind) {
    case "you": return t("kYou");
    case "recipient": return t("kRecipient", { name: entry.organisation?.name || "" });
    case "system": return t("kSystem");
    default: return t("kStaff");
  }
}

async function check(ctx, entry) {
  const s = slot(ctx);
  s.checks[entry.id] = { text: t("checking") };
  ctx.render();
  try {
    const proof = await ctx.api(entry.proof || `/v1/access-logs/${entry.id}/inclusion-proof`);
    const { ok, size } = await verifyInclusion(proof);
    s.checks[entry.id] = { text: ok ? t("checkOk", { n: size }) : t("checkBad"), ok, bad: !ok, proof };
  } catch (error) {
    const later = error.code === "not-yet-checkpointed";
    s.checks[entry.id] = { text: later ? t("checkLater") : t("failed"), bad: !later };
  }
  ctx.render();
  ctx.announce(s.checks[entry.id].text);
}

function row(ctx, entry) {
  const result = slot(ctx).checks[entry.id];
  const when = dateTime(entry.at);
  const activity = entry.activity?.name;
  const why = entry.purpose || (typeof activity === "string" ? activity : pick(activity));
  const categories = (entry.categories || []).join(", ");
  return h("tr", {},
    h("td", {}, when),
    h("td", {}, pick(entry.label) || entry.action,
      entry.outcome === "denied" ? h("span", { class: "tag" }, t("denied")) : null),
    h("td", {}, who(entry)),
    h("td", {}, why || h("span", { class: "hint" }, t("noReason")), categories ? ` (${categories})` : ""),
    h("td", {},
      h("button", {
        type: "button", id: `check-${entry.id}`, "aria-label": t("checkLabel", { date: when }),
        onclick: () => check(ctx, entry),
      }, t("check")),
      result ? h("span", { class: `proof-result ${result.ok ? "ok" : result.bad ? "bad" : ""}` }, result.text) : null,
      result?.proof ? h("button", {
        type: "button", id: `save-${entry.id}`,
        onclick: () => save(new Blob([JSON.stringify(result.proof, null, 2)], { type: "application/json" }),
          `inclusion-proof-${entry.id}.json`),
      }, t("saveProof")) : null));
}

function render(ctx) {
  const s = slot(ctx);
  let body;
  if (s.error) {
    body = h("p", { class: "bad" }, t("failed"), " ",
      h("button", { type: "button", id: "log-retry", onclick: () => load(ctx) }, t("retry")));
  } else if (s.items === null) {
    body = h("p", { "aria-busy": "true" }, t("loading"));
  } else if (s.items.length === 0) {
    body = h("p", {}, t("logEmpty"));
  } else {
    body = [
      h("div", { class: "table-wrap" }, h("table", {},
        h("caption", { class: "visually-hidden" }, t("logTitle")),
        h("thead", {}, h("tr", {}, ["cWhen", "cWhat", "cWho", "cWhy", "cProof"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, s.items.map((entry) => row(ctx, entry))))),
      s.next ? h("button", { type: "button", id: "log-more", onclick: () => load(ctx, true) }, t("more")) : null,
    ];
  }
  return h("section", { "aria-labelledby": "log-title" },
    h("h2", { id: "log-title" }, t("logTitle")),
    h("p", { class: "hint" }, t("logHint")), body);
}

export const logSection = { load, render };
