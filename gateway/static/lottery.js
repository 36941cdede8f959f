// Lottery pages: keeps the fan's and the venue's page live from the JSON API.
"use strict";
(function () {
  const root = document.getElementById("lottery");
  if (!root) return;
  const dropId = root.dataset.dropId;
  const field = (name) => document.querySelector(`[data-field="${name}"]`);
  const setText = (name, value) => { const el = field(name); if (el) el.textContent = value ?? ""; };

  async function api(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
    return data;
  }

  function until(target) {
    let seconds = Math.max(0, Math.floor((new Date(target) - Date.now()) / 1000));
    const days = Math.floor(seconds / 86400); seconds %= 86400;
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (days ? `${days}d ` : "") + `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`;
  }

  // ---- fan page ----
  let lottery = null;
  let myEntry = null;

  function windowPhase() {
    if (!lottery) return "unconfigured";
    const now = Date.now();
    if (lottery.state !== "open") return lottery.state;
    if (now < new Date(lottery.opens_at)) return "not open yet";
    if (now >= new Date(lottery.closes_at)) return "closing";
    return "open";
  }

  function renderFan() {
    const phase = windowPhase();
    setText("phase", phase);
    if (lottery) {
      if (phase === "not open yet") setText("countdown", `opens in ${until(lottery.opens_at)}`);
      else if (phase === "open") setText("countdown", `closes in ${until(lottery.closes_at)}`);
      else if (["closing", "sealed"].includes(phase)) setText("countdown", `draw in ${until(lottery.draw_at)}`);
      else setText("countdown", "");
    }
    const formCard = document.getElementById("entry-form-card");
    if (formCard) formCard.hidden = !(phase === "open" && !myEntry && root.dataset.signedIn === "yes");
    const entryCard = document.getElementById("my-entry");
    if (entryCard) {
      entryCard.hidden = !myEntry;
      if (myEntry) {
        setText("result", myEntry.result);
        setText("money", `${(myEntry.amount_cents / 100).toFixed(2)} ${myEntry.currency}: ${myEntry.money_note}`);
        setText("entry-id", myEntry.id);
      }
    }
  }

  async function refreshFan() {
    try { lottery = await api("GET", `/api/drops/${dropId}/lottery`); } catch (e) { lottery = null; }
    if (root.dataset.signedIn === "yes") {
      try {
        const mine = await api("GET", "/api/me/entries");
        myEntry = mine.entries.find((entry) => String(entry.drop_id) === dropId) || null;
      } catch (e) { myEntry = null; }
    }
    renderFan();
  }

  // The entry becomes 'entered' when Stripe says the card is authorised; our poll asks.
  async function untilEntered(result) {
    let entry = result;
    for (let tries = 0; tries < 20 && entry.status !== "entered"; tries += 1) {
      if (tries) await new Promise((resolve) => setTimeout(resolve, 1000));
      entry = await api("GET", `/api/drops/${dropId}/entries/mine`);
      if (entry.status === "confirming" && entry.payment_status === "requires_payment_method") break;
    }
    return entry;
  }

  function startFan() {
    const form = document.getElementById("entry-form");
    const cardRoot = document.getElementById("card-field");
    const cardField = cardRoot && window.TicketQCardField ? window.TicketQCardField.mount(cardRoot) : null;
    if (form) form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      setText("entry-error", "");
      const data = new FormData(form);
      try {
        // The card goes to Stripe from card_field.js; we send only ids. The server makes the
        // intent (it decides the amount); the browser confirms it, 3-D Secure included.
        if (!cardField) throw new Error("Card payments are not set up on this server.");
        const enter = async (extra) => {
          const answer = await api("POST", `/api/drops/${dropId}/entries`, {
            tier_id: Number(data.get("tier_id")), quantity: Number(data.get("quantity")),
            confirm_in_browser: true, ...extra,
          });
          // card_field.js reads the intent's status while the entry is being confirmed.
          return { ...answer, status: answer.payment_status || answer.status };
        };
        const paid = await cardField.pay(enter);
        if (paid.error) throw new Error(paid.error);
        const entry = await untilEntered(paid.result);
        if (entry.status !== "entered") {
          throw new Error(entry.payment_error || "Your card was not authorised; try another card.");
        }
        myEntry = entry;
        renderFan();
      } catch (e) {
        setText("entry-error", e.message);
      } finally {
        button.disabled = false;
      }
    });
    refreshFan();
    setInterval(renderFan, 1000);
    setInterval(refreshFan, 10000);
  }

  // ---- venue page ----
  async function refreshVenue() {
    try {
      const data = await api("GET", `/api/drops/${dropId}/lottery/progress`);
      const s = data.settlement;
      setText("entries", data.entries_count ?? s.entries);
      setText("won", s.won); setText("lost", s.lost); setText("percent_settled", s.percent_settled);
      setText("state", data.state); setText("capture_mode", data.capture_mode);
      setText("commitment", data.commitment); setText("entries_hash", data.entries_hash || "(at close)");
      for (const [name, count] of Object.entries(s.money)) setText(`money.${name}`, count);
      const unconfigured = field("unconfigured");  // rendered before the first save
      if (unconfigured) unconfigured.hidden = true;
    } catch (e) {
      setText("state", e.message);
    }
  }

  function startVenue() {
    const form = document.getElementById("config-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      setText("config-error", "");
      setText("config-note", "");
      const data = new FormData(form);
      const body = {
        // The venue's wall clock (static/venue_time.js), not UTC and not the browser's zone.
        draw_at: window.venueTime.toIso(String(data.get("draw_at")), root.dataset.timezone),
        max_quantity_per_entry: Number(data.get("max_quantity_per_entry")),
        allow_capture_now: data.get("allow_capture_now") === "on",
      };
      const randomness = String(data.get("public_randomness") || "").trim();
      if (randomness) body.public_randomness = randomness;
      try {
        const saved = await api("PUT", `/api/drops/${dropId}/lottery`, body);
        setText("config-note", `Saved. ${saved.capture_note}`);  // a success, not an error
        await refreshVenue();
      } catch (e) {
        setText("config-error", e.message);
      }
    });
    refreshVenue();
    setInterval(refreshVenue, 2000);
  }

  if (root.dataset.page === "venue") startVenue(); else startFan();
})();
