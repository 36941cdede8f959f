// Venue dashboard: polls queue stats and sales every 2 s (charts: dashboard_charts.js);
// operator controls; a lottery drop shows its draw and settlement instead of the line.
"use strict";
const dropId = document.getElementById("title").dataset.dropId;
const $ = (selector) => document.querySelector(selector);
let eventId = null;

// api(): static/api.js
function money(cents, currency) {
  return new Intl.NumberFormat(undefined, {style: "currency", currency}).format(cents / 100);
}

// The drop with its event and venue (GET /api/drops/{id}), read once: title and timezone.
let dropView = null;
const lotteryMode = () => dropView?.mode === "lottery";

function venueTime(iso) {
  return new Date(iso).toLocaleString(undefined, {timeZone: dropView.venue.timezone,
    dateStyle: "medium", timeStyle: "short"});
}

function showDrop(view) {
  dropView = view;
  eventId = view.event_id;
  dashboardCharts.setTimeZone(view.venue.timezone);
  $("#title").textContent = `${view.event.title}: drop ${dropId} (${view.mode})`;
  $("#event-link").textContent = view.event.title;
  $("#event-link").href = `/venue/events/${view.event_id}`;
  $("#schedule").textContent = `Pre-queue ${venueTime(view.prequeue_opens_at)} · opens ${venueTime(view.opens_at)} · closes ${venueTime(view.closes_at)} (${view.venue.timezone}, ${view.venue.name})`;
  // A lottery drop has no waiting room (its queue is never synced, so the queue says
  // "unknown"): its own panel instead of the line's numbers, charts and controls.
  for (const section of document.querySelectorAll("[data-waiting-room]")) section.hidden = lotteryMode();
  $("#lottery-panel").hidden = !lotteryMode();
  if (lotteryMode()) {
    $("#lottery-link").href = `/venue/drops/${dropId}/lottery`;
    $("#lottery-link").hidden = false;
  }
}

// Why nobody is being admitted although fans wait, in the operator's words.
function waitReason(queue) {
  if (queue.phase === "paused") return "Admission paused: press Resume to let fans in.";
  if (queue.phase !== "open") return "";
  if (queue.tickets_in_carts) return "Admission waits: every seat is in a cart (carts may still expire).";
  if (queue.waiting && queue.active_passes >= queue.max_active) {
    return `Admission waits: max active reached (${queue.active_passes} of ${queue.max_active} buying).`;
  }
  return queue.waiting ? "Admitting." : "";
}

function showStats(stats) {
  const queue = stats.queue;
  $("#phase").textContent = lotteryMode() ? stats.drop.state : queue.phase;
  if (lotteryMode()) return;
  $("#reason").textContent = waitReason(queue);
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
  dashboardCharts.queue(queue);
}

// Entries, draw state and settlement; 404/409 until the lottery is configured.
async function showLottery() {
  try {
    const lottery = await api(`/api/drops/${dropId}/lottery/progress`);
    const counts = lottery.settlement;
    $("#draw-state").textContent = lottery.state;
    $("#draw-at").textContent = `draw ${venueTime(lottery.draw_at)}`;
    $("#entries").textContent = counts.entries;
    $("#won").textContent = counts.won;
    $("#lost").textContent = counts.lost;
    $("#settled").textContent = `${counts.settled} (${counts.percent_settled}%)`;
    $("#settling").textContent = counts.in_progress;
    $("#to-settle").textContent = counts.waiting;
  } catch (error) {
    $("#draw-state").textContent = "not configured";
    $("#draw-at").textContent = "set the draw time on the lottery page";
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
  // One amount per currency the event sells in (tiers may differ); none sold yet: 0.
  const revenue = sales.revenue || [];
  const currency = sales.tiers?.[0]?.currency || "EUR";
  $("#revenue").textContent = revenue.length
    ? revenue.map((entry) => money(entry.revenue_cents, entry.currency)).join(" + ")
    : money(0, currency);
  dashboardCharts.sales(sales);
}

const ORDERS_PAGE = 20;
let ordersOffset = 0;

function orderRow(order) {
  const row = document.createElement("tr");
  row.dataset.orderId = order.id;
  const tickets = order.tickets.length;
  const values = [order.id.slice(0, 8), new Date(order.created_at).toLocaleString(), tickets,
    money(order.total_cents, order.currency), order.state];
  for (const value of values) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  const action = document.createElement("td");
  if (order.state === "paid") {
    const button = document.createElement("button");
    button.className = "btn btn-sm btn-outline-danger refund";
    button.textContent = "Refund";
    button.addEventListener("click", () => refundOrder(order, button));
    action.append(button);
  }
  row.append(action);
  return row;
}

function showOrders(page) {
  $("#orders").replaceChildren(...page.orders.map(orderRow));
  const last = page.offset + page.orders.length;
  $("#orders-range").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "no orders yet";
  $("#orders-newer").disabled = page.offset === 0;
  $("#orders-older").disabled = last >= page.total;
}

async function loadOrders() {
  showOrders(await api(`/api/events/${eventId}/orders?limit=${ORDERS_PAGE}&offset=${ordersOffset}`));
}

async function refundOrder(order, button) {
  const reason = $("#refund-reason").value.trim();
  if (!reason) { $("#refund-note").textContent = "Write the reason for the refund first."; return; }
  if (!confirm(`Refund order ${order.id.slice(0, 8)} in full (${money(order.total_cents, order.currency)})?`)) return;
  button.disabled = true;  // the server refunds once anyway; this only spares a second request
  try {
    const refunded = await api(`/api/orders/${order.id}/refund`, {method: "POST", body: JSON.stringify({reason})});
    $("#refund-note").textContent = refunded.refunded_now
      ? `Order ${order.id.slice(0, 8)} refunded.` : `Order ${order.id.slice(0, 8)} was already refunded.`;
    await loadOrders();
  } catch (error) { $("#refund-note").textContent = error.message; button.disabled = false; }
}

function showError(message) {
  $("#error").textContent = message;
  $("#error").hidden = !message;
}

async function refresh() {
  try {
    if (!dropView) showDrop(await api(`/api/drops/${dropId}`));
    showStats(await api(`/api/drops/${dropId}/stats`));
    if (lotteryMode()) await showLottery();
    showSales(await api(`/api/events/${eventId}/sales`));
    await loadOrders();
    showError("");
  } catch (error) { showError(error.message); }
}

// The note next to the controls says what the last one did (or why it failed).
async function control(path, options, done) {
  const note = $("#controls-note");
  try {
    await api(path, options);
    note.className = "small mt-2 mb-0 text-success";
    note.textContent = done;
    await refresh();
  } catch (error) {
    note.className = "small mt-2 mb-0 text-danger";
    note.textContent = error.message;
  }
}

$("#pause").addEventListener("click", () => control(`/api/drops/${dropId}/pause`, {method: "POST"}, "Admission paused."));
$("#resume").addEventListener("click", () => control(`/api/drops/${dropId}/resume`, {method: "POST"}, "Admission resumed."));
$("#close").addEventListener("click", () => {
  if (confirm("Close this drop? Nobody more will be admitted.")) control(`/api/drops/${dropId}/close`, {method: "POST"}, "Drop closed.");
});
$("#pacing").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  control(`/api/drops/${dropId}`, {method: "PATCH", body: JSON.stringify({
    admit_per_minute: Number(form.admit_per_minute.value), max_active: Number(form.max_active.value)})}, "Pacing saved: applies on the next tick.");
});

$("#orders-newer").addEventListener("click", () => { ordersOffset = Math.max(0, ordersOffset - ORDERS_PAGE); refresh(); });
$("#orders-older").addEventListener("click", () => { ordersOffset += ORDERS_PAGE; refresh(); });

refresh();
setInterval(refresh, 2000);
