// Trends over weeks: resting HRV against the person's own usual range, resting heart rate,
// the inner critic before and after, and (for the clinician) coherence; a day or a session
// opens its report.
// The clinical detail (coherence, time estimated as settled, shifts) is for the clinician: a client's
// own page shows their practice and their own ratings, never a count to strive for.

import { api, dayIn, isId, me as signedIn, nav } from "./common.js";
import { axis, chart, cssColour, dayTime, daysAxis, daysScale, paths, timeDay, utcDate } from "./charts.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const palette = { hrv: cssColour("soothing"), band: "rgba(47, 127, 134, 0.14)", average: cssColour("accent"),
                  hr: cssColour("threat"), coherence: "#7b5ea7", soothed: "#8cc3bf", shifts: cssColour("accent"),
                  before: cssColour("threat"), after: cssColour("soothing") };
const CHART_HEIGHT_PX = 230;
const RECENT_SESSIONS = 10;  // listed at first; the rest one click away
let me = null, clientId = null, days = [], zone = null;  // zone: the client's, whose days these are
const clinical = () => me.role === "clinician";

function isoDay(date) { return date.toISOString().slice(0, 10); }
function daysBefore(end, n) { const d = new Date(end + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() - n); return isoDay(d); }
function fixed(x, digits) { return x === null || x === undefined ? "–" : x.toFixed(digits); }
const has = (key) => (d) => d[key] !== null && d[key] !== undefined;
// A value for each day of the range, null on the days without one.
const each = (value) => days.map((d) => { const v = value(d); return v === undefined ? null : v; });
const shown = (digits, unit = "") => (u, v) => v === null || v === undefined ? "–" : v.toFixed(digits) + unit;

// A click on a day (anywhere above it: the cursor snaps to the nearest day) opens the
// report of that day's last session.
function openDay(u) {
  const day = u.cursor.idx === null || u.cursor.idx === undefined ? null : days[u.cursor.idx];
  if (day && day.session_ids.length) location.href = "/report?session=" + day.session_ids[day.session_ids.length - 1];
}

function line(label, stroke, extra = {}) {
  return Object.assign({ label, stroke, width: 1.5, spanGaps: true, points: { show: true, size: 7, fill: stroke } }, extra);
}

function dots(label, colour, extra = {}) {
  return Object.assign({ label, stroke: colour, swatch: colour, paths: paths.none,
                         points: { show: true, size: 8, fill: colour, stroke: colour } }, extra);
}

function draw(element, yLabel, series, data, extra = {}) {
  const u = chart(element, Object.assign({
    heightPx: CHART_HEIGHT_PX, scales: { x: daysScale() }, tzDate: utcDate,
    cursor: { drag: { x: false, y: false } },  // a click opens a day: no zooming by dragging
    series: [{ label: "day", value: (self, v) => v === null ? "–" : timeDay(v) }, ...series],
    axes: [daysAxis(), axis(yLabel)],
  }, extra), [days.map((d) => dayTime(d.day)), ...data]);
  u.over.addEventListener("click", () => openDay(u));
  u.over.style.cursor = "pointer";
}

function drawCharts() {
  // The band's edges are series 1 and 2 (the legend names the band once, on its upper edge).
  draw($("hrv-chart"), "ln RMSSD", [
    { label: clinical() ? "their usual range" : "your usual range", stroke: palette.band, width: 0, swatch: palette.band, spanGaps: true,
      points: { show: false },
      value: (u, high, i, idx) => high === null || u.data[2][idx] === null ? "–"
        : u.data[2][idx].toFixed(2) + "–" + high.toFixed(2) },
    { label: "usual range (low)", class: "no-legend", stroke: palette.band, width: 0, spanGaps: true,
      points: { show: false } },
    { label: "7-day average", stroke: palette.average, width: 2.5, spanGaps: true, points: { show: false },
      value: shown(2) },
    dots("day (ln RMSSD)", palette.hrv, {
      value: (u, v) => v === null ? "–" : v.toFixed(2) + " (RMSSD " + Math.exp(v).toFixed(0) + " ms)" }),
  ], [each((d) => d.normal_high), each((d) => d.normal_low), each((d) => d.ln_rmssd_7d),
      each((d) => d.resting_ln_rmssd)],
  { bands: [{ series: [1, 2], fill: palette.band }] });
  draw($("hr-chart"), "beats/min", [line("resting heart rate", palette.hr, { value: shown(0, " bpm") })],
    [each((d) => d.resting_hr_bpm)], { legend: false });
  if (clinical()) draw($("coherence-chart"), "coherence ratio", [line("coherence", palette.coherence, { value: shown(1) })],
    [each((d) => d.coherence)], { legend: false, scales: { x: daysScale(), y: { range: (u, lo, hi) => [0, hi] } } });
  const practised = (value) => each((d) => d.sessions > 0 ? value(d) : null);
  if (clinical()) draw($("soothing-chart"), "minutes", [
    { label: "minutes settled", stroke: palette.soothed, fill: palette.soothed, paths: paths.bars,
      points: { show: false }, value: shown(1, " min") },
    dots("shifts into settling per session", palette.shifts, { scale: "shifts", value: shown(1) }),
  ], [practised((d) => d.soothing_minutes), practised((d) => d.shifts_per_session)], {
    scales: { x: daysScale(), y: { range: (u, lo, hi) => [0, hi * 1.08] },  // room above the tallest
              shifts: { range: (u, lo, hi) => [0, Math.max(hi, 1) * 1.08] } },
    axes: [daysAxis(), axis("minutes"), axis("shifts", { scale: "shifts", side: 1, grid: { show: false },
                                                          incrs: [1, 2, 5, 10] })],
  });
  const scale = "inner-critic";
  draw($("ratings-chart"), "0 gentle · 10 harsh", [
    line("before", palette.before, { width: 1.2, dash: [2, 4], value: shown(0) }),
    line("after", palette.after, { value: shown(0) }),
  ], [each((d) => d.ratings_before[scale]), each((d) => d.ratings_after[scale])], {
    scales: { x: daysScale(), y: { range: [-0.5, 10.5] } },
    axes: [daysAxis(), axis("0 gentle · 10 harsh", { incrs: [2], splits: () => [0, 2, 4, 6, 8, 10] })],
  });
}

function summarise(sessions) {
  const practised = days.filter((d) => d.sessions > 0);
  if (!practised.length) return "";
  const minutes = sessions.reduce((sum, s) => sum + (s.summary.duration_s || 0) / 60, 0);
  const practice = " on " + practised.length + " day" + (practised.length === 1 ? "" : "s") + " (" + sessions.length +
    " session" + (sessions.length === 1 ? "" : "s") + ", about " + Math.round(minutes) + " minutes)";
  if (!clinical()) return "You practised" + practice + ". Each time is time given to yourself.";
  const soothed = days.reduce((sum, d) => sum + d.soothing_minutes, 0);
  const last = [...days].reverse().find(has("ln_rmssd_7d"));
  let hrv = "";
  if (last && last.normal_low !== null) {
    hrv = last.ln_rmssd_7d > last.normal_high ? " Resting HRV has been above its usual range this week."
      : last.ln_rmssd_7d < last.normal_low ? " Resting HRV has been a little below its usual range this week; that happens, and it passes."
        : " Resting HRV has been within its usual range this week.";
  }
  return "Practised" + practice + ", an estimated " + Math.round(soothed) + " of them settled." + hrv;
}

// When a session began (the API's times are UTC).
const when = (s) => new Date(s.started_at.endsWith("Z") || s.started_at.includes("+") ? s.started_at : s.started_at + "Z");

function fillTables(sessions) {
  const rows = $("sessions");
  rows.innerHTML = "";
  for (const s of sessions) {
    const tr = document.createElement("tr");
    const cells = [when(s).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }), s.protocol === "srb" ? "soothing rhythm breathing" : s.protocol,
      fixed((s.summary.duration_s || 0) / 60, 0)];
    if (clinical()) cells.push(fixed((s.summary.minutes_by_state || {}).soothing, 1), String(s.summary.threat_to_soothing_shifts ?? "–"));
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = i === 1 ? "wide" : i >= 2 ? "num" : "";
      tr.append(td);
    });
    if (rows.children.length >= RECENT_SESSIONS) tr.className = "hidden more";
    const td = document.createElement("td");
    const a = Object.assign(document.createElement("a"), { href: "/report?session=" + s.id, textContent: "Open report" });
    a.setAttribute("aria-label", "Open the report of the session on " + cells[0]);
    td.append(a);
    tr.append(td);
    rows.append(tr);
  }
  const more = $("all-sessions");
  more.textContent = "Show all " + sessions.length + " sessions";
  more.classList.toggle("hidden", sessions.length <= RECENT_SESSIONS);
  const table = $("days");
  table.innerHTML = "";
  for (const d of days.filter((d) => d.sessions > 0)) {
    const tr = document.createElement("tr");
    const critic = (r) => r["inner-critic"] === undefined ? "–" : r["inner-critic"].toFixed(0);
    const cells = [d.day, String(d.sessions), fixed(d.resting_ln_rmssd, 2), fixed(d.ln_rmssd_7d, 2),
      d.normal_low === null ? "–" : d.normal_low.toFixed(2) + "–" + d.normal_high.toFixed(2),
      fixed(d.resting_hr_bpm, 0),
      ...(clinical() ? [fixed(d.coherence, 1), fixed(d.soothing_minutes, 1)] : []), critic(d.ratings_before) + " / " + critic(d.ratings_after)];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i > 0) td.className = "num";
      tr.append(td);
    });
    table.append(tr);
  }
  document.querySelectorAll(".table-wrap table").forEach(labelCells);
}

// Each cell named by its column, for a phone, where a row is read as a list (trends.html).
function labelCells(table) {
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  table.querySelectorAll("tbody tr").forEach((tr) => [...tr.children].forEach((td, i) => {
    td.dataset.label = names[i] || "";
  }));
}

const NOT_YOURS = "These trends are not yours to see. If you think they should be, ask the clinic to assign this client to you.";

async function load() {
  $("error").textContent = "";
  if (!isId(clientId)) {  // from the address bar: no path is built from anything else
    $("charts").classList.add("hidden");
    $("error").textContent = NOT_YOURS;
    return;
  }
  const start = $("start").value, end = $("end").value;
  const query = new URLSearchParams({ start, end });
  if (clientId && me.role === "clinician") {
    query.set("client", clientId);
    $("plan-link").href = "/plan?client=" + clientId;
    $("letters-link").href = "/letters?client=" + clientId;
  }
  history.replaceState(null, "", "/trends?" + query);
  try {
    const [trend, all, health] = await Promise.all([
      api("/api/clients/" + clientId + "/trends?start=" + start + "&end=" + end),
      api("/api/sessions?limit=500" + (me.role === "clinician" ? "&client_id=" + clientId : "")),
      api("/api/health"),
    ]);
    days = trend;
    // Practice with a demo heart and sessions the client left are not their practice.
    const sessions = all.filter((s) => s.client_id === clientId && !s.live && !s.demo && s.status !== "left" &&
      dayIn(zone, when(s)) >= start && dayIn(zone, when(s)) <= end);
    const any = days.some((d) => d.sessions > 0);
    $("nothing").classList.toggle("hidden", any);
    $("charts").classList.toggle("hidden", !any);
    // The demo history is made behind a freshly started service: say so, and look again.
    const filling = health.demo_history === "filling";
    $("filling").classList.toggle("hidden", !filling);
    if (filling && !any) setTimeout(load, 5000);
    if (!any) return;
    $("summary").textContent = summarise(sessions);
    drawCharts();
    fillTables(sessions);
    document.body.dataset.drawn = "yes";
  } catch (e) {
    $("charts").classList.add("hidden");
    $("error").textContent = e.message.startsWith("No such client") ? NOT_YOURS : e.message;
  }
}

// A client sees who can see their practice (a new assignment shows here at once).
async function showWhoCanSee() {
  const clinicians = await api("/api/me/clinicians");
  $("who-can-see").textContent = clinicians.length
    ? "Who can see your practice: " + clinicians.map((c) => c.name).join(", ") + "."
    : "No clinician can see your practice.";
  $("who-can-see").classList.remove("hidden");
}

async function start() {
  me = await signedIn();
  if (!me) return;
  nav(me, "trends");
  if (me.role === "clinician") {
    const clients = await api("/api/clients");
    $("who").classList.remove("hidden");
    $("title").textContent = "Trends";
    // The captions speak to the client on their own page; here they speak of them.
    $("hrv-caption").textContent = $("hrv-caption").textContent.replace("your own", "the client's own");
    $("ratings-caption").textContent = $("ratings-caption").textContent.replace("Your own", "The client's own");
    for (const c of clients) $("client").append(new Option(c.name, c.id));
    clientId = params.get("client") || (clients[0] && clients[0].id);
    if (params.get("client") && !clients.some((c) => c.id === params.get("client"))) {
      $("client").append(new Option("(not assigned to you)", params.get("client")));
    }
    if (!clientId) { $("error").textContent = "No clients are assigned to you yet."; $("charts").classList.add("hidden"); return; }
    $("client").value = clientId;
    const zoneOf = (id) => (clients.find((c) => c.id === id) || {}).time_zone;
    zone = zoneOf(clientId);
    $("client").addEventListener("change", () => { clientId = $("client").value; zone = zoneOf(clientId); load(); });
  } else if (me.role === "client") {
    clientId = me.id;
    zone = me.time_zone;
    showWhoCanSee();
    for (const element of document.querySelectorAll(".clinical")) element.remove();
  } else {
    $("title").textContent = "Trends";
    $("range").classList.add("hidden");
    $("error").textContent = "Trends hold health data, which administrators do not see.";
    $("charts").classList.add("hidden");
    return;
  }
  // The client's days: today is today where they are. A day in the address that is not one
  // (a link cut short, a hand-typed "garbage") gives way to the usual six weeks.
  const dayAsked = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(name) || "") && !Number.isNaN(Date.parse(params.get(name)))
    ? params.get(name) : null);
  const end = dayAsked("end") || dayIn(zone);
  $("end").value = end;
  $("start").value = dayAsked("start") || daysBefore(end, 41);
  $("all-sessions").addEventListener("click", () => {
    for (const row of document.querySelectorAll("#sessions tr.more")) row.classList.remove("hidden");
    $("all-sessions").classList.add("hidden");
  });
  $("range").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  for (const button of document.querySelectorAll(".presets button")) {
    button.addEventListener("click", () => { $("start").value = daysBefore($("end").value, Number(button.dataset.days) - 1); load(); });
  }
  load();
}

start();
