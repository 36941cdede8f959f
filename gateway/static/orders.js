// My orders: each order with its event (name, date on the venue's clock, venue), order
// number, state, tickets and total in the currency's own decimals (money.js).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const STATES = {  // what a fan reads, and a badge colour with AA contrast
    paid: ["Paid", "text-bg-success"], pending: ["Waiting for the bank", "text-bg-warning"],
    refunded: ["Refunded", "text-bg-secondary"], failed: ["Not paid", "text-bg-danger"],
    expired: ["Expired", "text-bg-secondary"],
  };

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) { location.href = "/login?next=/me/orders"; return null; }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  // One request per drop, however many orders came from it.
  const drops = new Map();
  function dropOf(dropId) {
    if (!drops.has(dropId)) drops.set(dropId, getJson("/api/drops/" + dropId).catch(() => null));
    return drops.get(dropId);
  }

  function when(drop) {
    return new Intl.DateTimeFormat(undefined, {
      timeZone: drop.venue.timezone, weekday: "short", day: "numeric", month: "short",
      year: "numeric", hour: "2-digit", minute: "2-digit",
    }).format(new Date(drop.event.starts_at)) + " · " + drop.venue.name + ", " + drop.venue.city;
  }

  async function render(order) {
    const item = $("order-template").content.firstElementChild.cloneNode(true);
    item.dataset.orderId = order.id;
    const [label, badge] = STATES[order.state] || [order.state, "text-bg-secondary"];
    item.querySelector(".order-state").textContent = label;
    item.querySelector(".order-state").classList.add(badge);
    item.querySelector(".order-number").textContent = order.id.slice(0, 8).toUpperCase();
    const count = order.tickets.length;
    item.querySelector(".order-tickets").textContent = count + (count === 1 ? " ticket" : " tickets") +
      (order.reason ? " (" + order.reason + ")" : "");
    item.querySelector(".order-total").textContent = window.ticketqMoney.format(order.total_cents, order.currency);
    const links = item.querySelector(".order-links");
    if (order.state === "paid") {
      const pdf = document.createElement("a");
      pdf.href = "/api/orders/" + order.id + "/tickets.pdf";
      pdf.textContent = "PDF";
      pdf.setAttribute("aria-label", "Tickets of order " + order.id.slice(0, 8).toUpperCase() + " as PDF");
      const tickets = document.createElement("a");
      tickets.href = "/me/tickets";
      tickets.textContent = "My tickets";
      links.append(pdf, " · ", tickets);
    }
    const drop = await dropOf(order.drop_id);
    item.querySelector(".event-title").textContent = drop ? drop.event.title : "Event " + order.event_id;
    item.querySelector(".event-when").textContent = drop ? when(drop) : "";
    return item;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const data = await getJson("/api/me/orders");
      if (!data) return;
      $("no-orders").hidden = data.orders.length > 0;
      $("orders").replaceChildren(...await Promise.all(data.orders.map(render)));
    } catch (error) { $("message").textContent = error.message; }
  });
})();
