// The waiting room: join, then follow the place over a WebSocket; fall back to polling,
// reconnect on its own with backoff, and hand over to purchase when admitted.
(() => {
  "use strict";
  const room = document.getElementById("room");
  const dropId = room.dataset.dropId;
  const api = `/api/drops/${dropId}/queue`;
  const $ = (id) => document.getElementById(id);
  const state = { ticket: null, socket: null, backoff: 500, firstPosition: null,
                  expiresAt: null, pollTimer: null, reconnectTimer: null, stopped: false,
                  estimate: null };
  const estimator = window.ticketqWaitEstimate;  // static/wait_estimate.js
  const opensAtMs = Date.parse(room.dataset.opensAt);
  const venueClock = new Intl.DateTimeFormat(undefined, { timeZone: room.dataset.timezone,
                                                          hour: "2-digit", minute: "2-digit",
                                                          hourCycle: "h23" });
  window.ticketqQueue = state; // for debugging and the browser test

  function show(name) { room.dataset.state = name; }
  function connection(text) { $("connection").textContent = text; }
  // The venue's wall clock, and the countdown to the draw while in the pre-queue.
  function tickClocks() {
    $("venue-clock").textContent = venueClock.format(new Date());
    const left = Math.max(0, Math.floor((opensAtMs - Date.now()) / 1000));
    const hours = Math.floor(left / 3600), minutes = Math.floor((left % 3600) / 60);
    const seconds = String(left % 60).padStart(2, "0");
    $("countdown").textContent = hours ? `${hours} h ${String(minutes).padStart(2, "0")} min`
      : `${minutes}:${seconds}`;
  }
  tickClocks();
  setInterval(tickClocks, 1000);

  function render(message) {
    show(message.state);
    $("leave").hidden = !["waiting", "prequeue"].includes(message.state);
    if (message.state === "waiting") {
      $("position").textContent = message.position.toLocaleString();
      $("ahead").textContent = message.ahead.toLocaleString();
      // Smoothed and never counting up; frozen while nothing moves (wait_estimate.js).
      state.estimate = estimator.nextEstimate(state.estimate, {
        rawS: message.estimated_wait_s, nowMs: Date.now(),
        stalled: message.paused ? "paused" : message.tickets_in_carts ? "carts" : false });
      $("wait").textContent = estimator.describe(state.estimate);
      $("paused").hidden = !message.paused;
      $("in-carts").hidden = !message.tickets_in_carts;
      if (state.firstPosition === null || message.position > state.firstPosition) {
        state.firstPosition = message.position;
      }
      const done = state.firstPosition <= 1 ? 0 : (state.firstPosition - message.position) /
        (state.firstPosition - 1);
      $("progress").value = Math.round(100 * Math.max(0, Math.min(1, done)));
    }
    if (message.state === "admitted") {
      $("buy").href = message.purchase_url;
      state.expiresAt = Date.now() + 1000 * message.pass_expires_in_s;
      tickCountdown();
    }
    if (["closed", "sold_out"].includes(message.state)) stop();
  }

  function tickCountdown() {
    if (state.expiresAt === null) return;
    const left = Math.max(0, (state.expiresAt - Date.now()) / 1000);
    const minutes = Math.floor(left / 60), seconds = Math.floor(left % 60);
    $("time-left").textContent = `${minutes}:${String(seconds).padStart(2, "0")}`;
  }
  setInterval(tickCountdown, 1000);

  // A fan who holds a place re-joins without a challenge; a new place may need one
  // (422 ChallengeRequired): solve it (static/challenge.js) and join with it, once.
  async function join(challenge) {
    show("loading");
    let response;
    try {
      const payload = typeof challenge === "string" ? JSON.stringify({ challenge }) : undefined;
      response = await fetch(api, { method: "POST", credentials: "same-origin", body: payload,
                                    headers: { "Content-Type": "application/json" } });
    } catch (error) {
      connection("offline – retrying…");
      return retryLater(join);
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 422 && body.code === "ChallengeRequired" && !challenge) {
      connection("checking your browser…");
      try {
        const { solveJoinChallenge } = await import("/static/challenge.js");
        return join(await solveJoinChallenge(dropId));
      } catch (error) {
        connection("could not check your browser – retrying…");
        return retryLater(join);
      }
    }
    if (response.status === 429 || (response.status >= 400 && response.status < 500 &&
                                     /^Challenge/.test(body.code || ""))) {
      // Too many new places from this network, or a challenge refused: say so, try later.
      connection(body.detail || "please wait – retrying…");
      return retryLater(join);
    }
    if (response.status === 401) { show("signin"); connection(""); return; }
    if (response.status === 403) { showUnverified(body.detail); return; }
    if (response.status === 409 || response.status === 404) {
      const kind = body.reason || "";
      if (kind === "sold_out") show("sold_out");
      else if (["closed", "cancelled", "ended"].includes(kind)) show("closed");
      else { $("refused").textContent = body.detail || "You cannot join right now."; show("refused"); }
      connection("");
      return;
    }
    if (!response.ok) { connection("busy – retrying…"); return retryLater(join); }
    state.ticket = body.queue_ticket;
    state.stopped = false;
    render(body);
    connect();
  }

  function retryLater(action) {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(action, state.backoff);
    state.backoff = Math.min(10000, state.backoff * 2);
  }

  function connect() {
    if (state.socket) state.socket.onclose = null;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // No credential in the URL (it is logged): the browser sends the session cookie
    // with the upgrade, and the server checks this page's Origin.
    const url = `${scheme}://${location.host}/ws/drops/${dropId}/queue`;
    let socket;
    try { socket = new WebSocket(url); } catch (error) { return fallBack(); }
    state.socket = socket;
    connection("connecting…");
    socket.onopen = () => { state.backoff = 500; stopPolling(); connection("live"); };
    socket.onmessage = (event) => render(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (state.stopped) return;
      if (event.code >= 4400 && event.code < 4500) {
        // Our place or session is gone (dropped, expired, signed out): join again.
        state.backoff = 500;
        return retryLater(join);
      }
      fallBack();
    };
  }

  function fallBack() {
    connection("reconnecting…");
    poll();
    retryLater(connect);
  }

  async function poll() {
    if (state.pollTimer || state.ticket === null) return;
    try {
      const response = await fetch(api, { credentials: "same-origin" });
      if (response.ok) render(await response.json());
      const wait = Number(response.headers.get("Retry-After") || 5);
      state.pollTimer = setTimeout(() => { state.pollTimer = null; poll(); }, wait * 1000);
    } catch (error) {
      state.pollTimer = setTimeout(() => { state.pollTimer = null; poll(); }, 5000);
    }
  }

  function stopPolling() { clearTimeout(state.pollTimer); state.pollTimer = null; }

  function stop() {
    state.stopped = true;
    stopPolling();
    clearTimeout(state.reconnectTimer);
    if (state.socket) state.socket.close();
  }

  window.addEventListener("online", () => {
    if (!state.stopped && state.ticket && (!state.socket || state.socket.readyState > 1)) {
      state.backoff = 500;
      connect();
    }
  });
  // A drop that takes verified emails only: say where the link went, offer a new one.
  function showUnverified(detail) {
    $("unverified").textContent = detail || "Verify your email address to join this drop.";
    $("resend-result").textContent = "";
    show("unverified");
    connection("");
  }
  $("resend").addEventListener("click", async () => {
    $("resend").disabled = true;
    const response = await fetch("/api/auth/verify-email/resend", { method: "POST",
      credentials: "same-origin", headers: { "Content-Type": "application/json" } });
    const body = await response.json().catch(() => ({}));
    $("resend-result").textContent = response.ok ? "A new link is on its way: check your inbox."
      : (body.detail || "Could not send a new link right now.");
    $("resend").disabled = false;
  });
  $("verified-rejoin").addEventListener("click", () => join());
  $("rejoin").addEventListener("click", () => {
    state.firstPosition = null;
    state.estimate = null;
    join();
  });
  $("leave").addEventListener("click", async () => {
    stop();
    await fetch(api, { method: "DELETE", credentials: "same-origin" });
    location.href = "/";
  });

  if (room.dataset.signedIn === "yes") join(); else show("signin");
})();
