// One's own account: changing the password and, for a client, who can see their practice
// and the audit log's record of their data.

import { api, me as signedIn, nav } from "./common.js";
import { auditRow } from "./audit-words.js";
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
  for (const entry of page.entries) $("entries").append(auditRow(entry));
  olderThan = page.next_before_id;
  $("older").classList.toggle("hidden", olderThan === null);
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
  await showRecord();
}

start();
