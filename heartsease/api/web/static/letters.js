// A clinician's view of the letters (and reflections) a client has chosen to share: each
// with the heart's trace of the moments it was written and read back, drawn as a plain SVG
// line with those moments shaded. A letter the client unshares is simply not there.

import { api, isId, me as signedIn, nav } from "./common.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640, HEIGHT = 176, PAD = { left: 40, right: 8, top: 22, bottom: 24 };  // labels above, times below
// The letter stage's prompts, as the client met them (srb.toml's compassionate-letter).
const PROMPTS = {
  "the-pain": "What is hard just now",
  "common-humanity": "Part of being human",
  "understanding": "Understanding, not condemnation",
  "one-step": "One helpful step",
  "text": "In their words",
};
const KIND = { letter: "A compassionate letter", reflection: "A reflection" };

function element(tag, props = {}) { return Object.assign(document.createElement(tag), props); }
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}
const clock = (s) => Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0");

// The heart rate over the moments, session time across, beats per minute up.
function trace(letter) {
  const [t0, t1] = [letter.trace[0][0], letter.trace[letter.trace.length - 1][0]];
  const rates = letter.trace.map((p) => p[1]);
  const low = Math.floor(Math.min(...rates) / 5) * 5, high = Math.ceil(Math.max(...rates) / 5) * 5 || low + 5;
  const x = (t) => PAD.left + (t - t0) / Math.max(t1 - t0, 1) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => PAD.top + (high - v) / Math.max(high - low, 1) * (HEIGHT - PAD.top - PAD.bottom);
  const figure = element("figure", { className: "trace" });
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img" });
  const words = letter.moments.map((m) => `${m.name} from ${clock(m.from_s)} to ${clock(m.to_s)}`).join("; ");
  chart.setAttribute("aria-label", `Heart rate, ${low} to ${high} beats a minute, ${words}`);
  for (const m of letter.moments) {
    chart.append(svg("rect", { x: x(m.from_s), y: PAD.top, width: Math.max(x(m.to_s) - x(m.from_s), 2),
                               height: HEIGHT - PAD.top - PAD.bottom, class: "moment " + m.name.replace(" ", "-") }));
    const label = svg("text", { x: x(m.from_s) + 4, y: PAD.top - 6, class: "moment-label" });
    label.textContent = m.name;
    chart.append(label);
  }
  chart.append(svg("polyline", { points: letter.trace.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "),
                                 class: "heart-line" }));
  for (const [v, at] of [[high, PAD.top + 4], [low, HEIGHT - PAD.bottom]]) {
    const tick = svg("text", { x: 2, y: at, class: "tick" });
    tick.textContent = v;
    chart.append(tick);
  }
  for (const t of [t0, t1]) {
    const tick = svg("text", { x: x(t), y: HEIGHT - 6, class: "tick", "text-anchor": t === t0 ? "start" : "end" });
    tick.textContent = clock(t);
    chart.append(tick);
  }
  figure.append(chart, element("figcaption", { className: "caption",
    textContent: "Heart rate (beats a minute) over the session's minutes: " + words + "." }));
  return figure;
}

function card(letter) {
  const section = element("section", { className: "card shared-letter" });
  const when = new Date(letter.created_at).toLocaleString();
  section.append(element("h2", { textContent: KIND[letter.kind] || letter.kind }),
                 element("p", { className: "caption", textContent: "Written " + when + "; shared " + new Date(letter.shared_at).toLocaleString() + "." }));
  for (const [part, text] of Object.entries(letter.body)) {
    if (!String(text).trim()) continue;
    section.append(element("h3", { textContent: PROMPTS[part] || part }),
                   element("p", { className: "letter", textContent: text }));
  }
  if (letter.trace.length > 1) section.append(trace(letter));
  else section.append(element("p", { className: "caption", textContent: letter.session_id
    ? "No heartbeats were recorded while it was written." : "Written outside a session: there is no heart's trace." }));
  return section;
}

async function show(clientId) {
  $("letters").innerHTML = "";
  $("none").classList.add("hidden");
  $("error").textContent = "";
  if (!isId(clientId)) { $("error").textContent = "No such client, or not yours to see."; return; }
  history.replaceState(null, "", "/letters?client=" + clientId);
  try {
    const full = await api("/api/clients/" + clientId + "/writings?traces=true");
    for (const letter of full.reverse()) $("letters").append(card(letter));
    const name = $("client").selectedOptions[0] ? $("client").selectedOptions[0].textContent : "This client";
    $("none").textContent = name + " has not shared a letter with you. Letters stay private unless a client chooses to share one.";
    $("none").classList.toggle("hidden", full.length > 0);
  } catch (e) {
    $("error").textContent = e.message;
  }
}

async function main() {
  const person = await signedIn();
  nav(person, "letters");
  if (person.role !== "clinician") { $("error").textContent = "Shared letters are for a client's clinician."; $("whose").classList.add("hidden"); return; }
  const clients = await api("/api/clients");
  for (const c of clients) $("client").append(new Option(c.name, c.id));
  const wanted = new URLSearchParams(location.search).get("client");
  const clientId = wanted || (clients[0] && clients[0].id);
  if (!clientId) { $("none").textContent = "No clients are assigned to you yet."; $("none").classList.remove("hidden"); return; }
  if (!clients.some((c) => c.id === clientId)) $("client").append(new Option("(not assigned to you)", clientId));
  $("client").value = clientId;
  $("client").addEventListener("change", () => show($("client").value));
  await show(clientId);
}

main();
