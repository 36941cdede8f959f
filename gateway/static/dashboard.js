// Venue dashboard: polls queue stats and sales every 2 s; operator controls.
"use strict";
const dropId = document.getElementById("title").dataset.dropId;
const $ = (selector) => document.querySelector(selector);
let eventId = null;

// api(): static/api.js
function money(cents, currency) {
  return new Intl.NumberFormat(undefined, {style: "currency", currency}).format(cents / 100);
}

function showStats(stats) {
  const queue = stats.queue;
  eventId = stats.event_id;
  $("#title").textContent = `Drop ${dropId} (${stats.drop.mode})`;
  $("#phase").textContent = queue.tickets_in_carts
    ? `${queue.phase}: every seat in a cart, admission waits` : queue.phase;
  $("#schedule").textContent = `opens ${new Date(stats.drop.opens_at).toLocaleString()}, closes ${new Date(stats.drop.closes_at).toLocaleString()}`;
  $("#waiting").textContent = queue.waiting;
  $("#prequeue").textContent = queue.prequeue;
  $("#active").textContent = queue.active_passes;
  $("#max-active").textContent = queue.max_active;
  $("#rate").textContent = queue.observed_admit_per_minute ?? "–";
  $("#configured").textContent = queue.configured_admit_per_minute;
  $("#admitted").textContent = queue.admitted_total;
  const form = $("#pacing");
  if (document.activeElement?.form !== form) {
    form.admit_per_minute.value = queue.configured_admit_per_minute;
    form.max_active.value = queue.max_active;
  }
  if (stats.drop.mode === "lottery") {
    const link = $("#lottery-link");
    link.href = `/venue/drops/${dropId}/lottery`;
    link.hidden = false;
  }
}

function showSales(sales) {
  const rows = (sales.tiers || []).map((tier) => {
    const row = document.createElement("tr");
    for (const value of [tier.name, tier.sold, tier.held, tier.remaining, tier.capacity]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  });
  $("#tiers").replaceChildren(...rows);
  if (sales.revenue_cents !== undefined) {
    $("#revenue").textContent = money(sales.revenue_cents, sales.currency || "EUR");
  }
}

async function refresh() {
  try {
    showStats(await api(`/api/drops/${dropId}/stats`));
    if (eventId) showSales(await api(`/api/events/${eventId}/sales`));
    $("#error").textContent = "";
  } catch (error) { $("#error").textContent = error.message; }
}

async function control(path, options) {
  try { await api(path, options); await refresh(); }
  catch (error) { $("#error").textContent = error.message; }
}

$("#pause").addEventListener("click", () => control(`/api/drops/${dropId}/pause`, {method: "POST"}));
$("#resume").addEventListener("click", () => control(`/api/drops/${dropId}/resume`, {method: "POST"}));
$("#close").addEventListener("click", () => {
  if (confirm("Close this drop? Nobody more will be admitted.")) control(`/api/drops/${dropId}/close`, {method: "POST"});
});
$("#pacing").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  control(`/api/drops/${dropId}`, {method: "PATCH", body: JSON.stringify({
    admit_per_minute: Number(form.admit_per_minute.value), max_active: Number(form.max_active.value)})});
});

refresh();
setInterval(refresh, 2000);
