// The one place where charts are set up: uPlot (vendored, served from here) with the pages'
// fonts, colours and axes; the state colours as the stylesheet defines them; and the window
// of recent points that a live chart keeps.

import uPlot from "./vendor/uPlot.esm.js";

const FONT = "13px system-ui, -apple-system, 'Segoe UI', sans-serif";
const GRID = "#e6ebe9";
const DAY_S = 86400;
const dayMonth = uPlot.fmtDate("{D} {MMM}");
const isoDay = uPlot.fmtDate("{YYYY}-{MM}-{DD}");

// A custom property of the stylesheet (app.css), e.g. cssColour("threat") for "--threat".
export function cssColour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
}

// The state colours live in app.css alone (the same values as heartsease/colours.py).
export function stateColour(state) { return cssColour(state) || cssColour("unknown"); }

// An axis with the pages' look; `label` names the quantity with its unit.
export function axis(label, extra = {}) {
  return Object.assign({
    label, stroke: cssColour("ink"), font: FONT, labelFont: FONT, labelSize: 22, size: 44,
    grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 },
  }, extra);
}

// The x axis of day-by-day charts: whole days, labelled "3 Dec".
export function daysAxis() {
  return axis("day", {
    space: 56, size: 32, label: null,
    incrs: [DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S, 28 * DAY_S, 91 * DAY_S],
    values: (u, splits) => splits.map((s) => dayMonth(utcDate(s))),
  });
}

// A day (the client's own, as the API counts them) is drawn at UTC midnight of its date and
// labelled in UTC, so that its label is its date wherever the browser is.
export const utcDate = (s) => uPlot.tzDate(new Date(s * 1000), "Etc/UTC");

// The x scale of day-by-day charts: half a day of room at either end, so that the first and
// last days' points are whole, and can be clicked.
export function daysScale() {
  return { time: true, range: (u, first, last) => [first - DAY_S / 2, last + DAY_S / 2] };
}

// A "YYYY-MM-DD" day as uPlot's time (seconds since 1970, UTC midnight), and back.
export function dayTime(day) { return Date.parse(day + "T00:00:00Z") / 1000; }
export function timeDay(s) { return isoDay(utcDate(s)); }

// Lines at the given x values across the plotting area, drawn after the series.
export function drawVerticals(u, xs, colour, { dash = [], widthPx = 1 } = {}) {
  const g = u.ctx, { left, top, width, height } = u.bbox;
  g.save();
  g.beginPath();
  g.rect(left, top, width, height);
  g.clip();
  g.strokeStyle = colour;
  g.lineWidth = widthPx * uPlot.pxRatio;
  g.setLineDash(dash.map((d) => d * uPlot.pxRatio));
  for (const x of xs) {
    const px = Math.round(u.valToPos(x, "x", true));
    g.beginPath(); g.moveTo(px, top); g.lineTo(px, top + height); g.stroke();
  }
  g.restore();
}

// An axis that draws nothing but takes the room of `like` (e.g. axis("bpm")), so that charts
// stacked above each other share their plotting area's left and right edges.
export function spacer(like, extra = {}) {
  return Object.assign({ size: like.size, labelSize: like.labelSize, label: "", values: () => [],
                         grid: { show: false }, ticks: { show: false } }, extra);
}

// A chart in `element`, as wide as it is and `heightPx` tall (legend aside), redrawn when its
// width changes. The uPlot instance is kept on the element (`element.chart`) so that tests
// and the console can read what is drawn. Drawing again into the same element replaces it.
export function chart(element, { heightPx, series, axes, legend = true, ...rest }, data) {
  if (element.chart) element.chart.destroy();
  const options = Object.assign({
    width: element.clientWidth || 300, height: heightPx, series, axes,
    legend: { show: legend, markers: { fill: (u, i) => u.series[i].swatch || u.series[i].stroke(u, i) } },
  }, rest);
  element.chart = new uPlot(options, data, element);
  if (!element.resizing) {
    element.resizing = new ResizeObserver(() => {
      const u = element.chart, widthPx = element.clientWidth;
      if (u && widthPx && widthPx !== u.width) u.setSize({ width: widthPx, height: u.height });
    });
    element.resizing.observe(element);
  }
  return element.chart;
}

export const paths = { spline: uPlot.paths.spline(), stepped: uPlot.paths.stepped({ align: 1 }),
                       bars: uPlot.paths.bars({ size: [0.6, 28] }), none: () => null };

// Drops, in place, the oldest items of a time-ordered list (items with `t`) from before
// `fromT`, keeping the last of them when `keepOneBefore` (a state or a pace still in effect
// when the window starts). Live pages call it for every list they keep, so that a long
// session holds no more than its charts show.
export function keepFrom(list, fromT, { keepOneBefore = false } = {}) {
  let drop = 0;
  while (drop < list.length && list[drop].t < fromT) drop += 1;
  if (keepOneBefore && drop > 0) drop -= 1;
  if (drop) list.splice(0, drop);
}
