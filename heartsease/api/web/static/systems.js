// The three systems, illustrated with the client's own practice: week by week, the days
// they made time to practise (a soft dot a day) and their own ratings of their inner critic,
// in their words. Nothing here is scored: no minutes settled, no shifts, no verdict.

import { api, me, nav } from "./common.js";

const $ = (id) => document.getElementById(id);
const WEEKS = 6;
const DAY_MS = 86400000;
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function element(tag, props = {}) { return Object.assign(document.createElement(tag), props); }
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

// The Monday on or before a day (UTC, as the trends' days are).
function monday(ms) { return ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY_MS; }

function critic(days, key) {
  const values = days.map((d) => d[key]["inner-critic"]).filter((v) => v !== undefined && v !== null);
  return values.length ? Math.round(mean(values)) : null;
}

function week(days) {
  const li = element("li", { className: "week" });
  const first = new Date(days[0].day + "T00:00:00Z");
  li.append(element("h3", { textContent: "The week of " + first.toLocaleDateString(undefined, { day: "numeric", month: "long", timeZone: "UTC" }) }));
  const dots = element("p", { className: "days-practised" });
  const practised = days.filter((d) => d.sessions > 0);
  dots.setAttribute("aria-label", practised.length
    ? "Practised on " + practised.map((d) => DAY_NAMES[(new Date(d.day + "T00:00:00Z").getUTCDay() + 6) % 7]).join(", ")
    : "No practice this week");
  for (const d of days) {
    const dot = element("span", { className: "day" + (d.sessions > 0 ? " practised" : ""), title: d.day });
    dot.setAttribute("aria-hidden", "true");
    dots.append(dot);
  }
  li.append(dots);
  li.append(element("p", { textContent: practised.length
    ? "You made time for your soothing system on " + (practised.length === 1 ? "one day" : practised.length + " days") + "."
    : "A quieter week. The practice is here whenever you want it." }));
  const before = critic(practised, "ratings_before"), after = critic(practised, "ratings_after");
  if (before !== null || after !== null) {
    const parts = [before !== null ? before + " before practising" : null, after !== null ? after + " after" : null].filter(Boolean);
    li.append(element("p", { className: "caption", textContent: "Your inner critic, as you rated it: " +
      parts.join(", ") + " (0 gentle, 10 harsh)." }));
  }
  return li;
}

async function main() {
  const answer = await fetch("/api/me");  // the page is open to anyone: no sign-in, no weeks
  if (!answer.ok) return;
  nav(await me(), "systems");
  const person = await answer.json();
  if (person.role !== "client") return;
  const end = Date.now(), start = monday(end) - (WEEKS - 1) * 7 * DAY_MS;
  const days = await api("/api/clients/" + person.id + "/trends?start=" + isoDay(start) + "&end=" + isoDay(end));
  const list = $("weeks");
  list.innerHTML = "";
  for (let i = 0; i < days.length; i += 7) list.append(week(days.slice(i, i + 7)));
  if (!days.some((d) => d.sessions > 0)) {
    $("yours-intro").textContent = "When you practise, your weeks will show here: the days you made time for yourself, and your own ratings.";
  }
  $("yours").classList.remove("hidden");
}

main();
