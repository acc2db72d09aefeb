// A client's practice plan, as their assigned clinician sets it (/plan?client=<id>): whether
// slow breathing with the heart's feedback suits them, what they practise (a protocol, or
// the clinician's own copy of one, checked as a protocol file is checked), the pace, the
// breath's parts, the practice's minutes, the optional stages, and what they see during
// practice (quiet by default). The latest resonance assessment's pick becomes the pace once
// the clinician confirms it here. The server audit-logs every read and change.

import { api, isId, me, nav, request } from "./common.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const clientId = params.get("client");
const NOT_YOURS = "This plan is not yours to see. If you think it should be, ask the clinic to assign this client to you.";
// The words for the fields a refusal names.
const FIELDS = {
  pace_bpm: "Pace", min_pace_bpm: "Slowest pace", max_pace_bpm: "Fastest pace", inhale: "In",
  exhale: "Out", hold_in: "Hold after in", hold_out: "Rest after out",
  practice_minutes: "Practice minutes", custom_protocol: "The protocol", stages: "Optional stages",
};
const NUMBERS = { "min-pace": "min_pace_bpm", "max-pace": "max_pace_bpm", pace: "pace_bpm",
  "practice-minutes": "practice_minutes", inhale: "inhale", exhale: "exhale", "hold-in": "hold_in",
  "hold-out": "hold_out" };

let plan = null, wantedStages = [];  // the stages ticked, kept while the protocol changes

const rate = (x) => String(Number(x.toFixed(2)));

// A refusal in words: the server's sentence, or each field's problem named as the form names it.
async function refusal(response) {
  let detail = response.statusText;
  try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
  if (typeof detail === "string") return detail;
  return detail.map((d) => {
    const field = FIELDS[d.loc[d.loc.length - 1]] || FIELDS[d.loc[1]] || "";
    const bound = BOUNDS[d.type];
    return (field ? field + ": " : "") +
      (bound ? bound(d.ctx) + ", not " + d.input + "." : d.msg.replace(/^Value error, /, ""));
  }).join(" ");
}

// A number out of the form's range, in words ("Input should be greater than or equal to 3").
const BOUNDS = {
  greater_than_equal: (c) => "at least " + c.ge, less_than_equal: (c) => "at most " + c.le,
  greater_than: (c) => "more than " + c.gt, less_than: (c) => "less than " + c.lt,
};

async function send(path, method, json) {
  const response = await request(path, { method, json });
  if (!response.ok) throw new Error(await refusal(response));
  return response.json();
}

function patternWords(p) {
  const parts = ["in " + rate(p.inhale)];
  if (p.hold_in > 0) parts.push("hold " + rate(p.hold_in));
  parts.push("out " + rate(p.exhale));
  if (p.hold_out > 0) parts.push("rest " + rate(p.hold_out));
  return parts.join(" : ");
}

function summary(p) {
  const sees = p.states_shown && p.numbers_shown ? "state words and numbers"
    : p.states_shown ? "state words" : p.numbers_shown ? "numbers" : "the quiet view (no words about their state, no numbers)";
  const stages = p.stages.length ? ", with " + p.stages.map((s) => s.replaceAll("-", " ")).join(", ") : "";
  const own = p.chosen_pace_bpm === null ? "" : " (the pace they chose, within the limits)";
  const pace = p.protocol === "resonance" ? "at the assessment's own rates" : "at " + rate(p.pace_bpm) + " breaths a minute" + own;
  return p.client_name + "'s next practice: " + p.title + stages + ", about " + Math.round(p.minutes) +
    " minutes, " + pace + ", " + patternWords(p.pattern) +
    ". They see " + sees + "." + (p.confirmed ? "" : " Not confirmed yet: the pacer and cues only, no slower than 5.5 a minute.");
}

function showStages(names) {
  const box = $("stages");
  box.replaceChildren();
  $("stages-box").classList.toggle("hidden", names.length === 0);
  for (const name of names) {
    const label = Object.assign(document.createElement("label"), { className: "choice" });
    const input = Object.assign(document.createElement("input"), { type: "checkbox", value: name, checked: wantedStages.includes(name) });
    input.addEventListener("change", () => {
      wantedStages = wantedStages.filter((n) => n !== name).concat(input.checked ? [name] : []);
    });
    label.append(input, " " + name.replaceAll("-", " "));
    box.append(label);
  }
}

const chosenStages = () => [...document.querySelectorAll("#stages input:checked")].map((i) => i.value);

// The stages of the protocol chosen in the form (a custom one's, once it passes the check).
async function protocolChanged() {
  const name = $("protocol").value;
  $("custom").classList.toggle("hidden", name !== "custom");
  assessing(name === "resonance");
  if (name !== "custom") { showStages((await api("/api/protocols/" + name)).stage_names); return; }
  if ($("custom-text").value.trim()) await check();
  else showStages([]);
}

async function check() {
  $("check-words").textContent = "";
  $("check-words").className = "";
  try {
    const checked = await send("/api/protocols/check", "POST", { text: $("custom-text").value });
    $("check-words").textContent = "It can be used: " + checked.title + ", about " + Math.round(checked.minutes) + " minutes.";
    showStages(checked.stage_names);
  } catch (e) {
    $("check-words").textContent = e.message;
    $("check-words").className = "error";
  }
}

async function copyOf(name) {
  const builtIn = await api("/api/protocols/" + name);
  $("custom-text").value = builtIn.text;
  await check();
}

function fill(p) {
  plan = p;
  $("title").textContent = p.client_name + "'s practice plan";
  document.title = p.client_name + "'s practice plan · heartsease";
  $("summary").textContent = summary(p);
  const answer = (value) => (value === null ? null : value ? "yes" : "no");
  for (const [name, value] of [["pacemaker", answer(p.pacemaker_or_arrhythmia)], ["pressure", answer(p.low_blood_pressure_or_medication)]]) {
    for (const radio of document.querySelectorAll("input[name=" + name + "]")) radio.checked = radio.value === value;
  }
  const given = { min_pace_bpm: p.set_limits_bpm.min, max_pace_bpm: p.set_limits_bpm.max,
    pace_bpm: p.plan_pace_bpm, practice_minutes: p.practice_minutes, ...p.set_pattern };
  for (const [id, key] of Object.entries(NUMBERS)) $(id).value = given[key] === null || given[key] === undefined ? "" : given[key];
  $("protocol").value = p.protocol;
  $("custom-text").value = p.custom_protocol || "";
  $("custom").classList.toggle("hidden", p.protocol !== "custom");
  $("show-states").checked = p.show_states;
  $("show-numbers").checked = p.show_numbers;
  wantedStages = [...p.stages];
  showStages(p.stage_names);
  assessing(p.protocol === "resonance");
  showResonance(p);
  $("plan").classList.remove("hidden");
}

function showResonance(p) {
  const pick = p.resonance;
  $("resonance").classList.toggle("hidden", !pick);
  if (!pick) return;
  const when = pick.ended_at ? new Date(pick.ended_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
  const button = $("use-pick");
  if (pick.resonance_bpm === null) {
    $("resonance-words").textContent = "The assessment of " + when + " found no rate that stood out. " + pick.explanation;
    button.classList.add("hidden");
    return;
  }
  const found = "The assessment of " + when + " found " + rate(pick.resonance_bpm) + " breaths a minute (" + pick.confidence + "). " + pick.explanation;
  $("resonance-words").textContent = pick.confirmed ? found + " This is " + p.client_name + "'s pace since you confirmed it." : found;
  button.textContent = "Use " + rate(pick.resonance_bpm) + "/min as " + p.client_name + "'s pace";
  button.classList.toggle("hidden", pick.confirmed);
}

// The assessment paces its own rates for set times: no pace, minutes or stages of the plan.
function assessing(yes) {
  for (const id of ["pace", "practice-minutes"]) $(id).closest("div").classList.toggle("hidden", yes);
  if (yes) $("stages-box").classList.add("hidden");
}

function numberOrNull(id) { return $(id).value.trim() === "" ? null : Number($(id).value); }

function body() {
  const answer = (name) => {
    const checked = document.querySelector("input[name=" + name + "]:checked");
    return checked ? checked.value === "yes" : null;
  };
  const out = { pacemaker_or_arrhythmia: answer("pacemaker"), low_blood_pressure_or_medication: answer("pressure"),
    protocol: $("protocol").value, custom_protocol: $("custom-text").value.trim() ? $("custom-text").value : null,
    stages: $("protocol").value === "resonance" ? [] : chosenStages(),
    show_states: $("show-states").checked, show_numbers: $("show-numbers").checked };
  for (const [id, key] of Object.entries(NUMBERS)) out[key] = numberOrNull(id);
  if (out.protocol === "resonance") out.practice_minutes = null;
  return out;
}

async function save(event) {
  event.preventDefault();
  $("save-error").textContent = "";
  $("saved").textContent = "";
  const wanted = body();
  if (wanted.pacemaker_or_arrhythmia === null || wanted.low_blood_pressure_or_medication === null) {
    $("save-error").textContent = "Answer both questions about whether it suits them first.";
    return;
  }
  // A box holding what is not a number ("5e", half-written) reads as empty, and empty means
  // the default: it was saved as a pace of 6.
  const unread = Object.keys(NUMBERS).filter((id) => $(id).validity.badInput);
  if (unread.length) {
    $("save-error").textContent = unread.map((id) => FIELDS[NUMBERS[id]] + ": write a number, or leave it empty.").join(" ");
    return;
  }
  $("save").disabled = true;
  try {
    fill(await send("/api/clients/" + clientId + "/plan", "PUT", wanted));
    $("saved").textContent = "Saved. " + plan.client_name + "'s next practice follows this plan.";
  } catch (e) {
    $("save-error").textContent = e.message;
  } finally {
    $("save").disabled = false;
  }
}

async function usePick() {
  $("resonance-error").textContent = "";
  try {
    fill(await send("/api/clients/" + clientId + "/plan/resonance", "POST", { session_id: plan.resonance.session_id }));
    $("saved").textContent = rate(plan.plan_pace_bpm) + " a minute is now " + plan.client_name + "'s pace. Their next practice: " + plan.title + ".";
  } catch (e) {
    $("resonance-error").textContent = e.message;
  }
}

me().then(async (person) => {
  if (!person) return;
  if (person.role !== "clinician") { location.href = person.role === "client" ? "/breathe" : "/admin"; return; }
  nav(person, "observe");
  if (!isId(clientId)) { $("error").textContent = NOT_YOURS; return; }  // no path from anything else
  $("trends-link").href = "/trends?client=" + clientId;
  try {
    fill(await api("/api/clients/" + clientId + "/plan"));
  } catch (e) {
    $("error").textContent = e.message.startsWith("No such client") ? NOT_YOURS : e.message;
    return;
  }
  $("plan").addEventListener("submit", save);
  $("protocol").addEventListener("change", protocolChanged);
  $("check").addEventListener("click", check);
  $("custom-text").addEventListener("input", () => { $("check-words").textContent = ""; });
  for (const button of document.querySelectorAll("[data-copy]")) button.addEventListener("click", () => copyOf(button.dataset.copy));
  $("use-pick").addEventListener("click", usePick);
});
