// "Your requests": what the person has asked of PlanPro, with the answer's deadline, and a form
// for a new one; "A copy of your data": the access response as a file.
import { t, lang, date } from "./i18n.js";
import { h } from "./dom.js";
import { save } from "./api.js";

const KINDS = ["access", "rectification", "erasure", "restriction", "objection"];
const MAX_DETAILS = 2000;
const slot = (ctx) => (ctx.state.sections.requests ??= { items: null, error: false, kind: "access", details: "" });

async function load(ctx) {
  const s = slot(ctx);
  try {
    s.items = (await ctx.api("/v1/me/privacy-requests?limit=100")).items;
    s.error = false;
  } catch {
    s.error = true;
  }
  ctx.render();
}

function standing(request) {
  if (request.status !== "closed") return t("open");
  const on = date(request.closed_at);
  if (request.outcome === "fulfilled") return t("fulfilled", { date: on });
  if (request.outcome === "refused") return t("refusedOn", { date: on, reason: request.reason || "" });
  return t("withdrawnReq", { date: on });
}

function requestItem(request) {
  const complaint = request.remedies?.complaint;
  return h("li", {},
    h("h3", {}, t(`k_${request.kind}`)),
    h("p", {}, t("received", { date: date(request.received_on) }), " ",
      request.status !== "closed" ? t("due", { date: date(request.due_on) }) : ""),
    request.extended ? h("p", {}, t("extended", { reason: request.extension_reason || "" })) : null,
    h("p", { class: request.outcome === "refused" ? "bad" : "state" }, standing(request)),
    complaint ? h("p", {}, t("remedies", { authority: complaint.authority }),
      complaint.url ? [" ", h("a", { href: complaint.url, rel: "noopener noreferrer" }, complaint.url)] : null) : null);
}

async function send(ctx, event) {
  event.preventDefault();
  const s = slot(ctx);
  const details = s.details.trim();
  if (details.length > MAX_DETAILS) {
    s.message = { text: t("tooLong"), bad: true };
  } else {
    s.sending = true;
    s.message = { text: t("sending") };
    ctx.render();
    try {
      const created = await ctx.api("/v1/me/privacy-requests", {
        method: "POST", body: { kind: s.kind, details: details || null },
      });
      s.items = [created, ...(s.items || [])];
      s.details = "";
      s.message = { text: t("sent", { date: date(created.due_on) }), ok: true };
    } catch (error) {
      s.message = { text: error.status === 400 ? `${t("notSent")} ${error.message}` : t("notSent"), bad: true };
    }
    s.sending = false;
  }
  ctx.render();
  ctx.announce(s.message.text);
}

function form(ctx) {
  const s = slot(ctx);
  const details = h("textarea", {
    id: "request-details", name: "details", "aria-describedby": "request-details-hint",
    oninput: (e) => { s.details = e.target.value; },
  });
  details.value = s.details;
  return h("form", { class: "request", id: "request-form", onsubmit: (e) => send(ctx, e) },
    h("h3", {}, t("formTitle")),
    h("label", { for: "request-kind" }, t("formKind")),
    h("select", { id: "request-kind", name: "kind", onchange: (e) => { s.kind = e.target.value; } },
      KINDS.map((k) => h("option", { value: k, selected: k === s.kind }, t(`k_${k}`)))),
    h("label", { for: "request-details" }, t("formDetails")),
    h("p", { class: "hint", id: "request-details-hint" }, t("formDetailsHint")),
    details,
    h("div", {}, h("button", { type: "submit", class: "primary", id: "request-send" }, t("formSend"))),
    s.message ? h("p", { class: s.message.bad ? "bad" : s.message.ok ? "ok" : "state" }, s.message.text) : null);
}

function render(ctx) {
  const s = slot(ctx);
  let list;
  if (s.error) {
    list = h("p", { class: "bad" }, t("failed"), " ",
      h("button", { type: "button", id: "requests-retry", onclick: () => load(ctx) }, t("retry")));
  } else if (s.items === null) {
    list = h("p", { "aria-busy": "true" }, t("loading"));
  } else if (s.items.length === 0) {
    list = h("p", {}, t("requestsEmpty"));
  } else {
    list = h("ul", { class: "plain" }, s.items.map(requestItem));
  }
  return h("section", { "aria-labelledby": "requests-title" },
    h("h2", { id: "requests-title" }, t("requestsTitle")), list, form(ctx));
}

async function download(ctx, format) {
  const s = (ctx.state.sections.copy ??= {});
  s.message = { text: t("preparing") };
  ctx.render();
  try {
    const response = await ctx.api(`/v1/me/access-response?lang=${lang()}&format=${format}`, { raw: true });
    save(await response.blob(), `planpro-access-response-${lang()}.${format}`);
    s.message = { text: t("downloaded"), ok: true };
  } catch (error) {
    s.message = { text: error.status === 0 || error.status === 503 ? t("unavailable") : t("failed"), bad: true };
  }
  ctx.render();
  ctx.announce(s.message.text);
}

export const requestsSection = { load, render };
export const copySection = {
  render(ctx) {
    const message = ctx.state.sections.copy?.message;
    return h("section", { "aria-labelledby": "copy-title" },
      h("h2", { id: "copy-title" }, t("copyTitle")),
      h("p", { class: "hint" }, t("copyHint")),
      h("div", { class: "buttons" },
        h("button", { type: "button", id: "copy-html", onclick: () => download(ctx, "html") }, t("copyHtml")),
        h("button", { type: "button", id: "copy-json", onclick: () => download(ctx, "json") }, t("copyJson"))),
      message ? h("p", { class: message.bad ? "bad" : message.ok ? "ok" : "state" }, message.text) : null);
  },
};
