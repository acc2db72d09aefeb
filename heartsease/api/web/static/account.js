// One's own account: changing the password and, for a client, who can see their practice,
// their letters and reflections (each shared with their clinician only by choice, and
// unshared at any time) and the audit log's record of their data.

import { api, me as signedIn, nav } from "./common.js";
import { auditRow, sameDoing } from "./audit-words.js";
import { passwordProblem } from "./passwords.js";

const $ = (id) => document.getElementById(id);
let olderThan = null;

$("change").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("changed").textContent = "";
  $("error").textContent = passwordProblem($("password").value, $("again").value);
  if ($("error").textContent) return;
  try {
    // The answer sets this browser's new sign-in (a cookie): the others end.
    await api("/api/me/password", { method: "POST",
      json: { old_password: $("old").value, new_password: $("password").value } });
  } catch (e) {
    $("error").textContent = e.message;
    return;
  }
  $("change").reset();
  $("changed").textContent = "Your password is changed. Your other devices are signed out.";
});

async function showRecord() {
  const page = await api("/api/me/audit?limit=50" + (olderThan ? "&before_id=" + olderThan : ""));
  // A run of the same doing is one row (the observation room lists sessions every 5 s).
  let run = [];
  const flush = () => { if (run.length) $("entries").append(auditRow(run[0], run.slice(1))); };
  for (const entry of page.entries) {
    if (run.length && !sameDoing(run[0], entry)) { flush(); run = []; }
    run.push(entry);
  }
  flush();
  olderThan = page.next_before_id;
  $("older").classList.toggle("hidden", olderThan === null);
}

function writingItem(w) {
  const li = document.createElement("li");
  const title = (w.kind === "letter" ? "A letter" : "A reflection") + ", " +
    new Date(w.created_at).toLocaleDateString(undefined, { dateStyle: "medium" });
  const text = Object.values(w.body).filter((t) => String(t).trim()).join(" ");
  const share = Object.assign(document.createElement("button"), { type: "button", className: "quiet" });
  const draw = () => {
    share.textContent = w.shared ? "Stop sharing" : "Share with my clinician";
    li.querySelector(".shared-note").textContent = w.shared ? "Shared with your clinician." : "Private.";
  };
  share.addEventListener("click", async () => {
    w = await api("/api/me/writings/" + w.id + "/share", { method: w.shared ? "DELETE" : "POST" });
    draw();
  });
  li.append(Object.assign(document.createElement("strong"), { textContent: title }),
            Object.assign(document.createElement("p"), { className: "letter", textContent: text.length > 240 ? text.slice(0, 240) + "…" : text }),
            Object.assign(document.createElement("span"), { className: "caption shared-note" }), " ", share);
  draw();
  return li;
}

async function showWritings() {
  const mine = (await api("/api/me/writings")).filter((w) => Object.values(w.body).some((t) => String(t).trim()));
  $("writing-list").replaceChildren(...mine.reverse().map(writingItem));
  if (!mine.length) $("writing-list").append(Object.assign(document.createElement("li"), { textContent: "Nothing written yet." }));
  $("writings").classList.remove("hidden");
}

async function start() {
  const person = await signedIn();
  if (!person) return;
  nav(person, "account");
  $("whoami").textContent = `Signed in as ${person.name} (${person.email}).`;
  if (person.role !== "client") return;
  $("care").classList.remove("hidden");
  $("record").classList.remove("hidden");
  const clinicians = await api("/api/me/clinicians");
  $("clinicians").textContent = clinicians.length
    ? "Who can see your practice: " + clinicians.map((c) => c.name).join(", ") + "."
    : "No clinician can see your practice.";
  $("older").addEventListener("click", showRecord);
  await Promise.all([showRecord(), showWritings()]);
}

start();
