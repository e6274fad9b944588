// Calls to the service from the page. The token is held by the caller in memory only: never in
// storage, a cookie or the address. Every failure becomes an `ApiError` the page can explain.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = (this.problem.type || "").split("/").pop();
  }
}

/** Calls `path` with `token` (or none); answers the parsed JSON, or the response for `raw`. */
export async function call(path, { token, method = "GET", body, raw = false } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not a problem document */ }
    const error = new ApiError(response.status, problem);
    error.challenge = response.headers.get("WWW-Authenticate") || "";
    throw error;
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Whether `token` looks like a JWT that has not expired; nothing is sent anywhere. */
export function tokenState(token) {
  if (!token) return "missing";
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return "malformed";
  try {
    const claims = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return "expired";
  } catch {
    return "malformed";
  }
  return "ok";
}

/** Reads `name` from the address's fragment and removes the fragment from the address bar. */
export function takeFromFragment(name) {
  const value = new URLSearchParams(location.hash.slice(1)).get(name);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return value;
}

/** Saves `blob` as a file named `name` (the browser's download). */
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
