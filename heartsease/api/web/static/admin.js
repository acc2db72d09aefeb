// The administrator's page: people (add, a password link, deactivate), assignments (assign,
// unassign) and the audit log. No health data is shown here, nor fetched.

import { api, me as signedIn, nav } from "./common.js";
import { ACTIONS, auditRow } from "./audit-words.js";

const $ = (id) => document.getElementById(id);
const ROLE_WORDS = { client: "Client", clinician: "Clinician", admin: "Administrator" };
let people = [], self = null, olderThan = null;

function cell(text) { return Object.assign(document.createElement("td"), { textContent: text }); }

function button(text, onClick, quiet = true) {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: text });
  if (quiet) b.className = "quiet";
  b.addEventListener("click", onClick);
  return b;
}

function accountWords(person) {
  if (person.deactivated_at) return "Deactivated " + new Date(person.deactivated_at).toLocaleDateString();
  return person.password_set ? "Active" : "Waiting for them to set a password";
}

async function act(work) {
  $("error").textContent = "";
  try { await work(); } catch (e) { $("error").textContent = e.message; }
}

// A link to set a password: mailed by the service, or shown here once to hand over.
function showHandover(person, answer) {
  $("handover").classList.remove("hidden");
  if (answer.mailed) {
    $("handover-words").textContent = `A link to set a password has been mailed to ${person.email}.`;
    $("handover-link").classList.add("hidden");
    return;
  }
  const link = answer.link.startsWith("/") ? location.origin + answer.link : answer.link;
  $("handover-words").textContent = `Give ${person.name} this link to set their password. ` +
    `It works once, within ${answer.expires_in_hours} hours, and is not shown again.`;
  $("handover-link").value = link;
  $("handover-link").classList.remove("hidden");
}

function askToDeactivate(person) {
  $("confirm-words").textContent = `Deactivate ${person.name}? They are signed out everywhere at once, ` +
    "cannot sign in again, and any session of theirs that is running stops. Their data is kept.";
  $("confirm-yes").onclick = () => act(async () => {
    $("confirm").close();
    await api("/api/users/" + encodeURIComponent(person.id), { method: "DELETE" });
    await refresh();
  });
  $("confirm").showModal();
}

function drawPeople() {
  $("people").replaceChildren(...people.map((person) => {
    const tr = document.createElement("tr");
    tr.append(cell(person.name), cell(person.email), cell(ROLE_WORDS[person.role]), cell(accountWords(person)));
    const actions = document.createElement("td");
    // One's own password is changed on one's account page, with the current one.
    if (!person.deactivated_at && person.id !== self.id) {
      actions.append(button(`Password link for ${person.name}`, () => act(async () => {
        showHandover(person, await api(`/api/users/${encodeURIComponent(person.id)}/password-link`, { method: "POST" }));
      })));
      actions.append(button(`Deactivate ${person.name}`, () => askToDeactivate(person)));
    }
    tr.append(actions);
    return tr;
  }));
}

function fillSelect(select, options, first) {
  const keep = select.value;
  select.replaceChildren(...(first ? [new Option(first, "")] : []), ...options.map(([value, text]) => new Option(text, value)));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

async function drawAssignments() {
  const assignments = await api("/api/assignments");
  $("assignments").replaceChildren(...assignments.map((a) => {
    const tr = document.createElement("tr");
    const actions = document.createElement("td");
    actions.append(button(`Unassign ${a.clinician_name} from ${a.client_name}`, () => act(async () => {
      await api("/api/assignments", { method: "DELETE", json: { clinician_id: a.clinician_id, client_id: a.client_id } });
      await refresh();
    })));
    tr.append(cell(a.clinician_name), cell(a.client_name), actions);
    return tr;
  }));
  if (!assignments.length) $("assignments").append(Object.assign(document.createElement("tr"),
    { innerHTML: '<td colspan="3">Nobody is assigned yet.</td>' }));
}

function drawChoices() {
  const active = people.filter((p) => !p.deactivated_at);
  const of = (role) => active.filter((p) => p.role === role).map((p) => [p.id, p.name]);
  fillSelect($("assign-clinician"), of("clinician"));
  fillSelect($("assign-client"), of("client"));
  fillSelect($("f-actor"), people.map((p) => [p.id, p.name]), "Anyone");
  fillSelect($("f-subject"), people.filter((p) => p.role === "client").map((p) => [p.id, p.name]), "Anyone's");
}

async function showAudit(more = false) {
  const query = new URLSearchParams({ limit: "50" });
  for (const [key, id] of [["action", "f-action"], ["actor_id", "f-actor"], ["subject_id", "f-subject"]]) {
    if ($(id).value) query.set(key, $(id).value);
  }
  // The days are the administrator's own: midnight here, sent as a moment in UTC.
  const midnight = (day, plusDays = 0) => { const d = new Date(day + "T00:00"); d.setDate(d.getDate() + plusDays); return d.toISOString(); };
  if ($("f-since").value) query.set("since", midnight($("f-since").value));
  if ($("f-until").value) query.set("until", midnight($("f-until").value, 1));
  if (more && olderThan) query.set("before_id", olderThan);
  const page = await api("/api/audit?" + query);
  const rows = page.entries.map((entry) => auditRow(entry));
  if (more) $("entries").append(...rows); else $("entries").replaceChildren(...rows);
  olderThan = page.next_before_id;
  $("older").classList.toggle("hidden", olderThan === null);
  $("no-entries").classList.toggle("hidden", $("entries").children.length > 0);
}

async function refresh() {
  people = await api("/api/users");
  drawPeople();
  drawChoices();
  await drawAssignments();
  await showAudit();
}

$("add").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    const name = $("name").value.trim(), email = $("email").value.trim();
    if (!name || !email.includes("@")) throw new Error("Give the person's name and email.");
    const made = await api("/api/users", { method: "POST", json: { name, email, role: $("role").value } });
    $("add").reset();
    await refresh();
    showHandover(made.user, made);
  });
});

$("assign").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    if (!$("assign-clinician").value || !$("assign-client").value) throw new Error("Choose a clinician and a client.");
    await api("/api/assignments", { method: "POST",
      json: { clinician_id: $("assign-clinician").value, client_id: $("assign-client").value } });
    await refresh();
  });
});

$("filters").addEventListener("submit", (event) => { event.preventDefault(); act(() => showAudit()); });
$("older").addEventListener("click", () => act(() => showAudit(true)));
$("confirm-no").addEventListener("click", () => $("confirm").close());

async function start() {
  self = await signedIn();
  if (!self) return;
  nav(self, "admin");
  if (self.role !== "admin") {
    $("error").textContent = "This page is for administrators.";
    document.querySelectorAll("section").forEach((s) => s.classList.add("hidden"));
    return;
  }
  fillSelect($("f-action"), ACTIONS.map((a) => [a, a.replace(/-/g, " ")]), "Everything");
  await act(refresh);
}

start();
