// A small element builder, so the pages build their DOM without HTML strings (nothing the
// service answers is ever parsed as markup).

/** `h("p", {class: "hint"}, "text", child)`: attributes, `on<event>` handlers, children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A boxed message: a heading, its paragraphs and optional buttons. */
export function notice(title, paragraphs, { bad = false, actions = [] } = {}) {
  return h("div", { class: bad ? "notice bad" : "notice", role: bad ? "alert" : null },
    title ? h("h2", {}, title) : null,
    paragraphs.filter(Boolean).map((p) => h("p", {}, p)),
    actions.length ? h("div", { class: "buttons" }, actions) : null);
}
