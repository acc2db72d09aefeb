// The compassionate letter's workspace: the guide rests while the client writes to the
// prompts; every change is saved as they write (nothing lost on a reload); then the letter
// is there to read back, with the guide on, and to share with their clinician, or not.

import { api } from "./common.js";

const SAVE_AFTER_MS = 800;

// A store for one piece of the client's writing in a session: created on the first words,
// updated as they come. The id is kept for the tab, so a reload writes on in the same one.
export function writing(kind, sessionId) {
  const key = "heartsease." + kind + "." + sessionId;
  let id = sessionStorage.getItem(key), timer = null, pending = null, body = {};
  const save = async () => {
    timer = null;
    if (id === null) {
      const created = await api("/api/me/writings", { method: "POST", json: { kind, session_id: sessionId, body } });
      id = created.id;
      sessionStorage.setItem(key, id);
    } else {
      await api("/api/me/writings/" + id, { method: "PUT", json: { body } });
    }
    if (pending) { pending(); pending = null; }
  };
  return {
    async restore() {
      if (id === null) return {};
      const mine = await api("/api/me/writings");
      const found = mine.find((w) => w.id === id);
      body = found ? found.body : {};
      if (!found) id = null;
      return body;
    },
    change(part, text) {
      body = Object.assign({}, body, { [part]: text });
      clearTimeout(timer);
      timer = setTimeout(save, SAVE_AFTER_MS);
      return new Promise((resolve) => { pending = resolve; });
    },
    async share(shared) {
      if (id === null) await save();
      await api("/api/me/writings/" + id + "/share", { method: shared ? "POST" : "DELETE" });
    },
    get body() { return body; },
  };
}

// The workspace for a step with `workspace: "letter"`, in `container`.
export async function letterWorkspace(container, sessionId, prompts) {
  const letter = writing("letter", sessionId);
  const saved = await letter.restore();
  container.innerHTML = "";
  const heading = Object.assign(document.createElement("h2"), { textContent: "Your letter" });
  const note = Object.assign(document.createElement("p"), { className: "status",
    textContent: "This is yours. It is saved as you write and stays private unless you choose to share it." });
  const status = Object.assign(document.createElement("p"), { className: "status", id: "letter-saved" });
  status.setAttribute("aria-live", "polite");
  container.append(heading, note);
  for (const prompt of prompts) {
    const id = "letter-" + prompt.name;
    const label = Object.assign(document.createElement("label"), { htmlFor: id, textContent: prompt.text });
    const area = Object.assign(document.createElement("textarea"), { id, rows: 4, value: saved[prompt.name] || "" });
    area.dataset.part = prompt.name;
    area.addEventListener("input", async () => {
      status.textContent = "Saving…";
      await letter.change(prompt.name, area.value);
      status.textContent = "Saved.";
    });
    container.append(label, area);
  }
  container.append(status);
  container.classList.remove("hidden");
  return letter;
}

// The read-back: the letter as written, to read slowly in a warm voice, and a choice to share.
export function readBack(container, letter) {
  container.innerHTML = "";
  container.append(Object.assign(document.createElement("h2"), { textContent: "Your letter, to read back" }));
  for (const text of Object.values(letter.body)) {
    if (text.trim()) container.append(Object.assign(document.createElement("p"), { className: "letter", textContent: text }));
  }
  const share = Object.assign(document.createElement("button"), { type: "button", className: "quiet",
                                                                textContent: "Share with my clinician" });
  let shared = false;
  share.addEventListener("click", async () => {
    shared = !shared;
    await letter.share(shared);
    share.textContent = shared ? "Shared: stop sharing" : "Share with my clinician";
  });
  container.append(share);
  container.classList.remove("hidden");
}
