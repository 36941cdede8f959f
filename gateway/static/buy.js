// The fan's purchase page: hold with a countdown, pay with the card field (card_field.js),
// see the order. A declined card keeps the hold: the fan tries another until it expires.
// Talks to the JSON API with the session cookie; the admission pass is the fan's own,
// read from GET /api/drops/{id}/queue with that cookie (never from the URL).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  // Minor units in the currency's own decimals (JPY none), by Intl.NumberFormat (money.js).
  const money = (minorUnits, currency) => window.ticketqMoney.format(minorUnits, currency);

  async function api(method, url, body, extraHeaders) {
    const headers = Object.assign({ "Accept": "application/json" }, extraHeaders || {});
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? {} : await response.json();
    if (!response.ok) throw Object.assign(new Error(data.detail || response.statusText), { data });
    return data;
  }

  // The signed-in fan's admission pass for this drop, or "" when they hold none.
  async function ownAdmissionPass(dropId) {
    try { return (await api("GET", "/api/drops/" + dropId + "/queue")).pass || ""; }
    catch (error) { return ""; }
  }

  async function buyPage(root) {
    const dropId = root.dataset.dropId;
    let hold = null;
    let timer = null;
    let declined = null;  // the bank's words while the fan may try another card
    const cardRoot = $("card-field");
    const cardField = cardRoot && window.TicketQCardField ? window.TicketQCardField.mount(cardRoot) : null;
    const show = (state) => { root.dataset.state = state; };
    const say = (text) => { $("message").textContent = text || ""; };

    if (root.dataset.signedIn !== "yes") return show("signin");
    show("loading"); // no panel until we know whether the fan holds a pass
    const admissionPass = await ownAdmissionPass(dropId);
    if (!admissionPass) return show("nopass");
    show("choose");

    function countdown() {
      const left = Math.max(0, Math.round((Date.parse(hold.expires_at) - Date.now()) / 1000));
      const clock = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      $("countdown").textContent = clock;
      if (declined && left > 0) say(declined + " Try another card; your tickets are held for " + clock + ".");
      if (left === 0) {
        clearInterval(timer);
        hold = null;
        declined = null;
        say("Your hold expired and the tickets went back on sale. You can choose again.");
        show("choose");
      }
    }

    $("choose").addEventListener("submit", async (event) => {
      event.preventDefault();
      say("");
      const items = [...root.querySelectorAll("input[data-tier-id]")]
        .map((input) => ({ tier_id: Number(input.dataset.tierId), quantity: Number(input.value) }))
        .filter((item) => item.quantity > 0);
      if (!items.length) return say("Pick at least one ticket.");
      try {
        hold = await api("POST", "/api/drops/" + dropId + "/holds", { items },
                         { "X-Admission-Pass": admissionPass });
      } catch (error) { return say(holdRefusal(error)); }
      const list = $("held-items");
      list.replaceChildren(...hold.items.map((item) => {
        const li = document.createElement("li");
        li.className = "list-group-item";
        li.textContent = item.quantity + " × " + item.name + " at " +
          money(item.unit_price_cents, hold.currency);
        return li;
      }));
      $("total").textContent = money(hold.total_cents, hold.currency);
      show("held");
      countdown();
      timer = setInterval(countdown, 1000);
    });

    $("release-button").addEventListener("click", async () => {
      if (!hold) return;
      try { await api("DELETE", "/api/holds/" + hold.hold_id); } catch (error) { say(error.message); }
      clearInterval(timer);
      hold = null;
      declined = null;
      show("choose");
    });

    // The API's details are lowercase phrases; the fan reads a sentence, with the numbers
    // of the tier the problem names (fields of the problem document, docs/api.md).
    function holdRefusal(error) {
      const data = error.data || {};
      const input = root.querySelector('input[data-tier-id="' + data.tier_id + '"]');
      const tier = input ? input.closest("tr").querySelector(".tier-name").textContent.trim()
                        : "these";
      if (data.code === "OverLimit") {
        const left = Math.max(0, data.limit - data.already);
        return "You can have at most " + data.limit + " " + tier + " tickets and you already have " +
          data.already + ": " + (left ? "you can add " + left + " more." : "you cannot add any more.");
      }
      if (data.code === "SoldOut" && data.available !== undefined) {
        return data.available ? "Only " + data.available + " " + tier + " tickets are left."
                              : "The " + tier + " tickets are sold out.";
      }
      const text = String(error.message || "The tickets could not be held");
      const sentence = text.charAt(0).toUpperCase() + text.slice(1);
      return /[.!?]$/.test(sentence) ? sentence : sentence + ".";
    }

    function tryAnother(reason) {
      declined = /declin/i.test(reason || "") ? "Your card was declined."
                                               : (reason || "The payment did not go through.");
      show("held");
      countdown();
    }

    async function settle(orderId) {
      // Pending payments (e.g. 3-D Secure) settle when polled; the server asks Stripe.
      for (let i = 0; i < 60; i++) {
        const order = await api("GET", "/api/orders/" + orderId);
        if (order.state !== "pending") return order;
        if (order.payment && order.payment.status === "requires_payment_method") return order;
        $("paying-note").textContent = "waiting for your bank…";
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      throw new Error("The payment is still pending; check My orders in a minute.");
    }

    $("pay-button").addEventListener("click", async () => {
      if (!hold || !cardField) return;
      say("");
      declined = null;
      show("paying");
      const heldId = hold.hold_id;
      const checkout = (body) => api("POST", "/api/holds/" + heldId + "/checkout", body);
      try {
        const { result, error } = await cardField.pay(checkout);
        if (error) return tryAnother(error);
        if (result.status === "requires_payment_method") return tryAnother(result.reason);
        const order = result.status === "paid" ? await api("GET", "/api/orders/" + result.order_id)
                                               : await settle(result.order_id);
        if (order.state === "paid") {
          clearInterval(timer);
          $("tickets").replaceChildren(...order.tickets.map((ticket) => {
            const li = document.createElement("li");
            li.textContent = "Ticket " + ticket.id.slice(0, 8);
            return li;
          }));
          return show("paid");
        }
        if (order.state === "pending") return tryAnother(order.reason);
        clearInterval(timer);
        hold = null;
        say("Payment " + order.state + (order.reason ? ": " + order.reason : "") +
            ". Your tickets were released; you can choose again.");
        show("choose");
      } catch (error) {
        say(error.message);
        show("held");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = $("buy");
    if (root) buyPage(root);
  });
})();
