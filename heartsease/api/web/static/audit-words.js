// The audit log in words: who did what, whose data it was. Shared by the administrator's
// page and a person's own account page.

const WHAT = {
  "sign-in": () => "signed in",
  "denied": (e) => `was refused (${e.detail}) at ${e.object_id}`,
  "list-clients": () => "listed their clients",
  "list-sessions": () => "listed the sessions",
  "read-session": () => "read a session",
  "read-trends": () => "read the trends",
  "report": (e) => `read a session report (${e.detail})`,
  "export": (e) => `exported a session (${e.detail})`,
  "export-all": () => "exported all their data",
  "annotate": () => "added a note to a session",
  "start-session": () => "started a session",
  "stop-session": () => "stopped a session",
  "assign": (e) => `assigned ${e.detail_name || "a clinician"}`,
  "unassign": (e) => `unassigned ${e.detail_name || "a clinician"}`,
  "create-user": (e) => `added ${e.object_name || "a person"} (${e.detail})`,
  "deactivate": (e) => `deactivated ${e.object_name || "an account"}`,
  "password-link": (e) => `made a password link for ${e.object_name || "a person"}`,
  "set-password": () => "set their password by a link",
  "change-password": () => "changed their password",
  "password-help": (e) => `${e.object_name || "someone"} asked for a new password (${e.detail})`,
  "revoke-tokens": (e) => `signed ${e.object_name || "a person"} out everywhere`,
  "erase": () => "erased their account",
  "read-plan": () => "read the practice plan",
  "set-plan": () => "set the practice plan",
  "read-writing": (e) => `read a ${e.detail || "letter"} that was shared`,
  "read-backdrafts": () => "read the moments that were a lot",
  "review-backdraft": () => "looked over a moment that was a lot",
  "record-voice": (e) => `recorded a cue in their voice ("${e.detail}…")`,
  "erase-voice": (e) => `erased a recording of their voice (${e.detail})`,
};

export const ACTIONS = Object.keys(WHAT);

export function who(entry) { return entry.actor_name || (entry.actor_id ? "(a removed account)" : "—"); }

export function what(entry) { return (WHAT[entry.action] || (() => entry.action))(entry); }

export function when(entry) { return new Date(entry.at).toLocaleString(); }

// One row of the log as table cells: when, who, what, whose data.
export function auditRow(entry) {
  const tr = document.createElement("tr");
  for (const text of [when(entry), who(entry), what(entry), entry.subject_name || "—"]) {
    tr.append(Object.assign(document.createElement("td"), { textContent: text }));
  }
  return tr;
}
