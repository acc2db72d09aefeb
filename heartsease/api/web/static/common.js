// Shared by every page: the signed-in person, API calls, the header's links, and the words
// for what the pages show.

const TOKEN = "heartsease.token";

export function token() { return sessionStorage.getItem(TOKEN); }

export function keepToken(value) { sessionStorage.setItem(TOKEN, value); }

// Signing out by choice ends the token on the server too (keepalive: the request outlives
// the page); an expired one has nothing left to end.
export function signOut(reason) {
  const current = token();
  if (current && !reason) {
    fetch("/api/auth/sign-out", { method: "POST", keepalive: true,
      headers: { Authorization: "Bearer " + current } }).catch(() => {});
  }
  sessionStorage.removeItem(TOKEN);
  location.href = "/login" + (reason ? "?reason=" + encodeURIComponent(reason) : "");
}

// A signed-in request, its response as it is (a report, a file); an expired sign-in sends
// the person to sign in again.
export async function request(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401 && path !== "/api/auth/token") {
    signOut("expired");
    throw new Error("Your sign-in has expired.");
  }
  return response;
}

export async function api(path, options = {}) {
  const response = await request(path, options);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : "Something went wrong.");
  }
  return response.status === 204 ? null : response.json();
}

export async function me() {
  if (!token()) { signOut(); return null; }
  return api("/api/me");
}

// The pages this person may use, in the header, and a way to sign out.
export function nav(person, current) {
  const pages = (person.role === "clinician" ? [["observe", "Observation room"], ["trends", "Trends"]]
    : person.role === "client" ? [["breathe", "Breathe"], ["trends", "Trends"]] : [["admin", "People"]])
    .concat([["account", "Your account"]]);
  const bar = document.getElementById("nav");
  bar.innerHTML = "";
  for (const [page, title] of pages) {
    const a = Object.assign(document.createElement("a"), { href: "/" + page, textContent: title });
    if (page === current) a.setAttribute("aria-current", "page");
    bar.append(a);
  }
  const out = Object.assign(document.createElement("button"),
    { type: "button", className: "quiet", textContent: "Sign out" });
  out.addEventListener("click", () => signOut());
  bar.append(out);
}

export const stateWords = {
  threat: "on alert", neutral: "steady", soothing: "soothed", unknown: "listening…",
};
