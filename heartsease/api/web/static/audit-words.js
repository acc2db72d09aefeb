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
  "observe": () => "watched a session live",
  "confirm-resonance": () => "confirmed a resonance assessment's pace",
  "issue-stream-code": () => "made a code for the Python streamer",
  "redeem-stream-code": () => "signed the Python streamer in with a code",
  "delete-session": () => "deleted a session",
};

export const ACTIONS = Object.keys(WHAT);

export function who(entry) { return entry.actor_name || (entry.actor_id ? "(a removed account)" : "—"); }

export function what(entry) { return (WHAT[entry.action] || (() => entry.action))(entry); }

// Dates as the other pages write them ("Dec 5, 2026"), to the second.
export function when(entry) {
  return new Date(entry.at).toLocaleString([], { dateStyle: "medium", timeStyle: "medium" });
}

// One row of the log as table cells: when, who, what, whose data. `repeats`, entries of the
// same person doing the same thing to the same data just before it (the log is newest
// first), are folded into it: the observation room lists the sessions every few seconds.
export function auditRow(entry, repeats = []) {
  const tr = document.createElement("tr");
  const first = repeats.length ? repeats[repeats.length - 1] : entry;
  const at = repeats.length ? when(first) + " to " + when(entry) : when(entry);
  const done = what(entry) + (repeats.length ? " (" + (repeats.length + 1) + " times)" : "");
  for (const text of [at, who(entry), done, entry.subject_name || "—"]) {
    tr.append(Object.assign(document.createElement("td"), { textContent: text }));
  }
  return tr;
}

// Whether two entries say the same thing of the same data (their times aside).
export function sameDoing(a, b) {
  return a.actor_id === b.actor_id && a.action === b.action && a.subject_name === b.subject_name
    && a.detail === b.detail && a.object_id === b.object_id;
}
