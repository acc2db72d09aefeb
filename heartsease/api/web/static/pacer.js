// The breath pacer, the same function as heartsease/coaching/pacer.py, line for line: its
// position is the integral of the rate, kept as linear ramps anchored where the last one was,
// so the phase at any moment is computed in closed form (holds included). A pure module: no
// page, no clock; tests/coaching/test_pacer_js.py compares its phases with Python's over
// whole protocols.
//
// `PacerFollower` builds the server's pacer from the session's messages exactly as the
// protocol runner builds it: a fresh pacer on a first in-breath (breath 0), a rate change
// on each "pacer" message, and on joining late the very pacer the server holds (its anchors).

export const PARTS = ["inhale", "hold-in", "exhale", "hold-out"];
export const DEFAULT_GLIDE_S = 20.0;

// Shares of the cycle for inhale, hold-in, exhale, hold-out (pacer.py BreathPattern.shares).
export function shares(pattern) {
  const total = pattern.inhale + pattern.hold_in + pattern.exhale + pattern.hold_out;
  return [pattern.inhale / total, pattern.hold_in / total, pattern.exhale / total, pattern.hold_out / total];
}

export function pattern(inhale = 4.0, exhale = 6.0, holdIn = 0.0, holdOut = 0.0) {
  return { inhale, exhale, hold_in: holdIn, hold_out: holdOut };
}

class Ramp {
  constructor(t0S, breaths0, rate0, rate1, glideS) {
    Object.assign(this, { t0S, breaths0, rate0, rate1, glideS });
  }

  rateAt(tS) {
    const dt = tS - this.t0S;
    if (dt >= this.glideS) return this.rate1;
    return this.rate0 + (this.rate1 - this.rate0) * dt / this.glideS;
  }

  breathsAt(tS) {
    const dt = tS - this.t0S;
    if (dt <= this.glideS) {
      const slope = this.glideS ? (this.rate1 - this.rate0) / this.glideS : 0.0;
      return this.breaths0 + (this.rate0 * dt + 0.5 * slope * dt * dt) / 60.0;
    }
    const glided = 0.5 * (this.rate0 + this.rate1) * this.glideS;
    return this.breaths0 + (glided + this.rate1 * (dt - this.glideS)) / 60.0;
  }

  timeOf(breaths) {
    const need = (breaths - this.breaths0) * 60.0;
    const slope = this.glideS ? (this.rate1 - this.rate0) / this.glideS : 0.0;
    const glided = 0.5 * (this.rate0 + this.rate1) * this.glideS;
    if (need > glided || this.glideS === 0) return this.t0S + this.glideS + (need - glided) / this.rate1;
    if (Math.abs(slope) < 1e-12) return this.t0S + need / this.rate0;
    const root = Math.sqrt(this.rate0 ** 2 + 2.0 * slope * need);
    return this.t0S + 2.0 * need / (this.rate0 + root);
  }
}

// bisect.bisect_right: where `x` would go after any equal items of the sorted `items`.
function bisectRight(items, x) {
  let lo = 0, hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < items[mid]) hi = mid; else lo = mid + 1;
  }
  return lo;
}

function lungsOf(part, progress) {
  if (part === "inhale") return 0.5 - 0.5 * Math.cos(Math.PI * progress);
  if (part === "exhale") return 0.5 + 0.5 * Math.cos(Math.PI * progress);
  return part === "hold-in" ? 1.0 : 0.0;
}

export class BreathPacer {
  constructor(rateBpm, startS = 0.0, breathPattern = pattern(), glideS = DEFAULT_GLIDE_S) {
    this.glideS = glideS;
    this.ramps = [new Ramp(startS, 0.0, rateBpm, rateBpm, 0.0)];
    this.starts = [startS];
    this.patterns = [[0, breathPattern]];  // [first breath it applies to, pattern]
  }

  // The pacer the server holds, from its anchors (pacer.py BreathPacer.anchors).
  static fromAnchors(anchors) {
    const pacer = new BreathPacer(anchors.ramps[0][2], anchors.ramps[0][0]);
    pacer.ramps = anchors.ramps.map((r) => new Ramp(...r));
    pacer.starts = anchors.ramps.map((r) => r[0]);
    pacer.patterns = anchors.patterns.map(([breath, i, e, hi, ho]) => [breath, pattern(i, e, hi, ho)]);
    return pacer;
  }

  ramp(tS) { return this.ramps[Math.max(bisectRight(this.starts, tS) - 1, 0)]; }

  rateAt(tS) { return this.ramp(tS).rateAt(tS); }

  breathsAt(tS) { return Math.max(this.ramp(tS).breathsAt(tS), 0.0); }

  setRate(rateBpm, atS, glideS = null) {
    const last = this.ramps[this.ramps.length - 1];
    const glide = glideS === null ? this.glideS : glideS;
    this.ramps.push(new Ramp(atS, last.breathsAt(atS), last.rateAt(atS), rateBpm, glide));
    this.starts.push(atS);
  }

  patternOf(breath) {
    const index = bisectRight(this.patterns.map((p) => p[0]), breath) - 1;
    return this.patterns[Math.max(index, 0)][1];
  }

  timeOf(breaths) {
    let i = this.ramps.length - 1;
    while (i > 0 && this.ramps[i].breaths0 > breaths) i -= 1;
    return this.ramps[i].timeOf(breaths);
  }

  // {t_s, breath, part, progress, part_s, lungs, rate_bpm}, as pacer.py's PacerPhase.
  phase(tS) {
    const position = this.breathsAt(tS);
    const breath = Math.floor(position);
    const within = position - breath;
    const s = shares(this.patternOf(breath));
    let edge = 0.0, part = "inhale", share = s[0], start = 0.0;
    for (let k = 0; k < 4; k += 1) {
      if (s[k] > 0 && within >= start) { edge = start; part = PARTS[k]; share = s[k]; }
      start += s[k];
    }
    const progress = Math.min(Math.max((within - edge) / share, 0.0), 1.0);
    const partS = this.timeOf(breath + edge + share) - this.timeOf(breath + edge);
    return { t_s: tS, breath, part, progress, part_s: partS, lungs: lungsOf(part, progress),
             rate_bpm: this.rateAt(tS) };
  }

  // The part of the breath that begins next after `tS`, and when: {part, t_s}. (The page's
  // own: it schedules each tone ahead, where a message could come late.)
  nextPart(tS) {
    const position = this.breathsAt(tS);
    const breath = Math.floor(position);
    const s = shares(this.patternOf(breath));
    let start = 0.0;
    for (let k = 0; k < 4; k += 1) {
      start += s[k];
      if (start > position - breath + 1e-12) {
        let j = (k + 1) % 4;
        while (s[j] === 0) j = (j + 1) % 4;
        const edge = j === 0 ? breath + 1 : breath + s.slice(0, j).reduce((a, b) => a + b, 0);
        return { part: PARTS[j], t_s: this.timeOf(edge) };
      }
    }
    return { part: "inhale", t_s: this.timeOf(breath + 1) };
  }
}

// The session's pacer as its messages make it (kinds as wire.js names them).
export class PacerFollower {
  constructor() { this.pacer = null; this.pattern = pattern(); }

  // The pattern from its shares (inhale, hold-in, exhale, hold-out): only ratios count.
  usePattern(s) { this.pattern = pattern(s[0], s[2], s[1], s[3]); }

  hello(m) {
    if (m.pattern) this.usePattern(m.pattern);
    this.pacer = m.pacer && m.pacer.anchors ? BreathPacer.fromAnchors(m.pacer.anchors) : null;
  }

  message(m) {
    if (m.kind === "pacer") {
      if (m.rate_bpm === null) { this.pacer = null; return; }
      this.usePattern([m.inhale_share, m.hold_in_share || 0, m.exhale_share, m.hold_out_share || 0]);
      if (this.pacer !== null) this.pacer.setRate(m.rate_bpm, m.t_s, m.glide_s);
    } else if (m.kind === "pacer-phase" && m.breath === 0 && m.part === "inhale" && this.pacer === null) {
      // The runner's fresh pacer (a paced step after an unpaced one, after a pause or a
      // hold: each stopped the last one).
      this.pacer = new BreathPacer(m.rate_bpm, m.t_s, this.pattern);
    }
  }

  phase(tS) { return this.pacer === null ? null : this.pacer.phase(tS); }

  nextPart(tS) { return this.pacer === null ? null : this.pacer.nextPart(tS); }
}
