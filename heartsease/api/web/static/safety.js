// Breathing safely: the notes every breathing screen can reach, with the clinic's crisis
// contact (set by the administrator). Shown before practice and on /safety.

import { api } from "./common.js";

// The notes, in `container`, open or as a fold to open.
export async function safetyNotes(container, { open = false } = {}) {
  const notes = await api("/api/safety");
  const details = document.createElement("details");
  details.className = "safety";
  details.open = open;
  const summary = Object.assign(document.createElement("summary"), { textContent: notes.title });
  const list = document.createElement("ul");
  for (const point of notes.points) list.append(Object.assign(document.createElement("li"), { textContent: point }));
  const crisis = Object.assign(document.createElement("p"), { className: "crisis", textContent: notes.crisis_contact });
  details.append(summary, list, crisis);
  container.append(details);
  return details;
}

if (document.body.dataset.page === "safety") safetyNotes(document.getElementById("notes"), { open: true });
