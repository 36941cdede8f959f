// The waiting room's "estimated wait", smoothed: pure functions, no DOM, so they are
// tested on their own (tests/gateway/test_wait_estimate_js.py runs them under node).
//
// The server's estimate (queue_engine/positions.py) is "people ahead / observed admission
// rate" at the moment of the message. Shown raw it jumps with every burst of admissions
// and climbs whenever the line stalls. A fan reads a climbing wait as "I am going
// backwards", so the shown estimate:
//   - never goes up: it only counts down with the clock and eases toward the server's figure;
//   - eases (a quarter of the gap per message) instead of jumping to each new figure;
//   - freezes while the line is stalled (admission paused, or every seat in a cart), and
//     the page says "waiting for seats to come back" instead of a number that would lie.
"use strict";
(function (root) {
  const EASE = 0.25;  // share of the gap to the server's figure closed per message

  // previous: what the last call returned (or null); sample: {rawS, nowMs, stalled},
  // stalled being false, "carts" (every seat in someone's cart) or "paused" (the venue).
  // Returns {shownS, atMs, stalled}; shownS is null until the server gives a figure.
  function nextEstimate(previous, sample) {
    const { rawS, nowMs, stalled } = sample;
    if (stalled) {
      // Nothing moves, so the clock must not count it down either; resume from here.
      return { shownS: previous ? previous.shownS : null, atMs: nowMs, stalled };
    }
    if (rawS === null || rawS === undefined || !Number.isFinite(rawS)) {
      return previous ? { ...previous, stalled: false } : { shownS: null, atMs: nowMs, stalled: false };
    }
    if (!previous || previous.shownS === null) {
      return { shownS: Math.max(0, rawS), atMs: nowMs, stalled: false };
    }
    const elapsedS = Math.max(0, (nowMs - previous.atMs) / 1000);
    const expected = Math.max(0, previous.shownS - elapsedS);
    const eased = expected + EASE * (Math.max(0, rawS) - expected);
    // Never above what the clock has left of the last figure: the wait only counts down.
    return { shownS: Math.max(0, Math.min(expected, eased)), atMs: nowMs, stalled: false };
  }

  // The figure as a fan reads it: coarse enough not to flicker with every message.
  function describe(estimate) {
    if (!estimate) return "–";
    if (estimate.stalled === "paused") return "paused by the venue";
    if (estimate.stalled) return "waiting for seats to come back";
    const seconds = estimate.shownS;
    if (seconds === null) return "–";
    if (seconds < 60) return "less than a minute";
    const minutes = Math.ceil(seconds / 60);
    if (minutes < 60) return `about ${minutes} min`;
    const rounded = Math.ceil(minutes / 5) * 5;
    const hours = Math.floor(rounded / 60), rest = rounded % 60;
    return rest ? `about ${hours} h ${rest} min` : `about ${hours} h`;
  }

  const api = { nextEstimate, describe };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.ticketqWaitEstimate = api;
})(typeof window === "object" ? window : globalThis);
