// Shared by every page: the signed-in person, API calls, the header's links, and the words
// for what the pages show.
//
// The sign-in is an httpOnly cookie that no script reads, shared by every tab of the
// browser. A change asked of the API carries the sign-in's anti-forgery token (from a
// second cookie, which scripts may read) in X-CSRF-Token. While the person uses the page or
// a live session is open, the page renews the sign-in before it runs out; left alone, it
// ends after the server's idle time.

const CSRF_COOKIE = "heartsease_csrf";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const ID = /^[0-9a-f]{32}$/;

// Whether a value from the address bar is an id as the server makes them, before any path
// is built from it.
export function isId(value) { return typeof value === "string" && ID.test(value); }

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
  return found ? found.slice(CSRF_COOKIE.length + 1) : "";
}

// Signing out by choice ends the sign-in on the server, in every tab and every socket of it.
// This tab's own requests and sockets that end meanwhile do not tell the person they were
// signed out "here or in another window": they asked.
let signingOut = false;
export async function signOut() {
  signingOut = true;
  try {
    await fetch("/api/auth/sign-out", { method: "POST", headers: { "X-CSRF-Token": csrfToken() } });
  } catch (e) { /* offline: the sign-in runs out by itself */ }
  toSignIn("");
}

// The sign-in page, saying why the sign-in ended ("expired", "signed-out"), if it did, and
// coming back to this page after (a report's link opened signed out landed on the role's
// own page), unless the person signed out by choice.
export function toSignIn(reason) {
  const query = new URLSearchParams();
  if (reason && !signingOut) query.set("reason", reason);
  if (!signingOut && location.pathname !== "/login") query.set("next", location.pathname + location.search);
  location.href = "/login" + (query.size ? "?" + query : "");
}

// A signed-in request, its response as it is (a report, a file); an ended sign-in sends
// the person to sign in again, saying so when it had expired.
export async function request(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (!SAFE.has((options.method || "GET").toUpperCase())) headers["X-CSRF-Token"] = csrfToken();
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    // No sign-in at all on a page that had one: its cookie was cleared by a sign-out in
    // another tab, which may reach this page before that sign-in's socket closes. A sign-in
    // sent but ended says whether it ran out or was signed out.
    const said = response.headers.get("WWW-Authenticate") || "";
    const ended = said.includes("invalid_token");
    toSignIn(ended ? (said.includes("signed out") ? "signed-out" : "expired") : signedIn ? "signed-out" : "");
    throw new Error("Your sign-in has ended.");
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

// Renewal: the person counts as here while they touch the page or a live session is open.
let signedIn = false;
let lastActiveMs = Date.now(), renewedAtMs = 0, openSockets = 0, renewTimer = null;
for (const event of ["pointerdown", "keydown", "touchstart", "wheel"]) {
  addEventListener(event, () => { lastActiveMs = Date.now(); }, { capture: true, passive: true });
}

export function socketOpened() { openSockets += 1; }
export function socketClosed() { openSockets = Math.max(0, openSockets - 1); }

async function renew() {
  let everyMs = 60000;
  try {
    const signIn = await api("/api/auth/session/renew", { method: "POST" });
    renewedAtMs = Date.now();
    everyMs = signIn.renew_in_s * 1000;
  } catch (e) { /* an ended sign-in has gone to the sign-in page; offline: try again */ }
  clearTimeout(renewTimer);
  renewTimer = setTimeout(renewWhenBack, everyMs);
}

// Renewed when due if the person was here since the last renewal; otherwise as soon as they
// are back (if the sign-in has not run out meanwhile).
function renewWhenBack() {
  if (openSockets > 0 || lastActiveMs > renewedAtMs) renew();
  else renewTimer = setTimeout(renewWhenBack, 1000);
}

export async function me() {
  const person = await api("/api/me");
  signedIn = true;
  renew();
  // Each person's days are their own: the browser's time zone, kept with them (their trend
  // days follow it), told again when they are somewhere else.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (person && zone && person.time_zone !== zone) {
    try {
      Object.assign(person, await api("/api/me/time-zone", { method: "PUT", json: { time_zone: zone } }));
    } catch (e) { /* a zone this server does not know: its days stay UTC */ }
  }
  return person;
}

// "YYYY-MM-DD" of `date` (default now) in an IANA time zone (default UTC).
export function dayIn(zone, date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone || "UTC", year: "numeric", month: "2-digit", day: "2-digit" })
    .format(date);
}

// The pages this person may use, in the header, and a way to sign out.
export function nav(person, current) {
  const pages = (person.role === "clinician"
    ? [["observe", "Observation room"], ["trends", "Trends"], ["letters", "Shared letters"], ["voice", "Your voice"]]
    : person.role === "client" ? [["breathe", "Breathe"], ["trends", "Trends"], ["systems", "The three systems"]] : [["admin", "People"]])
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
  threat: "on alert", neutral: "steady", soothing: "settled", unknown: "listening…",
};

// A change, signed as shown: one that rounds to nothing reads "±0", not "−0".
export function signed(v, digits) {
  const shown = Number(v.toFixed(digits));
  return (shown > 0 ? "+" : shown < 0 ? "−" : "±") + Math.abs(shown).toFixed(digits);
}
