// A clinician records the cues in their own voice (MediaRecorder, from the microphone), one
// at a time, listens back, records again or erases; grouped by protocol and step as a
// client meets them.

import { api, me as signedIn, nav, request } from "./common.js";

const $ = (id) => document.getElementById(id);
const MAX_BYTES = 1000000;  // the service's limit (heartsease/api/voice.py)
let recording = null;  // { recorder, button } while one cue is being recorded

function element(tag, props = {}) { return Object.assign(document.createElement(tag), props); }
function say(text) { $("status").textContent = text; }

async function upload(cue, blob) {
  if (blob.size > MAX_BYTES) { $("error").textContent = "That recording is longer than a cue needs (over 1 MB); try it again, a little shorter."; return; }
  const form = new FormData();
  form.append("audio", blob, "cue");
  const response = await request("/api/clinician/cues/" + cue.key + "/recording", { method: "PUT", body: form });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    $("error").textContent = typeof detail === "string" ? detail : "The recording was not kept.";
    return;
  }
  cue.recording = await response.json();
  say("Recorded: " + cue.text.slice(0, 60) + (cue.text.length > 60 ? "…" : ""));
}

async function start(cue, button, redraw) {
  $("error").textContent = "";
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    $("error").textContent = "The browser did not give this page the microphone: " + e.message;
    return;
  }
  const recorder = new MediaRecorder(stream);
  const parts = [];
  recorder.addEventListener("dataavailable", (event) => { if (event.data.size) parts.push(event.data); });
  recorder.addEventListener("stop", async () => {
    for (const track of stream.getTracks()) track.stop();
    recording = null;
    const type = (recorder.mimeType || (parts[0] && parts[0].type) || "audio/webm").split(";")[0];
    await upload(cue, new Blob(parts, { type }));
    redraw();
  });
  recorder.start();
  recording = { recorder, button };
  button.textContent = "Stop recording";
  button.setAttribute("aria-pressed", "true");
  say("Recording… read the cue, then stop.");
}

function row(cue) {
  const li = element("li");
  const draw = () => {
    li.innerHTML = "";
    li.append(element("p", { className: "cue-text", textContent: cue.text }));
    const actions = element("div", { className: "cue-actions" });
    const rec = element("button", { type: "button", textContent: cue.recording ? "Record again" : "Record" });
    rec.setAttribute("aria-label", (cue.recording ? "Record again: " : "Record: ") + cue.text);
    rec.addEventListener("click", () => {
      if (recording && recording.button === rec) { recording.recorder.stop(); return; }
      if (recording) { $("error").textContent = "Stop the recording under way first."; return; }
      start(cue, rec, draw);
    });
    actions.append(rec);
    if (cue.recording) {
      const listen = element("button", { type: "button", className: "quiet", textContent: "Listen" });
      listen.addEventListener("click", () => new Audio("/api/voice/" + cue.recording.id).play());
      const erase = element("button", { type: "button", className: "quiet", textContent: "Erase" });
      erase.addEventListener("click", async () => {
        await api("/api/clinician/cues/" + cue.key + "/recording", { method: "DELETE" });
        cue.recording = null;
        say("Erased. Your clients' browsers will read that cue.");
        draw();
      });
      actions.append(listen, erase, element("span", { className: "caption", textContent: "In your voice" }));
    } else {
      actions.append(element("span", { className: "caption", textContent: "Read by the browser's voice" }));
    }
    li.append(actions);
  };
  draw();
  return li;
}

async function drawCues() {
  const cues = await api("/api/clinician/cues");
  const container = $("cues");
  container.innerHTML = "";
  let section = null, list = null, step = null;
  for (const cue of cues) {
    if (!section || section.dataset.protocol !== cue.protocol) {
      section = element("section", { className: "card" });
      section.dataset.protocol = cue.protocol;
      section.append(element("h2", { textContent: cue.protocol }));
      container.append(section);
      step = null;
    }
    if (cue.step !== step) {
      step = cue.step;
      if (cue.step !== cue.protocol) section.append(element("h3", { textContent: cue.step }));
      list = element("ul", { className: "cue-list" });
      section.append(list);
    }
    list.append(row(cue));
  }
}

async function main() {
  const person = await signedIn();
  nav(person, "voice");
  if (person.role !== "clinician") {
    document.querySelectorAll("main section").forEach((s) => s.classList.add("hidden"));
    $("cues").innerHTML = "";
    $("error").textContent = "Recording the cues is for clinicians.";
    return;
  }
  if (!window.MediaRecorder || !navigator.mediaDevices) $("error").textContent = "This browser cannot record sound here (it needs a microphone, and the page served over HTTPS or from this computer).";
  $("erase-all").addEventListener("click", async () => {
    if (!confirm("Erase every cue you recorded? Your clients will hear their browser's voice instead.")) return;
    await api("/api/clinician/recordings", { method: "DELETE" });
    await drawCues();
    say("All your recordings are erased.");
  });
  await drawCues();
}

main();
