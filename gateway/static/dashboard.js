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
  // A lottery drop has no waiting room (its queue is never synced, so the queue says
  // "unknown"): show the drop's own phase and the lottery's tools instead of the line's.
  const lottery = stats.drop.mode === "lottery";
  for (const section of document.querySelectorAll("[data-waiting-room]")) section.hidden = lottery;
  if (lottery) $("#phase").textContent = stats.drop.state;
  else $("#phase").textContent = queue.tickets_in_carts
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
  if (lottery) {
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
  // One amount per currency the event sells in (tiers may differ); none sold yet: 0.
  const revenue = sales.revenue || [];
  const currency = sales.tiers?.[0]?.currency || "EUR";
  $("#revenue").textContent = revenue.length
    ? revenue.map((entry) => money(entry.revenue_cents, entry.currency)).join(" + ")
    : money(0, currency);
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
    button.className = "refund";
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
  if (!reason) { $("#error").textContent = "write the reason for the refund first"; return; }
  if (!confirm(`Refund order ${order.id.slice(0, 8)} in full (${money(order.total_cents, order.currency)})?`)) return;
  button.disabled = true;  // the server refunds once anyway; this only spares a second request
  try {
    const refunded = await api(`/api/orders/${order.id}/refund`, {method: "POST", body: JSON.stringify({reason})});
    $("#refund-note").textContent = refunded.refunded_now
      ? `Order ${order.id.slice(0, 8)} refunded.` : `Order ${order.id.slice(0, 8)} was already refunded.`;
    await loadOrders();
  } catch (error) { $("#error").textContent = error.message; button.disabled = false; }
}

async function refresh() {
  try {
    showStats(await api(`/api/drops/${dropId}/stats`));
    if (eventId) showSales(await api(`/api/events/${eventId}/sales`));
    if (eventId) await loadOrders();
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

$("#orders-newer").addEventListener("click", () => { ordersOffset = Math.max(0, ordersOffset - ORDERS_PAGE); refresh(); });
$("#orders-older").addEventListener("click", () => { ordersOffset += ORDERS_PAGE; refresh(); });

refresh();
setInterval(refresh, 2000);
