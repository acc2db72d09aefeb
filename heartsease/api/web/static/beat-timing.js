// Beat times from batched, late notifications on a drifting strap clock, as the Python
// reader places them (heartsease/sensors/timing.py BeatClock and heartsease/sensors/ble.py
// NotificationTimer): the same steps in the same order, so the page and `heartsease breathe`
// put the same beat at the same moment (a browser test holds them within a millisecond on
// the Polar H10 recording). Read timing.py for the method (Moon, Skelly & Towsley 1999).

import { parseHrm } from "./hrm.js";

const ENVELOPE_WINDOW_S = 300.0;
const MAX_DRIFT = 200e-6;
const MIN_SPAN_FOR_DRIFT_S = 60.0;
const MIN_FIT_GAIN_S = 0.5 / 1024;
const MIN_DRIFT_SHOWN_S = 2.0 / 1024;
export const MIN_RR_MS = 200.0;  // below any human heart: junk such as 28 or a first RR of 7
export const MAX_RR_MS = 3000.0;

// Python's sum() over floats (3.11: left to right, from 0).
const sum = (values) => values.reduce((total, v) => total + v, 0);
// Python's round(x, 9): both round the double's exact decimal expansion.
const round9 = (x) => Number(x.toFixed(9));

function cross(o, a, b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

function lowerHull(points) {
  const hull = [];
  for (const p of points) {
    while (hull.length >= 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
    hull.push(p);
  }
  return hull;
}

export class BeatClock {
  constructor() { this.reset(); }

  // Forget the anchor (after a reconnection: beats before and after are unrelated).
  reset() {
    this.strapS = 0.0;  // cumulative RR since the anchor, in strap time
    this.points = [];  // [arrival, arrival - strap]
  }

  // Beat times (s) for the intervals (ms) of one notification, oldest first.
  place(arrivalS, rrMs) {
    if (!rrMs.length) return [];
    const strap = [];
    for (const rr of rrMs) {
      this.strapS += rr / 1000.0;
      strap.push(this.strapS);
    }
    this.points.push([arrivalS, arrivalS - this.strapS]);
    while (this.points[0][0] < arrivalS - ENVELOPE_WINDOW_S) this.points.shift();
    const offset = this.offsetAt(arrivalS);
    // A beat cannot be later than the notification that reported it.
    return strap.map((s) => round9(Math.min(s + offset, arrivalS)));
  }

  offsetAt(t) {
    const points = this.points, n = points.length;
    const sumT = sum(points.map((p) => p[0]));
    const sumY = sum(points.map((p) => p[1]));
    const lowest = Math.min(...points.map((p) => p[1]));
    let bestSlope = 0.0, bestIntercept = lowest, bestCost = sumY - n * lowest;
    if (points[n - 1][0] - points[0][0] < MIN_SPAN_FOR_DRIFT_S) return lowest;
    const flatCost = bestCost;
    const span = points[n - 1][0] - points[0][0];
    const hull = lowerHull(points);
    for (let k = 0; k + 1 < hull.length; k++) {
      const [t0, y0] = hull[k], [t1, y1] = hull[k + 1];
      // Two notifications at one instant tell no slope (Python divides by zero here:
      // the hardening issue, item 9).
      if (t1 === t0) continue;
      const slope = (y1 - y0) / (t1 - t0);
      if (Math.abs(slope) > MAX_DRIFT) continue;
      const intercept = y0 - slope * t0;
      const cost = sumY - n * intercept - slope * sumT;
      const shown = Math.abs(slope) * span;
      if (cost < bestCost && flatCost - cost > n * MIN_FIT_GAIN_S && shown > MIN_DRIFT_SHOWN_S) {
        bestSlope = slope; bestIntercept = intercept; bestCost = cost;
      }
    }
    return bestIntercept + bestSlope * t;
  }
}

// One connection's notifications as measurements: decoded, stale repeats and impossible
// intervals dropped, beats timed. A new connection gets a new timer.
export class NotificationTimer {
  constructor() { this.beatClock = new BeatClock(); this.previous = null; }

  // The measurement a notification arriving at `arrivalS` carries, or null for a stale
  // repeat: { arrivalS, hrBpm, rrMs, beatTimesS, contact, energyExpendedKj }. Throws
  // MalformedMeasurementError for a malformed payload.
  take(arrivalS, payload) {
    const m = parseHrm(payload);
    const raw = m.rr1024ths;
    // A stale repeat: the same intervals again sooner than the shortest could recur.
    if (this.previous && raw.length && sameValues(raw, this.previous[1])
        && arrivalS - this.previous[0] < Math.min(...m.rrMs) / 1000.0 / 2) {
      return null;
    }
    this.previous = [arrivalS, raw];
    const rrMs = m.rrMs.filter((v) => MIN_RR_MS <= v && v <= MAX_RR_MS);
    return {
      arrivalS, hrBpm: m.hrBpm, rrMs, beatTimesS: this.beatClock.place(arrivalS, rrMs),
      contact: m.contact, energyExpendedKj: m.energyExpendedKj,
    };
  }
}

function sameValues(a, b) {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}
