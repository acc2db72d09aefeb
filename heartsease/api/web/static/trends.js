// Trends over weeks: resting HRV against the person's own usual range, resting heart rate,
// coherence, time soothed and shifts, and the inner critic before and after; a day or a
// session opens its report.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const palette = { hrv: "#2f7f86", band: "rgba(47, 127, 134, 0.14)", average: "#35606e",
                  hr: "#a2542f", coherence: "#7b5ea7", soothed: "#8cc3bf", shifts: "#35606e",
                  before: "#a2542f", after: "#2f7f86" };
const layoutBase = {
  margin: { l: 48, r: 48, t: 8, b: 36 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  font: { family: "system-ui, sans-serif", size: 13, color: "#1f2a30" },
  legend: { orientation: "h", y: -0.18 }, hovermode: "x unified",
  xaxis: { type: "date", gridcolor: "#e6ebe9" }, yaxis: { gridcolor: "#e6ebe9", zeroline: false },
};
const config = { displayModeBar: false, responsive: true };
const RECENT_SESSIONS = 10;  // listed at first; the rest one click away
let me = null, clientId = null, days = [];

function isoDay(date) { return date.toISOString().slice(0, 10); }
function daysBefore(end, n) { const d = new Date(end + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() - n); return isoDay(d); }
function fixed(x, digits) { return x === null || x === undefined ? "–" : x.toFixed(digits); }
const has = (key) => (d) => d[key] !== null && d[key] !== undefined;

function layout(extra) { return Object.assign({}, layoutBase, extra); }

function openDay(point) {
  const day = days.find((d) => d.day === String(point.x).slice(0, 10));
  if (day && day.session_ids.length) location.href = "/report?session=" + day.session_ids[day.session_ids.length - 1];
}

function draw(element, traces, extra) {
  Plotly.react(element, traces, layout(extra), config);
  element.removeAllListeners && element.removeAllListeners("plotly_click");
  element.on("plotly_click", (event) => openDay(event.points[0]));
}

function drawCharts() {
  const measured = days.filter(has("resting_ln_rmssd"));
  const banded = days.filter(has("normal_low"));
  const x = (list) => list.map((d) => d.day);
  draw($("hrv-chart"), [
    { x: x(banded), y: banded.map((d) => d.normal_high), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { x: x(banded), y: banded.map((d) => d.normal_low), mode: "lines", line: { width: 0 }, fill: "tonexty",
      fillcolor: palette.band, name: "your usual range", hoverinfo: "skip" },
    { x: x(days.filter(has("ln_rmssd_7d"))), y: days.filter(has("ln_rmssd_7d")).map((d) => d.ln_rmssd_7d),
      mode: "lines", name: "7-day average", line: { color: palette.average, width: 2.5 },
      hovertemplate: "7-day average %{y:.2f}<extra></extra>" },
    { x: x(measured), y: measured.map((d) => d.resting_ln_rmssd), mode: "markers", name: "day (ln RMSSD)",
      marker: { color: palette.hrv, size: 8 },
      customdata: measured.map((d) => Math.exp(d.resting_ln_rmssd)),
      hovertemplate: "ln RMSSD %{y:.2f} (RMSSD %{customdata:.0f} ms)<extra></extra>" },
  ], { yaxis: Object.assign({}, layoutBase.yaxis, { title: { text: "ln RMSSD" } }) });
  const hr = days.filter(has("resting_hr_bpm"));
  draw($("hr-chart"), [{ x: x(hr), y: hr.map((d) => d.resting_hr_bpm), mode: "lines+markers", name: "resting heart rate",
    line: { color: palette.hr, width: 1.5 }, marker: { size: 7 }, hovertemplate: "%{y:.0f} bpm<extra></extra>" }],
  { showlegend: false, yaxis: Object.assign({}, layoutBase.yaxis, { title: { text: "beats/min" } }) });
  const coherent = days.filter(has("coherence"));
  draw($("coherence-chart"), [{ x: x(coherent), y: coherent.map((d) => d.coherence), mode: "lines+markers",
    name: "coherence", line: { color: palette.coherence, width: 1.5 }, marker: { size: 7 },
    hovertemplate: "coherence %{y:.1f}<extra></extra>" }],
  { showlegend: false, yaxis: Object.assign({}, layoutBase.yaxis, { title: { text: "coherence ratio" }, rangemode: "tozero" }) });
  const practised = days.filter((d) => d.sessions > 0);
  draw($("soothing-chart"), [
    { x: x(practised), y: practised.map((d) => d.soothing_minutes), type: "bar", name: "minutes soothed",
      marker: { color: palette.soothed }, hovertemplate: "%{y:.1f} min soothed<extra></extra>" },
    { x: x(practised), y: practised.map((d) => d.shifts_per_session), mode: "markers", name: "shifts into soothing per session",
      yaxis: "y2", marker: { color: palette.shifts, size: 8, symbol: "diamond" },
      hovertemplate: "%{y:.1f} shifts per session<extra></extra>" },
  ], { yaxis: Object.assign({}, layoutBase.yaxis, { title: { text: "minutes" }, rangemode: "tozero" }),
       yaxis2: { overlaying: "y", side: "right", rangemode: "tozero", dtick: 1, showgrid: false, title: { text: "shifts" } } });
  const scale = "inner-critic";
  const before = days.filter((d) => d.ratings_before[scale] !== undefined);
  const after = days.filter((d) => d.ratings_after[scale] !== undefined);
  draw($("ratings-chart"), [
    { x: x(before), y: before.map((d) => d.ratings_before[scale]), mode: "lines+markers", name: "before",
      line: { color: palette.before, width: 1.2, dash: "dot" }, marker: { size: 7 }, hovertemplate: "before %{y:.0f}<extra></extra>" },
    { x: x(after), y: after.map((d) => d.ratings_after[scale]), mode: "lines+markers", name: "after",
      line: { color: palette.after, width: 1.5 }, marker: { size: 7 }, hovertemplate: "after %{y:.0f}<extra></extra>" },
  ], { yaxis: Object.assign({}, layoutBase.yaxis, { range: [-0.5, 10.5], dtick: 2, title: { text: "0 gentle · 10 harsh" } }) });
}

function summarise(sessions) {
  const practised = days.filter((d) => d.sessions > 0);
  if (!practised.length) return "";
  const minutes = sessions.reduce((sum, s) => sum + (s.summary.duration_s || 0) / 60, 0);
  const soothed = days.reduce((sum, d) => sum + d.soothing_minutes, 0);
  const last = [...days].reverse().find(has("ln_rmssd_7d"));
  let hrv = "";
  if (last && last.normal_low !== null) {
    hrv = last.ln_rmssd_7d > last.normal_high ? " Resting HRV has been above its usual range this week."
      : last.ln_rmssd_7d < last.normal_low ? " Resting HRV has been a little below its usual range this week; that happens, and it passes."
        : " Resting HRV has been within its usual range this week.";
  }
  const who = me.role === "client" ? "You practised" : "Practised";
  return who + " on " + practised.length + " day" + (practised.length === 1 ? "" : "s") + " (" + sessions.length +
    " session" + (sessions.length === 1 ? "" : "s") + ", about " + Math.round(minutes) + " minutes), soothed for about " +
    Math.round(soothed) + " of them." + hrv;
}

function fillTables(sessions) {
  const rows = $("sessions");
  rows.innerHTML = "";
  for (const s of sessions) {
    const tr = document.createElement("tr");
    const when = new Date(s.started_at.endsWith("Z") || s.started_at.includes("+") ? s.started_at : s.started_at + "Z");
    const cells = [when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }), s.protocol === "srb" ? "soothing rhythm breathing" : s.protocol,
      fixed((s.summary.duration_s || 0) / 60, 0), fixed((s.summary.minutes_by_state || {}).soothing, 1),
      String(s.summary.threat_to_soothing_shifts ?? "–")];
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
      fixed(d.resting_hr_bpm, 0), fixed(d.coherence, 1), fixed(d.soothing_minutes, 1),
      critic(d.ratings_before) + " / " + critic(d.ratings_after)];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i > 0) td.className = "num";
      tr.append(td);
    });
    table.append(tr);
  }
}

async function load() {
  $("error").textContent = "";
  const start = $("start").value, end = $("end").value;
  const query = new URLSearchParams({ start, end });
  if (clientId && me.role === "clinician") query.set("client", clientId);
  history.replaceState(null, "", "/trends?" + query);
  try {
    const [trend, all] = await Promise.all([
      Heartsease.api("/api/clients/" + clientId + "/trends?start=" + start + "&end=" + end),
      Heartsease.api("/api/sessions?limit=500" + (me.role === "clinician" ? "&client_id=" + clientId : "")),
    ]);
    days = trend;
    const sessions = all.filter((s) => s.client_id === clientId && !s.live && s.started_at.slice(0, 10) >= start && s.started_at.slice(0, 10) <= end);
    const any = days.some((d) => d.sessions > 0);
    $("nothing").classList.toggle("hidden", any);
    $("charts").classList.toggle("hidden", !any);
    if (!any) return;
    $("summary").textContent = summarise(sessions);
    drawCharts();
    fillTables(sessions);
    document.body.dataset.drawn = "yes";
  } catch (e) {
    $("charts").classList.add("hidden");
    $("error").textContent = e.message.startsWith("No such client")
      ? "These trends are not yours to see. If you think they should be, ask the clinic to assign this client to you."
      : e.message;
  }
}

async function start() {
  me = await Heartsease.me();
  if (!me) return;
  Heartsease.nav(me, "trends");
  const end = params.get("end") || isoDay(new Date());
  $("end").value = end;
  $("start").value = params.get("start") || daysBefore(end, 41);
  if (me.role === "clinician") {
    const clients = await Heartsease.api("/api/clients");
    $("who").classList.remove("hidden");
    $("title").textContent = "Trends";
    for (const c of clients) $("client").append(new Option(c.name, c.id));
    clientId = params.get("client") || (clients[0] && clients[0].id);
    if (params.get("client") && !clients.some((c) => c.id === params.get("client"))) {
      $("client").append(new Option("(not assigned to you)", params.get("client")));
    }
    if (!clientId) { $("error").textContent = "No clients are assigned to you yet."; $("charts").classList.add("hidden"); return; }
    $("client").value = clientId;
    $("client").addEventListener("change", () => { clientId = $("client").value; load(); });
  } else if (me.role === "client") {
    clientId = me.id;
  } else {
    $("error").textContent = "Trends hold health data, which administrators do not see.";
    $("charts").classList.add("hidden");
    return;
  }
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
